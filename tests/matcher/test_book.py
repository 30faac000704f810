"""MarketBook: every order type and edge case, with hand-written expected events."""

from __future__ import annotations

import gc

import pytest

from offchain.matcher import book as b
from offchain.matcher.book import MarketBook
from offchain.matcher.marketdata import DepthView
from offchain.matcher.reference import ReferenceBook

BUY, SELL = True, False
GTC = 0


def fills(events):
    return [ev[1:] for ev in events if ev[0] == b.EV_FILL]


def kinds(events, kind):
    return [ev[1:] for ev in events if ev[0] == kind]


def take(book):
    """The canonical events of everything since the last call (merged tuples split)."""
    out = list(b.expand(book.out))
    book.out.clear()
    return out


@pytest.fixture
def book():
    bk = MarketBook()
    yield bk
    bk.check_invariants()


def test_rest_and_depth(book):
    book.place(1, 10, BUY, 100, 5, GTC, 0)
    book.place(2, 11, BUY, 100, 3, GTC, 0)
    book.place(3, 12, SELL, 105, 4, GTC, 0)
    out = take(book)
    assert kinds(out, b.EV_ACCEPTED) == [(1, 5), (2, 3), (3, 4)]
    assert kinds(out, b.EV_DEPTH) == [(BUY, 100, 5), (BUY, 100, 8), (SELL, 105, 4)]
    assert book.depth(5) == ([(100, 8)], [(105, 4)])
    assert book.levels() == ([(100, [(1, 5), (2, 3)])], [(105, [(3, 4)])])


def test_partial_fills_across_levels_at_maker_prices(book):
    book.place(1, 10, SELL, 101, 2, GTC, 0)
    book.place(2, 11, SELL, 102, 3, GTC, 0)
    book.place(3, 12, SELL, 103, 4, GTC, 0)
    take(book)
    book.place(4, 20, BUY, 103, 7, GTC, 0)
    out = take(book)
    # maker oid, taker oid, maker price, size, maker remaining, taker remaining
    assert fills(out) == [(1, 4, 101, 2, 0, 5), (2, 4, 102, 3, 0, 2), (3, 4, 103, 2, 2, 0)]
    assert kinds(out, b.EV_DEPTH) == [(SELL, 101, 0), (SELL, 102, 0), (SELL, 103, 2)]
    assert book.levels() == ([], [(103, [(3, 2)])])
    assert book.position(20, 0) == 7
    assert book.position(12, 0) == -2


def test_limit_remainder_rests_after_sweep(book):
    book.place(1, 10, SELL, 101, 2, GTC, 0)
    take(book)
    book.place(2, 20, BUY, 102, 5, GTC, 0)
    out = take(book)
    assert fills(out) == [(1, 2, 101, 2, 0, 3)]
    assert kinds(out, b.EV_DEPTH) == [(SELL, 101, 0), (BUY, 102, 3)]
    assert book.levels() == ([(102, [(2, 3)])], [])


def test_price_time_priority_many_orders_one_level(book):
    for oid in range(1, 21):
        book.place(oid, 100 + oid, SELL, 100, 1 + oid % 3, GTC, 0)
    take(book)
    book.cancel(5)
    take(book)
    book.place(99, 1, BUY, 100, 50, GTC, 0)
    out = take(book)
    makers = [f[0] for f in fills(out)]
    expected = [oid for oid in range(1, 21) if oid != 5]
    total = sum(1 + oid % 3 for oid in expected)
    assert total < 50
    assert makers == expected
    assert book.levels() == ([(100, [(99, 50 - total)])], [])


def test_better_price_beats_earlier_time(book):
    book.place(1, 10, BUY, 99, 1, GTC, 0)
    book.place(2, 11, BUY, 100, 1, GTC, 0)
    take(book)
    book.place(3, 12, SELL, 90, 2, GTC, 0)
    assert fills(take(book)) == [(2, 3, 100, 1, 0, 1), (1, 3, 99, 1, 0, 0)]


def test_market_order_on_empty_book_is_cancelled(book):
    book.place(1, 10, BUY, 10**9, 5, b.F_IOC, 0)
    out = take(book)
    assert out == [(b.EV_ACCEPTED, 1, 5), (b.EV_CANCELLED, 1, 5, b.R_IOC)]
    assert book.levels() == ([], [])


def test_ioc_partial_cancels_remainder(book):
    book.place(1, 10, SELL, 100, 2, GTC, 0)
    take(book)
    book.place(2, 20, BUY, 100, 5, b.F_IOC, 0)
    out = take(book)
    assert fills(out) == [(1, 2, 100, 2, 0, 3)]
    assert kinds(out, b.EV_CANCELLED) == [(2, 3, b.R_IOC)]
    assert book.levels() == ([], [])


