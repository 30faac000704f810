"""Load test from a second process on loopback (bounded count and time), as `make bench` runs it."""

from __future__ import annotations

import re

from offchain.gateway.bench import format_line, measure


def test_load_from_a_second_process_accepts_every_order():
    result = measure(count=100, concurrency=4, traders=20, max_seconds=20)
    assert result["sent"] == 100 and result["accepted"] == 100 and result["errors"] == 0
    assert result["fills"] > 0  # crossing prices: orders really matched end to end
    assert result["orders_per_s"] > 0 and result["p99_ms"] >= result["p50_ms"] > 0
    assert re.fullmatch(r"gateway orders_per_s=\d+ p99_ms=\d+\.\d\d", format_line(result))
