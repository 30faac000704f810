"""Funding keeper: fair price from the book, clamping into the on-chain bands, posting and triggering."""

from __future__ import annotations

import json

from funding_helpers import LINEAR

from offchain.funding.keeper import (
    FundingKeeper,
    book_file_source,
    clamp_to_bounds,
    fair_price,
    matcher_source,
    matcher_state_source,
)
from offchain.matcher.engine import Fill, MarketConfig, Matcher
from offchain.matcher.flow import trader_keys
from offchain.orders.order import Domain, Order
from offchain.orders.signing import address_of_key, sign_order
from offchain.perp.math import ONE


def test_fair_price_weights_the_thinner_side_toward_its_price():
    assert fair_price((1_999 * ONE, 3 * ONE), (2_001 * ONE, ONE)) == (1_999 * ONE * 1 + 2_001 * ONE * 3) // 4
    assert fair_price((1_999 * ONE, ONE), None) == 1_999 * ONE
    assert fair_price(None, None) is None


def test_clamp_to_bounds_respects_both_bands():
    idx, last = 2_000 * ONE, 2_000 * ONE
    dev, step = 5 * ONE // 100, ONE // 100
    assert clamp_to_bounds(2_500 * ONE, idx, last, dev, step) == 2_020 * ONE
    assert clamp_to_bounds(1_000 * ONE, idx, last, dev, step) == 1_980 * ONE
    assert clamp_to_bounds(2_010 * ONE, idx, last, dev, step) == 2_010 * ONE


def test_keeper_posts_clamped_price_and_triggers_when_due(funding, f_oracle, f_perp, keeper, chain, tmp_path, admin):
    book = tmp_path / "book.json"
    book.write_text(json.dumps({str(LINEAR): {"bid": [2_500 * ONE, ONE], "ask": [2_600 * ONE, ONE]}}))
    k = FundingKeeper(funding, f_oracle, f_perp.registry, keeper, [LINEAR], book_file_source(book))
    assert k.post(LINEAR) == 2_020 * ONE  # clamped to the step band
    assert funding.states(LINEAR).lastPriceX18 == 2_020 * ONE
    assert not k.update_if_due(LINEAR, chain.pending_timestamp)
    due = funding.nextUpdate(LINEAR)[0]
    chain.pending_timestamp = max(due, chain.pending_timestamp)
    chain.mine()
    assert k.update_if_due(LINEAR, chain.blocks.head.timestamp)
    assert k.stats == {"posts": 1, "updates": 1, "failures": 0}
    dry = FundingKeeper(funding, f_oracle, f_perp.registry, keeper, [LINEAR], book_file_source(book), dry_run=True)
    dry.post(LINEAR)
    assert funding.states(LINEAR).lastPriceX18 == 2_020 * ONE and dry.stats["posts"] == 0


DOMAIN = Domain(31337, "0x" + "5e" * 20)
TICK = 10**16
LOT = 10**15
NOW = 1_700_000_000


def _order(key: str, is_buy: bool, price: int, size: int, nonce: int = 1):
    fields = dict(marketId=LINEAR, isBuy=is_buy, leg=0, flags=0, leverage=5, size=size, limitPrice=price)
    fields.update(maxFeeRate=10**15, nonce=nonce, expiry=NOW + 3600)
    return sign_order(Order(trader=address_of_key(key), **fields), DOMAIN, key)


def _matcher_book() -> Matcher:
    """A real matcher book: best bid 2,003 x 2 (3 rested, 1 filled by a crossing sell), a deeper bid
    2,001 x 9 that must not count, best ask 2,007 x 1."""
    keys = trader_keys(2)
    m = Matcher(DOMAIN, [MarketConfig(LINEAR, TICK, LOT, max_leverage=20)])
    m.submit(_order(keys[0], True, 2_003 * ONE, 3 * ONE), NOW)
    m.submit(_order(keys[0], True, 2_001 * ONE, 9 * ONE, nonce=2), NOW)
    m.submit(_order(keys[1], False, 2_007 * ONE, ONE), NOW)
    fills = [o for o in m.submit(_order(keys[1], False, 2_003 * ONE, ONE, nonce=2), NOW) if isinstance(o, Fill)]
    assert [(f.size_x18, f.price_x18) for f in fills] == [(ONE, 2_003 * ONE)]
    return m


def test_keeper_posts_fair_price_from_a_real_matcher_book(funding, f_oracle, f_perp, keeper, tmp_path):
    m = _matcher_book()
    expected = (2_003 * ONE * ONE + 2_007 * ONE * 2 * ONE) // (3 * ONE)  # bid weighted by the ask size
    assert matcher_source(m)(LINEAR) == expected
    assert matcher_source(m)(99) is None  # a market the matcher does not run
    # the matcher process's files: its --config and its --state-out
    config = tmp_path / "market.json"
    config.write_text(
        json.dumps(
            {
                "chainId": DOMAIN.chain_id,
                "verifyingContract": DOMAIN.verifying_contract,
                "markets": [{"market_id": LINEAR, "tick_size_x18": TICK, "lot_size_x18": LOT, "max_leverage": 20}],
            }
        )
    )
    state = tmp_path / "state.json"
    state.write_text(json.dumps(m.export_state()))
    source = matcher_state_source(config, state)
    k = FundingKeeper(funding, f_oracle, f_perp.registry, keeper, [LINEAR], source)
    assert k.post(LINEAR) == expected  # inside both bands: posted unclamped
    assert funding.states(LINEAR).lastPriceX18 == expected
    # the book moves (the best bid is cancelled): the next round reads the new state
    m.cancel(m.live[1].hash, m.live[1].order.trader, NOW)
    state.write_text(json.dumps(m.export_state()))
    assert source(LINEAR) == (2_001 * ONE * ONE + 2_007 * ONE * 9 * ONE) // (10 * ONE) == matcher_source(m)(LINEAR)
    state.write_text("{")  # a torn file: skip the round rather than post garbage
    assert source(LINEAR) is None
