"""Gas of batch settlement, for `make gas` (anvil: ``--network ethereum:local:foundry``).

Scenario of the issue: each fill is between one of ``makers`` market makers and a distinct taker; every
account already holds a position in the market (a warm-up batch opened them); every order is fresh
(never seen on chain); signatures are checked, fees charged, end-state margin checks done.

``measure(project, accounts)`` returns ``(label, gas)`` pairs and prints, for B = 1, 10, 100::

    settle_gas_per_fill batch=<B> gas=<N> calldata_bytes=<C>

where N = gasUsed(settleBatch) / B (the whole transaction: 21000 base, calldata, settlement, engine)
and C = calldata bytes of the transaction / B.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak

from offchain.deploy import RoleHolders, deploy_core
from offchain.orders.order import Domain, Order
from offchain.orders.signing import address_of_key, sign_order
from offchain.perp.deploy import deploy_perp, risk_params, trading_params
from offchain.settlement.deploy import deploy_settlement
from offchain.settlement.fills import SettlementFill, batch_tree, encode_batch

ONE = 10**18
USDC = 10**6
ETH = keccak(text="ETH")
PRICE = 2_000 * ONE
SIZE = ONE // 10
BATCHES = (1, 10, 100)


@dataclass
class Scenario:
    """A deployment with ``makers`` + ``takers`` funded, allowlisted traders holding positions."""

    settlement: Any
    engine: Any
    operator: Any
    domain: Domain
    maker_keys: list[bytes]
    taker_keys: list[bytes]
    contracts: dict[str, Any] = field(default_factory=dict)
    nonces: dict[bytes, int] = field(default_factory=dict)

    def nonce(self, key: bytes) -> int:
        """The trader's next order nonce (sequential: 128 orders share one bitmap word)."""
        n = self.nonces.get(key, 1)
        self.nonces[key] = n + 1
        return n


def _key(i: int) -> bytes:
    return keccak(b"perpx-gas-trader" + i.to_bytes(4, "big"))


