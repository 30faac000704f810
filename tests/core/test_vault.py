"""Vault: listing, deposits, withdrawals, internal transfers, pauses, adversarial tokens, rounding."""

from __future__ import annotations

import ape
import pytest
from helpers import MAX_UINT, assert_deploy_reverts, assert_event, assert_no_event, call_view, reverts

from offchain import roles
from offchain.units import internal_to_token_ceil, token_to_internal

USDC = 10**6
ZERO = "0x0000000000000000000000000000000000000000"


@pytest.fixture(scope="session")
def funded(usdc, weth, vault, traders):
    """alice and bob each hold 10,000 USDC and 10 WETH with the Vault approved."""
    for trader in traders[:2]:
        usdc.mint(trader, 10_000 * USDC, sender=trader)
        usdc.approve(vault, MAX_UINT, sender=trader)
        weth.mint(trader, 10 * 10**18, sender=trader)
        weth.approve(vault, MAX_UINT, sender=trader)
    return traders[:2]


def _list_token(project, admin, vault, contract_name, *args):
    token = getattr(project, contract_name).deploy(*args, sender=admin)
    vault.listCollateral(token, MAX_UINT, sender=admin)
    return token


# ------------------------------------------------------------------------------------------
# Construction and listing
# ------------------------------------------------------------------------------------------


def test_constructor_rejects_zero_addresses(project, admin, acl, compliance):
    assert_deploy_reverts(project.Vault, "VaultZeroAddress()", acl, ZERO, sender=admin)
    assert_deploy_reverts(project.Vault, "AccessControlledZeroAcl()", ZERO, compliance, sender=admin)


def test_list_collateral_records_decimals_and_scale(project, admin, vault):
    token = project.MockERC20.deploy("Two", "TWO", 2, sender=admin)
    receipt = vault.listCollateral(token, 123, sender=admin)
    assert_event(receipt, vault.CollateralListed, token=token.address, decimals=2, capX18=123)
    listed, enabled, decimals, scale, cap, total = vault.collaterals(token)
    assert (listed, enabled, decimals, scale, cap, total) == (True, True, 2, 10**16, 123, 0)


def test_list_collateral_requires_admin(project, admin, vault, stranger, guardian):
    token = project.MockERC20.deploy("X", "X", 6, sender=admin)
    for caller in (stranger, guardian):
        with ape.reverts(vault.AccessControlUnauthorizedAccount, account=caller.address, role=roles.ADMIN):
            vault.listCollateral(token, MAX_UINT, sender=caller)


def test_list_collateral_rejects_bad_tokens(project, admin, vault, usdc, acl, stranger):
    with ape.reverts(vault.VaultZeroAddress):
        vault.listCollateral(ZERO, MAX_UINT, sender=admin)
    with ape.reverts(vault.VaultTokenHasNoCode, token=stranger.address):
        vault.listCollateral(stranger, MAX_UINT, sender=admin)
    with ape.reverts(vault.VaultTokenAlreadyListed, token=usdc.address):
        vault.listCollateral(usdc, MAX_UINT, sender=admin)
    nineteen = project.MockERC20.deploy("N", "N", 19, sender=admin)
    with ape.reverts(vault.VaultUnsupportedDecimals, token=nineteen.address):
        vault.listCollateral(nineteen, MAX_UINT, sender=admin)
    # A contract without decimals() (the ACL) cannot be collateral.
    with ape.reverts(vault.VaultUnsupportedDecimals, token=acl.address):
        vault.listCollateral(acl, MAX_UINT, sender=admin)


