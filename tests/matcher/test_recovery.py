"""Journal and recovery: torn tails, snapshots, and a real matcher process killed mid-stream."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offchain.matcher.cli import fill_json
from offchain.matcher.engine import Fill, MarketConfig, Matcher
from offchain.matcher.flow import feed, signed_flow, trader_keys, write_flow
from offchain.matcher.journal import Journal, JournalCorruptError
from offchain.orders.order import Domain, Order
from offchain.orders.signing import address_of_key, sign_order

DOMAIN = Domain(31337, "0x" + "5e" * 20)
MARKET = MarketConfig(1, 10**16, 10**15)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def flow():
    return signed_flow(400, seed=7, domain=DOMAIN, market=MARKET)


def straight_run(flow):
    """Uninterrupted in-memory run: the expected fills and final state."""
    matcher = Matcher(DOMAIN, [MARKET])
    fills = []
    for record in flow:
        fills += [fill_json(o) for o in feed(matcher, record) if isinstance(o, Fill)]
    return fills, matcher.export_state()


def comparable(state):
    """State minus the journal position (an in-memory run has no journal to count)."""
    return {k: v for k, v in state.items() if k != "applied_seq"}


def test_flow_produces_fills_and_rejections(flow):
    fills, state = straight_run(flow)
    assert len(fills) > 30
    assert state["books"]["1"]["orders"], "the flow should leave a non-empty book"


def test_torn_tail_is_dropped_and_corruption_detected(tmp_path):
    journal = Journal(tmp_path)
    for i in range(3):
        journal.append({"i": i})
    journal.close()
    with open(journal.path, "ab") as fh:
        fh.write(b'4\t0000\t{"i":')  # a crash mid-write
    reopened = Journal(tmp_path)
    assert reopened.last_seq == 3
    assert [r for _, r in reopened.records()] == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert reopened.append({"i": 3}) == 4
    reopened.close()
    lines = journal.path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"i":1', b'"i":7')  # bit rot in the middle
    journal.path.write_bytes(b"".join(lines))
    with pytest.raises(JournalCorruptError, match="after seq 1"):
        Journal(tmp_path)


def test_recover_from_snapshots_reaches_the_same_state(tmp_path, flow):
    expected_state = straight_run(flow)[1]
    journal = Journal(tmp_path)
    matcher = Matcher(DOMAIN, [MARKET], journal=journal, snapshot_every=25)
    half = len(flow) // 2
    for record in flow[:half]:
        feed(matcher, record)
    journal.close()
    assert len(journal.snapshots()) == 3  # pruned to the newest three
    seen = []
    recovered = Matcher.recover(tmp_path, DOMAIN, [MARKET], on_output=seen.append, snapshot_every=25)
    assert comparable(recovered.export_state()) == comparable(straight_run(flow[:half])[1])
    for record in flow[half:]:
        feed(recovered, record)
    assert comparable(recovered.export_state()) == comparable(expected_state)
    # replay emitted exactly the fills after the snapshot it started from, with their original numbers
    half_fills = straight_run(flow[:half])[0]
    replayed = [fill_json(o) for o in seen if isinstance(o, Fill)]
    assert replayed == half_fills[len(half_fills) - len(replayed) :]
    assert len(replayed) < len(half_fills), "recovery should have started from a snapshot, not from scratch"


def test_acked_fill_seq_selects_an_older_snapshot(tmp_path, flow):
    expected_fills, _ = straight_run(flow)
    journal = Journal(tmp_path, keep_snapshots=100)
    matcher = Matcher(DOMAIN, [MARKET], journal=journal, snapshot_every=20)
    for record in flow:
        feed(matcher, record)
    journal.close()
    acked = 10
    seen = []
    Matcher.recover(tmp_path, DOMAIN, [MARKET], acked_fill_seq=acked, on_output=seen.append)
    replayed = [fill_json(o) for o in seen if isinstance(o, Fill) and o.seq > acked]
    assert replayed == expected_fills[acked:]


def _run_cli(tmp_path, flow_path, fills_path, acked, throttle_ms, state_path=None):
    cmd = [
        sys.executable, "-m", "offchain.matcher.cli", "run",
        "--config", str(tmp_path / "config.json"),
        "--journal-dir", str(tmp_path / "journal"),
        "--input", str(flow_path),
        "--fills-out", str(fills_path),
        "--acked-fill-seq", str(acked),
        "--snapshot-every", "30",
        "--throttle-ms", str(throttle_ms),
    ]  # fmt: skip
    if state_path:
        cmd += ["--state-out", str(state_path)]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _journaled(directory):
    return sum(p.read_bytes().count(b"\n") for p in directory.glob("journal-*.log"))


def _read_fills(path):
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def test_killed_process_restarts_to_identical_state_and_fill_sequence(tmp_path, flow):
    expected_fills, expected_state = straight_run(flow)
    (tmp_path / "config.json").write_text(
        json.dumps({"chainId": DOMAIN.chain_id, "verifyingContract": DOMAIN.verifying_contract,
                    "markets": [MARKET.__dict__]})
    )  # fmt: skip
    flow_path = tmp_path / "flow.jsonl"
    write_flow(flow_path, flow)
    first_fills = tmp_path / "fills-1.jsonl"
    proc = _run_cli(tmp_path, flow_path, first_fills, acked=0, throttle_ms=5)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if _journaled(tmp_path / "journal") >= 120:
            break
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    journaled = _journaled(tmp_path / "journal")
    assert 120 <= journaled < len(flow), "the kill must land mid-stream"

    # The submitter durably consumed whatever the dead process had flushed; it acks the last one.
    consumed = _read_fills(first_fills)
    assert consumed == expected_fills[: len(consumed)]
    acked = consumed[-1]["seq"] if consumed else 0
    second_fills = tmp_path / "fills-2.jsonl"
    state_path = tmp_path / "state.json"
    proc = _run_cli(tmp_path, flow_path, second_fills, acked=acked, throttle_ms=0, state_path=state_path)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr.decode()
    assert b"recovered journal" in stderr

    assert consumed + _read_fills(second_fills) == expected_fills  # nothing lost, nothing twice
    assert comparable(json.loads(state_path.read_text())) == comparable(expected_state)


def test_delegates_and_nonce_floors_survive_recovery(tmp_path, flow):
    keys = trader_keys(7)
    delegate_key = keys[6]
    trader = address_of_key(keys[0])
    journal = Journal(tmp_path)
    matcher = Matcher(DOMAIN, [MARKET], journal=journal, snapshot_every=7)
    for record in flow[:40]:
        feed(matcher, record)
    matcher.authorize_delegate(trader, address_of_key(delegate_key), 1_800_000_000)
    template = next(r for r in flow if r["t"] == "order" and r["o"]["order"]["trader"] == trader)["o"]["order"]
    order = Order.from_message({**template, "nonce": 10**6, "flags": 2, "limitPrice": 10 * 10**16})
    by_delegate = sign_order(order, DOMAIN, delegate_key)
    assert matcher.submit(by_delegate, 1_700_000_100)[0].status == "accepted"
    matcher.cancel_below_nonce(address_of_key(keys[1]), 5)
    journal.close()
    recovered = Matcher.recover(tmp_path, DOMAIN, [MARKET])
    assert recovered.export_state() == matcher.export_state()
    assert recovered.signer_of[recovered.oid_of[by_delegate.hash]] == address_of_key(delegate_key)
    out = recovered.revoke_delegate(trader, address_of_key(delegate_key))
    assert [u.order_hash for u in out if getattr(u, "status", "") == "cancelled"] == [by_delegate.hash]


def test_cli_help(capsys):
    from offchain.matcher import cli

    with pytest.raises(SystemExit) as exc:
        cli.build_parser().parse_args(["run", "--help"])
    assert exc.value.code == 0
    assert "--acked-fill-seq" in capsys.readouterr().out


def test_recovery_reads_only_segments_after_the_snapshot(tmp_path, flow):
    journal = Journal(tmp_path)
    matcher = Matcher(DOMAIN, [MARKET], journal=journal, snapshot_every=40)
    for record in flow[:150]:
        feed(matcher, record)
    journal.close()
    segments = journal.segments()
    assert len(segments) >= 3
    for old in segments[:-2]:  # older than the newest snapshot's segment: never read again
        old.unlink()
    recovered = Matcher.recover(tmp_path, DOMAIN, [MARKET])
    assert recovered.export_state() == matcher.export_state()
    with pytest.raises(JournalCorruptError, match="expected seq 1"):
        list(Journal(tmp_path).records(after=0))  # a full replay now has a gap, and says so


@pytest.fixture(scope="module")
def journaled_run(tmp_path_factory, flow):
    """One journaled run of 120 inputs: the journal bytes and the state after every journal seq."""
    directory = tmp_path_factory.mktemp("journaled")
    journal = Journal(directory)
    matcher = Matcher(DOMAIN, [MARKET], journal=journal)
    states = {0: matcher.export_state()}
    for record in flow[:120]:
        feed(matcher, record)
        states[matcher.applied_seq] = matcher.export_state()
    journal.close()
    (segment,) = journal.segments()
    return segment.read_bytes(), segment.name, states


@given(cut=st.floats(0, 1))
def test_crash_at_any_byte_recovers_the_last_complete_record(tmp_path_factory, journaled_run, cut):
    data, name, states = journaled_run
    offset = int(len(data) * cut)
    directory = tmp_path_factory.mktemp("cut")
    (directory / name).write_bytes(data[:offset])
    recovered = Matcher.recover(directory, DOMAIN, [MARKET])
    complete = data[:offset].count(b"\n")
    assert recovered.applied_seq == complete
    assert recovered.export_state() == states[complete]