def _order(key: bytes, buy: bool, nonce: int, expiry: int) -> Order:
    return Order(address_of_key(key), 1, buy, 0, 0, 10, SIZE, PRICE, ONE // 100, nonce, expiry)


def _fills(s: Scenario, count: int, expiry: int) -> list[SettlementFill]:
    """``count`` fills, fill j between maker j % makers and taker j, fresh orders, sides alternating."""
    out = []
    for j in range(count):
        mk, tk = s.maker_keys[j % len(s.maker_keys)], s.taker_keys[j]
        taker_buys = j % 2 == 0
        maker_order = _order(mk, not taker_buys, s.nonce(mk), expiry)
        taker_order = _order(tk, taker_buys, s.nonce(tk), expiry)
        out.append(
            SettlementFill(sign_order(maker_order, s.domain, mk), sign_order(taker_order, s.domain, tk), SIZE, PRICE)
        )
    return out


def setup(project: Any, accounts: Any, chain: Any, makers: int = 10, takers: int = 100) -> Scenario:
    """Deploy everything, fund and allowlist the traders, and open a position for each of them."""
    admin, operator, officer = accounts[0], accounts[1], accounts[4]
    core = deploy_core(project, admin, RoleHolders(operators=[operator], compliance=[officer]), allowlist_enforced=True)
    oracle = project.MockPriceOracle.deploy(sender=admin)
    oracle.setPrice(ETH, PRICE, sender=admin)
    usdc = project.MockERC20.deploy("USD Coin", "USDC", 6, sender=admin)
    core.vault.listCollateral(usdc, 10**30, sender=admin)
    treasury = "0x00000000000000000000000000000000000000A1"
    perp = deploy_perp(project, admin, core, oracle, treasury=treasury, insurance_fund=treasury)
    perp.registry.listMarket(
        ETH, usdc, 0, risk_params(20, 2 * ONE // 100), trading_params(10**14, 10**15), sender=admin
    )
    settlement = deploy_settlement(project, admin, core, perp)
    keys = [_key(i) for i in range(makers + takers)]
    deposit = 10_000 * USDC
    usdc.mint(admin, deposit * len(keys), sender=admin)
    usdc.approve(core.vault, 2**256 - 1, sender=admin)
    far = chain.pending_timestamp + 10 * 365 * 86400
    for key in keys:
        trader = address_of_key(key)
        core.compliance.setAllowed(trader, 1, far, sender=officer)
        core.vault.depositFor(trader, usdc, deposit, sender=admin)
    s = Scenario(settlement, perp.engine, operator, Domain(chain.chain_id, str(settlement.address)),
                 keys[:makers], keys[makers:], {"core": core, "perp": perp, "admin": admin})  # fmt: skip
    _warm_up(s, far)
    return s


def _warm_up(s: Scenario, expiry: int) -> None:
    """Every account trades once (opens its position, fills its nonce bitmap word); opening costs more: chunks."""
    warm = _fills(s, len(s.taker_keys), expiry)
    for start in range(0, len(warm), 25):
        settle(s, warm[start : start + 25])


def settlement_only(project: Any, s: Scenario, chain: Any) -> Scenario:
    """The same traders and registries, but a Settlement whose engine only counts fills (Settlement's own gas)."""
    core, perp, admin = s.contracts["core"], s.contracts["perp"], s.contracts["admin"]
    engine = project.MockSettlementEngine.deploy(sender=admin)
    settlement = project.Settlement.deploy(core.acl, engine, perp.registry, core.compliance, sender=admin)
    bare = Scenario(settlement, engine, s.operator, Domain(chain.chain_id, str(settlement.address)), s.maker_keys,
                    s.taker_keys)  # fmt: skip
    _warm_up(bare, chain.pending_timestamp + 365 * 86400)
    return bare


def settle(s: Scenario, fills: Sequence[SettlementFill]) -> Any:
    """Settle ``fills`` as the next batch; returns the receipt."""
    batch_id = s.settlement.lastBatchId() + 1
    root = batch_tree(batch_id, fills).root
    return s.settlement.settleBatch(batch_id, root, encode_batch(fills), sender=s.operator)


def run(s: Scenario, chain: Any, batches: Sequence[int] = BATCHES) -> list[tuple[int, int, int]]:
    """``(B, gas per fill, calldata bytes per fill)`` for each batch size."""
    far = chain.pending_timestamp + 365 * 86400
    out = []
    for size in batches:
        receipt = settle(s, _fills(s, size, far))
        calldata = len(bytes(receipt.transaction.data))
        out.append((size, receipt.gas_used // size, calldata // size))
    return out


def engine_only(s: Scenario, chain: Any, batches: Sequence[int] = BATCHES) -> list[tuple[int, int]]:
    """``(B, gas per fill)`` of ``engine.applyFills`` called directly with the same kind of fills (the admin is
    granted SETTLER): the engine's share of a settled fill, for comparison."""
    from offchain import roles

    core, admin = s.contracts["core"], s.contracts["admin"]
    core.acl.grantRole(roles.SETTLER, admin, sender=admin)
    far = chain.pending_timestamp + 365 * 86400
    out = []
    for size in batches:
        fills = _fills(s, size, far)
        engine_fills = [
            (1, f.maker.order.trader, f.taker.order.trader, f.taker.order.isBuy, f.size_x18, f.price_x18, 0, 0)
            for f in fills
        ]
        out.append((size, s.engine.applyFills(engine_fills, sender=admin).gas_used // size))
    return out


def format_lines(rows: Sequence[tuple[int, int, int]]) -> list[str]:
    return [f"settle_gas_per_fill batch={b} gas={g} calldata_bytes={c}" for b, g, c in rows]


def print_settle_gas(
    project: Any, accounts: Any, echo: Callable[[str], None] = print
) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]], list[tuple[int, int]]]:
    """Run the scenario on the connected chain, print the ``settle_gas_per_fill`` lines and return them, plus
    the same figures for Settlement alone (an engine that only counts fills) and for the engine alone."""
    from ape import chain

    if hasattr(chain.provider, "set_block_gas_limit"):  # anvil: a 100-fill batch needs more than 30M gas
        chain.provider.set_block_gas_limit(200_000_000)
    s = setup(project, accounts, chain)
    rows = run(s, chain)
    for line in format_lines(rows):
        echo(line)
    own = run(settlement_only(project, s, chain), chain)
    engine = engine_only(s, chain)
    return rows, own, engine


def measure(project: Any, accounts: Any) -> list[tuple[str, int]]:
    """`make gas` hook: prints the ``settle_gas_per_fill`` lines and returns table rows (full settlement per
    fill, and Settlement's own share measured against an engine that only counts fills)."""
    rows, own, engine = print_settle_gas(project, accounts)
    out = [(f"settlement.settle_batch per fill B={b} (calldata {c} B/fill)", g) for b, g, c in rows]
    out += [(f"settlement.settle_batch per fill B={b} settlement only (no-op engine)", g) for b, g, _ in own]
    out += [(f"engine.apply_fills per fill B={b} (same scenario, called directly)", g) for b, g in engine]
    return out
