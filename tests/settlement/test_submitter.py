"""Batch submitter: batching, on-chain root check, drop-and-rebatch policy, and crash/restart at every
durable step (each fill settles exactly once, checked against the chain)."""

from __future__ import annotations

import pytest
from settle_helpers import ONE, order

from offchain.settlement.chain import ApeChainClient, SettlementRevert
from offchain.settlement.fills import batch_tree
from offchain.settlement.store import SubmitterStore
from offchain.settlement.submitter import BatchSubmitter, SubmitterError

CHUNK = ONE // 100


class SimulatedCrash(Exception):
    pass


class Clock:
    def __init__(self) -> None:
        self.t = 1_000.0

    def __call__(self) -> float:
        return self.t


def make_flow(signer, funded, n: int, maker_size: int = 10 * ONE):
    """n fills: bob's one big sell order partially filled by fresh buy orders of alice and carol."""
    alice, bob, carol = funded
    maker = order(bob, buy=False, size=maker_size, nonce=1)
    fills = []
    for k in range(n):
        taker = alice if k % 2 == 0 else carol
        fills.append((k + 1, signer.fill(maker, bob, order(taker, buy=True, size=CHUNK, nonce=100 + k), taker,
                                         size=CHUNK)))  # fmt: skip
    return maker, fills


def submitter(tmp_path, settlement, perp, operator, chain, **kw):
    client = ApeChainClient(settlement, perp.engine, operator, chain.provider)
    kw.setdefault("wait_timeout_s", 0.05)
    return BatchSubmitter(SubmitterStore(tmp_path / "sub.db"), client, **kw)


def chain_fill_count(settlement) -> int:
    return sum(settlement.batches(b).size for b in range(1, settlement.lastBatchId() + 1))


def test_batches_by_size_and_roots_match(tmp_path, settlement, perp, operator, chain, signer, funded):
    maker, flow = make_flow(signer, funded, 23)
    sub = submitter(tmp_path, settlement, perp, operator, chain, max_batch=10)
    assert sub.run(flow, chunk=5) == 23
    assert settlement.lastBatchId() == 3
    assert [settlement.batches(b).size for b in (1, 2, 3)] == [10, 10, 3]
    fills = [f for _, f in flow]
    for b, part in ((1, fills[:10]), (2, fills[10:20]), (3, fills[20:])):
        assert settlement.batches(b).root == batch_tree(b, part).root
    assert settlement.orderState(_t(maker))[1] == 23 * CHUNK
    assert sub.store.counts() == {"settled": 23}
    assert sub.store.acked_seq() == 23


def _t(o):
    from offchain.settlement.fills import order_tuple

    return order_tuple(o)


def test_cut_by_age(tmp_path, settlement, perp, operator, chain, signer, funded):
    _, flow = make_flow(signer, funded, 3)
    clock = Clock()
    sub = submitter(tmp_path, settlement, perp, operator, chain, max_batch=10, max_wait_s=2.0, clock=clock)
    sub.ingest(flow)
    assert sub.step() == 0  # young and small: wait
    clock.t += 2.0
    assert sub.step() == 3
    assert settlement.lastBatchId() == 1


def test_bad_fill_dropped_and_rest_rebatched(tmp_path, settlement, perp, operator, chain, signer, funded):
    _alice, bob, carol = funded
    _, flow = make_flow(signer, funded, 6)
    bad = signer.fill(order(bob, buy=False, nonce=7), bob, order(carol, buy=True, nonce=8, expiry=1), carol)
    flow.insert(3, (100, bad))
    sub = submitter(tmp_path, settlement, perp, operator, chain, max_batch=10)
    assert sub.run(flow) == 6
    assert settlement.lastBatchId() == 1 and settlement.batches(1).size == 6
    ((seq, reason),) = sub.store.dropped()
    assert seq == 100 and "reason=TakerExpired" in reason and "fill 6" in reason  # stored by seq: last


def test_margin_failure_blames_last_fill_of_account(tmp_path, settlement, perp, operator, chain, signer, funded, usdc):
    alice, bob, _carol = funded
    _, flow = make_flow(signer, funded, 4)
    # beyond 20x of whatever alice and bob hold (at 2,000 a unit: 30x their equity in units), whatever
    # earlier modules on this worker left in the Vault
    equity = max(perp.engine.equity(alice, usdc), perp.engine.equity(bob, usdc), 100_000 * ONE)
    size = (equity * 30 // 2_000 // ONE + 1) * ONE
    huge = signer.fill(order(bob, buy=False, nonce=50, size=size), bob,
                       order(alice, buy=True, nonce=51, size=size), alice)  # fmt: skip
    flow.append((99, huge))
    sub = submitter(tmp_path, settlement, perp, operator, chain, max_batch=10)
    assert sub.run(flow) == 4
    ((seq, reason),) = sub.store.dropped()
    assert seq == 99 and "PerpEngineInsufficientMargin" in reason


def test_blame_helper():
    err = SettlementRevert("PerpEngineSomething", {})
    assert err.blamed_fill([]) is None
    assert SettlementRevert("X", {"fillIndex": 5}).blamed_fill([object()] * 3) is None


def test_unblamable_revert_stops(tmp_path, settlement, perp, operator, chain, signer, funded, acl, admin):
    from offchain import roles

    _, flow = make_flow(signer, funded, 2)
    acl.revokeRole(roles.OPERATOR, operator, sender=admin)
    sub = submitter(tmp_path, settlement, perp, operator, chain)
    with pytest.raises(SubmitterError, match="names no fill"):
        sub.run(flow)
    assert sub.store.counts() == {"batched": 2}  # kept for the operator to retry after fixing the role


@pytest.mark.parametrize(
    ("point", "occurrence"),
    [("after_cut", 2), ("after_sign", 2), ("after_send", 2), ("after_confirm", 1), ("after_settled", 1)],
)
def test_crash_and_restart_settles_each_fill_once(tmp_path, settlement, perp, operator, chain, signer, funded, point,
                                                   occurrence):  # fmt: skip
    maker, flow = make_flow(signer, funded, 12)
    seen = {"n": 0}

    def crash(p: str) -> None:
        if p == point:
            seen["n"] += 1
            if seen["n"] == occurrence:
                raise SimulatedCrash(p)

    first = submitter(tmp_path, settlement, perp, operator, chain, max_batch=5, crash_hook=crash)
    with pytest.raises(SimulatedCrash):
        first.run(flow, chunk=5)
    acked = first.store.acked_seq()
    first.store.close()
    # restart: a fresh process on the same database; the source re-delivers everything after `acked`
    # and, to be adversarial, everything before it as well (duplicates must be ignored)
    second = submitter(tmp_path, settlement, perp, operator, chain, max_batch=5)
    second.run(flow)
    assert acked >= 5
    assert second.store.counts() == {"settled": 12}
    assert chain_fill_count(settlement) == 12
    assert settlement.orderState(_t(maker))[1] == 12 * CHUNK  # a double settlement would show here
    for _, f in flow:
        assert settlement.orderState(_t(f.taker.order))[1] == CHUNK


def test_root_mismatch_is_fatal(tmp_path, settlement, perp, operator, chain, signer, funded):
    _, flow = make_flow(signer, funded, 2)
    sub = submitter(tmp_path, settlement, perp, operator, chain, max_batch=1)
    sub.ingest(flow[:1])
    batch = sub.cut(force=True)
    # someone else settles batch 1 with other fills
    from settle_helpers import settle

    settle(settlement, operator, [flow[1][1]])
    with pytest.raises(SubmitterError, match="on chain has root"):
        sub._settle(batch)
