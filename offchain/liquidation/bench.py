"""Keeper health-scan benchmark for ``make bench``: 100,000 mirrored accounts re-evaluated on one
oracle update (vectorised float scan + exact integer check of the flagged few)."""

from __future__ import annotations

import random
import time
from typing import Any

from offchain.liquidation.mirror import AccountMirror, LegState, MarketInfo

ONE = 10**18
TOKEN = "0x00000000000000000000000000000000000000C0"
Figure = tuple[str, float, str]


def build_mirror(n_accounts: int, seed: int = 7) -> AccountMirror:
    """A mirror with ``n_accounts`` accounts holding one or two legs in two linear markets, about 1% of
    them close to maintenance at the benchmark price."""
    rng = random.Random(seed)
    m = AccountMirror()
    m.markets[1] = MarketInfo(b"ETH", TOKEN, False, mmr=2 * ONE // 100, funding_index=5 * ONE // 10)
    m.markets[2] = MarketInfo(b"BTC", TOKEN, False, mmr=ONE // 100, funding_index=-3 * ONE // 10)
    for i in range(n_accounts):
        account = f"0x{i + 1:040x}"
        legs = {}
        size = rng.randint(1, 50) * ONE // 10 * rng.choice((1, -1))
        legs[(1, 0)] = LegState(size, size * 2_000, ONE // 2)
        if i % 3 == 0:
            s2 = rng.randint(1, 20) * ONE // 1000 * rng.choice((1, -1))
            legs[(2, 0)] = LegState(s2, s2 * 50_000, -3 * ONE // 10)
        m.legs[account] = legs
        lev = rng.choice((2, 5, 10, 19)) if i % 100 else 48
        m.cash[(account, TOKEN)] = abs(size) * 2_000 // lev
    return m


def scan_ms(mirror: AccountMirror, prices: dict[int, int], repeats: int = 5) -> tuple[float, int]:
    """Median wall time of one scan (+ exact checks) in ms, and how many accounts were liquidatable."""
    mirror.scan(prices)  # arrays are maintained from events; build them outside the timing
    times = []
    hits = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        cands = mirror.scan(prices)
        hits = sum(1 for a, t in cands if mirror.exact_health(a, t, prices).liquidatable)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return times[len(times) // 2], hits


def run(project: Any, accounts: Any, n_accounts: int = 100_000) -> list[Figure]:
    """Benchmark the scan; prints ``keeper_scan accounts=<n> ms=<N>``."""
    mirror = build_mirror(n_accounts)
    ms, hits = scan_ms(mirror, {1: 1_960 * ONE, 2: 50_500 * ONE})
    print(f"keeper_scan accounts={n_accounts} ms={ms:.1f}")
    return [("keeper_scan_ms", ms, "ms"), ("keeper_scan_liquidatable", float(hits), "accounts")]
