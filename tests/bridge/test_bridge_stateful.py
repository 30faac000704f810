"""Hypothesis state machine over lock / release / finalize / cancel / replay / rotate / pause / warp.

A pure-Python model predicts every outcome (success or revert) and the invariants compare it with the
chain: B1 (released <= locked per route, equal to the ghost ledger), B2 (each id executes at most
once), B4 (0 < M <= N; a release succeeds iff >= M distinct, ascending, current signers) and B9
(per-window releases <= capacity).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import ape
import pytest
from helpers import machine_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from bridge.helpers import DELAY_BLOCKS, DELAY_SECONDS, REMOTE_BRIDGE, REMOTE_CHAIN, make_validators, sign_with
from offchain.bridge.messages import Transfer, ordered_signatures, sign_rotation, sorted_addresses

UNIT = 10**6
THRESHOLD_AMOUNT = 50 * UNIT
CAPACITY = 200 * UNIT
WINDOW = 600


@dataclass
class Model:
    now: int
    validators: list[str]
    threshold: int
    epoch: int = 0
    paused: bool = False
    locked: int = 0
    released: int = 0
    executed: set[bytes] = field(default_factory=set)
    pending: dict[bytes, tuple[Transfer, int, int, int]] = field(default_factory=dict)  # id -> (t, epoch, at, blk)
    window_used: dict[int, int] = field(default_factory=dict)
    executed_transfers: list[Transfer] = field(default_factory=list)
    cancelled: list[Transfer] = field(default_factory=list)


def test_bridge_state_machine(chain, admin, guardian, bridge, btoken, funded, validator_keys):
    alice, bob, _ = funded
    keys = make_validators(7)
    assert [k.address for k in keys] == [k.address for k in validator_keys]

    class BridgeMachine(RuleBasedStateMachine):
        @initialize()
        def setup(self) -> None:
            self.snapshot = chain.snapshot()
            bridge.configureToken(btoken, True, False, THRESHOLD_AMOUNT, CAPACITY, sender=admin)
            bridge.setRateWindow(WINDOW, sender=admin)
            self.nonce = 0
            bridge.lock(btoken, CAPACITY, REMOTE_CHAIN, bob, sender=alice)  # escrow so releases are backed
            self.model = Model(
                now=chain.blocks.head.timestamp,
                validators=sorted_addresses([k.address for k in keys[:5]]),
                threshold=3,
                locked=CAPACITY,
            )

        def teardown(self) -> None:
            if hasattr(self, "snapshot"):
                chain.restore(self.snapshot)

        # -- helpers
        def _tick(self) -> int:
            self.model.now = max(self.model.now, chain.blocks.head.timestamp) + 1
            chain.pending_timestamp = self.model.now
            return self.model.now

        def _rate_ok(self, amount: int, ts: int) -> bool:
            return self.model.window_used.get(ts // WINDOW, 0) + amount <= CAPACITY

        def _deliver_ok(self, amount: int, ts: int) -> bool:
            return self._rate_ok(amount, ts) and self.model.released + amount <= self.model.locked

        def _record_delivery(self, t: Transfer, ts: int) -> None:
            assert t.transfer_id not in self.model.executed, "B2: executed twice"
            self.model.executed.add(t.transfer_id)
            self.model.executed_transfers.append(t)
            self.model.window_used[ts // WINDOW] = self.model.window_used.get(ts // WINDOW, 0) + t.amount
            self.model.released += t.amount

        def _call(self, fn, *args, **kwargs):
            try:
                return fn(*args, **kwargs), None
            except ape.exceptions.ContractLogicError as err:
                return None, err

        # -- rules
        @rule(amount=st.integers(1, 600 * UNIT))
        def lock(self, amount: int) -> None:
            self._tick()
            _, err = self._call(bridge.lock, btoken, amount, REMOTE_CHAIN, bob, sender=alice)
            assert (err is None) == (not self.model.paused), err
            if err is None:
                self.model.locked += amount

        @rule(
            amount=st.one_of(
                st.integers(1, THRESHOLD_AMOUNT),
                st.integers(THRESHOLD_AMOUNT // 2, THRESHOLD_AMOUNT),
                st.integers(THRESHOLD_AMOUNT + 1, CAPACITY + UNIT),
            ),
            honest=st.sampled_from([True, True, True, False]),
            picks=st.lists(st.integers(0, 6), max_size=6),
            sort=st.booleans(),
        )
        def release(self, amount: int, honest: bool, picks: list[int], sort: bool) -> None:
            """Mostly a quorum of current members (so limits are reached), sometimes arbitrary signers."""
            self.nonce += 1
            t = Transfer(
                REMOTE_CHAIN,
                chain.chain_id,
                REMOTE_BRIDGE,
                self.nonce,
                btoken.address,
                alice.address,
                bob.address,
                amount,
            )
            if honest:
                members = [k for k in keys if k.address in self.model.validators]
                extra = {keys[i].address for i in picks}
                signers = members[: self.model.threshold] + [
                    k for k in members[self.model.threshold :] if k.address in extra
                ]
                signers.sort(key=lambda k: int(k.address, 16))
            else:
                signers = [keys[i] for i in picks]
                if sort:
                    signers = sorted({k.address: k for k in signers}.values(), key=lambda k: int(k.address, 16))
            sigs = [bytes(s) for s in (sign_with(t, bridge, [k])[0] for k in signers)]
            addrs = [int(k.address, 16) for k in signers]
            quorum = (
                len(addrs) >= self.model.threshold
                and all(a < b for a, b in pairwise(addrs))
                and all(k.address in self.model.validators for k in signers)
            )
            ts = self._tick()
            block = chain.blocks.head.number + 1
            immediate = amount <= THRESHOLD_AMOUNT
            ok = not self.model.paused and quorum and amount <= CAPACITY
            if immediate:
                ok = ok and self._deliver_ok(amount, ts)
            tx, err = self._call(bridge.requestRelease, t.as_tuple(), sigs, sender=alice)
            assert (err is None) == ok, (err, quorum, immediate, self.model)
            if err is not None:
                return
            assert tx.timestamp == ts
            if immediate:
                self._record_delivery(t, ts)
            else:
                self.model.pending[t.transfer_id] = (t, self.model.epoch, ts + DELAY_SECONDS, block + DELAY_BLOCKS)

        @rule(amounts=st.lists(st.integers(THRESHOLD_AMOUNT // 2, THRESHOLD_AMOUNT), min_size=1, max_size=6))
        def release_burst(self, amounts: list[int]) -> None:
            """Honest releases near the delay threshold in a row: drives the window capacity and escrow."""
            for amount in amounts:
                self.release(amount, True, [], False)

        @precondition(lambda self: self.model.pending)
        @rule(data=st.data())
        def finalize(self, data) -> None:
            tid = data.draw(st.sampled_from(sorted(self.model.pending)))
            t, epoch, ready_at, ready_block = self.model.pending[tid]
            ts = self._tick()
            block = chain.blocks.head.number + 1
            ok = (
                not self.model.paused
                and epoch == self.model.epoch
                and ts >= ready_at
                and block >= ready_block
                and self._deliver_ok(t.amount, ts)
            )
            _, err = self._call(bridge.finalizeRelease, t.as_tuple(), sender=alice)
            assert (err is None) == ok, (err, self.model)
            if err is None:
                del self.model.pending[tid]
                self._record_delivery(t, ts)

        @precondition(lambda self: self.model.pending)
        @rule(data=st.data())
        def guardian_cancels(self, data) -> None:
            tid = data.draw(st.sampled_from(sorted(self.model.pending)))
            self._tick()
            bridge.cancelRelease(tid, sender=guardian)
            self.model.cancelled.append(self.model.pending.pop(tid)[0])

        @precondition(lambda self: self.model.executed_transfers or self.model.cancelled)
        @rule(data=st.data())
        def replay(self, data) -> None:
            t = data.draw(st.sampled_from(self.model.executed_transfers + self.model.cancelled))
            self._tick()
            signers = [k for k in keys if k.address in self.model.validators]
            with ape.reverts():
                bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, signers), sender=alice)

        @rule(members=st.sets(st.integers(0, 6), min_size=1, max_size=7), data=st.data())
        def rotate(self, members: set[int], data) -> None:
            new_set = sorted_addresses([keys[i].address for i in members])
            threshold = data.draw(st.integers(1, len(new_set)))
            epoch = self.model.epoch + data.draw(st.integers(1, 3))
            current = [k for k in keys if k.address in self.model.validators][: self.model.threshold]
            sigs = ordered_signatures(
                {
                    k.address: sign_rotation(k.key, new_set, threshold, epoch, chain.chain_id, bridge.address)
                    for k in current
                }
            )
            self._tick()
            bridge.proposeRotation(new_set, threshold, epoch, sigs, sender=alice)
            chain.mine(DELAY_BLOCKS)
            self.model.now = chain.blocks.head.timestamp + DELAY_SECONDS - 1
            self._tick()
            bridge.finalizeRotation(sender=alice)
            self.model.validators, self.model.threshold, self.model.epoch = new_set, threshold, epoch

        @rule(really=st.sampled_from([False, False, True]))
        def pause(self, really: bool) -> None:
            if not really:
                return
            self._tick()
            _, err = self._call(bridge.pause, sender=guardian)
            assert (err is None) == (not self.model.paused), err
            self.model.paused = True

        @rule()
        def unpause(self) -> None:
            self._tick()
            _, err = self._call(bridge.unpause, sender=admin)
            assert (err is None) == self.model.paused, err
            self.model.paused = False

        @rule(
            dt=st.one_of(
                st.sampled_from([WINDOW - 1, WINDOW, WINDOW + 1, DELAY_SECONDS]), st.integers(1, 2 * DELAY_SECONDS)
            )
        )
        def warp(self, dt: int) -> None:
            self.model.now += dt
            chain.pending_timestamp = self.model.now
            chain.mine()

        # -- invariants (one function: each RPC round trip costs ~10 ms through ape)
        @invariant()
        def bridge_invariants(self) -> None:
            locked, released = bridge.routeTotals(REMOTE_CHAIN, btoken)
            # B1: released <= locked on the route, and both equal the ghost ledger.
            assert (locked, released) == (self.model.locked, self.model.released)
            assert released <= locked
            assert btoken.balanceOf(bridge) == locked - released
            # B4: 0 < M <= N, epoch as modelled.
            assert 0 < bridge.threshold() == self.model.threshold <= len(self.model.validators)
            assert bridge.epoch() == self.model.epoch
            # B9: no window above capacity; the contract's view agrees with the model.
            assert all(used <= CAPACITY for used in self.model.window_used.values())
            window = self.model.now // WINDOW
            assert bridge.availableCapacity(btoken) == CAPACITY - self.model.window_used.get(window, 0)
            # B2: every delivered id is recorded once and marked executed.
            assert len(self.model.executed) == len(self.model.executed_transfers)
            if self.model.executed_transfers:
                assert bridge.releases(self.model.executed_transfers[-1].transfer_id).status == 2

    run_state_machine_as_test(BridgeMachine, settings=machine_settings(ci=(5, 25), nightly=(40, 50)))


@pytest.mark.parametrize("seed_keys", [7])
def test_machine_keys_match_fixture(validator_keys, seed_keys):
    assert len(validator_keys) == seed_keys
