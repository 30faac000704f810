// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title FundingMath
/// @notice Pure maths of the funding rate (SPEC section 6):
/// `F = alpha * (P_contract - P_index) / P_index + beta * (P_twap - P_index) / P_index`,
/// clamped to `|F| <= maxRate` and `|F - F_prev| <= maxChange`.
/// @dev Rounding: the premium numerator is exact (X36); the one division by the index truncates
/// toward zero, so neither side of the book is favoured (funding is a transfer between traders; the
/// engine rounds each leg's settlement in the protocol's favour). offchain/funding/reference.py is
/// the wei-exact Python twin.
library FundingMath {
    using SafeCast for uint256;

    /// @notice The unclamped funding rate for one interval, 18 decimals, truncated toward zero.
    /// @param contractX18 The fair contract price.
    /// @param twapX18 The time-weighted average contract price over the interval.
    /// @param indexX18 The oracle index price, non-zero.
    /// @param alphaX18 Weight of the instantaneous premium.
    /// @param betaX18 Weight of the TWAP premium.
    /// @return rateX18 The signed rate (longs pay when positive).
    function premiumRate(uint256 contractX18, uint256 twapX18, uint256 indexX18, uint256 alphaX18, uint256 betaX18)
        internal
        pure
        returns (int256 rateX18)
    {
        int256 index = indexX18.toInt256();
        int256 num = alphaX18.toInt256() * (contractX18.toInt256() - index) + betaX18.toInt256() * (twapX18.toInt256() - index);
        // Solidity's signed division truncates toward zero
        return num / index;
    }

    /// @notice Applies the rate-of-change cap around `prevX18`, then the absolute cap.
    /// @dev With `|prev| <= maxRate` the result lies between the clamped raw rate and `prev`, so both
    /// bounds hold at once.
    /// @param rawX18 The unclamped rate.
    /// @param prevX18 The previous interval's rate.
    /// @param maxRateX18 The absolute cap.
    /// @param maxChangeX18 The cap on the change per interval.
    /// @return rateX18 The clamped rate.
    function clampRate(int256 rawX18, int256 prevX18, uint256 maxRateX18, uint256 maxChangeX18)
        internal
        pure
        returns (int256 rateX18)
    {
        int256 cap = maxRateX18.toInt256();
        int256 step = maxChangeX18.toInt256();
        rateX18 = _clamp(rawX18, -cap, cap);
        rateX18 = _clamp(rateX18, prevX18 - step, prevX18 + step);
        rateX18 = _clamp(rateX18, -cap, cap);
    }

    /// @notice `|a - b| <= b * boundX18 / 1e18` evaluated exactly (no rounding).
    /// @param a The value tested.
    /// @param b The reference, non-zero.
    /// @param boundX18 The relative bound.
    /// @return within True when inside the band (the boundary is inside).
    function withinBand(uint256 a, uint256 b, uint256 boundX18) internal pure returns (bool within) {
        uint256 diff = a > b ? a - b : b - a;
        return diff * 1e18 <= b * boundX18;
    }

    function _clamp(int256 x, int256 lo, int256 hi) private pure returns (int256) {
        if (x < lo) return lo;
        if (x > hi) return hi;
        return x;
    }
}
