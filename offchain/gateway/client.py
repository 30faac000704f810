"""A small synchronous Python client for the gateway (httpx), signing orders and logins with a raw key.

client = GatewayClient("http://127.0.0.1:8080", key=PRIVATE_KEY)       # the trader's key or its API key
client.login(account=TRADER)                                           # EIP-712 login challenge
ack = client.submit(Order(trader=TRADER, marketId=1, isBuy=True, ...))  # via-API flag added, signed
client.open_orders(); client.cancel(ack["order"]["hash"]); client.fills(); client.account()
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx

from offchain.gateway.auth import login_digest
from offchain.orders.order import FLAG_VIA_API, Domain, Order
from offchain.orders.signing import address_of_key, sign_digest, sign_order


class GatewayRequestError(RuntimeError):
    """A non-2xx answer: ``status``, ``error`` code and ``message`` from the gateway."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status = status
        self.error = error
        self.message = message


class GatewayClient:
    def __init__(self, base_url: str, key: bytes | str | int, domain: Domain | None = None, timeout: float = 10.0):
        self.http = httpx.Client(base_url=base_url, timeout=timeout)
        self.key = key
        self.signer = address_of_key(key)
        self.domain = domain
        self.token: str | None = None

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        resp = self.http.request(method, path, headers=headers, **kwargs)
        if resp.status_code >= 400:
            try:
                body = resp.json()
            except ValueError:
                body = {"error": "http_error", "message": resp.text}
            raise GatewayRequestError(resp.status_code, body.get("error", "?"), body.get("message", str(body)))
        return resp.json() if resp.content else None

    def login(self, account: str | None = None) -> dict[str, Any]:
        """Log in as ``account`` (default: the key's own address; else the key must be its live API key)."""
        account = account or self.signer
        ch = self._call("POST", "/auth/challenge", json={"account": account})
        domain = self._domain_from(ch["typedData"]["domain"])
        digest = login_digest(domain, ch["account"], bytes.fromhex(ch["nonce"][2:]), ch["expiry"])
        sig = sign_digest(digest, self.key)
        session = self._call(
            "POST", "/auth/login", json={"account": account, "nonce": ch["nonce"], "signature": "0x" + sig.hex()}
        )
        self.token = session["token"]
        return session

    @staticmethod
    def _domain_from(raw: dict[str, Any]) -> Domain:
        return Domain(int(raw["chainId"]), raw["verifyingContract"])

    def markets(self) -> list[dict[str, Any]]:
        return self._call("GET", "/markets")

    def book(self, market_id: int, depth: int = 50) -> dict[str, Any]:
        return self._call("GET", f"/markets/{market_id}/book", params={"depth": depth})

    def submit(self, order: Order) -> dict[str, Any]:
        """Sign ``order`` (with the via-API flag set) for the gateway's domain and submit it."""
        if self.domain is None:
            raise ValueError("the client needs the Settlement domain to sign orders (pass domain=...)")
        order = replace(order, flags=order.flags | FLAG_VIA_API)
        signed = sign_order(order, self.domain, self.key)
        return self._call(
            "POST", "/orders", json={"order": order.as_message(), "signature": "0x" + signed.signature.hex()}
        )

    def open_orders(self, market_id: int | None = None) -> list[dict[str, Any]]:
        params = {} if market_id is None else {"marketId": market_id}
        return self._call("GET", "/orders", params=params)

    def order(self, order_hash: str) -> dict[str, Any]:
        return self._call("GET", f"/orders/{order_hash}")

    def cancel(self, order_hash: str) -> dict[str, Any]:
        return self._call("DELETE", f"/orders/{order_hash}")

    def cancel_all(self, market_id: int | None = None) -> list[str]:
        return self._call("POST", "/orders/cancel-all", json={"marketId": market_id})["cancelled"]

    def fills(self, limit: int = 100) -> list[dict[str, Any]]:
        return self._call("GET", "/fills", params={"limit": limit})

    def account(self) -> list[dict[str, Any]]:
        return self._call("GET", "/account")
