"""Load generator for the gateway, meant to run in its own process (``python -m offchain.gateway.load``).

Signs ``--count`` orders of ``--traders`` keys up front (random sides, prices a few ticks around a mid,
so about half of them trade), then sends them over ``--concurrency`` keep-alive connections and prints one
JSON line: ``{"sent", "accepted", "errors", "seconds", "orders_per_s", "p50_ms", "p99_ms"}``. Stops at
``--max-seconds`` whatever is left. Every order goes through the gateway's full path: schema, EIP-712
signature recovery, rate limits, compliance, the matcher's own checks and matching.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from typing import Any

import httpx

from offchain.orders.order import FLAG_VIA_API, Domain, Order
from offchain.orders.signing import address_of_key, sign_order

ONE = 10**18


def make_bodies(
    count: int, traders: int, domain: Domain, market_id: int, tick: int, lot: int, seed: int = 1
) -> list[dict[str, Any]]:
    """``count`` signed POST /orders bodies, pseudo-random but reproducible."""
    rng = random.Random(seed)
    keys = [(i + 1).to_bytes(32, "big") for i in range(traders)]
    addrs = [address_of_key(k) for k in keys]
    mid_ticks = 2000 * ONE // tick
    bodies = []
    for n in range(count):
        t = n % traders
        buy = rng.random() < 0.5
        price = (mid_ticks + rng.randint(-5, 5)) * tick
        order = Order(addrs[t], market_id, buy, 0, FLAG_VIA_API, 10, rng.randint(1, 5) * lot, price, ONE // 100,
                      n // traders + 1, 2**40)  # fmt: skip
        signed = sign_order(order, domain, keys[t])
        bodies.append({"order": order.as_message(), "signature": "0x" + signed.signature.hex()})
    return bodies


async def _run(url: str, bodies: list[dict[str, Any]], concurrency: int, max_seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    accepted = errors = 0
    queue = iter(bodies)
    started = time.perf_counter()
    deadline = started + max_seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal accepted, errors
            for body in queue:
                if time.perf_counter() > deadline:
                    return
                t0 = time.perf_counter()
                resp = await client.post("/orders", json=body)
                latencies.append(time.perf_counter() - t0)
                if resp.status_code == 200:
                    accepted += 1
                else:
                    errors += 1
                    if errors <= 3:
                        print(f"load: {resp.status_code} {resp.text[:200]}", file=sys.stderr)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(q: float) -> float:
        return 1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0

    return {
        "sent": len(latencies),
        "accepted": accepted,
        "errors": errors,
        "seconds": elapsed,
        "orders_per_s": accepted / elapsed if elapsed else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offchain.gateway.load", description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="gateway base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--chain-id", type=int, required=True, help="EIP-712 domain chain id")
    parser.add_argument("--settlement", required=True, help="EIP-712 verifying contract (Settlement address)")
    parser.add_argument("--market", type=int, default=1, help="market id (default 1)")
    parser.add_argument("--tick", type=int, default=10**16, help="tick size X18 (default 0.01)")
    parser.add_argument("--lot", type=int, default=10**15, help="lot size X18 (default 0.001)")
    parser.add_argument("--count", type=int, default=2000, help="orders to send (default 2000)")
    parser.add_argument("--traders", type=int, default=50, help="distinct trader keys (default 50)")
    parser.add_argument("--concurrency", type=int, default=16, help="parallel connections (default 16)")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="stop sending after this (default 60)")
    args = parser.parse_args(argv)
    domain = Domain(args.chain_id, args.settlement)
    bodies = make_bodies(args.count, args.traders, domain, args.market, args.tick, args.lot)
    result = asyncio.run(_run(args.url, bodies, args.concurrency, args.max_seconds))
    print(json.dumps(result))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
