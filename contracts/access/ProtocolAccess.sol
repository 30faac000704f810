// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Roles} from "./Roles.sol";

/// @title ProtocolAccess
/// @notice The single role registry of a deployment. Every protocol contract checks its callers
/// against this contract, so roles are granted and revoked in one place.
/// @dev Plain OpenZeppelin AccessControl. Every role is administered by `Roles.ADMIN`
/// (DEFAULT_ADMIN_ROLE), which governance (a TimelockController) should hold in production.
contract ProtocolAccess is AccessControl {
    /// @notice The admin address is zero.
    error ProtocolAccessZeroAdmin();

    /// @param admin The initial holder of `Roles.ADMIN`.
    constructor(address admin) {
        if (admin == address(0)) revert ProtocolAccessZeroAdmin();
        _grantRole(Roles.ADMIN, admin);
    }
}
