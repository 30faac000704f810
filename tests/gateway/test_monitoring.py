"""Metrics definitions, the /metrics + /health server, keeper hooks and the --metrics-port options."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from click.testing import CliRunner

from offchain.monitoring import GatewayMetrics, KeeperMetrics, MatcherMetrics, SubmitterMetrics, new_registry
from offchain.monitoring.keepers import (
    KeeperMonitor,
    MeteredChainClient,
    observe_bridge_backlog,
    observe_insurance_fund,
    observe_liquidation,
    observe_oracle_prices,
    observe_oracle_tick,
    start_keeper_metrics,
)
from offchain.monitoring.server import serve_metrics

ROOT = Path(__file__).resolve().parents[2]


def sample(registry, name, labels=None):
    return registry.get_sample_value(name, labels or {})


def test_every_service_defines_its_metrics_on_its_own_registry():
    a, b = new_registry(), new_registry()
    for reg in (a, b):  # no global state: the same definitions on two registries do not clash
        GatewayMetrics.create(reg)
        MatcherMetrics.create(reg)
        SubmitterMetrics.create(reg)
        KeeperMetrics.create(reg)
    names = {m.name for m in a.collect()}
    assert {"perpx_gateway_orders", "perpx_gateway_rejects", "perpx_gateway_request_latency_seconds",
            "perpx_matcher_events", "perpx_matcher_fills", "perpx_submitter_batch_latency_seconds",
            "perpx_submitter_settlement_gas", "perpx_oracle_update_age_seconds", "perpx_oracle_isolated_sources",
            "perpx_liquidation_accounts_near", "perpx_liquidation_actions", "perpx_insurance_fund_balance",
            "perpx_bridge_backlog"} <= names  # fmt: skip


def test_server_serves_metrics_and_health():
    reg = new_registry()
    km = KeeperMetrics.create(reg)
    km.bridge_backlog.set(7)
    state = {"ok": True, "note": "fine"}
    server = serve_metrics(0, reg, lambda: dict(state))
    try:
        text = httpx.get(server.url + "/metrics").text
        assert "perpx_bridge_backlog 7.0" in text
        health = httpx.get(server.url + "/health")
        assert health.status_code == 200 and health.json() == {"status": "ok", "note": "fine"}
        state["ok"] = False
        assert httpx.get(server.url + "/health").status_code == 503
        assert httpx.get(server.url + "/nope").status_code == 404
    finally:
        server.close()


def test_keeper_monitor_rounds_errors_and_staleness():
    now = [1000.0]
    mon = KeeperMonitor("funding", KeeperMetrics.create(reg := new_registry()), stale_after=60, clock=lambda: now[0])
    tick = mon.wrap(lambda x: x * 2)
    assert tick(21) == 42
    with pytest.raises(ZeroDivisionError), mon.round():
        1 / 0  # noqa: B018
    assert sample(reg, "perpx_keeper_rounds_total", {"keeper": "funding"}) == 1
    assert sample(reg, "perpx_keeper_errors_total", {"keeper": "funding"}) == 1
    assert sample(reg, "perpx_keeper_last_round_timestamp_seconds", {"keeper": "funding"}) == 1000.0
    assert mon.health()["ok"] and "ZeroDivisionError" in mon.health()["last_error"]
    now[0] += 61
    assert not mon.health()["ok"]


def test_start_keeper_metrics_serves_a_port_or_nothing():
    assert start_keeper_metrics("x", None) is None
    mon = start_keeper_metrics("liquidation", 0)
    try:
        mon.wrap(lambda: None)()
        assert 'perpx_keeper_rounds_total{keeper="liquidation"} 1.0' in httpx.get(mon.server.url + "/metrics").text
        assert httpx.get(mon.server.url + "/health").json()["keeper"] == "liquidation"
    finally:
        mon.close()


def test_keeper_observers():
    reg = new_registry()
    mon = KeeperMonitor("liquidation", KeeperMetrics.create(reg))
    keeper = SimpleNamespace(metrics=SimpleNamespace(scans=2, candidates=6))
    actions = [SimpleNamespace(kind="flag", sent=True), SimpleNamespace(kind="close", sent=True),
               SimpleNamespace(kind="close", sent=False)]  # fmt: skip
    observe_liquidation(mon, keeper, actions)
    assert sample(reg, "perpx_liquidation_actions_total", {"kind": "close"}) == 1
    assert sample(reg, "perpx_liquidation_accounts_near") == 3.0
    keeper.metrics.scans, keeper.metrics.candidates = 3, 7
    observe_liquidation(mon, keeper, [])
    assert sample(reg, "perpx_liquidation_accounts_near") == 1.0

    oracle = SimpleNamespace(getPrice=lambda asset: (10**18, {b"E": 900, b"B": 990}[asset]))
    observe_oracle_prices(mon, oracle, {"ETH": b"E", "BTC": b"B"}, now=1000)
    assert sample(reg, "perpx_oracle_update_age_seconds", {"asset": "ETH"}) == 100
    tick = SimpleNamespace(events=["SourceIsolated {'asset': 'aa11', 'source': '0x1'}", "IndexUpdated {}"])
    observe_oracle_tick(mon, tick, {"aa11": "ETH", "bb22": "BTC"})
    assert sample(reg, "perpx_oracle_isolated_sources", {"asset": "ETH"}) == 1
    assert sample(reg, "perpx_oracle_isolated_sources", {"asset": "BTC"}) == 0
    fund = SimpleNamespace(available=lambda token: 5 * 10**18 if token == "0xU" else 0)
    observe_insurance_fund(mon, fund, {"USDC": "0xU"})
    assert sample(reg, "perpx_insurance_fund_balance", {"token": "USDC"}) == 5.0
    observe_bridge_backlog(mon, {"done": 9, "signed": 2, "sent": 1, "cancelled": 4}, ("done", "cancelled"))
    assert sample(reg, "perpx_bridge_backlog") == 3


class FakeChainClient:
    def __init__(self, ok: bool):
        self.ok, self.last = ok, 4

    def last_batch_id(self):
        return self.last

    def batch_root(self, batch_id):
        return b"\x00" * 32

    def prepare(self, batch_id, root, fills):
        if not fills:
            raise ValueError("empty")
        return SimpleNamespace(batch_id=batch_id)

    def tx_hash(self, prepared):
        return f"0x{prepared.batch_id:064x}"

    def send(self, prepared):
        self.sent = prepared

    def wait(self, tx_hash, timeout):
        return self.ok


def test_metered_chain_client_records_batches():
    reg = new_registry()
    ticks = iter([1.0, 3.5, 10.0, 10.25, 11.0])  # prepare 5, confirm 5, refused prepare, prepare 6, confirm 6
    client = MeteredChainClient(FakeChainClient(True), SubmitterMetrics.create(reg), lambda h: 123_456,
                                clock=lambda: next(ticks))  # fmt: skip
    assert client.last_batch_id() == 4 and sample(reg, "perpx_submitter_last_batch_id") == 4
    client.send(client.prepare(5, b"r", ["f1", "f2"]))
    assert client.wait(f"0x{5:064x}", 1) is True
    assert sample(reg, "perpx_submitter_batch_latency_seconds_sum") == 2.5
    assert sample(reg, "perpx_submitter_settlement_gas_sum") == 123_456
    assert sample(reg, "perpx_submitter_fills_settled_total") == 2
    with pytest.raises(ValueError):
        client.prepare(6, b"r", [])
    assert sample(reg, "perpx_submitter_batches_total", {"result": "rejected"}) == 1
    client.inner.ok = False
    client.send(client.prepare(6, b"r", ["f"]))
    assert client.wait(f"0x{6:064x}", 1) is False
    assert sample(reg, "perpx_submitter_batches_total", {"result": "reverted"}) == 1
    assert sample(reg, "perpx_submitter_fills_settled_total") == 2
    assert client.last_batch_id() == 4  # everything else is delegated


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"gw_test_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cli


@pytest.mark.parametrize("name", ["liquidation_keeper", "funding_keeper", "oracle_reporter", "batch_submitter"])
def test_keeper_commands_offer_metrics_port(name):
    result = CliRunner().invoke(_script(name), ["--help"])
    assert result.exit_code == 0 and "--metrics-port" in result.output, result.output


def test_bridge_relayer_offers_metrics_port():
    from offchain.bridge.cli import cli

    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0 and "--metrics-port" in result.output


def test_alert_rules_are_well_formed_and_use_defined_metrics():
    import re

    import yaml

    rules = yaml.safe_load((ROOT / "monitoring" / "alerts.yml").read_text())
    reg = new_registry()
    for cls in (GatewayMetrics, MatcherMetrics, SubmitterMetrics, KeeperMetrics):
        cls.create(reg)
    defined = {m.name for m in reg.collect()}
    alerts = [r for g in rules["groups"] for r in g["rules"]]
    assert len({r["alert"] for r in alerts}) == len(alerts) >= 15
    for rule in alerts:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert rule["expr"].count("(") == rule["expr"].count(")")
        for name in re.findall(r"\bperpx_\w+", rule["expr"]):
            base = re.sub(r"_(total|bucket|sum|count)$", "", name)
            assert base in defined, f"{rule['alert']}: {name} is not a defined metric"
