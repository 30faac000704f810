"""The gateway act: the REST/WebSocket gateway (offchain/gateway) in front of the demo's own matcher.

A trader logs in with an EIP-712 challenge, reads the markets and the book, sends a signed order through
the Python client (the via-API flag set), and the fill it makes goes from the gateway's fill sink to the
batch submitter like any other. The trader then reads its fills and its on-chain account (collateral,
position, liquidation price) through the API. ``--serve-gateway SECONDS`` keeps the gateway up at the end
of the session for a person or a script to use (fills it makes are settled every second). The matcher is
used by one thread at a time: the gateway runs only while the session's own thread does not touch it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import httpx

from offchain.demo.context import ONE, Demo
from offchain.gateway import GatewayConfig, build_gateway, serve_in_background
from offchain.gateway.client import GatewayClient
from offchain.gateway.server import BackgroundServer
from offchain.gateway.web3_reader import CONTRACT_TYPES, Web3ChainReader
from offchain.matcher.engine import Fill
from offchain.orders.order import FLAG_IOC, FLAG_VIA_API, Order


@dataclass
class FillInbox:
    """Fills the gateway's matcher made, handed from the server thread to the session's thread."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: list[Fill] = field(default_factory=list)

    def put(self, fill: Fill) -> None:
        with self.lock:
            self.pending.append(fill)

    def take(self) -> list[Fill]:
        with self.lock:
            out, self.pending = self.pending, []
        return out


@dataclass
class DemoGateway:
    """The running gateway of the demo and the inbox of its fills."""

    server: BackgroundServer
    inbox: FillInbox

    @property
    def url(self) -> str:
        return self.server.url

    def settle_pending(self, demo: Demo, settle: Callable[[Demo], None]) -> int:
        """Give the gateway's new fills to the batch submitter and settle them; returns how many."""
        fills = self.inbox.take()
        if fills:
            demo.exchange.fills += fills
            demo.exchange.submitter.ingest((f.seq, f) for f in fills)
            settle(demo)
        return len(fills)

    def stop(self) -> None:
        self.server.stop()


def start_gateway(demo: Demo, port: int = 0) -> DemoGateway:
    """Serve the demo's matcher on loopback ``port`` (0: a free one), reading accounts from the chain."""
    d = demo.deployment
    addresses = {name: str(getattr(d, name).address) for name in CONTRACT_TYPES}  # what the reader reads
    reader = Web3ChainReader.from_ape(demo.project, demo.chain.provider.web3, addresses)
    inbox = FillInbox()
    symbols = {market_id: name for name, market_id in d.markets.items()}
    gw = build_gateway(demo.exchange.matcher, reader, GatewayConfig(), symbols=symbols, fill_sinks=[inbox.put])
    return DemoGateway(serve_in_background(gw.app, port=port), inbox)


def act_gateway(demo: Demo, settle: Callable[[Demo], None]) -> None:
    """Start the gateway, trade through it, stop it (the matcher is not shared across threads afterwards)."""
    demo.report.step("gateway: a trader logs in, trades and reads its account over REST (Python client)")
    gateway = start_gateway(demo)
    demo.report.info(f"gateway on {gateway.url} (OpenAPI at {gateway.url}/docs, metrics at {gateway.url}/metrics)")
    trader, ex = demo.traders["bob"], demo.exchange
    eth = demo.deployment.markets["ETH-USD"]
    client = GatewayClient(gateway.url, key=trader.key, domain=ex.domain)
    try:
        client.login()
        markets = {m["marketId"]: m for m in client.markets()}
        asks = client.book(eth, depth=5)["asks"]
        demo.report.check("gateway lists every market", set(markets) == set(demo.deployment.markets.values()),
                          f"{len(markets)} markets; best ETH ask {asks[0] if asks else None}")  # fmt: skip
        trader.nonce += 1
        order = Order(trader.address, eth, True, 0, FLAG_IOC, 10, ONE // 2, 2_100 * ONE, ONE // 100, trader.nonce,
                      demo.expiry())  # fmt: skip
        ack = client.submit(order)
        status = ack["order"]["status"]
        demo.report.info(f"bob buys 0.5 ETH through the API -> {status}")
        demo.report.check("gateway order filled", status == "filled", status)
        settled = gateway.settle_pending(demo, settle)
        fills = client.fills()
        mine = [f for f in fills if f["takerOrder"] == ack["order"]["hash"]]
        demo.report.check("gateway fill settled on chain", settled >= 1 and len(mine) >= 1,
                          f"{settled} fill(s) settled; {len(mine)} reported by /fills")  # fmt: skip
        accounts = client.account()
        positions = [p for a in accounts for p in a["positions"] if p["marketId"] == eth]
        demo.report.check("gateway /account reads the on-chain position", bool(positions),
                          f"ETH-USD size {positions[0]['size'] if positions else None}")  # fmt: skip
        api_order = replace(order, flags=order.flags | FLAG_VIA_API, nonce=order.nonce + 1)
        forged = {"order": api_order.as_message(), "signature": "0x" + "11" * 65}  # nobody's signature
        bad = client.http.post("/orders", json=forged)
        demo.report.check("gateway refuses a forged signature with a 4xx", 400 <= bad.status_code < 500,
                          f"{bad.status_code} {bad.json().get('message')}")  # fmt: skip
        metrics = httpx.get(gateway.url + "/metrics", timeout=10).text
        demo.report.check("gateway metrics count the API order", "perpx_gateway_orders_total" in metrics)
    finally:
        client.close()
        gateway.stop()


def serve(demo: Demo, seconds: float, settle: Callable[[Demo], None], port: int = 8080) -> None:
    """Serve the gateway for ``seconds`` (Ctrl-C stops early), settling its fills every second. Prints what a
    client needs: the URL, the signing domain and a funded, allowlisted trader's key (local test chain only)."""
    gateway = start_gateway(demo, port)
    bob, domain = demo.traders["bob"], demo.exchange.domain
    demo.report.step(f"gateway stays up for {seconds:.0f} s on {gateway.url} (Ctrl-C to stop)")
    demo.report.info(f"chain id {domain.chain_id}, Settlement (verifyingContract) {domain.verifying_contract}")
    demo.report.info(f"markets {demo.deployment.markets}")
    demo.report.info(
        f"trader bob {bob.address}, key 0x{bob.key.hex()} (a local test account), next nonce {bob.nonce + 1}"
    )
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            time.sleep(1.0)
            if settled := gateway.settle_pending(demo, settle):
                demo.report.info(f"settled {settled} fill(s) from gateway orders")
    except KeyboardInterrupt:
        demo.report.info("stopped by Ctrl-C")
    finally:
        gateway.stop()
        gateway.settle_pending(demo, settle)
