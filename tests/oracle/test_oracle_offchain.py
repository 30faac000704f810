"""Off-chain oracle side: feeds, reporter, submitter against the chain, config, CLI and gas script."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from oracle_helpers import BTC, ETH, source_key

from offchain.oracle import gas
from offchain.oracle.config import ConfigError, load_config
from offchain.oracle.feeds import (
    FeedError,
    FilePriceFeed,
    HttpJsonPriceFeed,
    SimulatedPriceFeed,
    decimal_to_x18,
    feed_from_config,
)
from offchain.oracle.reporter import Reporter
from offchain.oracle.signing import ReportSigner
from offchain.oracle.submitter import Submitter

REPO = Path(__file__).resolve().parents[2]
BASE = {"ETH": Decimal("3000"), "BTC": Decimal("60000")}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/price/ETH"):
            body, code = json.dumps({"data": {"price": "3001.25"}}).encode(), 200
        elif self.path.startswith("/price/BAD"):
            body, code = b"<html>", 200
        else:
            body, code = b"{}", 503
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_url():
    # Function scope on purpose: a module-scoped fixture makes ape take a module snapshot, and a session
    # deployment created later in the module (the oracle) is then rolled back by ape's isolation.
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_decimal_to_x18():
    assert decimal_to_x18("3000.5", "f", "ETH") == 3000_5 * 10**17
    assert decimal_to_x18("1.0000000000000000019", "f", "ETH") == 10**18 + 1  # truncated to 18 decimals
    for bad in ("0", "-1", "NaN", "abc", None):
        with pytest.raises(FeedError, match="ETH"):
            decimal_to_x18(bad, "f", "ETH")


def test_file_feed(tmp_path):
    path = tmp_path / "prices.json"
    feed = FilePriceFeed(path, name="desk")
    with pytest.raises(FeedError, match="does not exist"):
        feed.price_x18("ETH", 0)
    path.write_text("{not json")
    with pytest.raises(FeedError, match="cannot read"):
        feed.price_x18("ETH", 0)
    path.write_text(json.dumps({"ETH": "2999.5", "nested": {"BTC": {"px": 61000}}}))
    assert feed.price_x18("ETH", 0) == 29995 * 10**17
    with pytest.raises(FeedError, match="no field 'SOL'"):
        feed.price_x18("SOL", 0)
    assert FilePriceFeed(path, field="nested.{symbol}.px").price_x18("BTC", 0) == 61000 * 10**18


def test_http_feed(http_url):
    feed = HttpJsonPriceFeed(http_url + "/price/{symbol}", field="data.price", timeout_s=2)
    assert feed.price_x18("ETH", 0) == 300125 * 10**16
    with pytest.raises(FeedError, match="HTTP 503"):
        feed.price_x18("SOL", 0)
    with pytest.raises(FeedError, match="did not return JSON"):
        feed.price_x18("BAD", 0)
    with pytest.raises(FeedError, match="unreachable"):
        HttpJsonPriceFeed("http://127.0.0.1:9/{symbol}", timeout_s=0.5).price_x18("ETH", 0)


def test_simulated_feed_is_deterministic():
    a = SimulatedPriceFeed(BASE, seed=1)
    assert [a.price_x18("ETH", t) for t in range(10)] == [
        SimulatedPriceFeed(BASE, seed=1).price_x18("ETH", t) for t in range(10)
    ]
    assert a.price_x18("ETH", 5) != SimulatedPriceFeed(BASE, seed=2).price_x18("ETH", 5)
    biased = SimulatedPriceFeed(BASE, seed=1, bias_bps=2000)
    assert biased.price_x18("ETH", 5) == a.price_x18("ETH", 5) * 12_000 // 10_000
    for t in range(0, 7200, 97):  # within amplitude + noise of the base
        assert abs(a.price_x18("ETH", t) - 3000 * 10**18) <= 3000 * 10**18 * 210 // 10_000
    with pytest.raises(FeedError, match="outage"):
        SimulatedPriceFeed(BASE, down=True).price_x18("ETH", 0)
    with pytest.raises(FeedError, match="no simulated market"):
        a.price_x18("SOL", 0)


def test_feed_from_config(tmp_path):
    assert isinstance(feed_from_config({"kind": "file", "path": str(tmp_path)}, "x"), FilePriceFeed)
    assert isinstance(feed_from_config({"kind": "http", "url": "http://h/{symbol}"}, "x"), HttpJsonPriceFeed)
    sim = feed_from_config({"kind": "simulated", "base": {"eth": "1"}, "seed": 3}, "x")
    assert sim.base == {"ETH": Decimal(1)} and sim.seed == 3
    with pytest.raises(ValueError, match="unknown feed kind 'ws'"):
        feed_from_config({"kind": "ws"}, "x")


def _reporters(oracle, chain, feeds):
    return [
        Reporter(f"src{i}", ReportSigner(source_key(i), chain.chain_id, oracle.address), feed)
        for i, feed in enumerate(feeds)
    ]


def test_reporter_skips_a_down_source_and_logs_it(oracle, chain, caplog):
    [up, down] = _reporters(oracle, chain, [SimulatedPriceFeed(BASE, seed=1), SimulatedPriceFeed(BASE, down=True)])
    with caplog.at_level(logging.WARNING, logger="perpx.oracle.reporter"):
        assert down.report(["ETH", "BTC"], 100) == []
    assert "src1" in caplog.text and "simulated outage" in caplog.text
    reports = up.report(["ETH", "BTC"], 100)
    assert [(r.asset, r.timestamp, r.source) for r in reports] == [
        (ETH, 100, up.signer.address),
        (BTC, 100, up.signer.address),
    ]


def test_submitter_round_with_an_outlier_and_an_outage(oracle, chain, keeper, driver, caplog):
    feeds = [SimulatedPriceFeed(BASE, seed=i) for i in range(3)]
    feeds += [SimulatedPriceFeed(BASE, seed=3, bias_bps=2000), SimulatedPriceFeed(BASE, down=True)]
    clock = {"now": chain.blocks.head.timestamp}
    submitter = Submitter(oracle, keeper, _reporters(oracle, chain, feeds), ["eth", "btc"], clock=lambda: clock["now"])
    with caplog.at_level(logging.INFO, logger="perpx.oracle"):
        result = submitter.tick()
    assert result is not None and result.tx_hash
    assert (result.reports, result.skipped_sources) == (8, ["src4"])
    now = result.timestamp
    honest = sorted(f.price_x18("ETH", now) for f in feeds[:3])
    assert oracle.getPrice(ETH) == (honest[1], now)  # the biased source is isolated
    assert oracle.sourceReport(ETH, submitter.reporters[3].signer.address).isolated
    assert any(e.startswith("SourceIsolated") for e in result.events)
    assert "8 reports from 4 sources" in caplog.text
    assert submitter.tick() is None  # the clock has not moved: nothing new to sign

    def next_second(_: float) -> None:
        driver.warp(1)
        clock["now"] = chain.blocks.head.timestamp

    next_second(0)
    assert submitter.run(interval_s=0, iterations=2, sleep=next_second) == 2
    assert oracle.getPrice(ETH)[1] == clock["now"]


def test_submitter_keeps_running_when_a_round_reverts(oracle, chain, keeper, caplog):
    reporters = _reporters(oracle, chain, [SimulatedPriceFeed(BASE, seed=1)])
    submitter = Submitter(oracle, keeper, reporters, ["SOL"], clock=lambda: chain.blocks.head.timestamp)
    reporters[0].feed = SimulatedPriceFeed({"SOL": Decimal(1)})
    with caplog.at_level(logging.ERROR, logger="perpx.oracle.submitter"):
        assert submitter.run(interval_s=0, iterations=1, sleep=lambda s: None) == 0
    assert "round failed" in caplog.text and "MedianOracleUnknownAsset" in caplog.text
    with pytest.raises(ValueError, match="at least one reporter"):
        Submitter(oracle, keeper, [], ["ETH"], clock=lambda: 0)


def test_load_config(tmp_path, chain, oracle):
    path = tmp_path / "reporter.json"
    config = {
        "assets": ["eth"],
        "sources": [{"name": "a", "key_env": "KEY_A", "feed": {"kind": "simulated", "base": {"ETH": "3000"}}}],
    }
    path.write_text(json.dumps(config))
    loaded = load_config(path, chain.chain_id, oracle.address, {"KEY_A": source_key(0).hex()})
    assert loaded.symbols == ["ETH"]
    assert loaded.reporters[0].signer.address == ReportSigner(source_key(0), 1, oracle.address).address
    with pytest.raises(ConfigError, match="'KEY_A'"):
        load_config(path, chain.chain_id, oracle.address, {})
    config["sources"][0]["feed"] = {"kind": "ws"}
    path.write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="unknown feed kind"):
        load_config(path, chain.chain_id, oracle.address, {"KEY_A": source_key(0).hex()})
    path.write_text(json.dumps({"assets": [], "sources": []}))
    with pytest.raises(ConfigError, match="at least one symbol"):
        load_config(path, chain.chain_id, oracle.address, {})


def test_cli_help():
    env = {**os.environ, "PATH": f"{REPO / '.venv/bin'}:{REPO / 'node_modules/.bin'}:{os.environ['PATH']}"}
    out = subprocess.run(
        [str(Path(sys.executable).parent / "ape"), "run", "oracle_reporter", "--help"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    for option in ("--network", "--account", "--oracle", "--config", "--interval", "--iterations"):
        assert option in out


def test_gas_measure(project, accounts):
    results = gas.measure(project, accounts)
    assert [label for label, _ in results] == ["oracle.update assets=1 sources=5", "oracle.update assets=10 sources=5"]
    one, ten = (g for _, g in results)
    print(f"\n{results}")
    assert 30_000 < one < ten < 15 * one


def test_cli_runs_against_the_chain_with_one_source_down(oracle, chain, tmp_path):
    """`ape run oracle_reporter` on this test chain (bare URI network): 3 simulated sources, 1 unreachable."""
    sources = [
        {
            "name": f"sim{i}",
            "key_env": f"ORACLE_TEST_KEY_{i}",
            "feed": {"kind": "simulated", "seed": i, "base": {"ETH": "3000"}},
        }
        for i in range(3)
    ]
    sources.append(
        {"name": "cex", "key_env": "ORACLE_TEST_KEY_3", "feed": {"kind": "http", "url": "http://127.0.0.1:9/{symbol}"}}
    )
    config = tmp_path / "reporter.json"
    config.write_text(json.dumps({"assets": ["ETH"], "sources": sources}))
    env = {**os.environ, **{f"ORACLE_TEST_KEY_{i}": source_key(i).hex() for i in range(4)}}
    env["PATH"] = f"{REPO / '.venv/bin'}:{REPO / 'node_modules/.bin'}:{env['PATH']}"
    command = [str(Path(sys.executable).parent / "ape"), "run", "oracle_reporter", "--network", chain.provider.uri]
    command += ["--account", "TEST::2", "--oracle", oracle.address, "--config", str(config), "--iterations", "2"]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    logs = done.stdout + done.stderr
    assert done.returncode == 0, logs
    assert logs.count("3 reports from 3 sources") == 2, logs
    assert "source cex" in logs and "unreachable" in logs
    assert "stopped after 2 submitted rounds" in logs
    index = oracle.latestIndex(ETH)
    assert index.healthy and index.priceX18 > 0
