"""Start and stop local anvil nodes (two-chain tests and demos). Processes are always killed on exit."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from web3 import Web3

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def anvil_binary() -> str:
    """Path of anvil: node_modules/.bin/anvil, else PATH."""
    local = Path("node_modules/.bin/anvil")
    if local.exists():
        return str(local.resolve())
    found = shutil.which("anvil")
    if not found:
        raise FileNotFoundError("anvil not found in node_modules/.bin or PATH: run `make setup`")
    return found


@contextmanager
def anvil(chain_id: int, *, log_path: Path | None = None, startup_timeout: float = 30.0) -> Iterator[Web3]:
    """Run an anvil node with ``chain_id`` on a free port; yields a connected Web3 and kills the node after."""
    port = free_port()
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        [
            anvil_binary(),
            "--port",
            str(port),
            "--chain-id",
            str(chain_id),
            "--mnemonic",
            ANVIL_MNEMONIC,
            "--accounts",
            "10",
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 30}))
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"anvil (chain {chain_id}, port {port}) exited with {proc.returncode}")
            try:
                if w3.eth.chain_id == chain_id:
                    break
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"anvil on port {port} did not answer within {startup_timeout}s")
            time.sleep(0.1)
        yield w3
    finally:
        proc.kill()
        proc.wait(timeout=10)
        if log_path:
            out.close()