def test_governance_setters_are_admin_only_and_evented(vault, usdc, admin, guardian, project):
    with ape.reverts(vault.AccessControlUnauthorizedAccount):
        vault.setDepositsEnabled(usdc, False, sender=guardian)
    with ape.reverts(vault.AccessControlUnauthorizedAccount):
        vault.setDepositCap(usdc, 1, sender=guardian)
    with ape.reverts(vault.AccessControlUnauthorizedAccount):
        vault.setWithdrawalGuard(ZERO, sender=guardian)
    assert_event(vault.setDepositsEnabled(usdc, False, sender=admin), vault.CollateralDepositsEnabled, enabled=False)
    assert_event(vault.setDepositCap(usdc, 5, sender=admin), vault.CollateralCapSet, capX18=5)
    guard = project.MockWithdrawalGuard.deploy(sender=admin)
    assert_event(vault.setWithdrawalGuard(guard, sender=admin), vault.WithdrawalGuardSet, guard=guard.address)
    assert vault.withdrawalGuard() == guard.address
    with ape.reverts(vault.VaultTokenNotListed):
        vault.setDepositCap(guard, 5, sender=admin)
    with ape.reverts(vault.VaultTokenNotListed):
        vault.setDepositsEnabled(guard, True, sender=admin)


# ------------------------------------------------------------------------------------------
# Deposits
# ------------------------------------------------------------------------------------------


def test_deposit_six_decimals_credits_scaled_amount(vault, usdc, funded):
    alice = funded[0]
    receipt = vault.deposit(usdc, 1_234_567, sender=alice)
    assert_event(
        receipt,
        vault.Deposited,
        account=alice.address,
        token=usdc.address,
        payer=alice.address,
        amount=1_234_567,
        receivedAmount=1_234_567,
        creditedX18=1_234_567 * 10**12,
    )
    assert vault.balances(alice, usdc) == token_to_internal(1_234_567, 6)
    assert vault.collaterals(usdc)[5] == 1_234_567 * 10**12
    assert usdc.balanceOf(vault) == 1_234_567


def test_deposit_eighteen_decimals_credits_one_to_one(vault, weth, funded):
    alice = funded[0]
    vault.deposit(weth, 3 * 10**18 + 7, sender=alice)
    assert vault.balances(alice, weth) == 3 * 10**18 + 7


def test_deposit_for_credits_beneficiary(vault, usdc, funded):
    alice, bob = funded
    receipt = vault.depositFor(bob, usdc, 50 * USDC, sender=alice)
    assert_event(receipt, vault.Deposited, account=bob.address, payer=alice.address)
    assert vault.balances(bob, usdc) == 50 * 10**18
    assert vault.balances(alice, usdc) == 0


def test_deposit_rejects_bad_input(vault, usdc, funded, project, admin):
    alice = funded[0]
    with ape.reverts(vault.VaultZeroAmount):
        vault.deposit(usdc, 0, sender=alice)
    with ape.reverts(vault.VaultZeroAddress):
        vault.depositFor(ZERO, usdc, 1, sender=alice)
    unlisted = project.MockERC20.deploy("U", "U", 6, sender=admin)
    with ape.reverts(vault.VaultTokenNotListed, token=unlisted.address):
        vault.deposit(unlisted, 1, sender=alice)


def test_deposit_refused_when_disabled_or_paused(vault, usdc, funded, admin, guardian):
    alice = funded[0]
    vault.setDepositsEnabled(usdc, False, sender=admin)
    with ape.reverts(vault.VaultDepositsDisabled, token=usdc.address):
        vault.deposit(usdc, USDC, sender=alice)
    vault.setDepositsEnabled(usdc, True, sender=admin)
    vault.pauseDeposits(sender=guardian)
    with ape.reverts(vault.VaultDepositsPaused):
        vault.deposit(usdc, USDC, sender=alice)
    # Withdrawals are paused separately and still work.
    vault.unpauseDeposits(sender=admin)
    vault.deposit(usdc, USDC, sender=alice)
    vault.pauseDeposits(sender=guardian)
    vault.withdraw(usdc, USDC, sender=alice)


