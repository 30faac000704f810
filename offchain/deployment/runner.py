"""``deploy_protocol``: run the steps against a record file, resuming a deployment a failed run left.

Rules (also in the README, "Deployer"):

* no record: deploy from scratch;
* a record of the same chain, deployer and configuration whose contracts all have code: resume (a
  complete record is returned as is);
* a record whose contracts have no code at all (e.g. a restarted local chain): stale, moved aside and
  replaced;
* anything else (other configuration, other deployer, other chain, some code missing): refused with
  :class:`RecordConflict` unless ``force`` (the old file is moved aside first).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from offchain.deploy import CoreDeployment
from offchain.deployment.config import DeploymentConfig
from offchain.deployment.record import DONE, DeploymentRecord, RecordConflict, RecordingProject
from offchain.deployment.steps import STEPS, StepContext, StepResult
from offchain.liquidation.deploy import LiquidationDeployment
from offchain.perp.deploy import PerpDeployment

#: Fault injection for the resume test: SIGKILL this process right after the named step is recorded.
CRASH_ENV = "PERPX_DEPLOY_CRASH_AFTER"


@dataclass
class ProtocolDeployment:
    """Every contract of a full deployment, by logical name, plus market ids."""

    contracts: dict[str, Any]
    values: dict[str, Any]
    record: DeploymentRecord

    def __getattr__(self, name: str) -> Any:
        contracts = self.__dict__.get("contracts", {})
        if name in contracts:
            return contracts[name]
        raise AttributeError(name)

    @property
    def core(self) -> CoreDeployment:
        c = self.contracts
        return CoreDeployment(acl=c["acl"], compliance=c["compliance"], vault=c["vault"])

    @property
    def perp(self) -> PerpDeployment:
        c = self.contracts
        return PerpDeployment(registry=c["registry"], fees=c["fees"], engine=c["engine"])

    @property
    def liquidation(self) -> LiquidationDeployment:
        prefix = "liquidation."
        return LiquidationDeployment(**{k[len(prefix) :]: v for k, v in self.contracts.items() if k.startswith(prefix)})

    @property
    def markets(self) -> dict[str, int]:
        return dict(self.values["markets"])

    def token(self, symbol: str) -> Any:
        return self.contracts[f"token:{symbol}"]


@dataclass
class Header:
    """Identity of a deployment: a record is resumed only if all of it matches."""

    ecosystem: str
    network: str
    chain_id: int
    deployer: str
    config_digest: str
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ecosystem": self.ecosystem,
            "network": self.network,
            "chain_id": self.chain_id,
            "deployer": self.deployer,
            "config_digest": self.config_digest,
            **self.extra,
        }


def _has_code(provider: Any, address: str) -> bool:
    return len(bytes(provider.get_code(to_checksum_address(address)))) > 0


def _check_record(record: DeploymentRecord, header: Header, provider: Any, force: bool, log: Callable[[str], None]):
    """Decide between resume, fresh start and refusal (see module docstring)."""
    if not record.exists:
        record.start(**header.as_dict())
        return
    addresses = [c["address"] for s in record.steps for c in s.get("contracts", {}).values()]
    done_addresses = list(record.addresses().values())
    live = [a for a in addresses if _has_code(provider, a)]
    if addresses and not live:
        moved = record.archive()
        log(f"record {record.path} points at no live contract (stale chain): moved to {moved}, starting afresh")
        record.start(**header.as_dict())
        return
    mismatches = [
        f"{key}: recorded {record.data.get(key)!r}, now {value!r}"
        for key, value in header.as_dict().items()
        if key in ("chain_id", "deployer", "config_digest") and str(record.data.get(key)).lower() != str(value).lower()
    ]
    missing = [a for a in done_addresses if a not in live]
    if missing:
        mismatches.append(f"no code at {len(missing)} recorded address(es), e.g. {missing[0]}")
    if not mismatches:
        done = [s["name"] for s in record.steps if s["status"] == DONE]
        if done:
            log(f"resuming {record.path}: steps already done: {', '.join(done)}")
        return
    if not force:
        raise RecordConflict(
            f"{record.path} holds a different live deployment ({'; '.join(mismatches)}). "
            "Deploy elsewhere (--record) or pass --force to move it aside and deploy afresh."
        )
    moved = record.archive()
    log(f"--force: {record.path} moved to {moved}")
    record.start(**header.as_dict())


def _rebuild(project: Any, entry: dict[str, Any]) -> StepResult:
    """The contracts and values of a done step, from its recorded outputs."""
    outputs = entry.get("outputs", {})
    contracts = {
        name: getattr(project, spec["contract"]).at(spec["address"])
        for name, spec in outputs.get("contracts", {}).items()
    }
    return StepResult(contracts, outputs.get("values", {}))


def deploy_protocol(
    project: Any,
    deployer: Any,
    config: DeploymentConfig,
    record_path: Path,
    *,
    provider: Any,
    ecosystem: str,
    network: str,
    force: bool = False,
    log: Callable[[str], None] = print,
    only: Sequence[str] | None = None,
) -> ProtocolDeployment:
    """Deploy and wire the whole protocol from ``config``, recording every step in ``record_path``.

    Resumes a deployment the record shows as unfinished; returns the contracts. ``only`` limits the
    steps run (tests); the record is marked complete only when every step is done.
    """
    record = DeploymentRecord.load(record_path)
    header = Header(ecosystem, network, provider.chain_id, str(deployer.address), config.digest)
    _check_record(record, header, provider, force, log)
    recording = RecordingProject(project, record)
    ctx = StepContext(project=recording, deployer=deployer, config=config, log=log)
    crash_after = os.environ.get(CRASH_ENV, "")
    for name, step in STEPS:
        if only is not None and name not in only:
            continue
        entry = record.step(name)
        if entry is not None and entry["status"] == DONE:
            result = _rebuild(project, entry)
            log(f"step {name:<12} already done")
        else:
            log(f"step {name:<12} running")
            entry = record.begin_step(name)
            entry["blocks"] = [provider.get_block("latest").number + 1, None]
            recording.entry = entry
            result = step(ctx)
            recording.entry = None
            entry["blocks"][1] = provider.get_block("latest").number
            record.finish_step(
                entry,
                {
                    "contracts": {
                        k: {"contract": v.contract_type.name, "address": str(v.address)}
                        for k, v in result.contracts.items()
                    },
                    "values": result.values,
                },
            )
            for key, c in entry["contracts"].items():
                log(f"    {key:<22} {c['address']}  tx {c['tx_hash']}")
        ctx.contracts.update(result.contracts)
        ctx.values.update(result.values)
        if crash_after == name:
            log(f"{CRASH_ENV}={name}: killing the deployment process")
            os.kill(os.getpid(), signal.SIGKILL)
    if only is None:
        record.data["complete"] = True
        record.data["addresses"] = {k: str(v.address) for k, v in ctx.contracts.items()}
        record.data["markets"] = ctx.values.get("markets", {})
        record.save()
    return ProtocolDeployment(contracts=ctx.contracts, values=ctx.values, record=record)
