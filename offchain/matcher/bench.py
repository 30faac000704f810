"""Matcher benchmark (``make bench`` calls :func:`run`; ``python -m offchain.matcher.bench`` runs it alone).

Flow: a deterministic synthetic stream (fixed seed) of ``events`` inputs on one market after an
untimed warm-up that seeds the book: about 60% passive limit adds within 20 ticks of a fixed mid,
30% cancels of live orders, 10% aggressive orders (half market orders: IOC with a far limit; half IOC
limits a few ticks through the mid). 100 traders, so self-trade prevention triggers now and then.
Fills, order-state events and incremental depth updates are produced for every event; the output
list is handed off (cleared) every 1024 events, as a bus adapter would.

Figures:
- ``events_per_s``: timed passes over the flow in batches of 1024 events (``MarketBook.apply``), no
  per-event timer; the best of ``repeats`` passes.
- ``p50_us`` / ``p99_us``: passes on a fresh book applying each event alone (``apply((event,))``,
  i.e. a bus handing over one event per call) and timing every event with a ``perf_counter_ns`` pair
  around the call; the pass with the best p99 of ``repeats``. Nothing is subtracted: the figures
  include the call and one timer read (``timer_overhead`` measures a back-to-back pair alone, about
  0.05-0.1 us here, and is printed next to them so a reader can subtract it).

The cyclic garbage collector is off during timed loops (``gc.disable()`` after a ``gc.collect()``):
the book creates no cyclic garbage (emptied levels are cleared; ``tests/matcher/test_book.py``
checks ``gc.collect() == 0`` after a flow), so a long-running matcher process can run the same way
and only pays reference counting; with the GC on, CPython would scan young objects every 700
allocations, which is the cost this avoids.
- ``matcher_sigcheck orders_per_s``: entry verification (EIP-712 digest, secp256k1 recovery with the
  low-s/v/zero-signer rules, field and grid checks) of distinct signed orders; outside the matching loop.

Correctness gate: the final book (levels in priority order, every order's remaining size) and all
positions must equal those of :class:`~offchain.matcher.reference.ReferenceBook` on the same flow,
and the latency passes' outputs (split with :func:`~offchain.matcher.book.expand`, counted outside
the timer) must hold as many accepted/rejected/fill/cancelled/reduced events and as many filled lots
as the reference's, else the benchmark raises instead of printing figures.
"""

from __future__ import annotations

import argparse
import gc
import random
import tempfile
import time
from collections.abc import Callable
from typing import Any

from offchain.matcher import book as bk
from offchain.matcher.book import MarketBook
from offchain.matcher.engine import MarketConfig, Matcher
from offchain.matcher.flow import feed, signed_flow, trader_keys
from offchain.matcher.journal import Journal
from offchain.matcher.reference import ReferenceBook
from offchain.orders.order import Domain, Order, SignedOrder
from offchain.orders.signing import address_of_key, sign_order

Figure = tuple[str, float, str]
Event = tuple  # a MarketBook.apply input tuple (8 fields)

MID = 1_000_000
BAND = 20
N_TRADERS = 100
OUT_HANDOFF = 1024  # events per apply() batch; the output list is handed off (cleared) after each


class BenchmarkMismatch(AssertionError):
    """The fast book disagrees with the reference book: the figures would be meaningless."""


def synthetic_flow(n_events: int, seed: int = 42, warmup: int = 2_000) -> tuple[list[Event], list[Event]]:
    """``(warmup_events, timed_events)``. Cancels target orders that are live at that point of the flow."""
    rng = random.Random(seed)
    gen = MarketBook()
    live: list[int] = []
    oid = 0

    def place(ev: Event) -> None:
        gen.apply((ev,))
        gen.out.clear()
        if ev[1] in gen.orders:
            live.append(ev[1])

    warm: list[Event] = []
    for _ in range(warmup):
        oid += 1
        is_buy = rng.random() < 0.5
        price = MID - rng.randint(1, BAND) if is_buy else MID + rng.randint(1, BAND)
        ev = (bk.EV_PLACE, oid, rng.randrange(N_TRADERS), is_buy, price, rng.randint(1, 10), 0, 0)
        place(ev)
        warm.append(ev)
    events: list[Event] = []
    rand, randint, randrange = rng.random, rng.randint, rng.randrange
    while len(events) < n_events:
        r = rand()
        if r < 0.30:
            while live:
                i = randrange(len(live))
                victim = live[i]
                live[i] = live[-1]
                live.pop()
                if victim in gen.orders:
                    ev = (bk.EV_CANCEL, victim, bk.R_USER, False, 0, 0, 0, 0)
                    gen.apply((ev,))
                    gen.out.clear()
                    events.append(ev)
                    break
            continue
        oid += 1
        is_buy = rand() < 0.5
        trader = randrange(N_TRADERS)
        if r < 0.90:
            price = MID - randint(1, BAND) if is_buy else MID + randint(1, BAND)
            ev = (bk.EV_PLACE, oid, trader, is_buy, price, randint(1, 10), 0, 0)
        elif r < 0.95:  # market order: IOC with a far limit
            ev = (bk.EV_PLACE, oid, trader, is_buy, 2 * MID if is_buy else 1, randint(5, 40), bk.F_IOC, 0)
        else:  # IOC limit a few ticks through the mid
            price = MID + randint(0, 5) if is_buy else MID - randint(0, 5)
            ev = (bk.EV_PLACE, oid, trader, is_buy, price, randint(5, 40), bk.F_IOC, 0)
        place(ev)
        events.append(ev)
    return warm, events


