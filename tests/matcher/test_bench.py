"""The benchmark's output contract and its correctness gate (a wrong fast book must not pass)."""

from __future__ import annotations

import re

import pytest

from offchain.matcher import bench
from offchain.matcher import book as bk


def test_flow_mix_and_determinism():
    warm, events = bench.synthetic_flow(20_000, seed=3)
    again = bench.synthetic_flow(20_000, seed=3)
    assert (warm, events) == again
    cancels = sum(1 for ev in events if ev[0] == bk.EV_CANCEL)
    aggressive = sum(1 for ev in events if ev[0] == bk.EV_PLACE and ev[6] & bk.F_IOC)
    assert 0.27 < cancels / len(events) < 0.33
    assert 0.08 < aggressive / len(events) < 0.12


def test_benchmark_prints_the_contract_lines():
    lines = []
    figures = bench.benchmark(20_000, seed=5, repeats=1, log=lines.append, end_to_end_events=200)
    assert re.fullmatch(r"matcher events=20000 events_per_s=\d+ p50_us=\d+\.\d\d p99_us=\d+\.\d\d", lines[0])
    assert re.fullmatch(r"matcher_sigcheck orders_per_s=\d+", lines[1])
    assert {name for name, _, _ in figures} >= {"matcher_events_per_s", "matcher_p99_us"}


def test_gate_rejects_a_wrong_book():
    warm, events = bench.synthetic_flow(5_000, seed=9)
    book, *_ = bench.timed_pass(events, warm)
    bench.check_against_reference(book, warm, events)
    # corrupt one resting order's remaining size, keeping the level totals self-consistent
    oid, (rem, level) = next(iter(book.orders.items()))
    book.orders[oid] = (rem + 1, level)
    level[bk.LV_TOTAL] += 1
    with pytest.raises(bench.BenchmarkMismatch, match="final book differs"):
        bench.check_against_reference(book, warm, events)


def test_gate_rejects_wrong_outputs():
    """A book whose final state is right but whose output stream lost an event must not pass either."""
    warm, events = bench.synthetic_flow(5_000, seed=9)
    expected = bench.reference_result(warm, events)
    book, _, tally = bench.latency_pass(events, warm)
    bench.check_against_reference(book, warm, events, expected, tally)
    tally[bk.EV_CANCELLED] -= 1
    with pytest.raises(bench.BenchmarkMismatch, match="output events differ"):
        bench.check_against_reference(book, warm, events, expected, tally)
