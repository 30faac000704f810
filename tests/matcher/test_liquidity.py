"""Liquidity optimiser against a hand-computed example (VWAP 100.125, 0.1% steps, 500k USD per level)."""

from __future__ import annotations

import pytest

from offchain.matcher.engine import MarketConfig, Matcher
from offchain.matcher.liquidity import LadderConfig, Quote, Trade, ladder_orders, quote_ladder, sign_ladder, vwap_x18
from offchain.orders.order import FLAG_POST_ONLY, FLAG_VIA_API, Domain
from offchain.orders.signing import address_of_key, verify_signed_order
from offchain.units import to_x18

MARKET = MarketConfig(1, to_x18("0.01"), to_x18("0.001"))
TRADES = [Trade(to_x18("100"), to_x18("2")), Trade(to_x18("101"), to_x18("1")), Trade(to_x18("99.5"), to_x18("1"))]

# By hand: VWAP = (200 + 101 + 99.5) / 4 = 100.125.
# Bid i = 100.125 * (1 - i/1000) rounded down to 0.01; ask i = 100.125 * (1 + i/1000) rounded up.
# Size = 500,000 / price rounded up to 0.001, e.g. 500,000 / 100.02 = 4999.00019996 -> 4999.001.
EXPECTED = [
    (True, 1, "100.02", "4999.001"),  # 100.024875
    (True, 2, "99.92", "5004.004"),  # 99.92475; 500000/99.92 = 5004.0032
    (True, 3, "99.82", "5009.017"),  # 99.824625; 5009.01623
    (True, 4, "99.72", "5014.040"),  # 99.7245; 5014.03931
    (True, 5, "99.62", "5019.073"),  # 99.624375; 5019.07247
    (False, 1, "100.23", "4988.527"),  # 100.225125; 4988.52639
    (False, 2, "100.33", "4983.555"),  # 100.32525; 4983.55427
    (False, 3, "100.43", "4978.593"),  # 100.425375; 4978.59205
    (False, 4, "100.53", "4973.640"),  # 100.5255; 4973.63971
    (False, 5, "100.63", "4968.698"),  # 100.625625; 4968.69721
]


def test_vwap_by_hand():
    assert vwap_x18(TRADES) == to_x18("100.125")
    with pytest.raises(ValueError, match="undefined"):
        vwap_x18([])
    with pytest.raises(ValueError, match="non-positive"):
        vwap_x18([Trade(0, 1)])


def test_ladder_matches_the_hand_computed_example():
    quotes = quote_ladder(vwap_x18(TRADES), MARKET, LadderConfig())
    assert quotes == [Quote(b, i, to_x18(p), to_x18(s)) for b, i, p, s in EXPECTED]
    for q in quotes:
        assert q.notional_x18 >= 500_000 * 10**18  # minimum depth per level
        assert (q.size_x18 - MARKET.lot_size_x18) * q.price_x18 < 500_000 * 10**36  # and not a lot more


def test_ladder_orders_are_signed_post_only_and_rest_in_the_matcher():
    key = "0x" + "33" * 32
    domain = Domain(31337, "0x" + "5e" * 20)
    maker = address_of_key(key)
    quotes = quote_ladder(vwap_x18(TRADES), MARKET)
    orders = ladder_orders(quotes, maker, MARKET, first_nonce=100, expiry=2_000_000_000)
    assert [o.nonce for o in orders] == list(range(100, 110))
    assert all(o.flags == FLAG_POST_ONLY | FLAG_VIA_API for o in orders)
    signed = sign_ladder(orders, domain, key)
    assert all(verify_signed_order(s, domain) == maker for s in signed)
    matcher = Matcher(domain, [MARKET])
    for s in signed:
        assert matcher.submit(s, 1_700_000_000)[0].status == "accepted"
    bids, asks = matcher.depth(1, 5)
    assert bids == [(q.price_x18, q.size_x18) for q in quotes[:5]]
    assert asks == [(q.price_x18, q.size_x18) for q in quotes[5:]]


def test_config_is_validated():
    with pytest.raises(ValueError, match="levels"):
        LadderConfig(levels=0)
    with pytest.raises(ValueError, match="spacing"):
        LadderConfig(spacing_x18=10**17, levels=10)
