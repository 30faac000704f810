"""API gateway in front of the matcher: signed orders, cancels, private queries, market data, streams.

See ``offchain/gateway/README`` section of the top-level README and :mod:`offchain.gateway.app` for the API.
"""

from offchain.gateway.config import GatewayConfig
from offchain.gateway.reader import AccountState, ChainReader, MemoryChainReader, PositionView
from offchain.gateway.server import BackgroundServer, Gateway, build_gateway, serve_in_background
from offchain.gateway.service import ExchangeService, GatewayError

__all__ = [
    "AccountState",
    "BackgroundServer",
    "ChainReader",
    "ExchangeService",
    "Gateway",
    "GatewayConfig",
    "GatewayError",
    "MemoryChainReader",
    "PositionView",
    "build_gateway",
    "serve_in_background",
]
