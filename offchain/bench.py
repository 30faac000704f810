"""Benchmarks printed by `make bench`.

Each domain contributes ``run(project, accounts) -> list[Figure]``; a domain module that is not
present yet is skipped. Lines have the form ``bench <name> value=<number> unit=<unit>``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from offchain.deploy import RoleHolders, deploy_core
from offchain.domains import present_modules

Figure = tuple[str, float, str]
MAX_UINT = 2**256 - 1
DOMAIN_MODULES = (
    "offchain.matcher.bench",
    "offchain.settlement.bench",
    "offchain.liquidation.bench",
    "offchain.gateway.bench",
)


def run_core(project: Any, accounts: Any, n_tx: int = 200) -> list[Figure]:
    """End-to-end transaction throughput through ape on the connected chain (Vault deposits)."""
    admin, alice = accounts[0], accounts[5]
    core = deploy_core(project, admin, RoleHolders(), allowlist_enforced=False)
    usdc = project.MockERC20.deploy("USD Coin", "USDC", 6, sender=admin)
    core.vault.listCollateral(usdc, MAX_UINT, sender=admin)
    usdc.mint(alice, 10**18, sender=alice)
    usdc.approve(core.vault, MAX_UINT, sender=alice)
    started = time.perf_counter()
    for _ in range(n_tx):
        core.vault.deposit(usdc, 10**6, sender=alice)
    elapsed = time.perf_counter() - started
    return [
        ("vault_deposit_tx_per_s", n_tx / elapsed, "tx/s"),
        ("vault_deposit_latency_ms", 1000 * elapsed / n_tx, "ms"),
    ]


def collect(project: Any, accounts: Any, log: Callable[[str], None] = print) -> list[Figure]:
    """Run every available domain's benchmarks."""
    figures = run_core(project, accounts)
    for domain, module in present_modules(DOMAIN_MODULES):
        log(f"benchmarking {domain} ...")
        figures.extend(module.run(project, accounts))
    return figures


def format_figures(figures: list[Figure]) -> str:
    """One ``bench <name> value=<v> unit=<u>`` line per figure."""
    return "\n".join(f"bench {name} value={value:.2f} unit={unit}" for name, value, unit in figures)
