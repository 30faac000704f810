// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {AccessControlled} from "../access/AccessControlled.sol";
import {Roles} from "../access/Roles.sol";
import {IComplianceRegistry} from "../interfaces/IComplianceRegistry.sol";
import {IWithdrawalGuard} from "../interfaces/IWithdrawalGuard.sol";

/// @title Vault
/// @notice Custody of collateral. Traders deposit allowlisted ERC-20 collateral and withdraw it when
/// the perpetual engine's margin check allows; protocol modules move internal balances between
/// accounts (PnL, fees, insurance).
/// @dev Accounting rules:
/// - Internal balances are kept in 18-decimal fixed point (`X18`) whatever the token's decimals
///   (<= 18). Conversion happens only here, at the boundary: deposits credit
///   `received * scale`, withdrawals debit `amount * scale` exactly, so the only dust is sub-atom
///   value created inside the protocol, which stays in the account and is never paid out
///   (rounding in the protocol's favour).
/// - Deposits credit the measured balance delta: a fee-on-transfer token is credited what arrived.
/// - Invariant: `token.balanceOf(vault) * scale >= collateral.totalX18 == sum of balances`.
///   Donations make it strict; {sweepSurplus} restores equality.
/// - Every external entry point that moves value is `nonReentrant`; withdrawals update state
///   before the token transfer, and the margin hook is a view (STATICCALL).
/// - Blocked accounts (compliance) can neither deposit nor withdraw: their funds are frozen.
///   Accounts whose allowlist entry lapsed cannot deposit but can still withdraw.
contract Vault is AccessControlled, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Configuration and totals of one collateral token.
    struct Collateral {
        bool listed;
        bool depositsEnabled;
        uint8 decimals;
        uint256 scale;
        uint256 capX18;
        uint256 totalX18;
    }

    /// @notice Internal precision of every balance.
    uint8 public constant INTERNAL_DECIMALS = 18;

    /// @notice The compliance registry consulted on deposit and withdrawal.
    IComplianceRegistry public immutable compliance;
    /// @notice The margin-check hook consulted on withdrawal (the perpetual engine); zero = none.
    IWithdrawalGuard public withdrawalGuard;
    /// @notice Whether deposits are paused by the guardian.
    bool public depositsPaused;
    /// @notice Whether withdrawals are paused by the guardian.
    bool public withdrawalsPaused;

    /// @notice Collateral configuration by token.
    mapping(address token => Collateral) public collaterals;
    /// @notice Internal balances (18 decimals) by account and token.
    mapping(address account => mapping(address token => uint256)) public balances;

    /// @notice An amount of zero was given.
    error VaultZeroAmount();
    /// @notice A required address (account, recipient, token, registry) is zero.
    error VaultZeroAddress();
    /// @notice The token is not a listed collateral.
    error VaultTokenNotListed(address token);
    /// @notice The token is already listed.
    error VaultTokenAlreadyListed(address token);
    /// @notice The token address holds no contract code.
    error VaultTokenHasNoCode(address token);
    /// @notice The token's decimals cannot be read or exceed 18.
    error VaultUnsupportedDecimals(address token);
    /// @notice Deposits of this token are disabled by governance.
    error VaultDepositsDisabled(address token);
    /// @notice Deposits are paused.
    error VaultDepositsPaused();
    /// @notice Withdrawals are paused.
    error VaultWithdrawalsPaused();
    /// @notice The account is not allowed by the compliance registry.
    error VaultAccountNotAllowed(address account);
    /// @notice The account is on the compliance blocklist.
    error VaultAccountBlocked(address account);
    /// @notice The transfer delivered no tokens to the Vault.
    error VaultNothingReceived(address token);
    /// @notice The deposit would take the token's total above its cap.
    error VaultDepositCapExceeded(address token, uint256 capX18, uint256 totalAfterX18);
    /// @notice The account's balance is below the amount needed.
    error VaultInsufficientBalance(address account, address token, uint256 balanceX18, uint256 neededX18);
    /// @notice The margin-check hook refused the withdrawal.
    error VaultWithdrawalNotAllowed(address account, address token, uint256 balanceAfterX18);
    /// @notice There is nothing to sweep.
    error VaultNoSurplus(address token);

    /// @notice A collateral token was listed.
    event CollateralListed(address indexed token, uint8 decimals, uint256 capX18);
    /// @notice Deposits of a token were enabled or disabled.
    event CollateralDepositsEnabled(address indexed token, bool enabled);
    /// @notice A token's deposit cap changed.
    event CollateralCapSet(address indexed token, uint256 capX18);
    /// @notice The withdrawal margin hook changed.
    event WithdrawalGuardSet(address indexed guard);
    /// @notice Deposits were paused (true) or unpaused (false).
    event DepositsPausedSet(bool paused);
    /// @notice Withdrawals were paused (true) or unpaused (false).
    event WithdrawalsPausedSet(bool paused);
    /// @notice `payer` deposited `amount` token units for `account`; `receivedAmount` arrived and
    /// `creditedX18` was credited.
    event Deposited(
        address indexed account,
        address indexed token,
        address payer,
        uint256 amount,
        uint256 receivedAmount,
        uint256 creditedX18
    );
    /// @notice `account` withdrew `amount` token units to `to`, debiting `debitedX18`.
    event Withdrawn(address indexed account, address indexed token, address to, uint256 amount, uint256 debitedX18);
    /// @notice A protocol module moved `amountX18` of `token` from `from` to `to`.
    event InternalTransfer(address indexed token, address indexed from, address indexed to, uint256 amountX18);
    /// @notice Tokens held beyond what accounts are owed were sent to `to`.
    event SurplusSwept(address indexed token, address indexed to, uint256 amount);

    /// @param acl_ The deployment's {ProtocolAccess}.
    /// @param compliance_ The compliance registry.
    constructor(IAccessControl acl_, IComplianceRegistry compliance_) AccessControlled(acl_) {
        if (address(compliance_) == address(0)) revert VaultZeroAddress();
        compliance = compliance_;
    }

    // ----------------------------------------------------------------------------------------
    // Governance
    // ----------------------------------------------------------------------------------------

    /// @notice Lists `token` as collateral with a deposit cap; deposits start enabled.
    /// @param token An ERC-20 with code and at most 18 decimals.
    /// @param capX18 The maximum total of all balances of this token, 18 decimals.
    function listCollateral(address token, uint256 capX18) external onlyRole(Roles.ADMIN) {
        if (token == address(0)) revert VaultZeroAddress();
        if (token.code.length == 0) revert VaultTokenHasNoCode(token);
        Collateral storage c = collaterals[token];
        if (c.listed) revert VaultTokenAlreadyListed(token);
        uint8 decimals = _readDecimals(token);
        c.listed = true;
        c.depositsEnabled = true;
        c.decimals = decimals;
        c.scale = 10 ** (INTERNAL_DECIMALS - decimals);
        c.capX18 = capX18;
        emit CollateralListed(token, decimals, capX18);
    }

    /// @notice Enables or disables new deposits of a listed token (withdrawals always stay open).
    /// @param token The listed token.
    /// @param enabled The new setting.
    function setDepositsEnabled(address token, bool enabled) external onlyRole(Roles.ADMIN) {
        _listed(token).depositsEnabled = enabled;
        emit CollateralDepositsEnabled(token, enabled);
    }

    /// @notice Sets the deposit cap of a listed token (existing balances above it are untouched).
    /// @param token The listed token.
    /// @param capX18 The new cap, 18 decimals.
    function setDepositCap(address token, uint256 capX18) external onlyRole(Roles.ADMIN) {
        _listed(token).capX18 = capX18;
        emit CollateralCapSet(token, capX18);
    }

    /// @notice Sets the margin-check hook consulted on every withdrawal (zero disables it).
    /// @param guard The perpetual engine (or another IWithdrawalGuard).
    function setWithdrawalGuard(IWithdrawalGuard guard) external onlyRole(Roles.ADMIN) {
        withdrawalGuard = guard;
        emit WithdrawalGuardSet(address(guard));
    }

    /// @notice Pauses deposits (guardian).
    function pauseDeposits() external onlyRole(Roles.GUARDIAN) {
        depositsPaused = true;
        emit DepositsPausedSet(true);
    }

    /// @notice Unpauses deposits (admin: resuming needs more than pausing).
    function unpauseDeposits() external onlyRole(Roles.ADMIN) {
        depositsPaused = false;
        emit DepositsPausedSet(false);
    }

    /// @notice Pauses withdrawals (guardian).
    function pauseWithdrawals() external onlyRole(Roles.GUARDIAN) {
        withdrawalsPaused = true;
        emit WithdrawalsPausedSet(true);
    }

    /// @notice Unpauses withdrawals (admin).
    function unpauseWithdrawals() external onlyRole(Roles.ADMIN) {
        withdrawalsPaused = false;
        emit WithdrawalsPausedSet(false);
    }

    /// @notice Sends tokens the Vault holds beyond what accounts are owed (donations, or any token
    /// that is not listed) to `to`. What accounts are owed is rounded up.
    /// @param token The token.
    /// @param to The recipient.
    function sweepSurplus(address token, address to) external onlyRole(Roles.ADMIN) nonReentrant {
        if (to == address(0)) revert VaultZeroAddress();
        Collateral storage c = collaterals[token];
        uint256 owed = c.listed ? Math.ceilDiv(c.totalX18, c.scale) : 0;
        uint256 held = IERC20(token).balanceOf(address(this));
        if (held <= owed) revert VaultNoSurplus(token);
        uint256 surplus = held - owed;
        emit SurplusSwept(token, to, surplus);
        IERC20(token).safeTransfer(to, surplus);
    }

    // ----------------------------------------------------------------------------------------
    // Traders
    // ----------------------------------------------------------------------------------------

    /// @notice Deposits `amount` token units for the caller.
    /// @param token A listed collateral token.
    /// @param amount Token units to pull (the Vault needs an allowance).
    /// @return creditedX18 The internal amount credited (the measured delta, scaled).
    function deposit(address token, uint256 amount) external nonReentrant returns (uint256 creditedX18) {
        return _deposit(msg.sender, msg.sender, token, amount);
    }

    /// @notice Deposits `amount` token units from the caller for `account`.
    /// @param account The credited account; must be allowed by compliance.
    /// @param token A listed collateral token.
    /// @param amount Token units to pull from the caller.
    /// @return creditedX18 The internal amount credited.
    function depositFor(address account, address token, uint256 amount)
        external
        nonReentrant
        returns (uint256 creditedX18)
    {
        return _deposit(msg.sender, account, token, amount);
    }

    /// @notice Withdraws `amount` token units of the caller's balance to the caller.
    /// @param token A listed collateral token.
    /// @param amount Token units to receive.
    function withdraw(address token, uint256 amount) external nonReentrant {
        _withdraw(msg.sender, token, amount, msg.sender);
    }

    /// @notice Withdraws `amount` token units of the caller's balance to `to`.
    /// @param token A listed collateral token.
    /// @param amount Token units to send.
    /// @param to The recipient; must not be blocked.
    function withdrawTo(address token, uint256 amount, address to) external nonReentrant {
        _withdraw(msg.sender, token, amount, to);
    }

    // ----------------------------------------------------------------------------------------
    // Protocol modules
    // ----------------------------------------------------------------------------------------

    /// @notice Moves `amountX18` of `token` between internal balances (PnL, fees, insurance).
    /// @dev Only `Roles.LEDGER` (engine, settlement, insurance fund). Conserves `totalX18`.
    /// @param token A listed token.
    /// @param from The debited account.
    /// @param to The credited account.
    /// @param amountX18 The internal amount.
    function transferInternal(address token, address from, address to, uint256 amountX18)
        external
        onlyRole(Roles.LEDGER)
        nonReentrant
    {
        if (to == address(0)) revert VaultZeroAddress();
        if (amountX18 == 0) revert VaultZeroAmount();
        _listed(token);
        uint256 fromBalance = balances[from][token];
        if (fromBalance < amountX18) revert VaultInsufficientBalance(from, token, fromBalance, amountX18);
        unchecked {
            balances[from][token] = fromBalance - amountX18;
        }
        balances[to][token] += amountX18;
        emit InternalTransfer(token, from, to, amountX18);
    }

    // ----------------------------------------------------------------------------------------
    // Views
    // ----------------------------------------------------------------------------------------

    /// @notice Token units `account` could withdraw of `token` before any margin check: its
    /// balance rounded down to whole token units.
    /// @param account The account.
    /// @param token A listed token.
    /// @return amount Token units.
    function withdrawableAmount(address account, address token) external view returns (uint256 amount) {
        Collateral storage c = collaterals[token];
        return c.listed ? balances[account][token] / c.scale : 0;
    }

    /// @notice Converts token units of a listed token to internal units (exact).
    /// @param token A listed token.
    /// @param amount Token units.
    /// @return amountX18 Internal units.
    function toInternal(address token, uint256 amount) external view returns (uint256 amountX18) {
        Collateral storage c = collaterals[token];
        if (!c.listed) revert VaultTokenNotListed(token);
        return amount * c.scale;
    }

    // ----------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------

    function _deposit(address payer, address account, address token, uint256 amount)
        private
        returns (uint256 creditedX18)
    {
        if (amount == 0) revert VaultZeroAmount();
        if (account == address(0)) revert VaultZeroAddress();
        if (depositsPaused) revert VaultDepositsPaused();
        Collateral storage c = _listed(token);
        if (!c.depositsEnabled) revert VaultDepositsDisabled(token);
        if (!compliance.isAllowed(account)) revert VaultAccountNotAllowed(account);
        if (payer != account && compliance.isBlocked(payer)) revert VaultAccountBlocked(payer);

        // The credit depends on what arrives, so the pull precedes the effects; nonReentrant
        // (on every entry point) keeps a token callback from observing the half-done state.
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(payer, address(this), amount);
        uint256 afterBalance = IERC20(token).balanceOf(address(this));
        if (afterBalance <= before) revert VaultNothingReceived(token);
        uint256 received = afterBalance - before;

        creditedX18 = received * c.scale;
        uint256 totalAfter = c.totalX18 + creditedX18;
        if (totalAfter > c.capX18) revert VaultDepositCapExceeded(token, c.capX18, totalAfter);
        c.totalX18 = totalAfter;
        balances[account][token] += creditedX18;
        emit Deposited(account, token, payer, amount, received, creditedX18);
    }

    function _withdraw(address account, address token, uint256 amount, address to) private {
        if (amount == 0) revert VaultZeroAmount();
        if (to == address(0)) revert VaultZeroAddress();
        if (withdrawalsPaused) revert VaultWithdrawalsPaused();
        Collateral storage c = _listed(token);
        if (compliance.isBlocked(account)) revert VaultAccountBlocked(account);
        if (to != account && compliance.isBlocked(to)) revert VaultAccountBlocked(to);

        uint256 debitX18 = amount * c.scale;
        uint256 balanceX18 = balances[account][token];
        if (balanceX18 < debitX18) revert VaultInsufficientBalance(account, token, balanceX18, debitX18);
        uint256 balanceAfter = balanceX18 - debitX18;
        IWithdrawalGuard guard = withdrawalGuard;
        if (address(guard) != address(0) && !guard.isWithdrawalAllowed(account, token, balanceAfter)) {
            revert VaultWithdrawalNotAllowed(account, token, balanceAfter);
        }

        balances[account][token] = balanceAfter;
        c.totalX18 -= debitX18;
        emit Withdrawn(account, token, to, amount, debitX18);
        IERC20(token).safeTransfer(to, amount);
    }

    function _readDecimals(address token) private view returns (uint8) {
        try IERC20Metadata(token).decimals() returns (uint8 decimals) {
            if (decimals > INTERNAL_DECIMALS) revert VaultUnsupportedDecimals(token);
            return decimals;
        } catch {
            revert VaultUnsupportedDecimals(token);
        }
    }

    function _listed(address token) private view returns (Collateral storage c) {
        c = collaterals[token];
        if (!c.listed) revert VaultTokenNotListed(token);
    }
}
