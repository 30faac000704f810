"""The packed batch encoding (PackedFills) and declared hedge legs checked against the engine's hedge mode."""

from __future__ import annotations

from functools import partial

from helpers import reverts
from settle_helpers import ONE, engine_error, key_of, order, settle

from offchain.orders.order import LEG_LONG, LEG_SHORT, SignedOrder
from offchain.orders.signing import malleate, sign_order
from offchain.settlement.fills import ORDER_BYTES, batch_tree, encode_batch, pack_order, pack_signature


def _pair(signer, funded, nonce: int = 1, **taker_kw):
    alice, bob, _ = funded
    return signer.fill(order(bob, buy=False, nonce=nonce), bob, order(alice, buy=True, nonce=nonce, **taker_kw), alice)


def test_pack_order_layout(funded):
    o = order(funded[0], buy=True, nonce=0x0102, leg=LEG_SHORT, flags=17, leverage=25, maxFeeRate=7, expiry=2**40)
    packed = pack_order(o)
    assert len(packed) == ORDER_BYTES == 86
    assert packed[:20] == bytes.fromhex(o.trader[2:])
    assert packed[20:24] == (1).to_bytes(4, "big") and packed[24] == 1 and packed[25] == LEG_SHORT
    assert packed[26:28] == (17).to_bytes(2, "big") and packed[28:30] == (25).to_bytes(2, "big")
    assert packed[30:46] == ONE.to_bytes(16, "big") and packed[46:62] == o.limitPrice.to_bytes(16, "big")
    assert packed[62:70] == (7).to_bytes(8, "big") and packed[70:78] == (0x0102).to_bytes(8, "big")
    assert packed[78:86] == (2**40).to_bytes(8, "big")


def test_signature_forms(signer, funded, domain):
    """The trader's own signature travels as 64-byte EIP-2098 ``r || vs``; anything else as given."""
    alice, _, carol = funded
    own = signer.sign(order(alice, buy=True), account=alice)
    packed = pack_signature(own)
    vs = int.from_bytes(packed[2 + 32 :], "big")
    assert packed[:2] == (64).to_bytes(2, "big") and packed[2:34] == own.signature[:32]
    assert vs >> 255 == own.signature[64] - 27 and vs & ((1 << 255) - 1) == int.from_bytes(own.signature[32:64], "big")
    by_delegate = sign_order(order(alice, buy=True), domain, key_of(carol))
    assert pack_signature(by_delegate) == (65).to_bytes(2, "big") + by_delegate.signature
    high_s = SignedOrder(own.order, malleate(own.signature), own.domain)
    assert pack_signature(high_s) == (65).to_bytes(2, "big") + high_s.signature
    fill = signer.fill(order(carol, buy=False), carol, order(alice, buy=True), alice)
    assert len(fill.packed()) == 2 * (86 + 2 + 64) + 32  # 336 bytes (ABI structs: about 1,120)


def test_full_65_byte_signatures_settle(settlement, operator, funded, signer, perp):
    """The contract accepts the 65-byte ``r || s || v`` form as well as the compact one."""
    f = _pair(signer, funded)
    fill_bytes = b"".join(
        pack_order(so.order) + (65).to_bytes(2, "big") + so.signature for so in (f.maker, f.taker)
    ) + f.size_x18.to_bytes(16, "big") + f.price_x18.to_bytes(16, "big")  # fmt: skip
    settlement.settleBatch(1, batch_tree(1, [f]).root, b"\x00\x01" + fill_bytes, sender=operator)
    assert perp.engine.positionOf(funded[0], 1, 0).size == ONE


def test_malformed_batches_rejected(settlement, operator, funded, signer):
    f, g = _pair(signer, funded, 1), _pair(signer, funded, 2)
    good = encode_batch([f, g])
    root = batch_tree(1, [f, g]).root
    with reverts(settlement.SettlementMalformedFill, fillIndex=1):
        settlement.settleBatch(1, root, good[:-1], sender=operator)  # truncated in fill 1
    with reverts(settlement.SettlementMalformedFill, fillIndex=2):
        settlement.settleBatch(1, root, good + b"\x00", sender=operator)  # trailing byte
    with reverts(settlement.SettlementMalformedFill, fillIndex=2):
        settlement.settleBatch(1, root, b"\x00\x03" + good[2:], sender=operator)  # count says 3
    bad_bool = bytearray(good)
    bad_bool[2 + 24] = 2  # fill 0 maker isBuy
    with reverts(settlement.SettlementMalformedFill, fillIndex=0):
        settlement.settleBatch(1, root, bytes(bad_bool), sender=operator)
    with reverts(settlement.SettlementEmptyBatch):
        settlement.settleBatch(1, root, b"\x00", sender=operator)
    settlement.settleBatch(1, root, good, sender=operator)
    assert settlement.batches(1).size == 2


def test_declared_leg_must_match_hedge_mode(settlement, operator, funded, signer, perp):
    """Hedge-mode orders name their leg; the engine refuses a leg that contradicts the trader's mode."""
    alice, bob, _ = funded
    engine = perp.engine
    engine.setHedgeMode(1, True, sender=alice)
    ok = _pair(signer, funded, 1, leg=LEG_LONG)
    one_way = signer.fill(order(bob, buy=False, nonce=2), bob, order(alice, buy=True, nonce=2), alice)
    mismatch = partial(engine_error, settlement, engine, operator, name="PerpEngineHedgeLegMismatch")
    mismatch([ok, one_way], fillIndex=1, account=alice.address, declaredLeg=0, hedgeMode=True)
    bob_leg = signer.fill(order(bob, buy=False, nonce=3, leg=LEG_SHORT), bob,
                          order(alice, buy=True, nonce=3, leg=LEG_LONG), alice)  # fmt: skip
    mismatch([bob_leg], fillIndex=0, account=bob.address, declaredLeg=2, hedgeMode=False)
    short = signer.fill(order(bob, buy=True, nonce=4), bob, order(alice, buy=False, nonce=4, leg=LEG_SHORT), alice)
    settle(settlement, operator, [ok, short])
    assert engine.positionOf(alice, 1, LEG_LONG).size == ONE
    assert engine.positionOf(alice, 1, LEG_SHORT).size == -ONE
    assert engine.positionOf(alice, 1, 0).size == 0
    assert engine.positionOf(bob, 1, 0).size == 0  # sold 1, bought 1 back
