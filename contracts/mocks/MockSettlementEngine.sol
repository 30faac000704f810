// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IPerpEngine} from "../interfaces/IPerpEngine.sol";
import {FillCodec} from "../libraries/FillCodec.sol";

/// @title MockSettlementEngine
/// @notice An engine whose applyFills only counts fills: isolates Settlement's own gas in `make gas`.
contract MockSettlementEngine {
    /// @notice Fills received so far.
    uint256 public fillsApplied;

    /// @notice Counts the fills (no positions, fees or margin checks).
    /// @param fills The fills.
    function applyFills(IPerpEngine.Fill[] calldata fills) external {
        fillsApplied += fills.length;
    }

    /// @notice Counts the packed fills (no positions, fees, fee caps or margin checks).
    /// @param fills The packed fills ({FillCodec} records).
    function applySettledFills(bytes calldata fills) external {
        fillsApplied += fills.length / FillCodec.SETTLED_FILL_BYTES;
    }
}
