"""Validator, relayer and journal against ape's chain (web3.py on the same anvil): signing after
confirmations, exactly-once delivery, re-broadcast of a journaled tx after a crash, back-off."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from bridge.helpers import DELAY_BLOCKS, DELAY_SECONDS, DELAY_THRESHOLD, REMOTE_BRIDGE, REMOTE_CHAIN, USDC_UNIT
from offchain.bridge.artifacts import load_artifact
from offchain.bridge.messages import sign_transfer, transfer_typed_data
from offchain.bridge.relayer import Destination, Relayer, decode_revert
from offchain.bridge.store import BridgeStore, TransferState
from offchain.bridge.validator import BridgeValidator, SourceChain

BUILD = Path(__file__).resolve().parents[2] / ".build/__local__.json"


@pytest.fixture
def w3bridge(chain, bridge):
    w3 = chain.provider.web3
    return w3.eth.contract(address=bridge.address, abi=load_artifact("Bridge", BUILD).abi)


@pytest.fixture
def store(tmp_path):
    s = BridgeStore(tmp_path / "journal.sqlite")
    yield s
    s.close()


@pytest.fixture
def relayer_account(stranger):
    return Account.from_key(stranger.private_key)


def _sign_all(store, t, bridge, keys):
    for v in keys:
        store.add_signature(t, v.address, sign_transfer(v.key, t, bridge.address))


def test_validator_signs_after_confirmations_once(chain, bridge, btoken, funded, w3bridge, store, validator_keys):
    alice, bob, _ = funded
    start = chain.blocks.head.number + 1
    tx = bridge.lock(btoken, 5 * USDC_UNIT, REMOTE_CHAIN, bob, sender=alice)
    v = BridgeValidator(
        validator_keys[0].key,
        SourceChain(chain.chain_id, w3bridge, {REMOTE_CHAIN: REMOTE_BRIDGE}, start),
        store,
        confirmations=2,
    )
    assert v.poll_once() == 0  # 0 confirmations
    chain.mine(2)
    assert v.poll_once() == 1
    assert v.poll_once() == 0  # cursor persisted: never re-signed
    [row] = store.open_transfers([REMOTE_CHAIN])
    t = row.transfer
    assert (t.src_chain_id, t.dst_chain_id, t.src_bridge, t.nonce) == (chain.chain_id, REMOTE_CHAIN, bridge.address, 1)
    assert (t.recipient, t.amount, t.sender) == (bob.address, 5 * USDC_UNIT, alice.address)
    assert tx.events.filter(bridge.Locked)[0].remoteToken == t.token
    sig = store.signatures("0x" + t.transfer_id.hex())[validator_keys[0].address]
    signable = encode_typed_data(full_message=transfer_typed_data(t, REMOTE_BRIDGE))
    assert Account.recover_message(signable, signature=sig) == validator_keys[0].address
    with pytest.raises(ValueError, match="confirmations"):
        BridgeValidator(validator_keys[0].key, v.source, store, confirmations=-1)


def test_relayer_delivers_exactly_once(
    chain, bridge, btoken, escrow, inbound, w3bridge, store, relayer_account, validator_keys, bob
):
    escrow(10_000 * USDC_UNIT)
    relayer = Relayer(relayer_account, {chain.chain_id: Destination(chain.chain_id, w3bridge)}, store)
    t = inbound()
    _sign_all(store, t, bridge, validator_keys[:2])
    assert relayer.poll_once() == 0  # 2 of 3 signatures: wait
    _sign_all(store, t, bridge, validator_keys[2:4])
    before = btoken.balanceOf(bob)
    nonce_before = chain.provider.web3.eth.get_transaction_count(relayer_account.address)
    assert relayer.poll_once() == 1
    assert btoken.balanceOf(bob) == before + t.amount
    assert store.counts() == {TransferState.DONE.value: 1}
    assert relayer.poll_once() == 0
    assert chain.provider.web3.eth.get_transaction_count(relayer_account.address) == nonce_before + 1


def test_restart_rebroadcasts_the_journaled_tx(
    chain, bridge, btoken, escrow, inbound, w3bridge, store, relayer_account, validator_keys, bob, monkeypatch
):
    escrow(10_000 * USDC_UNIT)
    w3 = chain.provider.web3
    t = inbound()
    _sign_all(store, t, bridge, validator_keys[:3])
    crashing = Relayer(relayer_account, {chain.chain_id: Destination(chain.chain_id, w3bridge)}, store)

    def crash(raw):
        raise ConnectionError("killed before broadcast")

    monkeypatch.setattr(w3.eth, "send_raw_transaction", crash)
    assert crashing.poll_once() == 0  # the RPC failure is caught and backed off
    monkeypatch.undo()
    assert w3.eth.get_transaction_count(relayer_account.address, "pending") == w3.eth.get_transaction_count(
        relayer_account.address
    )  # nothing in flight
    [row] = store.open_transfers([chain.chain_id])
    assert row.state is TransferState.SUBMITTED and row.raw_tx
    nonce_before = w3.eth.get_transaction_count(relayer_account.address)
    restarted = Relayer(
        relayer_account, {chain.chain_id: Destination(chain.chain_id, w3bridge)}, BridgeStore(store.path)
    )
    restarted.poll_once()  # re-broadcasts the journaled bytes
    chain.mine()  # in case the node keeps it in its pool for a block
    receipt = w3.eth.get_transaction_receipt(row.tx_hash)
    assert receipt["status"] == 1
    restarted.poll_once()  # sees it executed
    assert store.counts() == {TransferState.DONE.value: 1}
    assert w3.eth.get_transaction_count(relayer_account.address) == nonce_before + 1
    assert btoken.balanceOf(bob) >= t.amount


def test_would_revert_backs_off_with_reason(
    chain, bridge, escrow, inbound, w3bridge, store, relayer_account, validator_keys, stranger
):
    escrow(10_000 * USDC_UNIT)
    relayer = Relayer(
        relayer_account, {chain.chain_id: Destination(chain.chain_id, w3bridge)}, store, backoff_base=2, backoff_cap=5
    )
    t = inbound(recipient=stranger.address)  # not allowlisted
    _sign_all(store, t, bridge, validator_keys[:3])
    assert relayer.poll_once() == 0
    [row] = store.open_transfers([chain.chain_id])
    assert row.attempts == 1 and row.next_try > time.time() + 1
    assert relayer.poll_once() == 0  # still backing off: no estimate, no tx
    assert store.backoff(t, "x", base=2, cap=5) == 4
    assert store.backoff(t, "x", base=2, cap=5) == 5
    last_error = store._db.execute("SELECT last_error FROM transfers").fetchone()[0]
    assert last_error == "x"


def test_decode_revert_names_custom_errors(w3bridge):
    from eth_utils import keccak

    data = "0x" + keccak(text="BridgeZeroAmount()")[:4].hex()
    assert decode_revert(w3bridge.abi, data) == "BridgeZeroAmount"
    assert decode_revert(w3bridge.abi, "0xdeadbeef") == "0xdeadbeef"
    assert decode_revert(w3bridge.abi, None) == "revert without data"


def test_relayer_finalizes_after_timelock(
    chain, bridge, btoken, escrow, inbound, w3bridge, store, relayer_account, validator_keys, bob
):
    escrow(50_000 * USDC_UNIT)
    relayer = Relayer(relayer_account, {chain.chain_id: Destination(chain.chain_id, w3bridge)}, store)
    t = inbound(amount=DELAY_THRESHOLD + 1)
    _sign_all(store, t, bridge, validator_keys[:3])
    assert relayer.poll_once() == 1
    assert [r.state for r in store.open_transfers([chain.chain_id])] == [TransferState.QUEUED]
    assert relayer.poll_once() == 0
    chain.mine(DELAY_BLOCKS)
    chain.pending_timestamp += DELAY_SECONDS
    chain.mine()
    before = btoken.balanceOf(bob)
    assert relayer.poll_once() == 1
    assert btoken.balanceOf(bob) == before + t.amount
    assert store.counts() == {TransferState.DONE.value: 1}
