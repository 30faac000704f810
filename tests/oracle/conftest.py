"""Oracle fixtures: five source keys, a MedianOracle listing ETH and BTC, and a driver that signs and submits."""

from __future__ import annotations

import pytest
from oracle_helpers import SOURCE_COUNT, SPEC, OracleDriver, source_key

from offchain.oracle.deploy import AssetSpec, deploy_oracle
from offchain.oracle.signing import ReportSigner


@pytest.fixture(scope="session")
def source_keys() -> list[bytes]:
    return [source_key(i) for i in range(SOURCE_COUNT + 1)]


@pytest.fixture(scope="session")
def oracle(project, admin, acl, chain, source_keys):
    sources = [ReportSigner(k, chain.chain_id, "0x" + "00" * 20).address for k in source_keys[:SOURCE_COUNT]]
    specs = [SPEC, AssetSpec("BTC", quorum=3, max_age=60, max_deviation_x18=5 * 10**16, jump_cap_x18=10**17)]
    return deploy_oracle(project, admin, acl, specs, sources)


@pytest.fixture(scope="session")
def signers(oracle, chain, source_keys) -> list[ReportSigner]:
    """Signers 0..4 are registered; signer 5 is a valid key that is not a source."""
    return [ReportSigner(k, chain.chain_id, oracle.address) for k in source_keys]


@pytest.fixture(scope="session")
def driver(oracle, chain, signers, stranger) -> OracleDriver:
    """Submits as ``stranger``: submission is permissionless, the signatures carry the authority."""
    return OracleDriver(oracle, chain, signers, stranger)
