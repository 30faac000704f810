"""Property: the fast book and the naive reference book agree on every random flow.

Identical non-depth events (accepted/rejected/fills/cancels/reductions, in order), identical final
book (priority order included), identical positions, and the depth feed rebuilt from incremental
updates equals the reference's aggregate after every step.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from offchain.matcher import book as b
from offchain.matcher.book import MarketBook
from offchain.matcher.marketdata import DepthView
from offchain.matcher.reference import ReferenceBook

TRADERS = (1, 2, 3, 4)
FLAG_CHOICES = (0, 0, 0, b.F_IOC, b.F_FOK, b.F_POST_ONLY, b.F_REDUCE_ONLY, b.F_REDUCE_ONLY | b.F_IOC)

place_op = st.tuples(
    st.just("place"),
    st.sampled_from(TRADERS),
    st.booleans(),
    st.integers(95, 105),
    st.integers(1, 8),
    st.sampled_from(FLAG_CHOICES),
    st.sampled_from((0, 0, 1, 2)),
)
cancel_op = st.tuples(st.just("cancel"), st.integers(0, 60))
cancel_all_op = st.tuples(st.just("cancel_all"), st.sampled_from(TRADERS))
position_op = st.tuples(st.just("position"), st.sampled_from(TRADERS), st.sampled_from((0, 1, 2)), st.integers(-6, 6))
flows = st.lists(
    st.one_of(place_op, place_op, place_op, cancel_op, cancel_all_op, position_op), min_size=1, max_size=60
)


def _apply(target, op, oid):
    kind = op[0]
    if kind == "place":
        _, trader, is_buy, price, qty, flags, leg = op
        target.place(oid, trader, is_buy, price, qty, flags, leg)
    elif kind == "cancel":
        target.cancel(op[1])
    elif kind == "cancel_all":
        target.cancel_all(op[1])
    else:
        target.set_position(op[1], op[2], op[3])


@given(flows)
def test_fast_book_matches_reference(flow):
    fast, ref, view = MarketBook(), ReferenceBook(), DepthView()
    for oid, op in enumerate(flow, start=1):
        _apply(fast, op, oid)
        _apply(ref, op, oid)
        fast_events = [ev for ev in b.expand(fast.out) if ev[0] != b.EV_DEPTH]
        assert fast_events == ref.out, f"step {oid} {op}"
        view.apply_events(fast.out)
        assert (view.bids, view.asks) == ref.aggregate(), f"depth feed diverged at step {oid} {op}"
        fast.out.clear()
        ref.out.clear()
        fast.check_invariants()
    assert fast.levels() == ref.levels()
    for trader in TRADERS:
        for leg in (0, 1, 2):
            assert fast.position(trader, leg) == ref.position(trader, leg)


@given(flows)
def test_snapshot_round_trip_continues_identically(flow):
    """Exporting and rebuilding the book mid-flow changes nothing that follows."""
    half = len(flow) // 2
    straight, restored = MarketBook(), MarketBook()
    for oid, op in enumerate(flow[:half], start=1):
        _apply(straight, op, oid)
        _apply(restored, op, oid)
    restored = MarketBook.from_state(restored.export_state())
    straight.out.clear()
    for oid, op in enumerate(flow[half:], start=half + 1):
        _apply(straight, op, oid)
        _apply(restored, op, oid)
    assert straight.out == restored.out
    assert straight.levels() == restored.levels()
    nonzero = straight.positions()
    assert nonzero == restored.positions()


@given(st.lists(st.one_of(place_op, place_op, cancel_op), min_size=1, max_size=80))
def test_one_batch_equals_event_by_event(flow):
    """``apply`` on the whole flow at once produces exactly the reference's events and book."""
    batch = []
    ref = ReferenceBook()
    for oid, op in enumerate(flow, start=1):
        if op[0] == "place":
            batch.append((b.EV_PLACE, oid, *op[1:]))
        else:
            batch.append((b.EV_CANCEL, op[1], b.R_USER, False, 0, 0, 0, 0))
        _apply(ref, op, oid)
    fast = MarketBook()
    fast.apply(batch)
    assert [ev for ev in b.expand(fast.out) if ev[0] != b.EV_DEPTH] == ref.out
    assert fast.levels() == ref.levels()