def test_fok_that_cannot_fill_changes_nothing(book):
    book.place(1, 10, SELL, 100, 2, GTC, 0)
    book.place(2, 11, SELL, 101, 2, GTC, 0)
    book.place(3, 20, SELL, 100, 9, GTC, 0)  # the FOK trader's own order: must survive the failed FOK
    take(book)
    before = book.levels()
    book.place(4, 20, BUY, 101, 5, b.F_FOK, 0)
    assert take(book) == [(b.EV_REJECTED, 4, b.R_FOK)]
    assert book.levels() == before


def test_fok_that_can_fill(book):
    book.place(1, 10, SELL, 100, 2, GTC, 0)
    book.place(2, 11, SELL, 101, 3, GTC, 0)
    take(book)
    book.place(4, 20, BUY, 101, 5, b.F_FOK, 0)
    assert fills(take(book)) == [(1, 4, 100, 2, 0, 3), (2, 4, 101, 3, 0, 0)]
    assert book.levels() == ([], [])


def test_post_only_that_would_cross_is_rejected(book):
    book.place(1, 10, SELL, 100, 2, GTC, 0)
    take(book)
    book.place(2, 20, BUY, 100, 1, b.F_POST_ONLY, 0)
    assert take(book) == [(b.EV_REJECTED, 2, b.R_POST_ONLY)]
    book.place(3, 20, BUY, 99, 1, b.F_POST_ONLY, 0)
    assert kinds(take(book), b.EV_ACCEPTED) == [(3, 1)]
    assert book.levels() == ([(99, [(3, 1)])], [(100, [(1, 2)])])


def test_cancel_partially_filled_order(book):
    book.place(1, 10, SELL, 100, 5, GTC, 0)
    book.place(2, 20, BUY, 100, 2, GTC, 0)
    take(book)
    book.cancel(1)
    assert take(book) == [(b.EV_CANCELLED, 1, 3, b.R_USER), (b.EV_DEPTH, SELL, 100, 0)]
    book.cancel(1)
    assert take(book) == [(b.EV_REJECTED, 1, b.R_UNKNOWN)]
    assert book.levels() == ([], [])


def test_cancel_middle_of_level_keeps_priority(book):
    for oid in (1, 2, 3):
        book.place(oid, 10 + oid, BUY, 100, 1, GTC, 0)
    book.cancel(2)
    take(book)
    assert book.levels() == ([(100, [(1, 1), (3, 1)])], [])
    book.place(4, 30, SELL, 100, 2, GTC, 0)
    assert [f[0] for f in fills(take(book))] == [1, 3]


def test_self_trade_cancels_resting_order_and_taker_continues(book):
    book.place(1, 10, SELL, 100, 2, GTC, 0)  # trader 10's own resting order
    book.place(2, 11, SELL, 100, 3, GTC, 0)
    take(book)
    book.place(3, 10, BUY, 100, 4, GTC, 0)
    out = take(book)
    assert kinds(out, b.EV_CANCELLED) == [(1, 2, b.R_SELF_TRADE)]
    assert fills(out) == [(2, 3, 100, 3, 0, 1)]
    assert book.levels() == ([(100, [(3, 1)])], [])


def test_cancel_all_for_a_trader(book):
    book.place(1, 10, SELL, 100, 2, GTC, 0)
    book.place(2, 11, SELL, 101, 3, GTC, 0)
    book.place(3, 10, BUY, 90, 1, GTC, 0)
    take(book)
    book.cancel_all(10)
    assert kinds(take(book), b.EV_CANCELLED) == [(1, 2, b.R_CANCEL_ALL), (3, 1, b.R_CANCEL_ALL)]
    assert book.levels() == ([], [(101, [(2, 3)])])


def test_reduce_only_clipped_and_rejected(book):
    book.place(1, 10, BUY, 100, 5, b.F_REDUCE_ONLY, 0)
    assert take(book) == [(b.EV_REJECTED, 1, b.R_REDUCE_ONLY)]  # flat: nothing to reduce
    book.set_position(10, 0, 3)  # long 3 lots
    book.place(2, 10, BUY, 100, 1, b.F_REDUCE_ONLY, 0)
    assert take(book) == [(b.EV_REJECTED, 2, b.R_REDUCE_ONLY)]  # a buy would increase a long
    book.place(3, 10, SELL, 100, 5, b.F_REDUCE_ONLY | b.F_FOK, 0)
    assert take(book) == [(b.EV_REJECTED, 3, b.R_REDUCE_ONLY)]  # FOK cannot be clipped
    book.place(4, 10, SELL, 100, 5, b.F_REDUCE_ONLY, 0)
    assert kinds(take(book), b.EV_ACCEPTED) == [(4, 3)]  # clipped to the position
    assert book.levels() == ([], [(100, [(4, 3)])])


