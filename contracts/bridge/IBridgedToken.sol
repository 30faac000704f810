// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IBridgedToken
/// @notice What the bridge needs from a wrapped token it mints and burns.
interface IBridgedToken {
    /// @notice Mints `amount` to `to`; only the token's bridge may call.
    /// @param to The recipient.
    /// @param amount The amount.
    function mint(address to, uint256 amount) external;

    /// @notice Burns `amount` from `from`; only the token's bridge may call, on `from`'s own request.
    /// @param from The holder.
    /// @param amount The amount.
    function burn(address from, uint256 amount) external;
}
