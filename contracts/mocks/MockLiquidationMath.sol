// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FundingMath} from "../funding/FundingMath.sol";
import {LiquidationMath} from "../liquidation/LiquidationMath.sol";

/// @title MockLiquidationMath
/// @notice Test harness exposing FundingMath and LiquidationMath for differential tests.
contract MockLiquidationMath {
    /// @notice FundingMath.premiumRate.
    function premiumRate(uint256 c, uint256 t, uint256 i, uint256 a, uint256 b) external pure returns (int256) {
        return FundingMath.premiumRate(c, t, i, a, b);
    }

    /// @notice FundingMath.clampRate.
    function clampRate(int256 raw, int256 prev, uint256 maxRate, uint256 maxChange) external pure returns (int256) {
        return FundingMath.clampRate(raw, prev, maxRate, maxChange);
    }

    /// @notice LiquidationMath.closePrice.
    function closePrice(bool isLong, uint256 index, uint256 gamma) external pure returns (uint256) {
        return LiquidationMath.closePrice(isLong, index, gamma);
    }

    /// @notice LiquidationMath.tieredReward.
    function tieredReward(LiquidationMath.RewardTier[] calldata tiers, uint256 notional) external pure returns (uint256) {
        return LiquidationMath.tieredReward(tiers, notional);
    }

    /// @notice LiquidationMath.bankruptcyPrice.
    function bankruptcyPrice(int256 size, uint256 index, int256 equity) external pure returns (uint256) {
        return LiquidationMath.bankruptcyPrice(size, index, equity);
    }

    /// @notice LiquidationMath.inverseBankruptcyPrice.
    function inverseBankruptcyPrice(int256 size, uint256 index, int256 equity) external pure returns (uint256) {
        return LiquidationMath.inverseBankruptcyPrice(size, index, equity);
    }

    /// @notice LiquidationMath.adlScore.
    function adlScore(int256 pnl, uint256 notional, int256 equity) external pure returns (uint256) {
        return LiquidationMath.adlScore(pnl, notional, equity);
    }
}
