"""The deployment record: configuration parsing, resume decisions, refusal and --force."""

from __future__ import annotations

import json

import pytest
from deploy_helpers import CONFIG

from offchain.deployment.config import AddressResolver, ConfigError, expand_env, load_config, parse_config
from offchain.deployment.network import load_network_config
from offchain.deployment.record import RecordConflict
from offchain.deployment.runner import deploy_protocol


def _deploy(project, deployer, chain, config, record, **kw):
    return deploy_protocol(
        project,
        deployer,
        config,
        record,
        provider=chain.provider,
        ecosystem="ethereum",
        network="local",
        log=lambda _: None,
        only=["core"],
        **kw,
    )


def test_local_config_has_the_three_market_kinds(accounts, chain):
    config = load_network_config(CONFIG, chain.chain_id, accounts)
    kinds = {m.name: (m.kind, m.asset, m.collateral) for m in config.markets}
    assert kinds["ETH-USD"] == ("linear", "ETH", "USDC")
    assert kinds["ETH-USD-INVERSE"] == ("inverse", "ETH", "WETH")
    assert kinds["AAPL-USD"] == ("linear", "AAPL", "USDC")
    assert config.fee_tiers[0] == (0, 20 * 10**14, 2 * 10**14)
    assert config.governance.proposers == [str(accounts[5].address)]


def test_dev_and_test_addresses_are_refused_off_a_local_chain(tmp_path):
    with pytest.raises(ConfigError, match="only allowed on a local chain"):
        load_config(CONFIG, AddressResolver(None, local=False))


def test_testnet_configs_need_their_environment(tmp_path):
    base = CONFIG.with_name("base-sepolia.yaml")
    with pytest.raises(ConfigError, match="PERPX_OPERATOR"):
        expand_env(base.read_text(), {})
    env = {
        name: "0x" + f"{i + 1:040x}"
        for i, name in enumerate(
            [
                "PERPX_OPERATOR",
                "PERPX_KEEPER",
                "PERPX_GUARDIAN",
                "PERPX_COMPLIANCE",
                "PERPX_MINTER",
                "PERPX_TREASURY",
                "PERPX_SOURCE_1",
                "PERPX_SOURCE_2",
                "PERPX_SOURCE_3",
                "PERPX_SOURCE_4",
                "PERPX_SOURCE_5",
                "PERPX_VALIDATOR_1",
                "PERPX_VALIDATOR_2",
                "PERPX_VALIDATOR_3",
                "PERPX_CUSTODIAN",
                "PERPX_GOVERNANCE",
            ]
        )
    }
    for name in ("base-sepolia.yaml", "bsc-testnet.yaml"):
        config = load_config(CONFIG.with_name(name), AddressResolver(None, local=False), env)
        assert config.governance.min_delay == 172800
        assert len(config.markets) == 3
    with pytest.raises(ConfigError, match="refused on a mainnet"):
        load_config(CONFIG.with_name("bsc-testnet.yaml"), AddressResolver(None, local=False, mainnet=True), env)


def test_six_fee_tiers_required():
    import yaml

    raw = yaml.safe_load(CONFIG.read_text())
    raw["fees"]["tiers"] = raw["fees"]["tiers"][:5]
    with pytest.raises(ConfigError, match="six tiers"):
        parse_config(raw, AddressResolver([f"0x{i:040x}" for i in range(10)], local=True))


def test_rerun_resumes_a_different_config_is_refused_and_force_replaces(project, accounts, chain, tmp_path):
    config = load_network_config(CONFIG, chain.chain_id, accounts)
    record = tmp_path / "ethereum-local.json"
    first = _deploy(project, accounts[0], chain, config, record)
    again = _deploy(project, accounts[0], chain, config, record)
    assert again.acl.address == first.acl.address  # resumed, not redeployed

    import yaml

    raw = yaml.safe_load(CONFIG.read_text())
    raw["allowlist_enforced"] = False
    other = parse_config(raw, AddressResolver(accounts, local=True))
    with pytest.raises(RecordConflict, match="config_digest"):
        _deploy(project, accounts[0], chain, other, record)
    with pytest.raises(RecordConflict, match="deployer"):
        _deploy(project, accounts[1], chain, config, record)
    assert json.loads(record.read_text())["steps"][0]["contracts"]["ProtocolAccess"]["address"] == first.acl.address

    forced = _deploy(project, accounts[0], chain, other, record, force=True)
    assert forced.acl.address != first.acl.address
    kept = list(tmp_path.glob("ethereum-local.replaced-*.json"))
    assert len(kept) == 1
    assert json.loads(kept[0].read_text())["steps"][0]["contracts"]["ProtocolAccess"]["address"] == first.acl.address


def test_a_record_of_a_vanished_chain_is_replaced(project, accounts, chain, tmp_path):
    config = load_network_config(CONFIG, chain.chain_id, accounts)
    record = tmp_path / "ethereum-local.json"
    stale = {
        "chain_id": chain.chain_id,
        "deployer": "0x0",
        "config_digest": "x",
        "complete": True,
        "steps": [{"name": "core", "status": "done", "contracts": {"ProtocolAccess": {"address": "0x" + "ab" * 20}}}],
    }
    record.write_text(json.dumps(stale))
    fresh = _deploy(project, accounts[0], chain, config, record)
    assert json.loads(record.read_text())["steps"][0]["contracts"]["ProtocolAccess"]["address"] == fresh.acl.address
    assert len(list(tmp_path.glob("ethereum-local.replaced-*.json"))) == 1


def test_a_step_that_died_midway_is_redone_and_its_contracts_listed_abandoned(
    project, accounts, chain, tmp_path, monkeypatch
):
    from offchain.deployment import steps

    config = load_network_config(CONFIG, chain.chain_id, accounts)
    record = tmp_path / "ethereum-local.json"
    real = steps.deploy_core

    def dies_after_the_first_contract(project_, deployer, *args, **kwargs):
        project_.ProtocolAccess.deploy(deployer, sender=deployer)
        raise RuntimeError("RPC went away")

    monkeypatch.setattr(steps, "deploy_core", dies_after_the_first_contract)
    with pytest.raises(RuntimeError, match="RPC went away"):
        _deploy(project, accounts[0], chain, config, record)
    crashed = json.loads(record.read_text())
    assert crashed["steps"][0]["status"] == "partial"
    orphan = crashed["steps"][0]["contracts"]["ProtocolAccess"]["address"]

    monkeypatch.setattr(steps, "deploy_core", real)
    done = _deploy(project, accounts[0], chain, config, record)
    data = json.loads(record.read_text())
    assert data["steps"][0]["status"] == "done"
    assert data["abandoned"][0]["address"] == orphan != done.acl.address