def test_deposit_requires_compliance(vault, usdc, funded, stranger, compliance, compliance_officer, chain):
    alice, bob = funded
    usdc.mint(stranger, USDC, sender=stranger)
    usdc.approve(vault, MAX_UINT, sender=stranger)
    with ape.reverts(vault.VaultAccountNotAllowed, account=stranger.address):
        vault.deposit(usdc, USDC, sender=stranger)
    # A non-listed payer may fund a listed account, a blocked one may not.
    vault.depositFor(alice, usdc, USDC, sender=stranger)
    compliance.setBlocked(stranger, True, sender=compliance_officer)
    with ape.reverts(vault.VaultAccountBlocked, account=stranger.address):
        vault.depositFor(alice, usdc, 1, sender=stranger)
    # Blocked beneficiary.
    compliance.setBlocked(bob, True, sender=compliance_officer)
    with ape.reverts(vault.VaultAccountNotAllowed, account=bob.address):
        vault.depositFor(bob, usdc, USDC, sender=alice)
    # Lapsed allowlist entry.
    expiry = chain.pending_timestamp + 100
    compliance.setAllowed(alice, 1, expiry, sender=compliance_officer)
    chain.pending_timestamp = expiry
    with ape.reverts(vault.VaultAccountNotAllowed, account=alice.address):
        vault.deposit(usdc, USDC, sender=alice)


def test_deposit_cap_is_enforced_at_the_boundary(vault, usdc, funded, admin):
    alice = funded[0]
    vault.setDepositCap(usdc, 100 * 10**18, sender=admin)
    vault.deposit(usdc, 60 * USDC, sender=alice)
    with ape.reverts(
        vault.VaultDepositCapExceeded, token=usdc.address, capX18=100 * 10**18, totalAfterX18=100 * 10**18 + 10**12
    ):
        vault.deposit(usdc, 40 * USDC + 1, sender=alice)
    vault.deposit(usdc, 40 * USDC, sender=alice)  # exactly the cap
    assert vault.collaterals(usdc)[5] == 100 * 10**18


# ------------------------------------------------------------------------------------------
# Adversarial tokens
# ------------------------------------------------------------------------------------------


def test_fee_on_transfer_token_credits_what_arrived(project, admin, vault, traders):
    alice = traders[0]
    token = _list_token(project, admin, vault, "MockFeeOnTransferToken", 100)  # 1%
    token.mint(alice, 1_000 * USDC, sender=alice)
    token.approve(vault, MAX_UINT, sender=alice)
    receipt = vault.deposit(token, 1_000 * USDC, sender=alice)
    assert_event(receipt, vault.Deposited, amount=1_000 * USDC, receivedAmount=990 * USDC, creditedX18=990 * 10**18)
    assert vault.balances(alice, token) == 990 * 10**18
    assert token.balanceOf(vault) * 10**12 == vault.collaterals(token)[5]
    token.setFeeBps(10_000, sender=admin)
    token.mint(alice, USDC, sender=alice)
    with ape.reverts(vault.VaultNothingReceived, token=token.address):
        vault.deposit(token, USDC, sender=alice)


def test_usdt_like_token_without_return_values_works(project, admin, vault, traders):
    alice = traders[0]
    token = _list_token(project, admin, vault, "MockNoReturnToken")
    token.mint(alice, 500 * USDC, sender=alice)
    token.approve(vault, MAX_UINT, sender=alice)
    vault.deposit(token, 500 * USDC, sender=alice)
    vault.withdraw(token, 200 * USDC, sender=alice)
    assert token.balanceOf(alice) == 200 * USDC
    assert vault.balances(alice, token) == 300 * 10**18


def test_token_returning_false_is_refused_both_ways(project, admin, vault, traders):
    alice = traders[0]
    token = _list_token(project, admin, vault, "MockReturnsFalseToken")
    token.mint(alice, 100 * USDC, sender=alice)
    token.approve(vault, MAX_UINT, sender=alice)
    with ape.reverts(vault.SafeERC20FailedOperation, token=token.address):
        vault.deposit(token, 100 * USDC, sender=alice)
    token.setFailing(False, sender=admin)
    vault.deposit(token, 100 * USDC, sender=alice)
    token.setFailing(True, sender=admin)
    with ape.reverts(vault.SafeERC20FailedOperation, token=token.address):
        vault.withdraw(token, 100 * USDC, sender=alice)
    assert vault.balances(alice, token) == 100 * 10**18


