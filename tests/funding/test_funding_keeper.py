"""Funding keeper: fair price from the book, clamping into the on-chain bands, posting and triggering."""

from __future__ import annotations

import json

from conftest import LINEAR

from offchain.funding.keeper import FundingKeeper, book_file_source, clamp_to_bounds, fair_price
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
