"""The gateway's :class:`~offchain.gateway.reader.ChainReader` over web3 against a deployed protocol.

Reads ``ComplianceRegistry.isAllowed``, ``Settlement.delegateExpiry`` and, per settlement token of the
listed markets, ``Vault.balances`` and the engine's ``equity`` / ``initialMargin`` / ``maintenanceMargin`` /
``marginRatio`` / ``isLiquidatable`` / ``openMarketsOf`` / ``positionOf``, plus each open market's index
price (``oracle.getPrice``) and maintenance rate (``MarketRegistry.maintenanceRate``). Views only; no key.

ABIs come from the compiled project (``from_ape``) or are passed in (any JSON ABI list per contract); the
oracle is only asked ``IPriceOracle.getPrice``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from offchain.gateway.reader import MAX_INT256, AccountState, PositionView, with_liquidation_prices

CONTRACTS = ("vault", "engine", "registry", "compliance", "settlement", "oracle")
CONTRACT_TYPES = {
    "vault": "Vault",
    "engine": "PerpEngine",
    "registry": "MarketRegistry",
    "compliance": "ComplianceRegistry",
    "settlement": "Settlement",
}
#: IPriceOracle.getPrice, the only oracle call (any oracle implementation: median oracle, mock).
ORACLE_ABI = [
    {
        "type": "function",
        "name": "getPrice",
        "stateMutability": "view",
        "inputs": [{"name": "asset", "type": "bytes32"}],
        "outputs": [{"name": "priceX18", "type": "uint256"}, {"name": "updatedAt", "type": "uint256"}],
    }
]
LEG_NET, LEG_LONG, LEG_SHORT = 0, 1, 2


class Web3ChainReader:
    """Chain reads for the gateway. ``addresses`` and ``abis`` are keyed by :data:`CONTRACTS` names; the
    oracle address is read from the registry when not given. Market metadata is cached (markets are only
    ever added: call :meth:`refresh_markets` after a listing)."""

    def __init__(self, w3: Web3, addresses: Mapping[str, str], abis: Mapping[str, list[dict[str, Any]]]) -> None:
        self.w3 = w3
        self._abis = dict(abis)
        self.c = {}
        for name in ("vault", "engine", "registry", "compliance", "settlement"):
            self.c[name] = w3.eth.contract(address=to_checksum_address(addresses[name]), abi=abis[name])
        oracle = addresses.get("oracle") or self.c["registry"].functions.oracle().call()
        self.c["oracle"] = w3.eth.contract(address=to_checksum_address(oracle), abi=abis.get("oracle", ORACLE_ABI))
        self._lock = threading.Lock()
        self._markets: dict[int, tuple[bytes, str, bool]] = {}

    @classmethod
    def from_ape(cls, project: Any, w3: Web3, addresses: Mapping[str, str]) -> Web3ChainReader:
        """ABIs from the ape project's compiled contract types."""
        abis = {
            name: [item.model_dump(mode="json", by_alias=True, exclude_none=True)
                   for item in getattr(project, ctype).contract_type.abi]
            for name, ctype in CONTRACT_TYPES.items()
        }  # fmt: skip
        return cls(w3, addresses, abis)

    # ------------------------------------------------------------------ ChainReader

    def is_allowed(self, account: str) -> bool:
        return bool(self.c["compliance"].functions.isAllowed(to_checksum_address(account)).call())

    def delegate_expiry(self, trader: str, delegate: str) -> int:
        fn = self.c["settlement"].functions.delegateExpiry(to_checksum_address(trader), to_checksum_address(delegate))
        return int(fn.call())

    def account_states(self, account: str) -> list[AccountState]:
        account = to_checksum_address(account)
        markets = self.markets()
        states = []
        for token in sorted({token for _, token, _ in markets.values()}):
            state = self._state(account, token, markets)
            if state.collateral_x18 or state.positions:
                states.append(with_liquidation_prices(state))
        return states

    # ------------------------------------------------------------------ helpers

    def refresh_markets(self) -> None:
        with self._lock:
            self._markets.clear()

    def markets(self) -> dict[int, tuple[bytes, str, bool]]:
        """Market id -> (oracle asset, settlement token, inverse)."""
        with self._lock:
            count = int(self.c["registry"].functions.marketCount().call())
            for mid in range(1, count + 1):
                if mid not in self._markets:
                    m = self.c["registry"].functions.getMarket(mid).call()
                    self._markets[mid] = (bytes(m[0]), to_checksum_address(m[1]), int(m[2]) == 1)
            return dict(self._markets)

    def _state(self, account: str, token: str, markets: dict[int, tuple[bytes, str, bool]]) -> AccountState:
        engine = self.c["engine"].functions
        ratio = int(engine.marginRatio(account, token).call())
        positions = []
        for mid in engine.openMarketsOf(account, token).call():
            mid = int(mid)
            asset, _, inverse = markets[mid]
            legs = (LEG_LONG, LEG_SHORT) if engine.hedgeMode(account, mid).call() else (LEG_NET,)
            price = int(self.c["oracle"].functions.getPrice(asset).call()[0])
            mmr = int(self.c["registry"].functions.maintenanceRate(mid).call())
            for leg in legs:
                size, open_value, _ = engine.positionOf(account, mid, leg).call()
                if size:
                    positions.append(PositionView(mid, leg, int(size), int(open_value), price, mmr, inverse))
        return AccountState(
            account=account,
            token=token,
            collateral_x18=int(self.c["vault"].functions.balances(account, token).call()),
            equity_x18=int(engine.equity(account, token).call()),
            initial_margin_x18=int(engine.initialMargin(account, token).call()),
            maintenance_margin_x18=int(engine.maintenanceMargin(account, token).call()),
            margin_ratio_x18=None if ratio == MAX_INT256 else ratio,
            liquidatable=bool(engine.isLiquidatable(account, token).call()),
            positions=tuple(positions),
        )
