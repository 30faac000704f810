"""The demo's acts, in order. Each act drives the real off-chain components (matcher, liquidity optimiser,
batch submitter, oracle submitter, funding and liquidation keepers, bridge validators) and records checks."""

from __future__ import annotations

import random
from typing import Any

from eth_utils import keccak

from offchain.demo.actors import Trader, new_trader
from offchain.demo.context import ONE, USDC, Demo, quiet_stdout
from offchain.deployment import governance as gov
from offchain.deployment.config import dev_key
from offchain.funding.keeper import FundingKeeper, fair_price
from offchain.liquidation.keeper import GRACE_PERIOD, LiquidationKeeper
from offchain.matcher.engine import Fill, MarketConfig, OrderUpdate
from offchain.matcher.liquidity import LadderConfig, Trade, ladder_orders, quote_ladder, sign_ladder, vwap_x18
from offchain.orders.order import FLAG_FOK, FLAG_IOC, FLAG_POST_ONLY, FLAG_REDUCE_ONLY, FLAG_VIA_API, LEG_SHORT
from offchain.orders.signing import sign_digest
from offchain.simulated import Simulated

MAX_UINT = 2**256 - 1
WETH = 10**18
IOC_API = FLAG_IOC | FLAG_VIA_API
HEDGE_SHORT = -1  # script marker: an IOC order on the hedge-mode short leg


def market_configs(deployment: Any) -> list[MarketConfig]:
    """Matcher grids from the on-chain registry (tick, lot, leverage cap)."""
    out = []
    for market_id in deployment.markets.values():
        m = deployment.registry.getMarket(market_id)
        leverage = ONE // int(m.risk.imrX18)
        out.append(MarketConfig(market_id, int(m.trading.tickSizeX18), int(m.trading.lotSizeX18), leverage))
    return out


# ---------------------------------------------------------------------------------------------- oracle


def act_oracle(demo: Demo) -> None:
    demo.report.step("oracle: five sources report ETH and AAPL; source-5 is 20% off")
    result = demo.report_prices()
    isolated = [e for e in result.events if e.startswith("SourceIsolated")]
    demo.report.check("misbehaving source isolated", len(isolated) == 2, f"{len(isolated)} SourceIsolated events")
    for symbol in demo.world.prices:
        from offchain.oracle.signing import asset_id

        price = int(demo.deployment.oracle.getPrice(asset_id(symbol))[0])
        demo.report.info(f"index {symbol} = {price / ONE:,.2f} (world {demo.world.prices[symbol] / ONE:,.2f})")
        demo.report.check(f"{symbol} index is the honest median", price == demo.world.prices[symbol])


def act_governance(demo: Demo) -> None:
    """Funding activation needs an index price, so it is the first change governance makes."""
    d, council = demo.deployment, demo.roles["council"]
    demo.report.step("governance: the timelock activates funding for every market (queue, wait, execute)")
    proposals = []
    for market in demo.config.markets:
        p = gov.proposal_for(d.funding, "activate", [d.markets[market.name], market.initial_price])
        gov.queue(d.timelock, p, council)
        proposals.append(p)
    delay = int(d.timelock.getMinDelay())
    demo.report.info(f"{len(proposals)} operations queued; minimum delay {delay} s")
    demo.expect_refusal("early execution refused", lambda: gov.execute(d.timelock, proposals[0], council))
    demo.travel(delay + 1)
    demo.report_prices()
    for p in proposals:
        gov.execute(d.timelock, p, council)
    active = all(int(d.funding.states(m).anchor) != 0 for m in d.markets.values())
    demo.report.check("funding active after the delay", active)


# ---------------------------------------------------------------------------------------------- traders


def _fund(demo: Demo, trader: Trader, usdc: int = 0, weth: int = 0) -> None:
    vault = demo.deployment.vault
    for token, amount in ((demo.usdc(), usdc), (demo.weth(), weth)):
        if amount:
            token.mint(trader.account, amount, sender=trader.account)
            token.approve(vault, MAX_UINT, sender=trader.account)
            vault.deposit(token, amount, sender=trader.account)


