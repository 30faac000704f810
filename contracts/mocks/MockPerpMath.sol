// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {PerpMath} from "../libraries/PerpMath.sol";

/// @title MockPerpMath
/// @notice Test harness exposing PerpMath so it can be fuzzed against an exact-rational Python reference.
contract MockPerpMath {
    /// @notice {PerpMath.valueUp}.
    function valueUp(bool inverse, int256 size, uint256 priceX18) external pure returns (int256) {
        return PerpMath.valueUp(inverse, size, priceX18);
    }

    /// @notice {PerpMath.markValueFloor}.
    function markValueFloor(bool inverse, int256 size, uint256 priceX18) external pure returns (int256) {
        return PerpMath.markValueFloor(inverse, size, priceX18);
    }

    /// @notice {PerpMath.notionalUp}.
    function notionalUp(bool inverse, uint256 absSize, uint256 priceX18) external pure returns (uint256) {
        return PerpMath.notionalUp(inverse, absSize, priceX18);
    }

    /// @notice {PerpMath.mulRateUp}.
    function mulRateUp(uint256 amountX18, uint256 rateX18) external pure returns (uint256) {
        return PerpMath.mulRateUp(amountX18, rateX18);
    }

    /// @notice {PerpMath.mulRateDown}.
    function mulRateDown(uint256 amountX18, uint256 rateX18) external pure returns (uint256) {
        return PerpMath.mulRateDown(amountX18, rateX18);
    }

    /// @notice {PerpMath.sizedRate}.
    function sizedRate(uint256 baseX18, uint256 slopeX18, uint256 notionalX18) external pure returns (uint256) {
        return PerpMath.sizedRate(baseX18, slopeX18, notionalX18);
    }

    /// @notice {PerpMath.basisShareUp}.
    function basisShareUp(int256 openValue, uint256 part, uint256 whole) external pure returns (int256) {
        return PerpMath.basisShareUp(openValue, part, whole);
    }

    /// @notice {PerpMath.fundingOwedUp}.
    function fundingOwedUp(int256 size, int256 indexDelta) external pure returns (int256) {
        return PerpMath.fundingOwedUp(size, indexDelta);
    }

    /// @notice {PerpMath.fundingPerUnit}.
    function fundingPerUnit(bool inverse, int256 rateX18, uint256 priceX18) external pure returns (int256) {
        return PerpMath.fundingPerUnit(inverse, rateX18, priceX18);
    }
}
