// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IComplianceRegistry
/// @notice What deposit, settlement and bridge paths ask of the compliance allowlist and blocklist.
interface IComplianceRegistry {
    /// @notice True when `account` may open new business: not blocked and, if the allowlist is
    /// enforced, holding an unexpired allowlist entry.
    function isAllowed(address account) external view returns (bool);

    /// @notice The index of the first of `accounts` that is not {isAllowed}, or `accounts.length`
    /// when every one is (one call for a whole settlement batch).
    function firstNotAllowed(address[] calldata accounts) external view returns (uint256);

    /// @notice True when `account` is on the blocklist (its funds are frozen).
    function isBlocked(address account) external view returns (bool);

    /// @notice The account's tier (1..255) when {isAllowed}, else 0. With the allowlist not
    /// enforced, an allowed account without an entry has tier 0.
    function tierOf(address account) external view returns (uint8);
}