def act_traders(demo: Demo, accounts: Any, n_noise: int) -> None:
    d, officer = demo.deployment, demo.roles["compliance"]
    plan = {  # name: (USDC, WETH)
        "mm": (2_000_000 * USDC, 200 * WETH),
        "alice": (50_000 * USDC, 10 * WETH),
        "bob": (50_000 * USDC, 0),
        "carol": (300 * USDC, 0),
        "dave": (3_000 * USDC, 0),
        **{f"noise-{i}": (20_000 * USDC, 0) for i in range(1, n_noise + 1)},
    }
    demo.report.step(f"compliance allowlists {len(plan)} traders and the insurance fund; traders deposit")
    for name in plan:
        demo.traders[name] = new_trader(accounts, name)
    listed = [t.address for t in demo.traders.values()] + [str(d.liquidation.fund.address)]
    expiry = demo.now + 365 * 86400
    d.compliance.setAllowedBatch(listed, [1] * len(listed), [expiry] * len(listed), sender=officer)
    for name, (usdc, weth) in plan.items():
        _fund(demo, demo.traders[name], usdc, weth)
        demo.report.info(
            f"{name:<8} {demo.traders[name].address} deposited {usdc / USDC:>12,.0f} USDC {weth / WETH:>4.0f} WETH"
        )
    outsider = new_trader(accounts, "outsider")
    demo.usdc().mint(outsider.account, 10**9, sender=outsider.account)
    demo.usdc().approve(d.vault, MAX_UINT, sender=outsider.account)
    demo.expect_refusal(
        "non-allowlisted deposit refused", lambda: d.vault.deposit(demo.usdc(), 10**9, sender=outsider.account)
    )
    seed = 2_000 * USDC
    treasury = demo.roles["treasury"]
    demo.usdc().mint(treasury, seed, sender=treasury)
    demo.usdc().approve(d.vault, MAX_UINT, sender=treasury)
    d.vault.depositFor(d.liquidation.fund, demo.usdc(), seed, sender=treasury)
    demo.figures["insurance fund seeded"] = f"{seed / USDC:,.0f} USDC"
    demo.sample_insurance()


