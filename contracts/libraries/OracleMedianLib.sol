// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title OracleMedianLib
/// @notice Pure arithmetic of the median oracle: sorting, median, deviation test and jump clamp.
/// @dev Every function is pure and mirrored exactly by `offchain/oracle/reference.py`.
/// Prices are 18-decimal fixed point and fit in 128 bits (the oracle enforces it), so the products
/// below (price x 1e18) cannot overflow 256 bits.
library OracleMedianLib {
    /// @notice 1.0 in 18-decimal fixed point.
    uint256 internal constant ONE_X18 = 1e18;

    /// @notice The median of an empty list was requested.
    error OracleMedianLibEmpty();

    /// @notice Sorts `values` ascending in place (insertion sort: the lists hold at most a few dozen
    /// sources, where it beats anything fancier on gas).
    function sort(uint256[] memory values) internal pure {
        uint256 n = values.length;
        for (uint256 i = 1; i < n; ++i) {
            uint256 key = values[i];
            uint256 j = i;
            while (j > 0 && values[j - 1] > key) {
                values[j] = values[j - 1];
                --j;
            }
            values[j] = key;
        }
    }

    /// @notice The median of an ascending list: the middle element for an odd count, the floor of
    /// the mean of the two middle elements for an even count.
    function medianOfSorted(uint256[] memory sorted) internal pure returns (uint256) {
        uint256 n = sorted.length;
        if (n == 0) revert OracleMedianLibEmpty();
        if (n % 2 == 1) return sorted[n / 2];
        return Math.average(sorted[n / 2 - 1], sorted[n / 2]);
    }

    /// @notice True when `priceX18` is strictly more than `maxDeviationX18` (relative, 1e18 = 100%)
    /// away from `referenceX18`. A price exactly at the threshold does not deviate.
    /// @dev Exact integer test `|price - ref| * 1e18 > maxDeviation * ref`, no rounding involved.
    function deviates(uint256 priceX18, uint256 referenceX18, uint256 maxDeviationX18) internal pure returns (bool) {
        uint256 diff = priceX18 > referenceX18 ? priceX18 - referenceX18 : referenceX18 - priceX18;
        return diff * ONE_X18 > maxDeviationX18 * referenceX18;
    }

    /// @notice Limits a move from `previousX18` to `targetX18` to at most `capX18` (relative) of
    /// `previousX18`.
    /// @dev The step `previous * cap / 1e18` is rounded down, so the clamped move never exceeds the
    /// cap. A move exactly equal to the cap is not clamped.
    /// @return resultX18 `targetX18` itself, or the bound `previous * (1 +- cap)`.
    /// @return clamped Whether the move was larger than the cap.
    function clampMove(uint256 previousX18, uint256 targetX18, uint256 capX18)
        internal
        pure
        returns (uint256 resultX18, bool clamped)
    {
        if (!deviates(targetX18, previousX18, capX18)) return (targetX18, false);
        uint256 step = Math.mulDiv(previousX18, capX18, ONE_X18);
        resultX18 = targetX18 > previousX18 ? previousX18 + step : previousX18 - step;
        return (resultX18, true);
    }
}
