// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IWithdrawalGuard} from "../interfaces/IWithdrawalGuard.sol";

/// @title MockWithdrawalGuard
/// @notice Stand-in for the perpetual engine's margin check: allows withdrawals that leave at
/// least `minBalanceX18` in the account.
contract MockWithdrawalGuard is IWithdrawalGuard {
    /// @notice The smallest balance a withdrawal may leave.
    uint256 public minBalanceX18;

    /// @notice Sets the smallest balance a withdrawal may leave.
    function setMinBalance(uint256 minBalanceX18_) external {
        minBalanceX18 = minBalanceX18_;
    }

    /// @inheritdoc IWithdrawalGuard
    function isWithdrawalAllowed(address, address, uint256 balanceAfterX18) external view returns (bool) {
        return balanceAfterX18 >= minBalanceX18;
    }
}