def act_market_maker(demo: Demo) -> None:
    """The market maker quotes post-only ladders from the VWAP of recent trades (liquidity optimiser)."""
    demo.report.step("market maker quotes ladders with the liquidity optimiser")
    mm, ex, d = demo.traders["mm"], demo.exchange, demo.deployment
    configs = {m: state.config for m, state in ex.matcher.markets.items()}
    ladders = {"ETH-USD": 50_000, "AAPL-USD": 20_000}
    for name, depth_usd in ladders.items():
        cfg = configs[d.markets[name]]
        symbol = "ETH" if name.startswith("ETH") else "AAPL"
        recent = [Trade(f.price_x18, f.size_x18) for f in ex.fills[-20:] if f.market_id == cfg.market_id]
        vwap = vwap_x18(recent or [Trade(demo.world.prices[symbol], ONE)])  # VWAP of recent trades, else the index
        quotes = quote_ladder(
            vwap, cfg, LadderConfig(levels=3, spacing_x18=ONE // 1000, min_depth_usd_x18=depth_usd * ONE)
        )
        orders = ladder_orders(quotes, mm.address, cfg, mm.nonce + 1, demo.expiry(), leverage=10,
                               max_fee_rate_x18=ONE // 100)  # fmt: skip
        mm.nonce += len(orders)
        for signed in sign_ladder(orders, ex.domain, mm.key):
            ex.submit(signed, demo.now)
        bids, asks = ex.matcher.depth(cfg.market_id, 3)
        demo.report.info(
            f"{name}: bids {[round(p / ONE, 2) for p, _ in bids]} asks {[round(p / ONE, 2) for p, _ in asks]}"
        )
    inverse = d.markets["ETH-USD-INVERSE"]  # size in USD: the ladder's base-unit sizing does not apply
    eth = demo.world.prices["ETH"] // ONE
    for is_buy, price in ((True, eth - 2), (False, eth + 2)):
        ex.submit(mm.order(ex.domain, inverse, is_buy, 40_000 * ONE, price * ONE, flags=FLAG_POST_ONLY | FLAG_VIA_API,
                           expiry=demo.expiry()), demo.now)  # fmt: skip
    resting = sum(len(s.book.depth(10)[0]) + len(s.book.depth(10)[1]) for s in ex.matcher.markets.values())
    demo.report.check("market maker quotes rest in the books", resting >= 14, f"{resting} price levels")


def _status(outputs: list[Any]) -> str:
    fills = [o for o in outputs if isinstance(o, Fill)]
    updates = [o for o in outputs if isinstance(o, OrderUpdate)]
    last = updates[-1].status if updates else "?"
    reason = f" ({updates[-1].reason})" if updates and updates[-1].reason else ""
    return f"{len(fills)} fill(s), {last}{reason}"


def act_orders(demo: Demo) -> None:
    """Signed orders of every type through the matcher, then batch settlement."""
    demo.report.step("traders send signed orders of every type through the matcher")
    ex, d, t = demo.exchange, demo.deployment, demo.traders
    eth, aapl, inv = d.markets["ETH-USD"], d.markets["AAPL-USD"], d.markets["ETH-USD-INVERSE"]
    exp = demo.expiry()
    # (text, expected status, trader, market, buy?, size, limit price, flags, leverage)
    script = [
        ("alice limit buy 1 ETH @ 1,990 (rests)", "accepted", "alice", eth, True, ONE, 1_990, 0, 10),
        ("alice post-only sell 1 ETH @ 2,010", "accepted", "alice", eth, False, ONE, 2_010, FLAG_POST_ONLY, 10),
        ("alice market buy 2 ETH via API (IOC)", "filled", "alice", eth, True, 2 * ONE, 2_100, IOC_API, 10),
        ("bob FOK sell 3 ETH @ >= 1,990", "filled", "bob", eth, False, 3 * ONE, 1_990, FLAG_FOK, 10),
        ("bob FOK buy 1,000 ETH (cannot fill)", "rejected", "bob", eth, True, 1_000 * ONE, 2_010, FLAG_FOK, 10),
        ("bob post-only buy @ 2,010 (would cross)", "rejected", "bob", eth, True, ONE, 2_010, FLAG_POST_ONLY, 10),
        ("bob reduce-only buy 1 ETH (IOC)", "filled", "bob", eth, True, ONE, 2_010, FLAG_IOC | FLAG_REDUCE_ONLY, 10),
        ("bob buys 50 AAPL (IOC)", "filled", "bob", aapl, True, 50 * ONE, 200, FLAG_IOC, 5),
        (
            "alice hedge-mode short leg: sell 10 AAPL (IOC)",
            "filled",
            "alice",
            aapl,
            False,
            10 * ONE,
            180,
            HEDGE_SHORT,
            5,
        ),
        ("alice buys 5,000 USD of the inverse perp", "filled", "alice", inv, True, 5_000 * ONE, 2_010, FLAG_IOC, 5),
        ("carol long 2.5 ETH at 20x (IOC)", "filled", "carol", eth, True, 5 * ONE // 2, 2_010, FLAG_IOC, 20),
        ("dave long 27.5 ETH at 20x (IOC)", "filled", "dave", eth, True, 55 * ONE // 2, 2_010, FLAG_IOC, 20),
    ]
    d.engine.setHedgeMode(aapl, True, sender=t["alice"].account)  # long and short legs held apart in AAPL
    for text, expected, name, market, is_buy, size, price, flags, leverage in script:
        leg, flags = (LEG_SHORT, FLAG_IOC) if flags == HEDGE_SHORT else (0, flags)
        outputs = ex.submit(
            t[name].order(
                ex.domain, market, is_buy, size, price * ONE, flags=flags, leverage=leverage, leg=leg, expiry=exp
            ),
            demo.now,
        )
        status = _status(outputs)
        demo.report.info(f"{text:<50} -> {status}")
        if not any(isinstance(o, OrderUpdate) and o.status == expected for o in outputs):
            demo.report.check(f"order '{text}' {expected}", False, status)
    settle(demo)


def settle(demo: Demo) -> None:
    ex = demo.exchange
    settled = ex.settle()
    dropped = ex.store.dropped()
    demo.report.info(f"batch submitter settled {settled} fills; {ex.client.last_batch_id()} batches on chain")
    for seq, reason in dropped:
        demo.report.info(f"dropped fill {seq}: {reason}")
    ok, batches = ex.roots_match()
    demo.report.check("on-chain batch roots == submitter roots", ok, f"{batches} batches")
    demo.report.check("no fill dropped by settlement", not dropped, f"{len(dropped)} dropped")


def act_noise(demo: Demo, rng: random.Random, rounds: int) -> None:
    """Extra traders send small random IOC orders against the books."""
    noise = [t for name, t in demo.traders.items() if name.startswith("noise-")]
    if not noise:
        return
    demo.report.step(f"{len(noise)} more traders trade at random for {rounds} round(s)")
    ex, eth = demo.exchange, demo.deployment.markets["ETH-USD"]
    for _ in range(rounds):
        for trader in noise:
            is_buy = rng.random() < 0.5
            size = rng.randint(1, 20) * ONE // 10
            limit = 2_100 if is_buy else 1_900
            ex.submit(trader.order(ex.domain, eth, is_buy, size, limit * ONE, flags=FLAG_IOC, expiry=demo.expiry()),
                      demo.now)  # fmt: skip
        settle(demo)


# ---------------------------------------------------------------------------------------------- funding


def book_price(demo: Demo):
    """The funding keeper's price source: the fair price of the matcher's top of book."""

    def source(market: int) -> int | None:
        bids, asks = demo.exchange.matcher.depth(market, 1)
        return fair_price(bids[0] if bids else None, asks[0] if asks else None)

    return source


def act_funding(demo: Demo) -> None:
    d = demo.deployment
    demo.report.step("eight hours later: the funding keeper posts book prices and applies funding")
    start = demo.chain.blocks.head.number
    demo.travel(8 * 3600)
    demo.report_prices()
    keeper = FundingKeeper(
        d.funding, d.oracle, d.registry, demo.roles["keeper"], list(d.markets.values()), book_price(demo)
    )
    keeper.tick(demo.now)
    for account in (t.address for t in demo.traders.values()):
        for market in d.markets.values():
            for leg in (0,):
                if int(d.engine.positionOf(account, market, leg).size) != 0:
                    d.engine.settleFunding(account, market, sender=demo.roles["keeper"])
    head = demo.chain.blocks.head.number
    accrued = list(d.engine.FundingAccrued.range(start, head + 1))
    settled = [int(e.event_arguments["amountX18"]) for e in d.engine.FundingSettled.range(start, head + 1)]
    for e in accrued:
        rate = int(e.event_arguments["rateX18"])
        demo.report.info(f"market {e.event_arguments['marketId']}: funding rate {rate / ONE:+.6%} per 8 h")
        if int(e.event_arguments["marketId"]) == d.markets["ETH-USD"]:
            demo.series.funding.append((demo.now, rate / ONE))
    demo.report.check("funding applied to every market", keeper.stats["updates"] == len(d.markets),
                      f"{keeper.stats['updates']} updates, {keeper.stats['posts']} posts")  # fmt: skip
    demo.figures["funding updates"] = demo.figures.get("funding updates", 0) + keeper.stats["updates"]
    demo.figures["funding paid (settled, sum of payments)"] = f"{sum(-s for s in settled if s < 0) / ONE:,.4f}"
    posted = int(d.funding.states(d.markets["ETH-USD"]).lastPriceX18)
    demo.series.contract.append((demo.now, posted / ONE))


# ---------------------------------------------------------------------------------------------- liquidation


def act_crash(demo: Demo) -> None:
    d = demo.deployment
    demo.report.step("ETH drops 10%: the liquidation keeper flags, waits the grace, force-closes, then ADL")
    fund_before = demo.sample_insurance()
    demo.world.move("ETH", 9_000, demo.now)
    demo.report_prices()
    start = demo.chain.blocks.head.number
    module = Simulated(d.liquidation.module, demo.chain.provider.web3)  # a refused close costs no call trace
    adl_module = Simulated(d.liquidation.adl, demo.chain.provider.web3)
    keeper = LiquidationKeeper(d.engine, module, adl_module, d.vault, d.registry, d.oracle, demo.roles["keeper"])
    with quiet_stdout():
        keeper.tick(demo.chain.blocks.head.number, demo.now)
    flagged = sorted(a for a, _ in keeper.flagged)
    names = {t.address: n for n, t in demo.traders.items()}
    demo.report.info(f"flagged: {', '.join(names.get(a, a) for a in flagged) or 'nobody'}")
    demo.report.check("over-leveraged accounts flagged", {"carol", "dave"} <= {names.get(a) for a in flagged})
    demo.expect_refusal(
        "forced close inside the grace refused",
        lambda: d.liquidation.module.forceClose(
            demo.traders["carol"].address, d.markets["ETH-USD"], 0, sender=demo.roles["keeper"]
        ),
    )
    demo.travel(GRACE_PERIOD + 1)
    watched = [demo.traders[n].address for n in ("carol", "dave")]
    for round_ in range(1, 13):  # fresh prices, one keeper tick; stop when they are closed or a tick does nothing
        demo.report_prices()
        with quiet_stdout():
            actions = [a for a in keeper.tick(demo.chain.blocks.head.number, demo.now) if a.sent]
        demo.report.info(f"keeper round {round_}: " + (", ".join(f"{a.kind} {names.get(a.account, a.account)}"
                                                                 for a in actions) or "nothing to do"))  # fmt: skip
        flat = not any(int(d.engine.positionOf(a, d.markets["ETH-USD"], 0).size) for a in watched)
        if flat or not actions:
            break
    head = demo.chain.blocks.head.number
    module = d.liquidation.module
    closes = list(module.ForcedClose.range(start, head + 1))
    covered = list(module.BadDebtCovered.range(start, head + 1))
    adl = list(d.liquidation.adl.AdlStep.range(start, head + 1))
    fund_after = demo.sample_insurance()
    demo.report.info(f"forced closes {len(closes)}, bad debt covered {len(covered)}, ADL steps {len(adl)}")
    demo.report.info(f"insurance fund {fund_before / ONE:,.2f} -> {fund_after / ONE:,.2f} USDC")
    demo.report.check("liquidations after the grace", len(closes) >= 1)
    demo.report.check("bankrupt account hit the insurance fund", len(covered) >= 1)
    demo.report.check("ADL when the fund could not absorb", len(adl) >= 1)
    open_sizes = [
        int(d.engine.positionOf(demo.traders[n].address, d.markets["ETH-USD"], 0).size) for n in ("carol", "dave")
    ]
    demo.report.check("over-leveraged positions closed", open_sizes == [0, 0], f"sizes {open_sizes}")
    demo.figures["liquidations (forced closes)"] = len(closes)
    demo.figures["bad debt covered by the fund"] = (
        f"{sum(int(e.event_arguments['amountX18']) for e in covered) / ONE:,.2f} USDC"
    )
    demo.figures["insurance fund"] = f"{fund_before / ONE:,.2f} -> {fund_after / ONE:,.2f} USDC"
    demo.figures["ADL steps"] = len(adl)
    demo.figures["keeper"] = keeper


# ---------------------------------------------------------------------------------------------- stock, bridge


def act_stock_token(demo: Demo) -> None:
    d, minter = demo.deployment, demo.roles["minter"]
    demo.report.step("stock token: the custodian attests 1,000 shares; minting is capped by the attestation")
    stock = d.stock_token
    shares, nonce = 1_000 * ONE, int(stock.latestAttestation().nonce) + 1
    report_hash = keccak(text=f"custodian report {nonce}")
    ts = demo.now
    digest = bytes(stock.attestationDigest(shares, report_hash, ts, nonce))
    signature = sign_digest(digest, dev_key("custodian"))
    stock.postAttestation(shares, report_hash, ts, nonce, signature, sender=demo.roles["keeper"])
    alice = demo.traders["alice"].address
    stock.mint(alice, 600 * ONE, sender=minter)
    demo.expect_refusal("mint above the attested reserve refused", lambda: stock.mint(alice, 500 * ONE, sender=minter))
    supply = int(stock.totalSupply())
    demo.report.check(
        "stock supply within the attested reserve",
        supply <= shares,
        f"supply {supply / ONE:,.0f} / {shares / ONE:,.0f}",
    )
    demo.figures["stock token (xAAPL) supply / attested"] = f"{supply / ONE:,.0f} / {shares / ONE:,.0f}"


def act_bridge(demo: Demo, locks: int = 3) -> None:
    from offchain.bridge.demo import run_demo

    demo.report.step(f"bridge: {locks} transfers between two local chains (validators + relayer), one back")
    summary = run_demo(locks=locks)
    demo.report.info(f"{summary}")
    demo.report.check("bridge: minted on B == locked on A", summary["minted_on_B"] == summary["locked_on_A"])
    demo.report.check("bridge: released on A == burned on B", summary["released_on_A"] == summary["burned_on_B"])
    locked, back = summary["locked_on_A"] / USDC, summary["released_on_A"] / USDC
    demo.figures["bridge locked A->B / released B->A"] = (
        f"{locked:,.2f} / {back:,.2f} USDC ({summary['releases_on_B']} releases on B)"
    )