@pytest.fixture
def reentrant(project, admin, vault, traders):
    alice = traders[0]
    token = _list_token(project, admin, vault, "MockReentrantToken")
    token.mint(alice, 1_000 * USDC, sender=alice)
    token.approve(vault, MAX_UINT, sender=alice)
    vault.deposit(token, 500 * USDC, sender=alice)
    return token


def test_reentrant_token_cannot_reenter_deposit(vault, reentrant, traders):
    alice = traders[0]
    # During deposit's transferFrom the token calls vault.withdraw (as itself: any caller is refused).
    reentrant.arm(vault, vault.withdraw.as_transaction(reentrant, 1, sender=alice).data, sender=alice)
    with ape.reverts(vault.ReentrancyGuardReentrantCall):
        vault.deposit(reentrant, 100 * USDC, sender=alice)
    assert vault.balances(alice, reentrant) == 500 * 10**18


def test_reentrant_token_cannot_reenter_withdraw(vault, reentrant, traders):
    alice = traders[0]
    reentrant.arm(vault, vault.deposit.as_transaction(reentrant, 1, sender=alice).data, sender=alice)
    with ape.reverts(vault.ReentrancyGuardReentrantCall):
        vault.withdraw(reentrant, 100 * USDC, sender=alice)
    assert vault.balances(alice, reentrant) == 500 * 10**18
    assert reentrant.balanceOf(vault) == 500 * USDC


# ------------------------------------------------------------------------------------------
# Withdrawals
# ------------------------------------------------------------------------------------------


def test_withdraw_debits_exactly_and_emits(vault, usdc, funded):
    alice = funded[0]
    wallet = usdc.balanceOf(alice)  # other session fixtures may have minted to alice too
    vault.deposit(usdc, 1_000 * USDC, sender=alice)
    receipt = vault.withdraw(usdc, 250 * USDC, sender=alice)
    assert_event(
        receipt,
        vault.Withdrawn,
        account=alice.address,
        token=usdc.address,
        to=alice.address,
        amount=250 * USDC,
        debitedX18=250 * 10**18,
    )
    assert vault.balances(alice, usdc) == 750 * 10**18
    assert usdc.balanceOf(alice) == wallet - 750 * USDC


def test_withdraw_to_another_address(vault, usdc, funded, stranger):
    alice = funded[0]
    vault.deposit(usdc, 10 * USDC, sender=alice)
    vault.withdrawTo(usdc, 10 * USDC, stranger, sender=alice)
    assert usdc.balanceOf(stranger) == 10 * USDC


def test_withdraw_rejects_bad_input(vault, usdc, funded, project, admin):
    alice = funded[0]
    vault.deposit(usdc, 10 * USDC, sender=alice)
    with ape.reverts(vault.VaultZeroAmount):
        vault.withdraw(usdc, 0, sender=alice)
    with ape.reverts(vault.VaultZeroAddress):
        vault.withdrawTo(usdc, 1, ZERO, sender=alice)
    with ape.reverts(
        vault.VaultInsufficientBalance, account=alice.address, balanceX18=10 * 10**18, neededX18=10 * 10**18 + 10**12
    ):
        vault.withdraw(usdc, 10 * USDC + 1, sender=alice)
    unlisted = project.MockERC20.deploy("U", "U", 6, sender=admin)
    with ape.reverts(vault.VaultTokenNotListed):
        vault.withdraw(unlisted, 1, sender=alice)


def test_withdraw_pause_is_separate_and_guardian_cannot_unpause(vault, usdc, funded, guardian, admin, stranger):
    alice = funded[0]
    vault.deposit(usdc, 10 * USDC, sender=alice)
    with ape.reverts(vault.AccessControlUnauthorizedAccount, account=stranger.address, role=roles.GUARDIAN):
        vault.pauseWithdrawals(sender=stranger)
    assert_event(vault.pauseWithdrawals(sender=guardian), vault.WithdrawalsPausedSet, paused=True)
    with ape.reverts(vault.VaultWithdrawalsPaused):
        vault.withdraw(usdc, USDC, sender=alice)
    vault.deposit(usdc, USDC, sender=alice)  # deposits unaffected
    with ape.reverts(vault.AccessControlUnauthorizedAccount, account=guardian.address, role=roles.ADMIN):
        vault.unpauseWithdrawals(sender=guardian)
    assert_event(vault.unpauseWithdrawals(sender=admin), vault.WithdrawalsPausedSet, paused=False)
    vault.withdraw(usdc, USDC, sender=alice)


