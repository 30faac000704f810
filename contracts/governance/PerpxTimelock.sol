// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title PerpxTimelock
/// @notice OpenZeppelin's TimelockController, unchanged: after deployment it holds `Roles.ADMIN` of the
/// protocol's ProtocolAccess, so every parameter change and role grant waits `minDelay` in public.
/// @dev Exists only so that ape compiles the OpenZeppelin contract from node_modules; no code is added.
contract PerpxTimelock is TimelockController {
    /// @param minDelay Initial minimum delay in seconds for operations.
    /// @param proposers Accounts granted the proposer and canceller roles.
    /// @param executors Accounts granted the executor role (address(0) lets anyone execute).
    /// @param admin Optional extra admin; pass address(0) so the timelock administers itself.
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
