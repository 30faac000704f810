"""``make bench`` entry: orders per second accepted end to end through the gateway, from a second process.

Starts a gateway (matcher with signature checks, in-memory chain reader, uvicorn on a free loopback port)
in this process, runs :mod:`offchain.gateway.load` in a child process and prints
``gateway orders_per_s=<N> p99_ms=<M>``.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from offchain.gateway.config import GatewayConfig
from offchain.gateway.reader import MemoryChainReader
from offchain.gateway.server import build_gateway, serve_in_background
from offchain.matcher.engine import MarketConfig, Matcher
from offchain.orders.order import Domain

Figure = tuple[str, float, str]
BENCH_DOMAIN = Domain(31337, "0x00000000000000000000000000000000000005e7")
TICK, LOT = 10**16, 10**15
#: Rate limits out of the way: the benchmark measures the pipeline, not the limiter's refusals.
UNLIMITED = GatewayConfig(ip_rate=1e9, ip_burst=1e9, account_rate=1e9, account_burst=1e9)


def measure(count: int = 2000, concurrency: int = 8, traders: int = 50, max_seconds: float = 30.0) -> dict[str, Any]:
    """Run the load generator against a fresh gateway; returns its JSON result."""
    gw = build_gateway(Matcher(BENCH_DOMAIN, [MarketConfig(1, TICK, LOT)]), MemoryChainReader(), UNLIMITED)
    server = serve_in_background(gw.app, config=gw.config)
    before = resource.getrusage(resource.RUSAGE_SELF)
    try:
        cmd = [sys.executable, "-m", "offchain.gateway.load", "--url", server.url,
               "--chain-id", str(BENCH_DOMAIN.chain_id), "--settlement", BENCH_DOMAIN.verifying_contract,
               "--tick", str(TICK), "--lot", str(LOT), "--count", str(count), "--traders", str(traders),
               "--concurrency", str(concurrency), "--max-seconds", str(max_seconds)]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=max_seconds + 120, check=False)
    finally:
        after = resource.getrusage(resource.RUSAGE_SELF)
        server.stop()
    if not proc.stdout.strip():
        raise RuntimeError(f"load generator failed ({proc.returncode}): {proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["fills"] = gw.service.matcher.next_fill_seq - 1
    # CPU the gateway process spent per order (the machine may be shared: wall-clock figures vary with load).
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["server_cpu_ms_per_order"] = 1000 * cpu / max(1, result["sent"])
    return result


def format_line(result: dict[str, Any]) -> str:
    return f"gateway orders_per_s={result['orders_per_s']:.0f} p99_ms={result['p99_ms']:.2f}"


def run(project: Any = None, accounts: Any = None, log: Callable[[str], None] = print) -> list[Figure]:
    """``make bench`` hook (chain arguments unused: the gateway runs over an in-memory chain reader)."""
    result = measure()
    log(format_line(result))
    return [
        ("gateway_orders_per_s", float(result["orders_per_s"]), "orders/s"),
        ("gateway_p99_ms", float(result["p99_ms"]), "ms"),
    ]


if __name__ == "__main__":
    res = measure()
    print(format_line(res))
    print(json.dumps(res))
