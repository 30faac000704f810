"""Gas figures of the perpetual engine's hot paths, for `make gas`.

``measure(project, accounts)`` deploys a fresh core + engine on the connected network (anvil in
`make gas`), opens positions for two accounts and returns ``(label, gas)`` pairs.
"""

from __future__ import annotations

from typing import Any

from eth_utils import keccak

from offchain.deploy import RoleHolders, deploy_core
from offchain.perp.deploy import deploy_perp, risk_params, trading_params
from offchain.perp.math import ONE
from offchain.perp.model import Fill

ETH = keccak(text="ETH")
USDC = 10**6


def _fill(market: int, maker: Any, taker: Any, size: int, price: int, buy: bool) -> tuple:
    return Fill(market, str(maker), str(taker), buy, size, price).as_tuple()


def measure(project: Any, accounts: Any) -> list[tuple[str, int]]:
    """Deploy, trade and return gas used by the engine's main operations.

    ``accounts[0]`` deploys and settles, ``accounts[1]`` and ``accounts[2]`` trade.
    """
    admin, alice, bob = accounts[0], accounts[1], accounts[2]
    core = deploy_core(project, admin, RoleHolders(), allowlist_enforced=False)
    oracle = project.MockPriceOracle.deploy(sender=admin)
    oracle.setPrice(ETH, 2_000 * ONE, sender=admin)
    usdc = project.MockERC20.deploy("USD Coin", "USDC", 6, sender=admin)
    core.vault.listCollateral(usdc, 10**12 * ONE, sender=admin)
    perp = deploy_perp(
        project, admin, core, oracle, treasury=admin, insurance_fund=admin, settlers=[admin], funders=[admin]
    )
    perp.registry.listMarket(
        ETH, usdc, 0, risk_params(20, 2 * ONE // 100), trading_params(10**14, 10**15), sender=admin
    )
    for trader in (alice, bob):
        usdc.mint(trader, 100_000 * USDC, sender=admin)
        usdc.approve(core.vault, 2**256 - 1, sender=trader)
        core.vault.deposit(usdc, 100_000 * USDC, sender=trader)

    engine = perp.engine
    results: list[tuple[str, int]] = []
    tx = engine.applyFills([_fill(1, bob, alice, ONE, 2_000 * ONE, True)], sender=admin)
    results.append(("engine.apply_trade accounts=2 first-open", tx.gas_used))
    tx = engine.applyFills([_fill(1, bob, alice, ONE, 2_001 * ONE, True)], sender=admin)
    results.append(("engine.apply_trade accounts=2", tx.gas_used))
    tx = engine.applyFills([_fill(1, bob, alice, ONE // 2, 2_002 * ONE, False)], sender=admin)
    results.append(("engine.apply_trade accounts=2 reduce", tx.gas_used))
    batch = [_fill(1, bob, alice, ONE // 10, 2_000 * ONE, i % 2 == 0) for i in range(10)]
    tx = engine.applyFills(batch, sender=admin)
    results.append(("engine.apply_fills fills=10 accounts=2", tx.gas_used))
    tx = engine.accrueFunding(1, ONE // 10_000, sender=admin)
    results.append(("engine.accrue_funding", tx.gas_used))
    tx = engine.settle(alice, usdc, sender=admin)
    results.append(("engine.settle", tx.gas_used))
    tx = core.vault.withdraw(usdc, 1_000 * USDC, sender=alice)
    results.append(("vault.withdraw with engine guard positions=1", tx.gas_used))
    return results
