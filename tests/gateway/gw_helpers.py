"""Helpers for the gateway tests: keys, orders, request bodies, login."""

from __future__ import annotations

from typing import Any

import httpx
from helpers import make_order

from offchain.gateway.auth import login_digest
from offchain.matcher.engine import MarketConfig
from offchain.orders.order import FLAG_VIA_API, Domain, Order
from offchain.orders.signing import address_of_key, sign_digest, sign_order

ONE = 10**18
TICK = 10**16  # 0.01 USD
LOT = 10**15  # 0.001 base
FAR = 2**40
DOMAIN = Domain(31337, "0x00000000000000000000000000000000000005e7")
MARKETS = [MarketConfig(1, TICK, LOT, 20), MarketConfig(2, TICK, LOT, 50)]
KEYS = [bytes([0] * 31 + [i]) for i in range(1, 9)]
ADDRS = [address_of_key(k) for k in KEYS]


def order(trader: str, *, buy: bool, price: int = 2000 * ONE, size: int = ONE, nonce: int = 1, **kw: Any) -> Order:
    return make_order(trader, buy=buy, size=size, price=price, nonce=nonce, **{"flags": FLAG_VIA_API, **kw})


def body(o: Order, key: bytes, domain: Domain = DOMAIN, *, ints_as_str: bool = False) -> dict[str, Any]:
    """A POST /orders body for ``o`` signed with ``key``."""
    msg = o.as_message()
    if ints_as_str:
        msg = {k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in msg.items()}
    return {"order": msg, "signature": "0x" + sign_order(o, domain, key).signature.hex()}


def login(client: httpx.Client, key: bytes, account: str | None = None, domain: Domain = DOMAIN) -> str:
    """Log in through the challenge; returns the bearer token."""
    account = account or address_of_key(key)
    ch = client.post("/auth/challenge", json={"account": account})
    assert ch.status_code == 200, ch.text
    c = ch.json()
    sig = sign_digest(login_digest(domain, c["account"], bytes.fromhex(c["nonce"][2:]), c["expiry"]), key)
    resp = client.post("/auth/login", json={"account": account, "nonce": c["nonce"], "signature": "0x" + sig.hex()})
    assert resp.status_code == 200, resp.text
    return resp.json()["token"]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
