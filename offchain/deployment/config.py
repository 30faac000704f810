"""Deployment configuration: one YAML file per network, ``deployments/config/<ecosystem>-<network>.yaml``.

Rates and prices are written as decimals (``0.02``, ``"2000.5"``) and become 18-decimal integers here.
Addresses are literal ``0x...`` strings, or, on local chains only, ``test:N`` (the N-th test account) and
``dev:<label>`` (the address of the development key ``keccak("perpx-dev:" + label)``; the demo signs with it).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from eth_utils import is_address, keccak, to_checksum_address

from offchain.orders.signing import address_of_key

ONE = 10**18
CONFIG_DIR = Path("deployments/config")
MOCK = "mock"
#: Chain ids where ``mock`` collateral is refused (Ethereum, Base, BNB Chain mainnets).
MAINNETS = frozenset({1, 8453, 56})
_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")


class ConfigError(ValueError):
    """The deployment configuration is invalid; the message names the offending key."""


def x18(value: Any, key: str = "value") -> int:
    """A decimal number (int, float or string) as an 18-decimal integer, exact for strings and ints."""
    try:
        return int(Decimal(str(value)) * ONE)
    except Exception as exc:
        raise ConfigError(f"{key}: {value!r} is not a number") from exc


def dev_key(label: str) -> bytes:
    """The development private key behind ``dev:<label>`` (local chains only: it is public)."""
    return keccak(text=f"perpx-dev:{label}")


@dataclass(frozen=True)
class Collateral:
    """A Vault collateral: an existing token (``address``) or, on local chains, a MockERC20 (``mock``)."""

    symbol: str
    address: str
    decimals: int
    cap: int  # 18 decimals


@dataclass(frozen=True)
class OracleAsset:
    """MedianOracle parameters of one asset."""

    symbol: str
    quorum: int
    max_age: int
    max_deviation: int
    jump_cap: int
    sample_interval: int


@dataclass(frozen=True)
class Market:
    """One perpetual market; ids are assigned 1.. in configuration order."""

    name: str
    asset: str
    kind: str  # linear | inverse
    collateral: str
    max_leverage: int
    mmr: int
    vol_factor: int
    mmr_max: int
    tick: int
    lot: int
    min_notional: int
    oi_cap: int
    max_position: int
    initial_price: int  # contract price the funding module starts from

    @property
    def inverse(self) -> bool:
        return self.kind == "inverse"


@dataclass(frozen=True)
class BridgeConfig:
    validators: list[str]
    threshold: int
    delay_seconds: int
    delay_blocks: int
    rate_window: int


@dataclass(frozen=True)
class StockTokenConfig:
    name: str
    symbol: str
    custodian: str
    max_age: int


@dataclass(frozen=True)
class GovernanceConfig:
    """TimelockController parameters: it receives Roles.ADMIN and the deployer renounces everything."""

    min_delay: int
    proposers: list[str]
    executors: list[str]


@dataclass(frozen=True)
class DeploymentConfig:
    """Everything a deployment needs; ``digest`` identifies it in the deployment record."""

    network: str
    allowlist_enforced: bool
    operators: list[str]
    keepers: list[str]
    guardians: list[str]
    compliance: list[str]
    minters: list[str]
    treasury: str
    collateral: list[Collateral]
    oracle_sources: list[str]
    oracle_assets: list[OracleAsset]
    markets: list[Market]
    fee_tiers: list[tuple[int, int, int]]
    api_discount: int
    insurance_share: int
    funding: dict[str, int]
    reward_tiers: list[tuple[int, int]]
    gamma_tiers: list[tuple[int, int]]
    bridge: BridgeConfig | None
    stock_token: StockTokenConfig | None
    governance: GovernanceConfig
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def digest(self) -> str:
        """sha256 of the canonical JSON of the raw configuration."""
        return hashlib.sha256(json.dumps(self.raw, sort_keys=True, default=str).encode()).hexdigest()

    def market_id(self, name: str) -> int:
        for i, market in enumerate(self.markets, start=1):
            if market.name == name:
                return i
        raise KeyError(f"no market named {name!r}")

    def collateral_of(self, symbol: str) -> Collateral:
        for c in self.collateral:
            if c.symbol == symbol:
                return c
        raise KeyError(f"no collateral {symbol!r}")


class AddressResolver:
    """Turns configuration address strings into checksummed addresses for the connected chain."""

    def __init__(self, test_accounts: Any = None, *, local: bool, mainnet: bool = False):
        self.test_accounts = test_accounts
        self.local = local
        self.mainnet = mainnet

    def __call__(self, value: Any, key: str) -> str:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**160:
            value = f"0x{value:040x}"  # YAML reads an unquoted 0x... address as a hex integer
        text = str(value).strip()
        if text.startswith("test:") or text.startswith("dev:"):
            if not self.local:
                raise ConfigError(f"{key}: {text!r} is only allowed on a local chain")
            if text.startswith("dev:"):
                return to_checksum_address(address_of_key(dev_key(text[4:])))
            return to_checksum_address(str(self.test_accounts[int(text[5:])].address))
        if not is_address(text):
            raise ConfigError(f"{key}: {text!r} is not an address")
        return to_checksum_address(text)

    def many(self, values: Any, key: str) -> list[str]:
        return [self(v, f"{key}[{i}]") for i, v in enumerate(values or [])]


def config_path(ecosystem: str, network: str, base: Path = CONFIG_DIR) -> Path:
    return base / f"{ecosystem}-{network}.yaml"


def expand_env(text: str, env: dict[str, str] | None = None) -> str:
    """Replace every ``${VAR}`` with the environment variable; an unset one is an error."""
    env = dict(os.environ) if env is None else env
    missing = sorted({name for name in _ENV_VAR.findall(text) if not env.get(name)})
    if missing:
        raise ConfigError(f"environment variables not set: {', '.join(missing)}")
    return _ENV_VAR.sub(lambda m: env[m.group(1)], text)


def load_config(path: Path, resolve: AddressResolver, env: dict[str, str] | None = None) -> DeploymentConfig:
    """Parse and validate ``path`` (after ``${VAR}`` expansion); raises ConfigError naming the first bad key."""
    raw = yaml.safe_load(expand_env(Path(path).read_text(), env))
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: not a mapping")
    return parse_config(raw, resolve)


def _req(section: dict[str, Any], key: str, where: str) -> Any:
    if key not in section:
        raise ConfigError(f"{where}.{key} is missing")
    return section[key]


def parse_config(raw: dict[str, Any], resolve: AddressResolver) -> DeploymentConfig:
    roles = raw.get("roles", {})
    collateral = []
    for symbol, spec in _req(raw, "collateral", "").items():
        address = _req(spec, "address", f"collateral.{symbol}")
        if address == MOCK and resolve.mainnet:
            raise ConfigError(f"collateral.{symbol}: mock tokens are refused on a mainnet")
        collateral.append(
            Collateral(
                symbol=symbol,
                address=MOCK if address == MOCK else resolve(address, f"collateral.{symbol}.address"),
                decimals=int(_req(spec, "decimals", f"collateral.{symbol}")),
                cap=x18(_req(spec, "cap", f"collateral.{symbol}"), f"collateral.{symbol}.cap"),
            )
        )
    oracle = _req(raw, "oracle", "")
    assets = [
        OracleAsset(
            symbol=symbol,
            quorum=int(spec.get("quorum", 3)),
            max_age=int(spec.get("max_age", 60)),
            max_deviation=x18(spec.get("max_deviation", "0.05"), f"oracle.assets.{symbol}.max_deviation"),
            jump_cap=x18(spec.get("jump_cap", "0.10"), f"oracle.assets.{symbol}.jump_cap"),
            sample_interval=int(spec.get("sample_interval", 3600)),
        )
        for symbol, spec in _req(oracle, "assets", "oracle").items()
    ]
    asset_symbols = {a.symbol for a in assets}
    symbols = {c.symbol for c in collateral}
    markets = []
    for i, spec in enumerate(_req(raw, "markets", "")):
        where = f"markets[{i}]"
        kind = str(spec.get("kind", "linear"))
        if kind not in ("linear", "inverse"):
            raise ConfigError(f"{where}.kind: {kind!r} is not linear or inverse")
        if spec.get("asset") not in asset_symbols:
            raise ConfigError(f"{where}.asset: {spec.get('asset')!r} is not an oracle asset")
        if spec.get("collateral") not in symbols:
            raise ConfigError(f"{where}.collateral: {spec.get('collateral')!r} is not a listed collateral")
        mmr = x18(_req(spec, "mmr", where), f"{where}.mmr")
        markets.append(
            Market(
                name=str(_req(spec, "name", where)),
                asset=spec["asset"],
                kind=kind,
                collateral=spec["collateral"],
                max_leverage=int(_req(spec, "max_leverage", where)),
                mmr=mmr,
                vol_factor=x18(spec.get("vol_factor", 0), f"{where}.vol_factor"),
                mmr_max=x18(spec["mmr_max"], f"{where}.mmr_max") if "mmr_max" in spec else mmr,
                tick=x18(_req(spec, "tick", where), f"{where}.tick"),
                lot=x18(_req(spec, "lot", where), f"{where}.lot"),
                min_notional=x18(spec.get("min_notional", 0), f"{where}.min_notional"),
                oi_cap=x18(spec.get("oi_cap", 0), f"{where}.oi_cap"),
                max_position=x18(spec.get("max_position", 0), f"{where}.max_position"),
                initial_price=x18(_req(spec, "initial_price", where), f"{where}.initial_price"),
            )
        )
    fees = raw.get("fees", {})
    if len(fees.get("tiers", [])) != 6:
        raise ConfigError("fees.tiers: FeeSchedule takes exactly six tiers")
    tiers = [
        (x18(t[0], "fees.tiers"), x18(t[1], "fees.tiers"), x18(t[2], "fees.tiers")) for t in _req(fees, "tiers", "fees")
    ]
    liq = raw.get("liquidation", {})
    bridge_raw = raw.get("bridge")
    bridge = None
    if bridge_raw:
        bridge = BridgeConfig(
            validators=resolve.many(_req(bridge_raw, "validators", "bridge"), "bridge.validators"),
            threshold=int(_req(bridge_raw, "threshold", "bridge")),
            delay_seconds=int(bridge_raw.get("delay_seconds", 3600)),
            delay_blocks=int(bridge_raw.get("delay_blocks", 10)),
            rate_window=int(bridge_raw.get("rate_window", 86400)),
        )
    stock_raw = raw.get("stock_token")
    stock = None
    if stock_raw:
        stock = StockTokenConfig(
            name=str(_req(stock_raw, "name", "stock_token")),
            symbol=str(_req(stock_raw, "symbol", "stock_token")),
            custodian=resolve(_req(stock_raw, "custodian", "stock_token"), "stock_token.custodian"),
            max_age=int(stock_raw.get("max_age", 86400)),
        )
    gov = _req(raw, "governance", "")
    governance = GovernanceConfig(
        min_delay=int(_req(gov, "min_delay", "governance")),
        proposers=resolve.many(_req(gov, "proposers", "governance"), "governance.proposers"),
        executors=resolve.many(_req(gov, "executors", "governance"), "governance.executors"),
    )
    if not governance.proposers:
        raise ConfigError("governance.proposers: at least one proposer is needed (nobody could change anything)")
    funding = {k: x18(v, f"funding.{k}") for k, v in raw.get("funding", {}).items()}
    return DeploymentConfig(
        network=str(raw.get("network", "")),
        allowlist_enforced=bool(raw.get("allowlist_enforced", True)),
        operators=resolve.many(roles.get("operators"), "roles.operators"),
        keepers=resolve.many(roles.get("keepers"), "roles.keepers"),
        guardians=resolve.many(roles.get("guardians"), "roles.guardians"),
        compliance=resolve.many(roles.get("compliance"), "roles.compliance"),
        minters=resolve.many(roles.get("minters"), "roles.minters"),
        treasury=resolve(_req(roles, "treasury", "roles"), "roles.treasury"),
        collateral=collateral,
        oracle_sources=resolve.many(_req(oracle, "sources", "oracle"), "oracle.sources"),
        oracle_assets=assets,
        markets=markets,
        fee_tiers=tiers,
        api_discount=x18(fees.get("api_discount", "0.10"), "fees.api_discount"),
        insurance_share=x18(fees.get("insurance_share", "0.20"), "fees.insurance_share"),
        funding=funding,
        reward_tiers=[
            (x18(a, "liquidation.reward_tiers"), x18(b, "liquidation.reward_tiers"))
            for a, b in liq.get("reward_tiers", [])
        ],
        gamma_tiers=[
            (x18(a, "liquidation.gamma_tiers"), x18(b, "liquidation.gamma_tiers"))
            for a, b in liq.get("gamma_tiers", [])
        ],
        bridge=bridge,
        stock_token=stock,
        governance=governance,
        raw=raw,
    )
