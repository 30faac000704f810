// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {AccessControlled} from "../access/AccessControlled.sol";
import {Roles} from "../access/Roles.sol";
import {IComplianceRegistry} from "../interfaces/IComplianceRegistry.sol";

/// @title ComplianceRegistry
/// @notice Allowlist of approved institutions and accounts (with a tier and an expiry) and a
/// blocklist, consulted on deposit, settlement and bridge paths.
/// @dev Policy:
/// - An account is allowed when it is not blocked and, while the allowlist is enforced, holds an
///   entry whose expiry is in the future (`expiry > block.timestamp`). At `block.timestamp == expiry`
///   the entry has lapsed.
/// - The blocklist wins over the allowlist. Blocked accounts' funds are frozen by the modules that
///   consult {isBlocked}; an account whose entry merely expired may still withdraw.
/// - With the allowlist not enforced (permissionless deployments), every unblocked account is
///   allowed; entries still carry tiers.
/// - Every change is made by `Roles.COMPLIANCE` (the enforcement switch by `Roles.ADMIN`) and evented.
contract ComplianceRegistry is AccessControlled, IComplianceRegistry {
    /// @dev Everything {isAllowed} reads of an account, in one slot (a settlement checks each trader
    /// once: one cold slot, not two): the allowlist entry (tier 1..255, 0 = none; the first timestamp at
    /// which it has lapsed) and the blocklist flag.
    struct Status {
        uint8 tier;
        uint64 expiry;
        bool blocked;
    }

    mapping(address account => Status) private _status;
    /// @notice Whether an allowlist entry is required to be allowed.
    bool public allowlistEnforced;

    /// @notice The account is the zero address.
    error ComplianceZeroAccount();
    /// @notice Tier 0 is reserved for "no entry".
    error ComplianceInvalidTier(address account);
    /// @notice The expiry is not in the future.
    error ComplianceExpiryNotInFuture(address account, uint64 expiry);
    /// @notice The arrays of a batch call differ in length.
    error ComplianceLengthMismatch();
    /// @notice The account has no allowlist entry to revoke.
    error ComplianceNotListed(address account);

    /// @notice `account` was put on (or updated in) the allowlist.
    event AllowlistSet(address indexed account, uint8 tier, uint64 expiry);
    /// @notice `account` was removed from the allowlist.
    event AllowlistRevoked(address indexed account);
    /// @notice `account` was added to (`isBlocked` true) or removed from the blocklist.
    event BlocklistSet(address indexed account, bool isBlocked);
    /// @notice The allowlist requirement was switched on or off.
    event AllowlistEnforcementSet(bool enforced);

    /// @param acl_ The deployment's {ProtocolAccess}.
    /// @param enforced Whether an allowlist entry is required from the start.
    constructor(IAccessControl acl_, bool enforced) AccessControlled(acl_) {
        allowlistEnforced = enforced;
        emit AllowlistEnforcementSet(enforced);
    }

    /// @notice Adds or updates the allowlist entry of `account`.
    /// @param account The account or institution address.
    /// @param tier Its tier, 1..255.
    /// @param expiry The first timestamp at which the entry no longer counts; must be in the future.
    function setAllowed(address account, uint8 tier, uint64 expiry) external onlyRole(Roles.COMPLIANCE) {
        _setAllowed(account, tier, expiry);
    }

    /// @notice Adds or updates many allowlist entries; reverts whole if any entry is invalid.
    /// @param accounts The accounts.
    /// @param tiers Their tiers, 1..255.
    /// @param expiries Their expiries, each in the future.
    function setAllowedBatch(address[] calldata accounts, uint8[] calldata tiers, uint64[] calldata expiries)
        external
        onlyRole(Roles.COMPLIANCE)
    {
        if (accounts.length != tiers.length || accounts.length != expiries.length) revert ComplianceLengthMismatch();
        for (uint256 i; i < accounts.length; ++i) {
            _setAllowed(accounts[i], tiers[i], expiries[i]);
        }
    }

    /// @notice Removes the allowlist entry of `account`.
    /// @param account The listed account.
    function revoke(address account) external onlyRole(Roles.COMPLIANCE) {
        Status storage st = _status[account];
        if (st.tier == 0) revert ComplianceNotListed(account);
        (st.tier, st.expiry) = (0, 0);
        emit AllowlistRevoked(account);
    }

    /// @notice Adds `account` to the blocklist (`isBlocked_` true) or removes it.
    /// @param account The account.
    /// @param isBlocked_ The new flag.
    function setBlocked(address account, bool isBlocked_) external onlyRole(Roles.COMPLIANCE) {
        if (account == address(0)) revert ComplianceZeroAccount();
        _status[account].blocked = isBlocked_;
        emit BlocklistSet(account, isBlocked_);
    }

    /// @notice Switches the allowlist requirement on or off (governance decision).
    /// @param enforced True to require an unexpired entry.
    function setAllowlistEnforced(bool enforced) external onlyRole(Roles.ADMIN) {
        allowlistEnforced = enforced;
        emit AllowlistEnforcementSet(enforced);
    }

    /// @inheritdoc IComplianceRegistry
    function isAllowed(address account) public view returns (bool) {
        return _allowed(account, allowlistEnforced);
    }

    /// @inheritdoc IComplianceRegistry
    function firstNotAllowed(address[] calldata accounts) external view returns (uint256) {
        bool enforced = allowlistEnforced; // one read for the whole list
        uint256 n = accounts.length;
        for (uint256 i; i < n; ++i) {
            if (!_allowed(accounts[i], enforced)) return i;
        }
        return n;
    }

    /// @dev The one allow rule, for {isAllowed} and {firstNotAllowed}: not the zero address, not blocked,
    /// and (when the allowlist is enforced) an allowlist entry that has not expired. Reads the packed
    /// Status slot once (tier bits 0-7, expiry 8-71, blocked 72-79).
    function _allowed(address account, bool enforced) private view returns (bool) {
        Status storage st = _status[account];
        uint256 word;
        assembly ("memory-safe") {
            word := sload(st.slot)
        }
        if (account == address(0) || (word >> 72) & 0xff != 0) return false;
        return !enforced || uint64(word >> 8) > block.timestamp;
    }

    /// @inheritdoc IComplianceRegistry
    function isBlocked(address account) external view returns (bool) {
        return _status[account].blocked;
    }

    /// @notice Whether `account` is on the blocklist (same as {isBlocked}).
    /// @param account The account.
    /// @return The flag.
    function blocked(address account) external view returns (bool) {
        return _status[account].blocked;
    }

    /// @notice The allowlist entry of `account` (zero when it has none).
    /// @param account The account.
    /// @return tier Its tier (0 = no entry).
    /// @return expiry The first timestamp at which the entry no longer counts.
    function entries(address account) external view returns (uint8 tier, uint64 expiry) {
        Status memory st = _status[account];
        return (st.tier, st.expiry);
    }

    /// @inheritdoc IComplianceRegistry
    function tierOf(address account) external view returns (uint8) {
        Status memory st = _status[account];
        if (!isAllowed(account) || st.expiry <= block.timestamp) return 0;
        return st.tier;
    }

    function _setAllowed(address account, uint8 tier, uint64 expiry) private {
        if (account == address(0)) revert ComplianceZeroAccount();
        if (tier == 0) revert ComplianceInvalidTier(account);
        if (expiry <= block.timestamp) revert ComplianceExpiryNotInFuture(account, expiry);
        Status storage st = _status[account];
        (st.tier, st.expiry) = (tier, expiry);
        emit AllowlistSet(account, tier, expiry);
    }
}
