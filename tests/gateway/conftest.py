"""Gateway fixtures: a matcher with two markets, an in-memory chain reader, the app under real uvicorn."""

from __future__ import annotations

import httpx
import pytest
from gw_helpers import DOMAIN, MARKETS

from offchain.gateway import GatewayConfig, MemoryChainReader, build_gateway, serve_in_background
from offchain.matcher.engine import Matcher


@pytest.fixture
def reader():
    return MemoryChainReader()


@pytest.fixture
def gw_config():
    return GatewayConfig()


@pytest.fixture
def gateway(reader, gw_config):
    return build_gateway(Matcher(DOMAIN, MARKETS), reader, gw_config, symbols={1: "ETH-PERP", 2: "BTC-PERP"})


@pytest.fixture
def server(gateway):
    srv = serve_in_background(gateway.app, config=gateway.config)
    yield srv
    srv.stop()


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c