def _seeded_book(warm: list[Event]) -> MarketBook:
    book = MarketBook()
    book.apply(warm)
    book.out.clear()
    return book


def timed_pass(events: list[Event], warm: list[Event]) -> tuple[MarketBook, float, float, int]:
    """Throughput pass in batches of ``OUT_HANDOFF``: final book, wall and CPU seconds, output tuples produced."""
    book = _seeded_book(warm)
    batches = [events[i : i + OUT_HANDOFF] for i in range(0, len(events), OUT_HANDOFF)]
    apply = book.apply
    out = book.out
    produced = 0
    gc.collect()
    gc.disable()
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        for batch in batches:
            apply(batch)
            produced += len(out)
            out.clear()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        gc.enable()
    return book, elapsed, cpu, produced


def tally_events(out: list[tuple], tally: list[int]) -> None:
    """Count the canonical events of an output batch by kind (``tally[kind]``) and the filled lots (``tally[-1]``)."""
    for ev in bk.expand(out):
        tally[ev[0]] += 1
        if ev[0] == bk.EV_FILL:
            tally[-1] += ev[4]


def new_tally() -> list[int]:
    """Counters for :func:`tally_events`: one per canonical event kind, then the filled lots."""
    return [0] * (bk.EV_DEPTH + 2)


def latency_pass(events: list[Event], warm: list[Event]) -> tuple[MarketBook, list[int], list[int]]:
    """Final book, per-event latencies in ns (sorted) and the output tally (:func:`tally_events`, untimed):
    each event applied alone, timer around the call."""
    book = _seeded_book(warm)
    tally = new_tally()
    singles = [(ev,) for ev in events]
    apply = book.apply
    out = book.out
    lat = [0] * len(singles)
    clock = time.perf_counter_ns
    gc.collect()
    gc.disable()
    try:
        for i, one in enumerate(singles):
            t0 = clock()
            apply(one)
            lat[i] = clock() - t0
            if not i & (OUT_HANDOFF - 1):
                tally_events(out, tally)
                out.clear()
        tally_events(out, tally)
        out.clear()
    finally:
        gc.enable()
    lat.sort()
    return book, lat, tally


