"""Matcher: entry verification, grid conversion, typed outputs, fills with both signed orders, bus."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.matcher import book as bk
from offchain.matcher.bus import CancelAll, CancelOrder, Expire, InProcessBus, SubmitOrder, run
from offchain.matcher.engine import DepthUpdate, Fill, MarketConfig, Matcher, OrderUpdate
from offchain.matcher.flow import feed, signed_flow, trader_keys
from offchain.matcher.marketdata import DepthView
from offchain.matcher.reference import ReferenceBook
from offchain.orders.order import FLAG_FOK, FLAG_IOC, FLAG_POST_ONLY, FLAG_REDUCE_ONLY, Domain, Order, SignedOrder
from offchain.orders.signing import address_of_key, malleate, sign_order

DOMAIN = Domain(31337, "0x" + "5e" * 20)
TICK = 10**16  # 0.01 USD
LOT = 10**15  # 0.001 base
MARKET = MarketConfig(1, TICK, LOT, max_leverage=20)
NOW = 1_700_000_000
KEYS = trader_keys(3)
ALICE, BOB, CAROL = (address_of_key(k) for k in KEYS)


def make(key_index, is_buy, price_ticks, lots, flags=0, nonce=1, **overrides):
    fields = {
        "trader": address_of_key(KEYS[key_index]),
        "marketId": 1,
        "isBuy": is_buy,
        "leg": 0,
        "flags": flags,
        "leverage": 5,
        "size": lots * LOT,
        "limitPrice": price_ticks * TICK,
        "maxFeeRate": 10**15,
        "nonce": nonce,
        "expiry": NOW + 3600,
    }
    fields.update(overrides)
    return sign_order(Order(**fields), DOMAIN, KEYS[key_index])


def updates(outputs, status=None):
    return [o for o in outputs if isinstance(o, OrderUpdate) and (status is None or o.status == status)]


@pytest.fixture
def matcher():
    return Matcher(DOMAIN, [MARKET])


def test_fill_carries_both_signed_orders_and_maker_price(matcher):
    maker = make(0, False, 300_000, 5)
    taker = make(1, True, 300_050, 2)
    matcher.submit(maker, NOW)
    out = matcher.submit(taker, NOW)
    fills = [o for o in out if isinstance(o, Fill)]
    assert fills == [Fill(1, 1, maker, taker, 2 * LOT, 300_000 * TICK)]
    assert [(u.order_hash, u.status, u.remaining_x18) for u in updates(out)] == [
        (taker.hash, "accepted", 2 * LOT),
        (maker.hash, "partially_filled", 3 * LOT),
        (taker.hash, "filled", 0),
    ]
    assert [o for o in out if isinstance(o, DepthUpdate)] == [DepthUpdate(1, False, 300_000 * TICK, 3 * LOT)]
    assert matcher.depth(1, 5) == ([], [(300_000 * TICK, 3 * LOT)])


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda s: type(s)(s.order, malleate(s.signature), s.domain), "high-s"),
        (lambda s: type(s)(s.order, s.signature[:64] + b"\x01", s.domain), "invalid v"),
        (lambda s: type(s)(s.order, make(1, True, 1, 1).signature, s.domain), "neither the trader"),
        (lambda s: type(s)(s.order, s.signature, Domain(1, DOMAIN.verifying_contract)), "another domain"),
    ],
)
def test_bad_signature_never_reaches_the_book(matcher, mutate, reason):
    signed = mutate(make(0, True, 100, 1))
    out = matcher.submit(signed, NOW)
    assert len(out) == 1 and out[0].status == "rejected" and reason in out[0].reason
    assert matcher.depth(1, 5) == ([], [])
    assert matcher.applied_seq == 0


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"size": LOT + 1}, "not a positive multiple of the lot size"),
        ({"size": 0}, "not a positive multiple of the lot size"),
        ({"limitPrice": 100 * TICK + 1}, "not a multiple of the tick size"),
        ({"limitPrice": 0}, "limitPrice must be positive"),
        ({"marketId": 9}, "unknown market 9"),
        ({"leverage": 21}, "leverage 21 outside 1..20"),
        ({"leverage": 0}, "leverage 0 outside"),
        ({"leg": 3}, "leg 3"),
        ({"flags": 32}, "unknown flag bits"),
        ({"flags": FLAG_IOC | FLAG_FOK}, "exclusive"),
        ({"flags": FLAG_POST_ONLY | FLAG_IOC}, "post-only cannot be IOC"),
        ({"maxFeeRate": 10**18 + 1}, "above 100%"),
        ({"expiry": NOW}, "expired"),
    ],
)
def test_entry_checks_name_the_problem(matcher, overrides, reason):
    out = matcher.submit(make(0, True, 100, 1, **overrides), NOW)
    assert [u.status for u in out] == ["rejected"] and reason in out[0].reason
    assert matcher.applied_seq == 0


def test_off_grid_limit_of_ioc_rounds_toward_safety(matcher):
    matcher.submit(make(0, False, 100, 1), NOW)
    matcher.submit(make(0, True, 90, 1, nonce=2), NOW)
    # buy IOC at 100.999 ticks: floored to 100, still matches the ask at 100
    out = matcher.submit(make(1, True, 100, 1, FLAG_IOC, limitPrice=100 * TICK + TICK - 1), NOW)
    assert [f.price_x18 for f in out if isinstance(f, Fill)] == [100 * TICK]
    # sell IOC at 90.001 ticks: ceiled to 91, does not match the bid at 90
    out = matcher.submit(make(1, False, 90, 1, FLAG_IOC, nonce=2, limitPrice=90 * TICK + 1), NOW)
    assert not [f for f in out if isinstance(f, Fill)]
    assert updates(out, "cancelled")[0].remaining_x18 == LOT


def test_duplicate_order_and_foreign_cancel_are_rejected(matcher):
    signed = make(0, True, 100, 1)
    matcher.submit(signed, NOW)
    assert "duplicate" in matcher.submit(signed, NOW)[0].reason
    assert "not the order's trader" in matcher.cancel(signed.hash, BOB, NOW)[0].reason
    out = matcher.cancel(signed.hash, ALICE, NOW)
    assert updates(out, "cancelled")[0].order_hash == signed.hash
    assert "unknown" in matcher.cancel(signed.hash, ALICE, NOW)[0].reason
    assert "duplicate" in matcher.submit(signed, NOW)[0].reason  # a cancelled order never comes back


def test_delegate_key_lifecycle(matcher):
    delegate_key = trader_keys(4)[3]
    delegate = address_of_key(delegate_key)
    first = sign_order(make(0, True, 100, 1).order, DOMAIN, delegate_key)
    assert "neither the trader" in matcher.submit(first, NOW)[0].reason
    matcher.authorize_delegate(BOB, delegate, NOW + 100)  # authorised for another trader only
    assert "neither the trader" in matcher.submit(first, NOW)[0].reason
    matcher.authorize_delegate(ALICE, delegate, NOW + 100)
    assert matcher.submit(first, NOW)[0].status == "accepted"
    own = make(0, True, 99, 1, nonce=2)
    matcher.submit(own, NOW)
    late = sign_order(make(0, True, 98, 1, nonce=3).order, DOMAIN, delegate_key)
    assert "neither the trader" in matcher.submit(late, NOW + 100)[0].reason  # authorisation expired
    out = matcher.revoke_delegate(ALICE, delegate)
    assert [(u.order_hash, u.status, u.reason) for u in updates(out)] == [
        (first.hash, "cancelled", "signing delegate revoked or expired")
    ]
    assert matcher.depth(1, 5) == ([(99 * TICK, LOT)], [])  # the trader's own order stays


def test_delegate_expiry_cancels_resting_orders_it_signed(matcher):
    delegate_key = trader_keys(4)[3]
    matcher.authorize_delegate(ALICE, address_of_key(delegate_key), NOW + 50)
    signed = sign_order(make(0, True, 100, 1).order, DOMAIN, delegate_key)
    matcher.submit(signed, NOW)
    assert matcher.expire(NOW + 49) == []
    out = matcher.expire(NOW + 50)
    assert [(u.status, u.reason) for u in updates(out)] == [("cancelled", "signing delegate revoked or expired")]


def test_cancel_below_nonce(matcher):
    low, high = make(0, True, 100, 1, nonce=4), make(0, True, 99, 1, nonce=5)
    matcher.submit(low, NOW)
    matcher.submit(high, NOW)
    out = matcher.cancel_below_nonce(ALICE, 5)
    assert [(u.order_hash, u.status) for u in updates(out)] == [(low.hash, "cancelled")]
    assert "below the trader's cancelled-below nonce" in matcher.submit(make(0, True, 98, 1, nonce=3), NOW)[0].reason
    assert matcher.submit(make(0, True, 98, 1, nonce=6), NOW)[0].status == "accepted"


def test_fok_post_only_reduce_only_through_the_engine(matcher):
    matcher.submit(make(0, False, 100, 2), NOW)
    out = matcher.submit(make(1, True, 100, 3, FLAG_FOK), NOW)
    assert [(u.status, u.reason) for u in out] == [("rejected", "fill-or-kill cannot fill entirely")]
    out = matcher.submit(make(1, True, 100, 1, FLAG_POST_ONLY, nonce=2), NOW)
    assert out[0].reason == "post-only order would cross"
    matcher.set_position(BOB, 1, 0, -LOT)  # bob short 1 lot
    out = matcher.submit(make(1, True, 100, 2, FLAG_REDUCE_ONLY, nonce=3), NOW)
    assert updates(out, "accepted")[0].remaining_x18 == LOT  # clipped to the position
    assert [f.size_x18 for f in out if isinstance(f, Fill)] == [LOT]


def test_expiry_cancels_resting_orders(matcher):
    short = make(0, True, 100, 1, expiry=NOW + 10)
    long_lived = make(1, True, 99, 1)
    matcher.submit(short, NOW)
    matcher.submit(long_lived, NOW)
    out = matcher.expire(NOW + 10)
    assert [(u.order_hash, u.status, u.reason) for u in updates(out)] == [(short.hash, "cancelled", "order expired")]
    assert matcher.depth(1, 5) == ([(99 * TICK, LOT)], [])
    assert short.hash not in matcher.seen and long_lived.hash in matcher.seen  # dedup memory is pruned
    assert "expired" in matcher.submit(short, NOW + 10)[0].reason  # and the expiry check still refuses it


def test_in_process_bus_runs_the_engine(matcher):
    bus = InProcessBus()
    resting = make(0, False, 100, 2)
    bus.put(SubmitOrder(resting, NOW))
    bus.put(SubmitOrder(make(1, True, 101, 1), NOW))
    bus.put(SubmitOrder(make(2, False, 105, 1), NOW))
    bus.put(CancelOrder(resting.hash, ALICE, NOW))
    bus.put(CancelAll(CAROL, NOW))
    bus.put(Expire(NOW + 1))
    assert run(matcher, bus) == 6
    fills = [o for o in bus.outputs if isinstance(o, Fill)]
    assert [(f.maker.hash, f.size_x18) for f in fills] == [(resting.hash, LOT)]
    assert matcher.depth(1, 5) == ([], [])
    assert [u.status for u in bus.outputs if isinstance(u, OrderUpdate)][-2:] == ["cancelled", "cancelled"]


def test_depth_updates_rebuild_the_top_of_book(matcher):
    view = DepthView()
    flow = [
        (0, False, 101, 3, 0),
        (1, False, 102, 2, 0),
        (2, True, 99, 4, 0),
        (1, True, 102, 4, FLAG_IOC),  # STP cancels its own ask at 102, takes 101 x3, rest cancelled
        (0, True, 100, 1, 0),
        (2, False, 95, 2, 0),  # takes 100 x1, STP cancels its own bid at 99, rests 1 at 95
    ]
    for i, (key, is_buy, px, lots, flags) in enumerate(flow):
        for out in matcher.submit(make(key, is_buy, px, lots, flags, nonce=10 + i), NOW):
            if isinstance(out, DepthUpdate):
                view.apply(out.is_bid, out.price_x18, out.total_x18)
        assert view.top(10) == matcher.depth(1, 10)
    assert view.best() == (None, 95 * TICK)
    assert matcher.depth(1, 10) == ([], [(95 * TICK, LOT)])


@given(st.integers(0, 2**32))
@settings(max_examples=8)
def test_engine_fills_equal_reference_on_signed_flows(seed):
    """The typed X18 fills of the full engine equal the reference book's, fed the same ticks and lots."""
    matcher = Matcher(DOMAIN, [MARKET])
    ref = ReferenceBook()
    traders: dict[str, int] = {}
    oid_of_hash: dict[str, int] = {}
    hash_of_oid: dict[int, bytes] = {}
    expected, got = [], []
    for record in signed_flow(60, seed, DOMAIN, MARKET, n_traders=3):
        next_oid, applied = matcher.next_oid, matcher.applied_seq
        outputs = feed(matcher, record)
        got += [(f.maker.hash, f.taker.hash, f.price_x18, f.size_x18) for f in outputs if isinstance(f, Fill)]
        if record["t"] == "order" and matcher.next_oid > next_oid:  # reached the book with this oid
            o = record["o"]["order"]
            signed = SignedOrder.from_json(record["o"])
            oid_of_hash["0x" + signed.hash.hex()] = next_oid
            hash_of_oid[next_oid] = signed.hash
            tid = traders.setdefault(o["trader"], len(traders))
            ref.place(next_oid, tid, o["isBuy"], o["limitPrice"] // TICK, o["size"] // LOT, o["flags"] & 15, 0)
        elif record["t"] == "cancel" and matcher.applied_seq > applied:
            ref.cancel(oid_of_hash[record["h"]])
        expected += [
            (hash_of_oid[e[1]], hash_of_oid[e[2]], e[3] * TICK, e[4] * LOT) for e in ref.out if e[0] == bk.EV_FILL
        ]
        ref.out.clear()
    assert got == expected
