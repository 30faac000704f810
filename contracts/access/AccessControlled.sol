// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

/// @title AccessControlled
/// @notice Base for protocol contracts whose permissions live in the shared {ProtocolAccess}.
abstract contract AccessControlled {
    /// @notice The shared role registry.
    IAccessControl public immutable acl;

    /// @notice The role registry address is zero.
    error AccessControlledZeroAcl();
    /// @notice `account` lacks `role` (same shape as OpenZeppelin's AccessControlUnauthorizedAccount).
    error AccessControlUnauthorizedAccount(address account, bytes32 role);

    /// @param acl_ The deployment's {ProtocolAccess}.
    constructor(IAccessControl acl_) {
        if (address(acl_) == address(0)) revert AccessControlledZeroAcl();
        acl = acl_;
    }

    /// @dev Reverts with {AccessControlUnauthorizedAccount} unless `msg.sender` holds `role`.
    modifier onlyRole(bytes32 role) {
        _checkRole(role, msg.sender);
        _;
    }

    function _checkRole(bytes32 role, address account) internal view {
        if (!acl.hasRole(role, account)) revert AccessControlUnauthorizedAccount(account, role);
    }
}
