"""The real submitter process, SIGKILLed at a named point and restarted: every fill settles exactly once.

The process (``python -m offchain.settlement.run``) talks to this test's own anvil through its RPC URL and
kills itself with SIGKILL where ``PERPX_CRASH_AT`` says (no cleanup runs). The checks read the chain.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from settle_helpers import key_of
from test_submitter import CHUNK, chain_fill_count, make_flow

from offchain.settlement.fills import order_tuple
from offchain.settlement.store import SubmitterStore, fill_line

ROOT = Path(__file__).resolve().parents[2]
FILLS = 12
MAX_BATCH = 5  # 3 batches: 5, 5, 2


def _run(tmp_path: Path, chain, settlement, operator, crash_at: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PERPX_OPERATOR_KEY": "0x" + key_of(operator).hex()}
    env.pop("PERPX_CRASH_AT", None)
    if crash_at:
        env["PERPX_CRASH_AT"] = crash_at
    cmd = [
        sys.executable, "-m", "offchain.settlement.run", "--rpc", chain.provider.uri,
        "--settlement", str(settlement.address), "--fills", str(tmp_path / "fills.jsonl"),
        "--db", str(tmp_path / "submitter.sqlite"), "--manifest", str(ROOT / ".build" / "__local__.json"),
        "--max-batch", str(MAX_BATCH),
    ]  # fmt: skip
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_sigkill_and_restart_settles_each_fill_once(tmp_path, chain, settlement, perp, operator, signer, funded):
    """Killed between submit and confirmation of batch 1, restarted, killed between batches 2 and 3, restarted."""
    maker, flow = make_flow(signer, funded, FILLS)
    (tmp_path / "fills.jsonl").write_text("".join(fill_line(seq, f) + "\n" for seq, f in flow))

    # after_send: batch 1's transaction is submitted, its confirmation not yet seen
    # after_settled: batch 2 recorded settled (batch 1 only reconciled by then), batch 3 not cut
    for crash_at, on_chain in (("after_send:1", 5), ("after_settled:1", 10)):
        run = _run(tmp_path, chain, settlement, operator, crash_at)
        assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
        assert f"PERPX_CRASH_AT={crash_at}" in run.stderr
        assert chain_fill_count(settlement) == on_chain  # the crash fell where intended

    last = _run(tmp_path, chain, settlement, operator, None)
    assert last.returncode == 0, last.stderr[-2000:]

    # against the chain: 12 fills in consecutive batches, each order filled exactly its share
    assert [settlement.batches(b).size for b in range(1, settlement.lastBatchId() + 1)] == [5, 5, 2]
    assert settlement.orderState(order_tuple(maker))[1] == FILLS * CHUNK  # a double settlement would show here
    for _, f in flow:
        assert settlement.orderState(order_tuple(f.taker.order))[1] == CHUNK
    store = SubmitterStore(tmp_path / "submitter.sqlite")
    assert store.counts() == {"settled": FILLS} and store.dropped() == []
    store.close()
