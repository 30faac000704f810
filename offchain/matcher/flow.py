"""Deterministic synthetic order flows of signed orders (tests, the recovery drill, the sig-check benchmark).

A flow is a list of JSON-safe input records, one per line in a ``.jsonl`` file::

    {"src": 1, "t": "order", "o": <SignedOrder.to_json()>, "at": <unix s>}
    {"src": 2, "t": "cancel", "h": "0x<order hash>", "trader": "0x...", "at": <unix s>}
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eth_utils import keccak

from offchain.matcher.engine import MarketConfig
from offchain.orders.order import FLAG_FOK, FLAG_IOC, FLAG_POST_ONLY, Domain, Order, SignedOrder
from offchain.orders.signing import address_of_key, sign_order

FLOW_START_TIME = 1_700_000_000


def trader_keys(n: int) -> list[bytes]:
    """``n`` deterministic private keys (test material only)."""
    return [keccak(text=f"perpx matcher synthetic trader {i}") for i in range(n)]


def signed_flow(
    n_events: int, seed: int, domain: Domain, market: MarketConfig, n_traders: int = 6, mid_ticks: int = 1000
) -> list[dict[str, Any]]:
    """A reproducible mix of limit, IOC, FOK, post-only orders and cancels around ``mid_ticks``."""
    rng = random.Random(seed)
    keys = trader_keys(n_traders)
    addresses = [address_of_key(k) for k in keys]
    records: list[dict[str, Any]] = []
    submitted: list[tuple[bytes, str]] = []
    nonces = [0] * n_traders
    for src in range(1, n_events + 1):
        now = FLOW_START_TIME + src
        if submitted and rng.random() < 0.25:
            order_hash, trader = rng.choice(submitted)
            records.append({"src": src, "t": "cancel", "h": "0x" + order_hash.hex(), "trader": trader, "at": now})
            continue
        t = rng.randrange(n_traders)
        nonces[t] += 1
        is_buy = rng.random() < 0.5
        flags = rng.choice((0, 0, 0, 0, FLAG_IOC, FLAG_FOK, FLAG_POST_ONLY))
        offset = rng.randint(-8, 12) if flags & (FLAG_IOC | FLAG_FOK) else rng.randint(1, 15)
        price = mid_ticks - offset if is_buy else mid_ticks + offset
        order = Order(
            trader=addresses[t],
            marketId=market.market_id,
            isBuy=is_buy,
            leg=0,
            flags=flags,
            leverage=rng.randint(1, market.max_leverage),
            size=rng.randint(1, 9) * market.lot_size_x18,
            limitPrice=price * market.tick_size_x18,
            maxFeeRate=10**15,
            nonce=nonces[t],
            expiry=FLOW_START_TIME + 10**6,
        )
        signed = sign_order(order, domain, keys[t])
        submitted.append((signed.hash, addresses[t]))
        records.append({"src": src, "t": "order", "o": signed.to_json(), "at": now})
    return records


def write_flow(path: str | Path, records: list[dict[str, Any]]) -> None:
    """Write a flow as JSON lines."""
    with open(path, "w") as fh:
        for rec in records:
            fh.write(json.dumps(rec, separators=(",", ":")) + "\n")


def read_flow(path: str | Path) -> Iterator[dict[str, Any]]:
    """Read a flow written by :func:`write_flow`."""
    with open(path) as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def feed(matcher: Any, record: dict[str, Any]) -> list[Any]:
    """Apply one flow record to a :class:`~offchain.matcher.engine.Matcher` through its public entry points."""
    if record["t"] == "order":
        return matcher.submit(SignedOrder.from_json(record["o"]), record["at"], record["src"])
    if record["t"] == "cancel":
        return matcher.cancel(bytes.fromhex(record["h"][2:]), record["trader"], record["at"], record["src"])
    raise ValueError(f"unknown flow record type {record['t']!r}")
