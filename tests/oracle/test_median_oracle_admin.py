"""MedianOracle governance: asset parameters, source registry, role checks."""

from __future__ import annotations

import pytest
from oracle_helpers import ETH, reverts

from offchain import roles

NEW = b"\x42" * 32
GOOD = {"quorum": 3, "maxAge": 60, "maxDeviationX18": 5 * 10**16, "jumpCapX18": 10**17, "sampleInterval": 3600}


def _configure(oracle, sender, **overrides):
    args = {**GOOD, **overrides}
    return oracle.configureAsset(
        NEW,
        args["quorum"],
        args["maxAge"],
        args["maxDeviationX18"],
        args["jumpCapX18"],
        args["sampleInterval"],
        sender=sender,
    )


def test_configure_asset_lists_and_emits(oracle, admin):
    receipt = _configure(oracle, admin)
    [event] = list(receipt.decode_logs(oracle.AssetConfigured))
    assert event.asset == NEW
    assert {k: getattr(event, k) for k in GOOD} == GOOD
    cfg = oracle.assetConfig(NEW)
    assert (cfg.listed, cfg.quorum, cfg.maxAge, cfg.maxDeviationX18, cfg.jumpCapX18, cfg.sampleInterval) == (
        True,
        3,
        60,
        5 * 10**16,
        10**17,
        3600,
    )
    assert (cfg.breaker, cfg.guardianPaused) == (0, False)


@pytest.mark.parametrize(
    ("field", "value", "error", "valid"),
    [
        ("quorum", 0, "MedianOracleInvalidQuorum", 1),
        ("quorum", 33, "MedianOracleInvalidQuorum", 32),
        ("maxAge", 0, "MedianOracleInvalidMaxAge", 1),
        ("maxAge", 86401, "MedianOracleInvalidMaxAge", 86400),
        ("maxDeviationX18", 0, "MedianOracleInvalidDeviation", 1),
        ("maxDeviationX18", 5 * 10**17 + 1, "MedianOracleInvalidDeviation", 5 * 10**17),
        ("jumpCapX18", 0, "MedianOracleInvalidJumpCap", 1),
        ("jumpCapX18", 10**18, "MedianOracleInvalidJumpCap", 10**18 - 1),
        ("sampleInterval", 0, "MedianOracleInvalidSampleInterval", 1),
        ("sampleInterval", 2**32, "MedianOracleInvalidSampleInterval", 2**32 - 1),
    ],
)
def test_configure_asset_bounds(oracle, admin, field, value, error, valid):
    with reverts(getattr(oracle, error)):
        _configure(oracle, admin, **{field: value})
    _configure(oracle, admin, **{field: valid})
    assert getattr(oracle.assetConfig(NEW), field) == valid


def test_governance_is_admin_only(oracle, guardian, keeper, stranger, driver):
    for account in (guardian, keeper, stranger):
        with reverts(oracle.AccessControlUnauthorizedAccount, account=account.address, role=roles.ADMIN):
            _configure(oracle, account)
        with reverts(oracle.AccessControlUnauthorizedAccount):
            oracle.addSource(ETH, stranger, sender=account)
        with reverts(oracle.AccessControlUnauthorizedAccount):
            oracle.removeSource(ETH, driver.sources[0], sender=account)


def test_add_and_remove_sources(oracle, admin, driver, stranger):
    with reverts(oracle.MedianOracleUnknownAsset, asset=NEW):
        oracle.addSource(NEW, stranger, sender=admin)
    with reverts(oracle.MedianOracleZeroAddress):
        oracle.addSource(ETH, "0x" + "00" * 20, sender=admin)
    with reverts(oracle.MedianOracleSourceAlreadyRegistered, asset=ETH, source=driver.sources[0]):
        oracle.addSource(ETH, driver.sources[0], sender=admin)
    receipt = oracle.addSource(ETH, stranger, sender=admin)
    assert [(e.asset, e.source) for e in receipt.decode_logs(oracle.SourceAdded)] == [(ETH, stranger.address)]
    assert oracle.sourcesOf(ETH) == [*driver.sources[:5], stranger.address]
    receipt = oracle.removeSource(ETH, driver.sources[1], sender=admin)
    assert [(e.asset, e.source) for e in receipt.decode_logs(oracle.SourceRemoved)] == [(ETH, driver.sources[1])]
    # swap-and-pop: the last source takes the removed one's slot
    expected = [driver.sources[0], stranger.address, *driver.sources[2:5]]
    assert oracle.sourcesOf(ETH) == expected
    with reverts(oracle.MedianOracleSourceNotRegistered, asset=ETH, source=driver.sources[1]):
        oracle.removeSource(ETH, driver.sources[1], sender=admin)
    # positions stay consistent: the moved source can still be removed and re-added
    oracle.removeSource(ETH, stranger, sender=admin)
    assert oracle.sourcesOf(ETH) == [driver.sources[0], driver.sources[4], *driver.sources[2:4]]


def test_source_limit(oracle, admin, accounts):
    _configure(oracle, admin)
    limit = oracle.MAX_SOURCES()
    for i in range(limit):
        oracle.addSource(NEW, f"0x{i + 1:040x}", sender=admin)
    with reverts(oracle.MedianOracleTooManySources, asset=NEW, maxSources=limit):
        oracle.addSource(NEW, f"0x{limit + 1:040x}", sender=admin)


def test_domain_is_bound_to_chain_and_contract(oracle, chain, driver):
    domain = oracle.eip712Domain()
    assert (domain.name, domain.version, domain.chainId, domain.verifyingContract) == (
        "perpx MedianOracle",
        "1",
        chain.chain_id,
        oracle.address,
    )