def test_deposit_pause_roles(vault, guardian, admin, stranger):
    with ape.reverts(vault.AccessControlUnauthorizedAccount):
        vault.pauseDeposits(sender=stranger)
    assert_event(vault.pauseDeposits(sender=guardian), vault.DepositsPausedSet, paused=True)
    with ape.reverts(vault.AccessControlUnauthorizedAccount):
        vault.unpauseDeposits(sender=guardian)
    assert_event(vault.unpauseDeposits(sender=admin), vault.DepositsPausedSet, paused=False)


def test_blocked_funds_are_frozen_but_lapsed_accounts_can_exit(
    vault, usdc, funded, compliance, compliance_officer, chain
):
    alice, bob = funded
    vault.deposit(usdc, 10 * USDC, sender=alice)
    vault.deposit(usdc, 10 * USDC, sender=bob)
    compliance.setBlocked(alice, True, sender=compliance_officer)
    with ape.reverts(vault.VaultAccountBlocked, account=alice.address):
        vault.withdraw(usdc, USDC, sender=alice)
    compliance.setBlocked(alice, False, sender=compliance_officer)
    compliance.setBlocked(bob, True, sender=compliance_officer)
    with ape.reverts(vault.VaultAccountBlocked, account=bob.address):
        vault.withdrawTo(usdc, USDC, bob, sender=alice)  # to a blocked recipient
    compliance.revoke(alice, sender=compliance_officer)
    assert not compliance.isAllowed(alice)
    vault.withdraw(usdc, 10 * USDC, sender=alice)  # a lapsed or revoked account still exits
    assert vault.balances(alice, usdc) == 0


def test_withdraw_still_possible_after_delisting_deposits(vault, usdc, funded, admin):
    alice = funded[0]
    vault.deposit(usdc, 10 * USDC, sender=alice)
    vault.setDepositsEnabled(usdc, False, sender=admin)
    vault.withdraw(usdc, 10 * USDC, sender=alice)


def test_withdrawal_guard_gates_withdrawals(project, vault, usdc, funded, admin):
    alice = funded[0]
    guard = project.MockWithdrawalGuard.deploy(sender=admin)
    vault.setWithdrawalGuard(guard, sender=admin)
    vault.deposit(usdc, 100 * USDC, sender=alice)
    guard.setMinBalance(40 * 10**18, sender=admin)
    with ape.reverts(
        vault.VaultWithdrawalNotAllowed, account=alice.address, token=usdc.address, balanceAfterX18=40 * 10**18 - 10**12
    ):
        vault.withdraw(usdc, 60 * USDC + 1, sender=alice)
    vault.withdraw(usdc, 60 * USDC, sender=alice)  # leaves exactly the minimum
    assert vault.balances(alice, usdc) == 40 * 10**18
    vault.setWithdrawalGuard(ZERO, sender=admin)
    vault.withdraw(usdc, 40 * USDC, sender=alice)


# ------------------------------------------------------------------------------------------
# Internal transfers, rounding, surplus
# ------------------------------------------------------------------------------------------


def test_transfer_internal_is_ledger_only_and_conserves(vault, usdc, funded, ledger, operator):
    alice, bob = funded
    vault.deposit(usdc, 100 * USDC, sender=alice)
    with ape.reverts(vault.AccessControlUnauthorizedAccount, account=operator.address, role=roles.LEDGER):
        vault.transferInternal(usdc, alice, bob, 1, sender=operator)
    receipt = vault.transferInternal(usdc, alice, bob, 7 * 10**17, sender=ledger)
    assert_event(receipt, vault.InternalTransfer, token=usdc.address, to=bob.address, amountX18=7 * 10**17)
    assert vault.balances(alice, usdc) + vault.balances(bob, usdc) == vault.collaterals(usdc)[5] == 100 * 10**18
    with ape.reverts(vault.VaultInsufficientBalance, account=alice.address):
        vault.transferInternal(usdc, alice, bob, 100 * 10**18, sender=ledger)
    with ape.reverts(vault.VaultZeroAmount):
        vault.transferInternal(usdc, alice, bob, 0, sender=ledger)
    with ape.reverts(vault.VaultZeroAddress):
        vault.transferInternal(usdc, alice, ZERO, 1, sender=ledger)
    with ape.reverts(vault.VaultTokenNotListed):
        vault.transferInternal(vault, alice, bob, 1, sender=ledger)