def test_resting_reduce_only_shrinks_with_the_position(book):
    book.set_position(10, 0, 3)
    book.place(1, 10, SELL, 105, 3, b.F_REDUCE_ONLY, 0)
    book.place(2, 11, BUY, 100, 2, GTC, 0)
    book.place(3, 10, SELL, 100, 2, GTC, 0)  # trader 10 sells 2 elsewhere: long 1 left
    take(book)
    assert book.position(10, 0) == 1
    book.place(4, 12, BUY, 105, 3, GTC, 0)
    out = take(book)
    assert kinds(out, b.EV_REDUCED) == [(1, 1, b.R_RO_SHRUNK)]
    assert fills(out) == [(1, 4, 105, 1, 0, 2)]
    assert book.position(10, 0) == 0
    assert book.levels() == ([(105, [(4, 2)])], [])


def test_hedge_legs_are_separate_positions(book):
    book.set_position(10, 1, 4)  # long leg
    book.set_position(10, 2, -2)  # short leg
    book.place(1, 10, BUY, 100, 5, b.F_REDUCE_ONLY, 2)  # closes the short leg: clipped to 2
    book.place(2, 10, SELL, 110, 9, b.F_REDUCE_ONLY, 1)  # closes the long leg: clipped to 4
    out = take(book)
    assert kinds(out, b.EV_ACCEPTED) == [(1, 2), (2, 4)]


def test_depth_view_follows_updates(book):
    view = DepthView()
    ref = ReferenceBook()
    ops = [
        ("place", 1, 10, SELL, 101, 2, GTC, 0),
        ("place", 2, 11, SELL, 102, 3, GTC, 0),
        ("place", 3, 12, BUY, 99, 3, GTC, 0),
        ("place", 4, 13, BUY, 102, 4, GTC, 0),
        ("cancel", 3),
        ("place", 5, 14, SELL, 98, 9, b.F_IOC, 0),
    ]
    for op, *args in ops:
        getattr(book, op)(*args)
        getattr(ref, op)(*args)
        view.apply_events(take(book))
        assert (view.bids, view.asks) == ref.aggregate()
    assert view.top(1) == book.depth(1)


def test_raw_output_merges_rest_and_cancel_with_their_depth_update(book):
    """The two most frequent pairs are one tuple each; ``expand`` gives the canonical stream."""
    book.place(1, 10, BUY, 100, 5, GTC, 0)
    book.place(2, 11, BUY, 100, 3, GTC, 0)
    book.cancel(1)
    book.place(3, 12, SELL, 99, 1, b.F_IOC, 0)
    raw = list(book.out)
    assert raw[:3] == [
        (b.EV_RESTED, (b.EV_PLACE, 1, 10, BUY, 100, 5, GTC, 0), 5),
        (b.EV_RESTED, (b.EV_PLACE, 2, 11, BUY, 100, 3, GTC, 0), 8),
        (b.EV_CANCELLED_DEPTH, 1, 5, b.R_USER, BUY, 100, 3),
    ]
    assert take(book) == [
        (b.EV_ACCEPTED, 1, 5),
        (b.EV_DEPTH, BUY, 100, 5),
        (b.EV_ACCEPTED, 2, 3),
        (b.EV_DEPTH, BUY, 100, 8),
        (b.EV_CANCELLED, 1, 5, b.R_USER),
        (b.EV_DEPTH, BUY, 100, 3),
        (b.EV_ACCEPTED, 3, 1),
        (b.EV_FILL, 2, 3, 100, 1, 2, 0),
        (b.EV_DEPTH, BUY, 100, 2),
    ]


def test_no_cyclic_garbage_so_the_gc_can_stay_off():
    """No reference cycle in the book (records point at levels, levels at immutable entries): nothing for the GC."""
    from offchain.matcher.bench import synthetic_flow

    warm, events = synthetic_flow(20_000, seed=4)
    gc.collect()
    gc.disable()
    try:
        book = MarketBook()
        for i in range(0, len(warm + events), 512):
            book.apply((warm + events)[i : i + 512])
            book.out.clear()
        book.check_invariants()
        assert gc.collect() == 0, "the book produced cyclic garbage"
    finally:
        gc.enable()
