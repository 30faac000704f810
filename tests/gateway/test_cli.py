"""`python -m offchain.gateway` as an operator runs it: config file, fills written for the batch submitter."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import httpx
from gw_helpers import ADDRS, DOMAIN, KEYS, LOT, TICK, body, order


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_serves_and_writes_fills(tmp_path):
    config = {"chainId": DOMAIN.chain_id, "verifyingContract": DOMAIN.verifying_contract,
              "markets": [{"market_id": 1, "tick_size_x18": TICK, "lot_size_x18": LOT, "max_leverage": 20}],
              "symbols": {"1": "ETH-PERP"}, "limits": {"max_body_bytes": 4096}}  # fmt: skip
    (tmp_path / "gw.json").write_text(json.dumps(config))
    port, fills = free_port(), tmp_path / "fills.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "offchain.gateway", "--config", str(tmp_path / "gw.json"), "--port", str(port),
         "--fills-out", str(fills), "--journal-dir", str(tmp_path / "journal"), "--log-level", "WARNING"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(url + "/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read() if proc.stdout else ""
            time.sleep(0.1)
        assert httpx.get(url + "/markets").json()[0]["symbol"] == "ETH-PERP"
        assert httpx.post(url + "/orders", json=body(order(ADDRS[0], buy=False), KEYS[0])).status_code == 200
        assert httpx.post(url + "/orders", json=body(order(ADDRS[1], buy=True), KEYS[1])).status_code == 200
        assert httpx.post(url + "/auth/challenge", content=b"x" * 5000).status_code == 413  # limits from the config
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    [line] = fills.read_text().splitlines()
    fill = json.loads(line)
    assert fill["seq"] == 1 and fill["maker"]["order"]["trader"] == ADDRS[0] and fill["size"] == str(10**18)
    assert any((tmp_path / "journal").iterdir())  # the matcher journaled the orders
