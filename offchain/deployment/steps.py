"""The deployment steps, in order. Each step calls the domain's own deploy function (offchain/<domain>/deploy.py)
so that a change there flows into every deployment, and returns the contracts it created by logical name.

A step receives a :class:`StepContext` holding the contracts of the earlier steps. Steps must be safe to
redo after a crash inside them: they either deploy fresh contracts (the half-done ones are abandoned) or
check on-chain state first (``markets``, ``handover``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from offchain import roles
from offchain.bridge.deploy import BridgeParams, deploy_bridge, deploy_stock_token
from offchain.deploy import CoreDeployment, RoleHolders, deploy_core
from offchain.deployment.config import MOCK, DeploymentConfig
from offchain.funding.deploy import FundingConfig, deploy_funding
from offchain.liquidation.deploy import deploy_liquidation
from offchain.oracle.deploy import AssetSpec, deploy_oracle
from offchain.oracle.signing import asset_id
from offchain.perp.deploy import PerpDeployment, deploy_perp, risk_params, trading_params
from offchain.settlement.deploy import deploy_settlement

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
LINEAR, INVERSE = 0, 1


@dataclass
class StepContext:
    """What a step may use: the (recording) project, the deployer, the config and earlier contracts."""

    project: Any
    deployer: Any
    config: DeploymentConfig
    contracts: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    log: Callable[[str], None] = print

    def core(self) -> CoreDeployment:
        c = self.contracts
        return CoreDeployment(acl=c["acl"], compliance=c["compliance"], vault=c["vault"])

    def perp(self) -> PerpDeployment:
        c = self.contracts
        return PerpDeployment(registry=c["registry"], fees=c["fees"], engine=c["engine"])


@dataclass
class StepResult:
    """Contracts (logical name -> instance) and plain values (e.g. market ids) a step produced."""

    contracts: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


def contracts_of(deployment: Any, prefix: str = "") -> dict[str, Any]:
    """The contract fields of a domain deployment dataclass (so a field added there is recorded too)."""
    return {
        prefix + f.name: getattr(deployment, f.name)
        for f in dataclasses.fields(deployment)
        if hasattr(getattr(deployment, f.name), "address")
    }


def step_core(ctx: StepContext) -> StepResult:
    cfg = ctx.config
    holders = RoleHolders(
        operators=cfg.operators, keepers=cfg.keepers, guardians=cfg.guardians, compliance=cfg.compliance
    )
    core = deploy_core(ctx.project, ctx.deployer, holders, allowlist_enforced=cfg.allowlist_enforced)
    return StepResult(contracts_of(core))


def step_collateral(ctx: StepContext) -> StepResult:
    """Deploy MockERC20s (local chains) or bind existing tokens, and list each as Vault collateral."""
    out: dict[str, Any] = {}
    vault = ctx.contracts["vault"]
    for c in ctx.config.collateral:
        if c.address == MOCK:
            token = ctx.project.MockERC20.deploy(f"Mock {c.symbol}", c.symbol, c.decimals, sender=ctx.deployer)
        else:
            token = ctx.project.MockERC20.at(c.address)  # any ERC-20: only the standard ABI subset is used
        ctx.project.record_tx(
            f"Vault.listCollateral({c.symbol})", vault.listCollateral(token, c.cap, sender=ctx.deployer)
        )
        out[f"token:{c.symbol}"] = token
    return StepResult(out)


def step_oracle(ctx: StepContext) -> StepResult:
    specs = [
        AssetSpec(a.symbol, a.quorum, a.max_age, a.max_deviation, a.jump_cap, a.sample_interval)
        for a in ctx.config.oracle_assets
    ]
    oracle = deploy_oracle(ctx.project, ctx.deployer, ctx.contracts["acl"], specs, ctx.config.oracle_sources)
    return StepResult({"oracle": oracle})


def step_perp(ctx: StepContext) -> StepResult:
    """Registry, fee schedule, engine. Fees go to the treasury until the insurance fund exists (liquidation)."""
    cfg = ctx.config
    perp = deploy_perp(
        ctx.project,
        ctx.deployer,
        ctx.core(),
        ctx.contracts["oracle"],
        treasury=cfg.treasury,
        insurance_fund=cfg.treasury,
        tiers=tuple(cfg.fee_tiers),
        api_discount=cfg.api_discount,
        insurance_share=cfg.insurance_share,
    )
    return StepResult(contracts_of(perp))


def step_markets(ctx: StepContext) -> StepResult:
    """List every configured market (ids 1.. in order). Idempotent: markets already listed are checked."""
    registry = ctx.contracts["registry"]
    ids: dict[str, int] = {}
    for market_id, m in enumerate(ctx.config.markets, start=1):
        token = ctx.contracts[f"token:{m.collateral}"]
        if market_id <= registry.marketCount():
            listed = registry.getMarket(market_id)
            if bytes(listed.asset) != asset_id(m.asset) or str(listed.token).lower() != str(token.address).lower():
                raise RuntimeError(f"market {market_id} on chain is not {m.name}: refusing to continue")
        else:
            receipt = registry.listMarket(
                asset_id(m.asset),
                token,
                INVERSE if m.inverse else LINEAR,
                risk_params(m.max_leverage, m.mmr, m.vol_factor, m.mmr_max),
                trading_params(m.tick, m.lot, m.min_notional, m.oi_cap, m.max_position),
                sender=ctx.deployer,
            )
            ctx.project.record_tx(f"MarketRegistry.listMarket({m.name})", receipt)
        ids[m.name] = market_id
    return StepResult(values={"markets": ids})


def step_settlement(ctx: StepContext) -> StepResult:
    return StepResult({"settlement": deploy_settlement(ctx.project, ctx.deployer, ctx.core(), ctx.perp())})


def _healthy(oracle: Any, symbol: str) -> bool:
    try:
        return bool(oracle.isHealthy(asset_id(symbol)))
    except Exception:
        return False


def step_funding(ctx: StepContext) -> StepResult:
    """FundingModule, configured for every market; activated now where the oracle already has a price,
    otherwise activation is a governance action (``FundingModule.activate``) once reporters run."""
    cfg = ctx.config
    funding_cfg = FundingConfig(**cfg.funding) if cfg.funding else FundingConfig()
    oracle = ctx.contracts["oracle"]
    ids = ctx.values["markets"]
    active = {ids[m.name]: m.initial_price for m in cfg.markets if _healthy(oracle, m.asset)}
    c = ctx.contracts
    module = deploy_funding(
        ctx.project, ctx.deployer, c["acl"], c["engine"], c["registry"], markets=active, config=funding_cfg
    )
    for m in cfg.markets:
        if ids[m.name] not in active:
            module.setConfig(ids[m.name], funding_cfg.as_tuple(), sender=ctx.deployer)
            ctx.log(f"funding for {m.name} configured; activate it through governance once the oracle reports")
    return StepResult({"funding": module}, {"funding_active": sorted(active)})


def step_liquidation(ctx: StepContext) -> StepResult:
    cfg = ctx.config
    kwargs: dict[str, Any] = {"insurance_share": cfg.insurance_share}
    if cfg.reward_tiers:
        kwargs["reward_tiers"] = tuple(cfg.reward_tiers)
    if cfg.gamma_tiers:
        kwargs["gamma_tiers"] = tuple(cfg.gamma_tiers)
    liq = deploy_liquidation(
        ctx.project,
        ctx.deployer,
        ctx.core(),
        ctx.perp(),
        markets=list(ctx.values["markets"].values()),
        treasury=cfg.treasury,
        **kwargs,
    )
    return StepResult(contracts_of(liq, "liquidation."))


def step_bridge(ctx: StepContext) -> StepResult:
    b = ctx.config.bridge
    if b is None:
        return StepResult()
    params = BridgeParams(b.validators, b.threshold, b.delay_seconds, b.delay_blocks, b.rate_window)
    return StepResult({"bridge": deploy_bridge(ctx.project, ctx.deployer, ctx.core(), params)})


def step_stock_token(ctx: StepContext) -> StepResult:
    s = ctx.config.stock_token
    if s is None:
        return StepResult()
    token = deploy_stock_token(
        ctx.project,
        ctx.deployer,
        ctx.core(),
        name=s.name,
        symbol=s.symbol,
        custodian=s.custodian,
        max_age=s.max_age,
        minters=ctx.config.minters,
    )
    return StepResult({"stock_token": token})


def step_timelock(ctx: StepContext) -> StepResult:
    g = ctx.config.governance
    timelock = ctx.project.PerpxTimelock.deploy(
        g.min_delay, g.proposers, g.executors, ZERO_ADDRESS, sender=ctx.deployer
    )
    return StepResult({"timelock": timelock})


def step_handover(ctx: StepContext) -> StepResult:
    """Roles.ADMIN to the timelock, then the deployer renounces every role it holds (idempotent)."""
    acl, timelock, me = ctx.contracts["acl"], ctx.contracts["timelock"], ctx.deployer
    if not acl.hasRole(roles.ADMIN, timelock):
        ctx.project.record_tx(
            "ProtocolAccess.grantRole(ADMIN, timelock)", acl.grantRole(roles.ADMIN, timelock, sender=me)
        )
    if not acl.hasRole(roles.ADMIN, timelock):
        raise RuntimeError("the timelock did not receive Roles.ADMIN: the deployer keeps its roles")
    renounced = []
    for name, role in roles.ALL.items():
        if role != roles.ADMIN and acl.hasRole(role, me):
            ctx.project.record_tx(f"ProtocolAccess.renounceRole({name})", acl.renounceRole(role, me, sender=me))
            renounced.append(name)
    if acl.hasRole(roles.ADMIN, me):  # last: renouncing ADMIN ends the deployer's power
        ctx.project.record_tx("ProtocolAccess.renounceRole(ADMIN)", acl.renounceRole(roles.ADMIN, me, sender=me))
        renounced.append("ADMIN")
    return StepResult(values={"renounced": renounced})


STEPS: tuple[tuple[str, Callable[[StepContext], StepResult]], ...] = (
    ("core", step_core),
    ("collateral", step_collateral),
    ("oracle", step_oracle),
    ("perp", step_perp),
    ("markets", step_markets),
    ("settlement", step_settlement),
    ("funding", step_funding),
    ("liquidation", step_liquidation),
    ("bridge", step_bridge),
    ("stock_token", step_stock_token),
    ("timelock", step_timelock),
    ("handover", step_handover),
)
