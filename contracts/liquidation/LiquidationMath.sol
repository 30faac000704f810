// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";

/// @title LiquidationMath
/// @notice Pure maths of liquidation (SPEC section 7): forced-close price, tiered keeper reward,
/// linear and inverse bankruptcy prices and the ADL score. offchain/liquidation/reference.py is the wei-exact twin.
library LiquidationMath {
    using SafeCast for uint256;

    uint256 internal constant ONE = 1e18;

    /// @notice One bracket of the keeper reward: `rateX18` applies to the notional above
    /// `fromNotionalX18` (up to the next bracket's start). Rates fall as brackets rise.
    struct RewardTier {
        uint128 fromNotionalX18;
        uint128 rateX18;
    }

    /// @notice One step of the gamma schedule: `gammaX18` applies while the posted book depth is at
    /// least `minDepthX18` (and below the next step's). Gammas fall as depth rises.
    struct GammaTier {
        uint128 minDepthX18;
        uint128 gammaX18;
    }

    /// @notice Forced-close price: longs `index * (1 - gamma)` rounded down, shorts
    /// `index * (1 + gamma)` rounded up (both against the liquidated account).
    /// @param isLong True when the liquidated leg is long.
    /// @param indexX18 The index price.
    /// @param gammaX18 The market's current gamma.
    /// @return priceX18 The execution price.
    function closePrice(bool isLong, uint256 indexX18, uint256 gammaX18) internal pure returns (uint256 priceX18) {
        return isLong
            ? Math.mulDiv(indexX18, ONE - gammaX18, ONE)
            : Math.mulDiv(indexX18, ONE + gammaX18, ONE, Math.Rounding.Ceil);
    }

    /// @notice Marginal tiered reward on `notionalX18`, each bracket rounded down.
    /// @param tiers Brackets with increasing starts (the first starts at 0).
    /// @param notionalX18 The closed notional.
    /// @return rewardX18 The uncapped reward.
    function tieredReward(RewardTier[] memory tiers, uint256 notionalX18) internal pure returns (uint256 rewardX18) {
        uint256 n = tiers.length;
        for (uint256 i; i < n; ++i) {
            uint256 from = tiers[i].fromNotionalX18;
            if (notionalX18 <= from) break;
            uint256 to = i + 1 < n ? Math.min(notionalX18, tiers[i + 1].fromNotionalX18) : notionalX18;
            rewardX18 += Math.mulDiv(to - from, tiers[i].rateX18, ONE);
        }
    }

    /// @notice The gamma of the deepest step whose minimum depth the posted depth reaches.
    /// @param tiers Steps with increasing minimum depth (the first at 0).
    /// @param depthX18 The posted book depth.
    /// @return gammaX18 The gamma.
    function gammaFor(GammaTier[] memory tiers, uint256 depthX18) internal pure returns (uint256 gammaX18) {
        uint256 n = tiers.length;
        for (uint256 i; i < n; ++i) {
            if (depthX18 < tiers[i].minDepthX18) break;
            gammaX18 = tiers[i].gammaX18;
        }
    }

    /// @notice Linear bankruptcy price of a leg of `size` given the account's equity at the index:
    /// closing the whole leg there leaves equity exactly zero, `index - equity / size`, rounded so the
    /// account ends at or above zero (long up, short down).
    /// @param size The leg's signed size (non-zero).
    /// @param indexX18 The index price.
    /// @param equityX18 The account's equity at the index (negative when bankrupt).
    /// @return priceX18 The bankruptcy price (0 when a short's would be non-positive).
    function bankruptcyPrice(int256 size, uint256 indexX18, int256 equityX18) internal pure returns (uint256 priceX18) {
        uint256 absSize = SignedMath.abs(size);
        uint256 absEq = SignedMath.abs(equityX18);
        bool up = size > 0; // long: the price must be high enough; short: low enough
        // shift = |equity| / |size| in price units; the direction depends on the signs
        bool addShift = (equityX18 < 0) == (size > 0);
        uint256 shift = Math.mulDiv(absEq, ONE, absSize, addShift == up ? Math.Rounding.Ceil : Math.Rounding.Floor);
        if (addShift) return indexX18 + shift;
        return shift >= indexX18 ? 0 : indexX18 - shift;
    }

    /// @notice Inverse (coin-margined) bankruptcy price of a leg of `size` USD contracts: closing the
    /// whole leg there leaves equity exactly zero. With the value of a size being `-size / price`,
    /// `1 / P = 1 / index + equity / size`, i.e. `P = |size| index / (|size| + sign(size) equity index)`,
    /// rounded so the account ends at or above zero (long up, short down).
    /// @param size The leg's signed size in USD contracts (non-zero).
    /// @param indexX18 The index price.
    /// @param equityX18 The account's equity at the index, coin units (negative when bankrupt).
    /// @return priceX18 The bankruptcy price (0 when a long's loss exceeds what any price can return).
    function inverseBankruptcyPrice(int256 size, uint256 indexX18, int256 equityX18)
        internal
        pure
        returns (uint256 priceX18)
    {
        uint256 absSize = SignedMath.abs(size);
        bool isLong = size > 0;
        // t = sign(size) * equity * index: a long rounds t toward -inf, a short toward +inf
        bool tNegative = (equityX18 < 0) == isLong;
        Math.Rounding r = tNegative == isLong ? Math.Rounding.Ceil : Math.Rounding.Floor;
        uint256 t = Math.mulDiv(SignedMath.abs(equityX18), indexX18, ONE, r);
        uint256 denominator;
        if (tNegative) {
            if (t >= absSize) return 0;
            denominator = absSize - t;
        } else {
            denominator = absSize + t;
        }
        return Math.mulDiv(absSize, indexX18, denominator, isLong ? Math.Rounding.Ceil : Math.Rounding.Floor);
    }

    /// @notice ADL score `profit * notional / equity` (profit times leverage), 0 unless both the
    /// profit and the equity are positive.
    /// @param pnlX18 The leg's unrealised PnL at the index.
    /// @param notionalX18 The leg's notional at the index.
    /// @param equityX18 The account's equity.
    /// @return score The score, rounded down.
    function adlScore(int256 pnlX18, uint256 notionalX18, int256 equityX18) internal pure returns (uint256 score) {
        if (pnlX18 <= 0 || equityX18 <= 0) return 0;
        return Math.mulDiv(uint256(pnlX18), notionalX18, uint256(equityX18));
    }
}
