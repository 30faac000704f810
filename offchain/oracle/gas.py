"""Gas of one MedianOracle bundle update (1 asset x 5 sources, 10 assets x 5 sources), for ``make gas``.

Measured in steady state: every source has reported before, so storage slots are warm-written
(non-zero to non-zero), as on a live chain after the first round.
"""

from __future__ import annotations

from typing import Any

from eth_utils import keccak

from offchain.oracle.deploy import AssetSpec, deploy_oracle
from offchain.oracle.signing import ReportSigner, SignedReport
from offchain.oracle.submitter import build_bundle

SOURCES = 5
ASSETS = 10


def _signed_round(signers: list[ReportSigner], specs: list[AssetSpec], ts: int, bump: int) -> list[SignedReport]:
    reports = []
    for n, spec in enumerate(specs):
        base = (1000 + n) * 10**18 + bump
        reports.extend(s.sign(spec.asset, base + i * 10**15, ts) for i, s in enumerate(signers))
    return reports


def measure(project: Any, accounts: Any) -> list[tuple[str, int]]:
    """Deploy a fresh oracle and return [(label, gas used)] of steady-state bundle updates."""
    from ape import chain

    admin, submitter = accounts[0], accounts[1]
    acl = project.ProtocolAccess.deploy(admin, sender=admin)
    keys = [keccak(text=f"perpx-oracle-gas-source-{i}") for i in range(SOURCES)]
    sources = [ReportSigner(k, chain.chain_id, "0x" + "00" * 20).address for k in keys]
    specs = [AssetSpec(f"GAS{n}") for n in range(ASSETS)]
    oracle = deploy_oracle(project, admin, acl, specs, sources)
    signers = [ReportSigner(k, chain.chain_id, oracle.address) for k in keys]

    results = []
    for label, subset in (
        (f"oracle.update assets=1 sources={SOURCES}", specs[:1]),
        (
            f"oracle.update assets={ASSETS} sources={SOURCES}",
            specs,
        ),
    ):
        gas = 0
        for bump in (0, 1, 2):  # the first rounds write fresh slots (index, accumulator); the last is measured
            ts = chain.blocks.head.timestamp + 1
            chain.pending_timestamp = ts
            receipt = oracle.update(build_bundle(_signed_round(signers, subset, ts, bump)), sender=submitter)
            gas = receipt.gas_used
        results.append((label, gas))
    return results
