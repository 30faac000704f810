"""Build the gateway and run it under uvicorn, in the foreground (CLI) or in a background thread.

``serve_in_background`` is what ``make demo``, the tests and the load benchmark call::

    gw = build_gateway(matcher, reader)
    server = serve_in_background(gw.app)      # a free loopback port
    ... httpx.get(server.url + "/markets") ...
    server.stop()
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from offchain.gateway.app import create_app
from offchain.gateway.config import GatewayConfig
from offchain.gateway.reader import ChainReader
from offchain.gateway.service import ExchangeService
from offchain.matcher.engine import Fill, Matcher
from offchain.monitoring.metrics import GatewayMetrics, MatcherMetrics, new_registry


@dataclass
class Gateway:
    """The pieces of one gateway: the ASGI app, the service behind it and its metrics registry."""

    app: FastAPI
    service: ExchangeService
    registry: CollectorRegistry
    config: GatewayConfig


def build_gateway(
    matcher: Matcher,
    reader: ChainReader,
    config: GatewayConfig | None = None,
    *,
    symbols: dict[int, str] | None = None,
    fill_sinks: Iterable[Callable[[Fill], None]] = (),
    registry: CollectorRegistry | None = None,
    clock: Callable[[], float] = time.time,
) -> Gateway:
    """Wire a matcher and a chain reader into a gateway with gateway and matcher metrics on one registry."""
    cfg = config or GatewayConfig()
    reg = registry if registry is not None else new_registry()
    gm = GatewayMetrics.create(reg)
    service = ExchangeService(
        matcher,
        reader,
        symbols=symbols,
        clock=clock,
        gateway_metrics=gm,
        matcher_metrics=MatcherMetrics.create(reg),
        fill_sinks=fill_sinks,
        max_queue=cfg.ws_queue,
    )
    return Gateway(create_app(service, cfg, reg, gm), service, reg, cfg)


@dataclass
class BackgroundServer:
    """A uvicorn server running in a daemon thread; ``url`` is ``http://host:port``."""

    server: uvicorn.Server
    thread: threading.Thread
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def uvicorn_config(app: FastAPI, cfg: GatewayConfig, log_level: str = "warning") -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        ws_max_size=cfg.max_ws_message_bytes,
        lifespan="on",
        timeout_graceful_shutdown=2,
    )


def serve_in_background(
    app: FastAPI,
    host: str = "127.0.0.1",
    port: int = 0,
    config: GatewayConfig | None = None,
    log_level: str = "warning",
    startup_timeout: float = 10.0,
) -> BackgroundServer:
    """Start ``app`` under uvicorn in a thread on ``host:port`` (0: a free port chosen by the OS); returns
    once it accepts connections."""
    # proto=IPPROTO_TCP: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP (else every
    # response waits ~40 ms for a delayed ACK: headers and body are two writes).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(app, config or GatewayConfig(), log_level))

    def run() -> None:
        asyncio.run(server.serve(sockets=[sock]))

    thread = threading.Thread(target=run, name=f"gateway-{bound_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"gateway did not start on {host}:{bound_port}")
        time.sleep(0.01)
    return BackgroundServer(server, thread, host, bound_port)
