"""`ape run deploy` as a real process against its own anvil: killed midway, rerun, complete and identical.

The anvil node runs on a free port for the whole test, so the second run sees the first run's contracts;
``PERPX_DEPLOY_CRASH_AFTER`` SIGKILLs the deploying process right after a step is recorded. (Refusing a
different live deployment and --force are covered in-process by test_record.py: each `ape run` costs seconds.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from offchain.bridge.anvil import anvil
from offchain.deployment.runner import CRASH_ENV
from offchain.deployment.steps import STEPS

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deployments" / "config" / "ethereum-local.yaml"


def _deploy(url: str, record: Path, config: Path = CONFIG, crash_after: str = ""):
    env = {**os.environ, "APE_FOUNDRY_HOST": url}
    env.pop(CRASH_ENV, None)
    if crash_after:
        env[CRASH_ENV] = crash_after
    ape = Path(sys.executable).with_name("ape")
    cmd = [str(ape), "run", "deploy", "--network", "ethereum:local:foundry", "--account", "TEST::0"]
    cmd += ["--config", str(config), "--record", str(record)]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


def _step_addresses(data: dict, names: list[str]) -> dict[str, dict[str, str]]:
    steps = {s["name"]: s for s in data["steps"]}
    return {n: {k: c["address"] for k, c in steps[n]["contracts"].items()} for n in names}


def test_killed_deployment_resumes_to_the_same_complete_deployment(tmp_path):
    record = tmp_path / "ethereum-local.json"
    with anvil(31337) as w3:
        url = w3.provider.endpoint_uri

        first = _deploy(url, record, crash_after="settlement")
        assert first.returncode == -signal.SIGKILL, first.stdout[-2000:] + first.stderr[-2000:]
        partial = json.loads(record.read_text())
        done = [s["name"] for s in partial["steps"] if s["status"] == "done"]
        assert done == ["core", "collateral", "oracle", "perp", "markets", "settlement"]
        assert partial["complete"] is False
        before = _step_addresses(partial, done)
        assert all(w3.eth.get_code(a) for step in before.values() for a in step.values())

        second = _deploy(url, record)
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        assert "resuming" in second.stdout and "step core         already done" in second.stdout
        full = json.loads(record.read_text())
        assert full["complete"] is True
        assert [s["name"] for s in full["steps"]] == [name for name, _ in STEPS]
        assert all(s["status"] == "done" for s in full["steps"])
        assert _step_addresses(full, done) == before  # nothing redeployed
        for step in full["steps"]:
            first, last = step["blocks"]
            assert first <= last + 1, step["name"]  # a step that sent nothing (bridge off) has an empty range
            for c in step["contracts"].values():
                assert first <= w3.eth.get_transaction_receipt(c["tx_hash"])["blockNumber"] <= last
                assert w3.eth.get_code(c["address"]), c
                receipt = w3.eth.get_transaction_receipt(c["tx_hash"])
                assert receipt["contractAddress"] == c["address"]
        assert full["steps"][0]["contracts"]["ProtocolAccess"]["args"] == [full["deployer"]]
