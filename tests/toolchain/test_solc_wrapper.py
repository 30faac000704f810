"""The solcjs wrapper behaves like native solc for the modes py-solc-x, ape and slither use,
and tools/provision_solc.py registers it where py-solc-x looks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WRAPPER = REPO / "tools" / "solc" / "solc"
sys.path.insert(0, str(REPO / "tools"))

import provision_solc  # noqa: E402

SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
contract Probe { function root(uint256 x) external pure returns (uint256) { return Math.sqrt(x); } }
"""


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(WRAPPER), *args], input=stdin, capture_output=True, text=True, cwd=REPO, timeout=120)


def standard_input(sources: dict, **settings) -> str:
    settings.setdefault("outputSelection", {"*": {"*": ["abi", "evm.bytecode.object"]}})
    settings.setdefault("remappings", ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"])
    return json.dumps({"language": "Solidity", "sources": sources, "settings": settings})


def test_version_output_matches_native_format():
    out = run("--version")
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert lines[0] == "solc, the solidity compiler commandline interface"
    assert re.fullmatch(r"Version: 0\.8\.30\+commit\.73712a01\.\S+", lines[1])


def test_standard_json_is_clean_json_and_accepts_native_flags():
    out = run(
        "--standard-json",
        "--allow-paths",
        ".,node_modules",
        "--base-path",
        ".",
        stdin=standard_input(
            {"Probe.sol": {"content": SOURCE}}, evmVersion="cancun", optimizer={"enabled": True, "runs": 200}
        ),
    )
    assert out.returncode == 0, out.stderr
    assert not out.stdout.startswith(">>>")
    result = json.loads(out.stdout)  # the whole stdout is one JSON document
    assert not [e for e in result.get("errors", []) if e["severity"] == "error"]
    assert result["contracts"]["Probe.sol"]["Probe"]["evm"]["bytecode"]["object"]


def test_sources_given_by_url_and_command_line_remappings(tmp_path):
    (tmp_path / "Probe.sol").write_text(SOURCE)
    remap = f"@openzeppelin/contracts/={REPO}/node_modules/@openzeppelin/contracts/"
    payload = standard_input({"Probe.sol": {"urls": ["Probe.sol"]}}, remappings=[])
    out = run("--standard-json", "--base-path", str(tmp_path), remap, stdin=payload)
    result = json.loads(out.stdout)
    assert "Probe" in result["contracts"]["Probe.sol"], result.get("errors")


def test_missing_import_is_a_compiler_error_not_a_crash():
    source = 'pragma solidity 0.8.30; import "./nowhere/Missing.sol"; contract A {}'
    out = run("--standard-json", stdin=standard_input({"A.sol": {"content": source}}))
    assert out.returncode == 0
    errors = json.loads(out.stdout)["errors"]
    assert any("Missing.sol" in e["message"] for e in errors)


def test_malformed_input_gives_json_error():
    out = run("--standard-json", stdin="{not json")
    assert json.loads(out.stdout)["errors"][0]["type"] == "JSONError"


def test_unsupported_modes_fail_clearly():
    out = run("--bin", "x.sol")
    assert out.returncode == 1
    assert "unsupported option --bin" in out.stderr
    assert run().returncode == 1
    assert "--standard-json" in run("--help").stdout


def test_pinned_version_comes_from_ape_config():
    assert provision_solc.pinned_version() == "0.8.30"


def test_provision_registers_wrapper_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("SOLCX_BINARY_PATH", str(tmp_path))
    monkeypatch.setenv("PERPX_SOLC", "wasm")  # behave as if the native download failed
    target = provision_solc.provision("0.8.30")
    assert target == tmp_path / "solc-v0.8.30"
    assert provision_solc.is_wrapper(target)
    assert provision_solc.reported_version(target) == "0.8.30"
    # Idempotent: a second run rewrites the same launcher.
    assert provision_solc.provision("0.8.30") == target


def test_provision_keeps_a_working_native_binary(tmp_path, monkeypatch):
    monkeypatch.setenv("SOLCX_BINARY_PATH", str(tmp_path))
    fake = tmp_path / "solc-v0.8.30"
    fake.write_text(
        "#!/bin/sh\n"
        "echo 'solc, the solidity compiler commandline interface'\n"
        "echo 'Version: 0.8.30+commit.73712a01.Linux.g++'\n"
    )
    fake.chmod(0o755)
    assert provision_solc.provision("0.8.30") == fake
    assert not provision_solc.is_wrapper(fake)


def test_provision_refuses_a_version_npm_does_not_provide(tmp_path, monkeypatch):
    monkeypatch.setenv("SOLCX_BINARY_PATH", str(tmp_path))
    monkeypatch.setenv("PERPX_SOLC", "wasm")
    with pytest.raises(
        provision_solc.ProvisionError, match=re.escape("npm solc reports '0.8.30', ape-config pins '0.8.29'")
    ):
        provision_solc.provision("0.8.29")
