"""The demo session. Today it exercises the foundation (roles, compliance, collateral vault);
each protocol module adds its act here as it lands (see the demo issue)."""

from __future__ import annotations

import contextlib
import os
import random
import sys
from collections.abc import Callable, Iterator
from typing import Any

from ape.exceptions import ContractLogicError

from offchain.demo.report import Report
from offchain.deploy import CoreDeployment, RoleHolders, deploy_core
from offchain.units import internal_to_token_ceil

MAX_UINT = 2**256 - 1


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence file descriptor 1 (ape's rich console holds its own reference to stdout)."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def expect_refusal(report: Report, name: str, action: Callable[[], Any]) -> bool:
    """Run a transaction that must revert; record the check with the custom error's name.

    ape-foundry prints a call trace for every reverted transaction: an expected refusal is not
    news, so that output is swallowed here.
    """
    try:
        with _quiet_stdout():
            action()
    except ContractLogicError as err:
        reason = type(err).__name__ if type(err).__name__ != "ContractLogicError" else str(err)
        return report.check(name, True, f"reverted with {reason}")
    return report.check(name, False, "the transaction went through")


def run(project: Any, accounts: Any, report: Report, *, n_traders: int = 4, seed: int = 7) -> dict[str, str]:
    """Deploy on the connected local chain, run the session, record checks; return summary figures."""
    rng = random.Random(seed)
    admin, operator, keeper, guardian, officer = accounts[0:5]
    traders = list(accounts[5 : 5 + n_traders])
    outsider = accounts[5 + n_traders]

    report.step("deploying ProtocolAccess, ComplianceRegistry and Vault")
    core: CoreDeployment = deploy_core(
        project,
        admin,
        RoleHolders(operators=[operator], keepers=[keeper], guardians=[guardian], compliance=[officer]),
        allowlist_enforced=True,
    )
    for name, address in core.addresses().items():
        report.info(f"{name:<18} {address}")

    report.step("listing collateral: USDC (6 decimals) and WETH (18 decimals)")
    usdc = project.MockERC20.deploy("USD Coin", "USDC", 6, sender=admin)
    weth = project.MockERC20.deploy("Wrapped Ether", "WETH", 18, sender=admin)
    tokens = {"USDC": usdc, "WETH": weth}
    for token in tokens.values():
        core.vault.listCollateral(token, MAX_UINT, sender=admin)

    report.step(f"allowlisting {n_traders} traders (tiers 1-3, one-year expiry)")
    expiry = project.provider.get_block("latest").timestamp + 365 * 86400
    core.compliance.setAllowedBatch(
        traders, [1 + i % 3 for i in range(n_traders)], [expiry] * n_traders, sender=officer
    )

    report.step("traders deposit collateral")
    deposited = {name: 0 for name in tokens}
    for trader in traders:
        for name, token in tokens.items():
            amount = rng.randint(1_000, 50_000) * 10 ** token.decimals()
            token.mint(trader, amount, sender=trader)
            token.approve(core.vault, MAX_UINT, sender=trader)
            core.vault.deposit(token, amount, sender=trader)
            deposited[name] += amount
        report.info(f"{trader.address[:10]}… deposited")

    report.step("an account that is not allowlisted tries to deposit")
    usdc.mint(outsider, 10**9, sender=outsider)
    usdc.approve(core.vault, MAX_UINT, sender=outsider)
    expect_refusal(report, "non-allowlisted deposit refused", lambda: core.vault.deposit(usdc, 10**9, sender=outsider))

    report.step("traders withdraw part of their collateral")
    withdrawn = {name: 0 for name in tokens}
    for trader in traders:
        for name, token in tokens.items():
            amount = core.vault.withdrawableAmount(trader, token) * rng.randint(1, 60) // 100
            if amount:
                core.vault.withdraw(token, amount, sender=trader)
                withdrawn[name] += amount

    report.step("compliance blocks one trader: its funds are frozen")
    frozen = traders[-1]
    core.compliance.setBlocked(frozen, True, sender=officer)
    expect_refusal(report, "blocked account frozen", lambda: core.vault.withdraw(usdc, 1, sender=frozen))
    core.compliance.setBlocked(frozen, False, sender=officer)

    report.step("guardian pauses withdrawals, admin resumes them")
    core.vault.pauseWithdrawals(sender=guardian)
    expect_refusal(report, "paused withdrawals refused", lambda: core.vault.withdraw(usdc, 1, sender=traders[0]))
    core.vault.unpauseWithdrawals(sender=admin)

    report.step("conservation: tokens held == sum of balances (rounded up)")
    figures: dict[str, str] = {"traders": str(n_traders)}
    for name, token in tokens.items():
        decimals = token.decimals()
        total_x18 = core.vault.collaterals(token)[5]
        summed = sum(core.vault.balances(t, token) for t in traders)
        held = token.balanceOf(core.vault)
        report.check(f"{name} ledger total == sum of balances", total_x18 == summed, f"{total_x18} vs {summed}")
        report.check(f"{name} held == deposited - withdrawn", held == deposited[name] - withdrawn[name], f"held {held}")
        report.check(f"{name} held covers the ledger", held >= internal_to_token_ceil(total_x18, decimals))
        unit = 10**decimals
        figures[f"{name} deposited"] = f"{deposited[name] / unit:,.2f}"
        figures[f"{name} withdrawn"] = f"{withdrawn[name] / unit:,.2f}"
        figures[f"{name} held by vault"] = f"{held / unit:,.2f}"
    figures["not yet in the demo"] = "oracle, engine, settlement, funding, liquidation, bridge (later issues)"
    return figures
