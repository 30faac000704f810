"""Conservation checks at the end of the demo.

* Vault: for each collateral the ledger total equals the sum of every account's balance (accounts found
  from the Vault's own events), and the tokens the Vault holds cover the ledger (rounded up).
* Engine: in every market long open interest equals short open interest, and the positions mirrored from
  ``PositionUpdated`` events (the liquidation keeper's mirror) sum to zero.
"""

from __future__ import annotations

from typing import Any

from offchain.demo.context import Demo
from offchain.liquidation.keeper import LiquidationKeeper
from offchain.units import internal_to_token_ceil


def vault_accounts(vault: Any, to_block: int) -> set[str]:
    """Every address that ever held a Vault balance."""
    seen: set[str] = set()
    for e in vault.Deposited.range(0, to_block + 1):
        seen.add(str(e.event_arguments["account"]))
    for e in vault.InternalTransfer.range(0, to_block + 1):
        seen.update((str(e.event_arguments["from"]), str(e.event_arguments["to"])))
    return seen


def check_conservation(demo: Demo) -> None:
    d, report = demo.deployment, demo.report
    report.step("conservation: vault ledger == sum of balances, tokens cover it; long == short per market")
    head = demo.chain.blocks.head.number
    holders = vault_accounts(d.vault, head)
    for symbol in ("USDC", "WETH"):
        token = d.token(symbol)
        total = int(d.vault.collaterals(token)[5])
        summed = sum(int(d.vault.balances(a, token)) for a in holders)
        held = int(token.balanceOf(d.vault))
        decimals = int(token.decimals())
        detail = f"{total / 10**18:,.2f} vs {summed / 10**18:,.2f} over {len(holders)} accounts"
        report.check(f"{symbol} ledger total == sum of balances", total == summed, detail)
        report.check(f"{symbol} held by the vault covers the ledger", held >= internal_to_token_ceil(total, decimals),
                     f"held {held / 10**decimals:,.2f}")  # fmt: skip
        demo.figures[f"{symbol} held by the vault"] = f"{held / 10**decimals:,.2f}"
    keeper = demo.figures.get("keeper")
    if not isinstance(keeper, LiquidationKeeper):
        liq = d.liquidation
        keeper = LiquidationKeeper(d.engine, liq.module, liq.adl, d.vault, d.registry, d.oracle, demo.roles["keeper"])
    keeper.sync(head)
    for name, market in d.markets.items():
        state = d.engine.marketStates(market)
        long_oi, short_oi = int(state.longOpenInterestX18), int(state.shortOpenInterestX18)
        mirrored = sum(p.size for legs in keeper.mirror.legs.values() for (m, _), p in legs.items() if m == market)
        report.check(f"{name}: long OI == short OI", long_oi == short_oi, f"{long_oi / 10**18:,.3f} each side")
        report.check(f"{name}: positions sum to zero", mirrored == 0, f"sum {mirrored}")
