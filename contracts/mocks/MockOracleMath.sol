// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {OracleMedianLib} from "../libraries/OracleMedianLib.sol";
import {OracleVolatilityLib} from "../libraries/OracleVolatilityLib.sol";

/// @title MockOracleMath
/// @notice Test harness exposing the oracle libraries so they can be fuzzed against the Python reference.
contract MockOracleMath {
    using OracleVolatilityLib for OracleVolatilityLib.Window;

    OracleVolatilityLib.Window internal _window;

    /// @notice Emitted by {sample} with the library's answer.
    event Sampled(bool sampled, int256 returnX18);

    /// @notice {OracleMedianLib.sort} on a copy of `values`.
    function sort(uint256[] memory values) external pure returns (uint256[] memory) {
        OracleMedianLib.sort(values);
        return values;
    }

    /// @notice {OracleMedianLib.medianOfSorted}.
    function medianOfSorted(uint256[] memory sorted) external pure returns (uint256) {
        return OracleMedianLib.medianOfSorted(sorted);
    }

    /// @notice {OracleMedianLib.deviates}.
    function deviates(uint256 priceX18, uint256 referenceX18, uint256 maxDeviationX18) external pure returns (bool) {
        return OracleMedianLib.deviates(priceX18, referenceX18, maxDeviationX18);
    }

    /// @notice {OracleMedianLib.clampMove}.
    function clampMove(uint256 previousX18, uint256 targetX18, uint256 capX18) external pure returns (uint256, bool) {
        return OracleMedianLib.clampMove(previousX18, targetX18, capX18);
    }

    /// @notice {OracleVolatilityLib.trySample} on the harness's window.
    function sample(uint256 priceX18, uint256 timestamp, uint256 interval) external {
        (bool sampled, int256 ret) = _window.trySample(priceX18, timestamp, interval);
        emit Sampled(sampled, ret);
    }

    /// @notice {OracleVolatilityLib.volatility} of the harness's window.
    function volatility() external view returns (uint256) {
        return _window.volatility();
    }
}
