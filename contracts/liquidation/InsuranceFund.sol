// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {AccessControlled} from "../access/AccessControlled.sol";
import {Roles} from "../access/Roles.sol";
import {Vault} from "../core/Vault.sol";
import {IPerpEngine} from "../interfaces/IPerpEngine.sol";

/// @title InsuranceFund
/// @notice The insurance fund's account in the engine: it receives the insurance share of fees and
/// the funding rounding surplus, takes the other side of forced closes (buying at the discounted
/// forced-close price) and pays bad debt through the liquidation module.
/// @dev Its capital is its engine equity (Vault balance + ledger + positions). What it may pay is
/// `equity - initial margin` (never below zero), so paying bad debt never makes it unhealthy or
/// negative (SECURITY P10). Anyone may top it up with `Vault.depositFor(fund, ...)`. Governance may
/// withdraw only while the fund holds no position in the token (the engine's withdrawal guard still
/// applies): capital backing positions inherited from forced closes cannot be pulled, or a later move
/// against them could take the fund below zero (found by the protocol state machine's nightly run).
contract InsuranceFund is AccessControlled, ReentrancyGuard {
    /// @notice The Vault holding the fund's collateral.
    Vault public immutable vault;
    /// @notice The perpetual engine.
    IPerpEngine public immutable engine;

    /// @notice A constructor address is zero.
    error InsuranceFundZeroAddress();
    /// @notice Governance tried to withdraw while the fund holds positions settled in `token`.
    error InsuranceFundPositionsOpen(address token, uint256 openMarkets);

    /// @notice Governance withdrew from the fund.
    event InsuranceFundWithdrawn(address indexed token, address indexed to, uint256 amount);

    /// @param acl_ ProtocolAccess.
    /// @param vault_ The Vault.
    /// @param engine_ The perpetual engine.
    constructor(IAccessControl acl_, Vault vault_, IPerpEngine engine_) AccessControlled(acl_) {
        if (address(vault_) == address(0) || address(engine_) == address(0)) revert InsuranceFundZeroAddress();
        vault = vault_;
        engine = engine_;
    }

    /// @notice What the fund can pay in `token` without becoming unhealthy: max(equity - initial, 0).
    /// @param token The settlement token.
    /// @return amountX18 The available amount.
    function available(address token) public view returns (uint256 amountX18) {
        int256 eq = engine.equity(address(this), token);
        uint256 req = engine.initialMargin(address(this), token);
        return eq > 0 && uint256(eq) > req ? uint256(eq) - req : 0;
    }

    /// @notice Moves the fund's ledger balance into its Vault balance (anyone).
    /// @param token The settlement token.
    /// @return movedX18 The signed amount credited.
    function settle(address token) external nonReentrant returns (int256 movedX18) {
        return engine.settle(address(this), token);
    }

    /// @notice Withdraws `amount` token units to `to` (governance), only while the fund holds no position
    /// settled in `token`.
    /// @param token The collateral token.
    /// @param amount Token units.
    /// @param to The recipient.
    function withdraw(address token, uint256 amount, address to) external onlyRole(Roles.ADMIN) nonReentrant {
        uint256 open = engine.openMarketsOf(address(this), token).length;
        if (open != 0) revert InsuranceFundPositionsOpen(token, open);
        emit InsuranceFundWithdrawn(token, to, amount);
        vault.withdrawTo(token, amount, to);
    }
}