def timer_overhead(n: int = 200_000) -> tuple[int, int]:
    """p50 and p99 (ns) of two back-to-back ``perf_counter_ns`` reads: the floor of every latency sample."""
    clock = time.perf_counter_ns
    lat = [0] * n
    for i in range(n):
        t0 = clock()
        lat[i] = clock() - t0
    lat.sort()
    return lat[n // 2], lat[int(n * 0.99)]


def reference_result(warm: list[Event], events: list[Event]) -> tuple[tuple[list, list], dict[int, int], list[int]]:
    """Final levels, non-zero positions and the tally of the timed events' outputs of :class:`ReferenceBook`
    (which emits no depth events: their counter stays 0)."""
    ref = ReferenceBook()
    tally = new_tally()
    for i, (kind, oid, trader, is_buy, price, qty, flags, leg) in enumerate(warm + events):
        if kind == bk.EV_CANCEL:
            ref.cancel(oid)
        else:
            ref.place(oid, trader, is_buy, price, qty, flags, leg)
        if i >= len(warm):
            tally_events(ref.out, tally)
        ref.out.clear()
    positions = {t * bk.LEGS_PER_TRADER + leg: v for (t, leg), v in ref.positions.items() if v}
    return ref.levels(), positions, tally


def check_against_reference(
    book: MarketBook,
    warm: list[Event],
    events: list[Event],
    expected: tuple | None = None,
    tally: list[int] | None = None,
) -> None:
    """Compare ``book`` (and, if given, the tally of its outputs) with the reference result; raise
    :class:`BenchmarkMismatch` on any difference. Depth updates are not in the tally comparison (the
    reference emits none); the final levels and the property tests cover them."""
    levels, positions, ref_tally = expected if expected is not None else reference_result(warm, events)
    if tally is not None and tally[: bk.EV_DEPTH] + tally[-1:] != ref_tally[: bk.EV_DEPTH] + ref_tally[-1:]:
        raise BenchmarkMismatch(f"output events differ from the reference book's: {tally} vs {ref_tally}")
    book.check_invariants()
    if book.levels() != levels:
        raise BenchmarkMismatch("final book differs from the reference book")
    if book.positions() != positions:
        raise BenchmarkMismatch("positions differ from the reference book")


def sigcheck(n_orders: int = 2_000) -> float:
    """Entry verifications per second over distinct signed orders."""
    domain = Domain(31337, "0x" + "5e" * 20)
    market = MarketConfig(1, 10**16, 10**15)
    keys = trader_keys(8)
    addresses = [address_of_key(k) for k in keys]
    matcher = Matcher(domain, [market])
    signed = []
    for i in range(n_orders):
        order = Order(addresses[i % 8], 1, i % 2 == 0, 0, 0, 10, (1 + i % 9) * 10**15, (1000 + i % 50) * 10**16,
                      10**15, i, 2_000_000_000)  # fmt: skip
        s = sign_order(order, domain, keys[i % 8])
        signed.append((s.order, s.signature))
    check = matcher.check_order
    started = time.perf_counter()
    for order, sig in signed:
        check(SignedOrder(order, sig, domain), 1_700_000_000)
    return n_orders / (time.perf_counter() - started)


def end_to_end(n_events: int = 2_000) -> float:
    """Inputs per second through the whole :class:`Matcher`: entry checks, journal append, book, typed outputs."""
    domain = Domain(31337, "0x" + "5e" * 20)
    market = MarketConfig(1, 10**16, 10**15)
    records = signed_flow(n_events, 11, domain, market, n_traders=8)
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal(tmp)
        matcher = Matcher(domain, [market], journal=journal)
        started = time.perf_counter()
        for record in records:
            feed(matcher, record)
        elapsed = time.perf_counter() - started
        journal.close()
    return n_events / elapsed


def benchmark(
    n_events: int = 1_000_000,
    seed: int = 42,
    repeats: int = 3,
    log: Callable[[str], None] = print,
    end_to_end_events: int = 2_000,
) -> list[Figure]:
    """Run everything, print the two contract lines, return the figures.

    Throughput and latency are each the best of ``repeats`` passes on a fresh book (as ``timeit``
    does): other processes on a shared machine only ever add time. Every pass's final book is checked.
    """
    warm, events = synthetic_flow(n_events, seed)
    counts = [0, 0]
    for ev in events:
        counts[ev[0]] += 1
    expected = reference_result(warm, events)
    passes = []
    for _ in range(repeats):
        book, elapsed, cpu, produced = timed_pass(events, warm)
        check_against_reference(book, warm, events, expected)
        passes.append((elapsed, cpu))
    elapsed = min(e for e, _ in passes)
    cpu = min(c for _, c in passes)
    best = None
    for _ in range(repeats):
        latency_book, lat, tally = latency_pass(events, warm)
        check_against_reference(latency_book, warm, events, expected, tally)
        figures = (lat[len(lat) // 2] / 1000, lat[int(len(lat) * 0.99)] / 1000)
        if best is None or figures[1] < best[1]:
            best = figures
    assert best is not None
    p50, p99 = best
    timer_p50, timer_p99 = timer_overhead()
    eps = len(events) / elapsed
    log(f"matcher events={len(events)} events_per_s={eps:.0f} p50_us={p50:.2f} p99_us={p99:.2f}")
    orders_per_s = max(sigcheck() for _ in range(repeats))
    log(f"matcher_sigcheck orders_per_s={orders_per_s:.0f}")
    e2e = end_to_end(end_to_end_events)
    log(f"matcher_end_to_end inputs_per_s={e2e:.0f} (signed orders and cancels: entry checks, journal, book, outputs)")
    log(
        f"matcher flow: {counts[0]} orders, {counts[1]} cancels, {sum(tally[:-1])} output events "
        f"({tally[bk.EV_FILL]} fills, {tally[bk.EV_DEPTH]} depth updates) in {produced} tuples, "
        f"final book {len(book.orders)} orders; book and output counts match the reference; best of {repeats}: "
        f"wall {', '.join(f'{len(events) / e:.0f}' for e, _ in passes)} events/s, "
        f"CPU-time {len(events) / cpu:.0f} events/s (wall includes time the shared CPU ran other work); "
        f"latency samples include one perf_counter_ns read: back-to-back p50 {timer_p50} ns, p99 {timer_p99} ns"
    )
    return [
        ("matcher_events_per_s", eps, "events/s"),
        ("matcher_p50_us", p50, "us"),
        ("matcher_p99_us", p99, "us"),
        ("matcher_events_per_cpu_s", len(events) / cpu, "events/s"),
        ("matcher_timer_overhead_p50_ns", timer_p50, "ns"),
        ("matcher_sigcheck_orders_per_s", orders_per_s, "orders/s"),
        ("matcher_end_to_end_inputs_per_s", e2e, "inputs/s"),
    ]


def run(project: Any = None, accounts: Any = None) -> list[Figure]:
    """``make bench`` hook (the chain arguments are not used: the matcher is off chain)."""
    return benchmark()


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Benchmark the matcher's hot path and entry signature checks.")
    parser.add_argument("--events", type=int, default=1_000_000, help="timed events (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=42, help="flow seed (default 42)")
    parser.add_argument("--repeats", type=int, default=3, help="passes per figure, best kept (default 3)")
    args = parser.parse_args(argv)
    benchmark(args.events, args.seed, args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
