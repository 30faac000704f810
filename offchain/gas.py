"""Gas measurements of the protocol's key operations, printed by `make gas`.

Each domain contributes a ``measure(project, accounts) -> list[tuple[str, int]]`` function that
deploys what it needs on the connected (local) chain and returns (operation label, gas used).
Labels are stable: tooling and the gas snapshot read them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from offchain import roles
from offchain.deploy import RoleHolders, deploy_core
from offchain.domains import present_modules

Measurement = tuple[str, int]
MAX_UINT = 2**256 - 1

# Domain modules that provide `measure`; a module that is not present yet is skipped.
DOMAIN_MODULES = (
    "offchain.oracle.gas",
    "offchain.perp.gas",
    "offchain.settlement.gas",
    "offchain.funding.gas",
    "offchain.liquidation.gas",
    "offchain.bridge.gas",
)


def measure_core(project: Any, accounts: Any) -> list[Measurement]:
    """Vault deposit / withdraw / internal transfer for a 6-decimal token."""
    admin, officer, ledger, alice, bob = accounts[0], accounts[4], accounts[8], accounts[5], accounts[6]
    core = deploy_core(project, admin, RoleHolders(compliance=[officer]), allowlist_enforced=True)
    core.acl.grantRole(roles.LEDGER, ledger, sender=admin)
    usdc = project.MockERC20.deploy("USD Coin", "USDC", 6, sender=admin)
    core.vault.listCollateral(usdc, MAX_UINT, sender=admin)
    far = 2**40
    for trader in (alice, bob):
        core.compliance.setAllowed(trader, 1, far, sender=officer)
        usdc.mint(trader, 10**12, sender=trader)
        usdc.approve(core.vault, MAX_UINT, sender=trader)
    vault = core.vault
    out = [
        ("vault.deposit first", vault.deposit(usdc, 1_000 * 10**6, sender=alice).gas_used),
        ("vault.deposit again", vault.deposit(usdc, 1_000 * 10**6, sender=alice).gas_used),
        ("vault.depositFor", vault.depositFor(bob, usdc, 1_000 * 10**6, sender=alice).gas_used),
        ("vault.transferInternal", vault.transferInternal(usdc, alice, bob, 10**18, sender=ledger).gas_used),
        ("vault.withdraw partial", vault.withdraw(usdc, 500 * 10**6, sender=alice).gas_used),
        ("vault.withdraw all", vault.withdraw(usdc, vault.withdrawableAmount(alice, usdc), sender=alice).gas_used),
    ]
    guard = project.MockWithdrawalGuard.deploy(sender=admin)
    vault.setWithdrawalGuard(guard, sender=admin)
    out.append(("vault.withdraw with margin hook", vault.withdraw(usdc, 100 * 10**6, sender=bob).gas_used))
    return out


def collect(project: Any, accounts: Any, log: Callable[[str], None] = print) -> list[Measurement]:
    """Run every available domain's measurements on the connected chain."""
    results = measure_core(project, accounts)
    for domain, module in present_modules(DOMAIN_MODULES):
        log(f"measuring {domain} ...")
        results.extend(module.measure(project, accounts))
    return results


def format_table(results: Iterable[Measurement]) -> str:
    """A fixed-width table plus one machine-readable ``gas op="..." gas=N`` line per operation."""
    rows = list(results)
    width = max(len(label) for label, _ in rows)
    lines = [f"{'operation'.ljust(width)}  {'gas':>10}", f"{'-' * width}  {'-' * 10}"]
    lines += [f"{label.ljust(width)}  {gas:>10,}" for label, gas in rows]
    lines.append("")
    lines += [f'gas op="{label}" gas={gas}' for label, gas in rows]
    return "\n".join(lines)