def test_sub_atom_dust_is_never_paid_out(vault, usdc, funded, ledger):
    """Rounding favours the protocol: an internal balance worth less than one token unit cannot leave."""
    alice, bob = funded
    vault.deposit(usdc, USDC, sender=alice)
    vault.transferInternal(usdc, alice, bob, 10**12 - 1, sender=ledger)  # bob: 0.999999 atom
    assert vault.withdrawableAmount(bob, usdc) == 0
    with ape.reverts(vault.VaultInsufficientBalance, account=bob.address, balanceX18=10**12 - 1, neededX18=10**12):
        vault.withdraw(usdc, 1, sender=bob)
    # alice holds 1 USDC minus 0.999999 atom: she can withdraw 999_999 atoms, not 1_000_000.
    assert vault.withdrawableAmount(alice, usdc) == USDC - 1
    with ape.reverts(vault.VaultInsufficientBalance):
        vault.withdraw(usdc, USDC, sender=alice)
    vault.withdraw(usdc, USDC - 1, sender=alice)
    # The Vault still holds the atom both dust balances together are owed (owed rounds up).
    assert usdc.balanceOf(vault) == internal_to_token_ceil(vault.collaterals(usdc)[5], 6) == 1


def test_sweep_surplus_only_takes_donations(vault, usdc, funded, admin, ledger, stranger, project):
    alice, bob = funded
    vault.deposit(usdc, 10 * USDC, sender=alice)
    vault.transferInternal(usdc, alice, bob, 1, sender=ledger)  # creates dust: owed rounds up
    with ape.reverts(vault.VaultNoSurplus, token=usdc.address):
        vault.sweepSurplus(usdc, stranger, sender=admin)
    usdc.transfer(vault, 3 * USDC, sender=bob)  # donation
    with ape.reverts(vault.AccessControlUnauthorizedAccount):
        vault.sweepSurplus(usdc, stranger, sender=stranger)
    with ape.reverts(vault.VaultZeroAddress):
        vault.sweepSurplus(usdc, ZERO, sender=admin)
    receipt = vault.sweepSurplus(usdc, stranger, sender=admin)
    assert_event(receipt, vault.SurplusSwept, token=usdc.address, to=stranger.address, amount=3 * USDC)
    assert usdc.balanceOf(vault) == 10 * USDC
    # A token that is not listed is all surplus.
    other = project.MockERC20.deploy("O", "O", 6, sender=admin)
    other.mint(vault, 5, sender=admin)
    vault.sweepSurplus(other, stranger, sender=admin)
    assert other.balanceOf(stranger) == 5


def test_failed_deposit_emits_nothing_and_changes_nothing(vault, usdc, funded, admin):
    alice = funded[0]
    vault.setDepositCap(usdc, 0, sender=admin)
    with ape.reverts(vault.VaultDepositCapExceeded):
        vault.deposit(usdc, USDC, sender=alice)
    assert usdc.balanceOf(vault) == 0
    receipt = vault.setDepositCap(usdc, MAX_UINT, sender=admin)
    assert_no_event(receipt, vault.Deposited)


def test_views(vault, usdc, funded, admin, project):
    assert vault.INTERNAL_DECIMALS() == 18
    assert vault.toInternal(usdc, 5) == 5 * 10**12
    other = project.MockERC20.deploy("O", "O", 6, sender=admin)
    with reverts(vault.VaultTokenNotListed, token=other.address):
        call_view(vault, "toInternal", other, 5)
    assert vault.withdrawableAmount(funded[0], other) == 0
