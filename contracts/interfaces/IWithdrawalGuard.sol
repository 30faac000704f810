// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IWithdrawalGuard
/// @notice The margin-check hook the Vault calls before collateral leaves an account.
/// @dev Implemented by the perpetual engine: it answers whether `account` would still meet its
/// initial margin (and whether withdrawals are gated protocol-wide, e.g. while any account has
/// negative equity) if its free balance of `token` became `balanceAfterX18`.
interface IWithdrawalGuard {
    /// @param account The withdrawing account.
    /// @param token The collateral token.
    /// @param balanceAfterX18 The account's Vault balance of `token` after the withdrawal, 18 decimals.
    /// @return allowed True when the withdrawal keeps the account (and the protocol) within policy.
    function isWithdrawalAllowed(address account, address token, uint256 balanceAfterX18)
        external
        view
        returns (bool allowed);
}
