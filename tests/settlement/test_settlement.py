"""Settlement: happy paths, events, and every SECURITY.md 1-9 case with its custom error."""

from __future__ import annotations

import ape
import pytest
from helpers import reverts
from settle_helpers import FAR, ONE, PRICE, Signer, engine_error, order, settle, with_sig

from offchain.orders.order import FLAG_POST_ONLY, FLAG_REDUCE_ONLY, FLAG_VIA_API, LEG_SHORT, Domain
from offchain.orders.signing import SECP256K1_N, malleate, sign_order
from offchain.perp.fill_log import fills_applied
from offchain.settlement.fills import SettledFill, batch_tree, order_tuple, settled_fills

E = {  # ISettlement.FillError
    "EmptyFill": 1, "ZeroTrader": 2, "InvalidOrderFields": 3, "SelfTrade": 4, "MarketMismatch": 5, "SameSide": 6,
    "MarketNotTradable": 7, "PriceNotMakerLimit": 8, "PriceOutsideTakerLimit": 9, "TakerPostOnly": 10,
    "MakerExpired": 11, "TakerExpired": 12, "MakerBadSignature": 13, "TakerBadSignature": 14, "MakerCancelled": 15,
    "TakerCancelled": 16, "MakerOverfill": 17, "TakerOverfill": 18, "TakerFeeAboveMax": 19, "MakerNotAllowed": 20,
    "TakerNotAllowed": 21,
}  # fmt: skip


@pytest.fixture
def pair(funded, signer):
    """A valid fill: bob (maker) sells 1 ETH at 2000 to alice (taker)."""
    alice, bob, _ = funded
    return signer.fill(order(bob, buy=False), bob, order(alice, buy=True), alice)


def rejected(settlement, operator, fills, index, reason):
    with ape.reverts(settlement.SettlementFillRejected, fillIndex=index, reason=E[reason]):
        settle(settlement, operator, fills)


# ------------------------------------------------------------------ happy path, events, state


def test_settles_one_fill_and_emits(settlement, perp, operator, funded, pair):
    alice, bob, _ = funded
    tx = settle(settlement, operator, [pair])
    tree = batch_tree(1, [pair])
    assert settlement.lastBatchId() == 1
    assert settlement.batches(1) == (tree.root, 1)
    from eth_utils import keccak

    assert settlement.chainRoot() == keccak(b"\x00" * 32 + tree.root)
    record = pair.maker.hash + pair.taker.hash + ONE.to_bytes(16, "big") + PRICE.to_bytes(16, "big")
    assert tx.events.filter(settlement.BatchSettled) == [
        settlement.BatchSettled(batchId=1, root=tree.root, chainRoot=settlement.chainRoot(), size=1, fills=record)
    ]
    assert settled_fills(record) == [SettledFill(pair.maker.hash, pair.taker.hash, ONE, PRICE)]
    assert perp.engine.positionOf(alice, 1, 0).size == ONE
    assert perp.engine.positionOf(bob, 1, 0).size == -ONE
    for so in (pair.maker, pair.taker):
        assert settlement.orderState(order_tuple(so.order)) == (so.hash, ONE, False)


def test_contract_hash_matches_sdk(settlement, domain, funded):
    alice = funded[0]
    o = order(alice, buy=True, nonce=7, flags=FLAG_VIA_API | FLAG_REDUCE_ONLY, leg=LEG_SHORT, maxFeeRate=123)
    assert settlement.hashOrder(order_tuple(o)) == o.digest(domain)
    assert settlement.domainSeparator() == domain.separator


def test_partial_fills_across_batches_then_overfill(settlement, operator, funded, signer):
    """SECURITY 4: cumulative fills <= size across batches, keyed by order hash."""
    alice, bob, carol = funded
    maker = order(bob, buy=False, size=3 * ONE)
    f1 = signer.fill(maker, bob, order(alice, buy=True, size=ONE), alice, size=ONE)
    f2 = signer.fill(maker, bob, order(carol, buy=True, size=ONE), carol, size=ONE)
    settle(settlement, operator, [f1])
    assert settlement.orderState(order_tuple(maker))[1] == ONE
    settle(settlement, operator, [f2])
    assert settlement.orderState(order_tuple(maker))[1] == 2 * ONE
    f3 = signer.fill(maker, bob, order(alice, buy=True, size=2 * ONE, nonce=2), alice, size=2 * ONE)
    rejected(settlement, operator, [f3], 0, "MakerOverfill")
    f4 = signer.fill(maker, bob, order(alice, buy=True, size=ONE, nonce=3), alice, size=ONE)
    settle(settlement, operator, [f4])
    assert settlement.orderState(order_tuple(maker))[1] == 3 * ONE
    # fully filled: can never fill again, even for a size that would fit a fresh order
    f5 = signer.fill(maker, bob, order(carol, buy=True, size=ONE, nonce=9), carol, size=ONE)
    rejected(settlement, operator, [f5], 0, "MakerOverfill")


def test_overfill_within_one_batch(settlement, operator, funded, signer):
    alice, bob, carol = funded
    maker = order(bob, buy=False, size=ONE)
    f1 = signer.fill(maker, bob, order(alice, buy=True, size=ONE // 2), alice, size=ONE // 2)
    f2 = signer.fill(maker, bob, order(carol, buy=True, size=ONE), carol, size=ONE)
    rejected(settlement, operator, [f1, f2], 1, "MakerOverfill")


def test_taker_overfill(settlement, operator, funded, signer):
    alice, bob, _ = funded
    f = signer.fill(order(bob, buy=False, size=2 * ONE), bob, order(alice, buy=True, size=ONE), alice, size=2 * ONE)
    rejected(settlement, operator, [f], 0, "TakerOverfill")


# ------------------------------------------------------------------ SECURITY 1: replay across domains


@pytest.mark.parametrize("what", ["chain", "contract", "name", "version"])
def test_signature_for_another_domain_rejected(settlement, operator, funded, signer, domain, what):
    alice, bob, _ = funded
    good = signer.fill(order(bob, buy=False), bob, order(alice, buy=True), alice)
    if what == "chain":
        other = Domain(domain.chain_id + 1, domain.verifying_contract)
        sig = sign_order(good.taker.order, other, bytes.fromhex(str(alice.private_key)[2:])).signature
    elif what == "contract":
        other = Domain(domain.chain_id, "0x" + "11" * 20)
        sig = sign_order(good.taker.order, other, bytes.fromhex(str(alice.private_key)[2:])).signature
    else:
        from eth_account import Account
        from eth_account.messages import encode_typed_data

        data = good.taker.order.typed_data(domain)
        data["domain"]["name" if what == "name" else "version"] = "perpx Settlement v2" if what == "name" else "2"
        signed = Account.sign_message(encode_typed_data(full_message=data), alice.private_key)
        sig = signed.r.to_bytes(32, "big") + signed.s.to_bytes(32, "big") + bytes([signed.v])
    rejected(settlement, operator, [with_sig(good, taker_sig=sig)], 0, "TakerBadSignature")
    settle(settlement, operator, [good])  # the same orders signed for this domain settle


def test_replay_on_another_deployment(project, admin, core, perp, settlement, operator, funded, signer, chain):
    """A batch valid on one Settlement is refused by a second deployment on the same chain."""
    from offchain.settlement.deploy import deploy_settlement, domain_of

    alice, bob, _ = funded
    other = deploy_settlement(project, admin, core, perp)
    assert domain_of(other, chain.chain_id) != signer.domain
    f = signer.fill(order(bob, buy=False), bob, order(alice, buy=True), alice)
    rejected(other, operator, [f], 0, "MakerBadSignature")


# ------------------------------------------------------------------ SECURITY 2, 3: malleability, zero signer


def test_high_s_malleated_signature_rejected(settlement, operator, pair):
    rejected(settlement, operator, [with_sig(pair, maker_sig=malleate(pair.maker.signature))], 0, "MakerBadSignature")
    rejected(settlement, operator, [with_sig(pair, taker_sig=malleate(pair.taker.signature))], 0, "TakerBadSignature")


@pytest.mark.parametrize("v", [0, 1, 26, 29])
def test_bad_v_rejected(settlement, operator, pair, v):
    sig = pair.taker.signature[:64] + bytes([v])
    rejected(settlement, operator, [with_sig(pair, taker_sig=sig)], 0, "TakerBadSignature")


def test_malleated_copy_is_not_a_new_order(settlement, operator, pair):
    """After a full fill, the malleated twin (and the original) cannot fill again."""
    settle(settlement, operator, [pair])
    rejected(settlement, operator, [with_sig(pair, maker_sig=malleate(pair.maker.signature))], 0, "MakerBadSignature")
    rejected(settlement, operator, [pair], 0, "MakerOverfill")


def test_zero_signer_and_zero_trader_rejected(settlement, operator, funded, signer, pair):
    alice, bob, _ = funded
    # r = 0 / garbage signatures recover nothing: never address(0) == trader
    rejected(settlement, operator, [with_sig(pair, taker_sig=bytes(65))], 0, "TakerBadSignature")
    junk = (SECP256K1_N - 1).to_bytes(32, "big") + (1).to_bytes(32, "big") + bytes([27])
    rejected(settlement, operator, [with_sig(pair, taker_sig=junk)], 0, "TakerBadSignature")
    zero = "0x" + "00" * 20
    f = signer.fill(order(bob, buy=False), bob, order(zero, buy=True), alice)
    rejected(settlement, operator, [f], 0, "ZeroTrader")
    f = signer.fill(order(zero, buy=False), bob, order(alice, buy=True), alice)
    rejected(settlement, operator, [f], 0, "ZeroTrader")


def test_signature_of_another_key_rejected(settlement, operator, funded, signer):
    alice, bob, carol = funded
    f = signer.fill(order(bob, buy=False), carol, order(alice, buy=True), alice)
    rejected(settlement, operator, [f], 0, "MakerBadSignature")


# ------------------------------------------------------------------ SECURITY 5: cancels, nonce floor, expiry


def test_cancel_by_hash(settlement, operator, funded, signer, pair):
    bob = funded[1]
    tx = settlement.cancelOrder(order_tuple(pair.maker.order), sender=bob)
    assert tx.events == [settlement.OrderCancelled(orderHash=pair.maker.hash, trader=bob, orderNonce=1)]
    rejected(settlement, operator, [pair], 0, "MakerCancelled")
    assert settlement.orderState(order_tuple(pair.maker.order))[2] is True


def test_cancel_partially_filled_order(settlement, operator, funded, signer):
    alice, bob, carol = funded
    maker = order(bob, buy=False, size=2 * ONE)
    settle(settlement, operator, [signer.fill(maker, bob, order(alice, buy=True), alice, size=ONE)])
    settlement.cancelOrder(order_tuple(maker), sender=bob)
    assert settlement.orderState(order_tuple(maker))[1:] == (ONE, True)  # the filled amount never decreases
    rejected(settlement, operator, [signer.fill(maker, bob, order(carol, buy=True), carol, size=ONE)], 0,
             "MakerCancelled")  # fmt: skip


def test_cancel_taker_order(settlement, operator, funded, pair):
    alice = funded[0]
    settlement.cancelOrder(order_tuple(pair.taker.order), sender=alice)
    rejected(settlement, operator, [pair], 0, "TakerCancelled")


def test_cancel_only_by_trader_or_delegate(settlement, funded, pair, chain, stranger):
    _alice, bob, carol = funded
    msg = order_tuple(pair.maker.order)
    with ape.reverts(settlement.SettlementNotTraderOrDelegate, caller=carol, trader=bob):
        settlement.cancelOrder(msg, sender=carol)
    settlement.authorizeDelegate(carol, chain.pending_timestamp + 100, sender=bob)
    settlement.cancelOrder(msg, sender=carol)


def test_cancel_below_nonce(settlement, operator, funded, signer):
    alice, bob, _ = funded
    tx = settlement.cancelBelowNonce(5, sender=bob)
    assert tx.events == [settlement.NonceFloorRaised(trader=bob, minNonce=5)]
    rejected(settlement, operator, [signer.fill(order(bob, buy=False, nonce=4), bob, order(alice, buy=True), alice)],
             0, "MakerCancelled")  # fmt: skip
    settlement.cancelBelowNonce(3, sender=alice)
    rejected(settlement, operator, [signer.fill(order(bob, buy=False, nonce=5), bob, order(alice, buy=True, nonce=2),
                                                alice)], 0, "TakerCancelled")  # fmt: skip
    settle(settlement, operator, [signer.fill(order(bob, buy=False, nonce=5), bob, order(alice, buy=True, nonce=3),
                                              alice)])  # fmt: skip
    with ape.reverts(settlement.SettlementNonceFloorNotIncreasing, current=5, requested=5):
        settlement.cancelBelowNonce(5, sender=bob)


def test_expired_orders_rejected(settlement, operator, funded, signer, chain):
    alice, bob, _ = funded
    t = chain.pending_timestamp + 100
    f = signer.fill(order(bob, buy=False, expiry=t), bob, order(alice, buy=True, expiry=t + 1000), alice)
    chain.pending_timestamp = t
    rejected(settlement, operator, [f], 0, "MakerExpired")
    f = signer.fill(order(bob, buy=False, nonce=2), bob, order(alice, buy=True, expiry=t + 50), alice)
    chain.pending_timestamp = t + 50
    rejected(settlement, operator, [f], 0, "TakerExpired")
    f = signer.fill(order(bob, buy=False, nonce=3), bob, order(alice, buy=True, expiry=t + 101), alice)
    chain.pending_timestamp = t + 100
    settle(settlement, operator, [f])  # expiry strictly after the block timestamp


# ------------------------------------------------------------------ SECURITY 6: prices, fees


def test_price_checks(settlement, operator, funded, signer):
    alice, bob, _ = funded
    maker = order(bob, buy=False, price=PRICE)
    rejected(settlement, operator, [signer.fill(maker, bob, order(alice, buy=True, price=PRICE - 10**14), alice)], 0,
             "PriceOutsideTakerLimit")  # fmt: skip
    rejected(settlement, operator, [signer.fill(maker, bob, order(alice, buy=True, price=PRICE + 10**14), alice,
                                                price=PRICE + 10**14)], 0, "PriceNotMakerLimit")  # fmt: skip
    # a seller taker: price must be >= its limit
    buy_maker = order(bob, buy=True, price=PRICE, nonce=2)
    seller = order(alice, buy=False, price=PRICE + 10**14, nonce=2)
    rejected(settlement, operator, [signer.fill(buy_maker, bob, seller, alice)], 0, "PriceOutsideTakerLimit")
    settle(settlement, operator, [signer.fill(maker, bob, order(alice, buy=True, price=PRICE + 10**14), alice)])


def test_fee_cap(settlement, perp, operator, funded, signer):
    """Taker fee 0.20% (tier 0); 0.18% with the API flag. The cap binds exactly at the rate."""
    alice, bob, _ = funded
    maker = order(bob, buy=False)
    bps = ONE // 10_000

    def taker(cap: int, flags: int = 0):
        return signer.fill(maker, bob, order(alice, buy=True, maxFeeRate=cap, flags=flags), alice)

    # the engine checks the cap against the fee it charges (one fee computation per fill)
    fee = 2_000 * ONE * 20 * bps // ONE
    above_max = "PerpEngineTakerFeeAboveMax"
    engine_error(settlement, perp.engine, operator, [taker(20 * bps - 1)], above_max, fillIndex=0, feeX18=fee,
                 maxFeeX18=fee - 2_000)  # fmt: skip
    big = order(bob, buy=False, size=2 * ONE, nonce=5)
    first = signer.fill(big, bob, order(alice, buy=True, nonce=9), alice, size=ONE // 2)
    capped = signer.fill(big, bob, order(alice, buy=True, nonce=10, maxFeeRate=18 * bps - 1, flags=FLAG_VIA_API), alice,
                         size=ONE)  # fmt: skip
    engine_error(settlement, perp.engine, operator, [first, capped], above_max, fillIndex=1)
    tx = settle(settlement, operator, [taker(18 * bps, FLAG_VIA_API)])
    (applied,) = fills_applied(tx, perp.engine)
    assert applied.takerFeeX18 == 2_000 * ONE * 18 * bps // ONE  # charged exactly at the signed cap


def test_maker_fee_cap_zero_is_fine(settlement, operator, funded, signer):
    """Makers receive a rebate: a zero maximum fee still fills."""
    alice, bob, _ = funded
    settle(settlement, operator, [signer.fill(order(bob, buy=False, maxFeeRate=0), bob, order(alice, buy=True), alice)])


# ------------------------------------------------------------------ pairing, fields, market, compliance


def test_pairing_and_field_checks(settlement, operator, funded, signer):
    alice, bob, _ = funded
    m = order(bob, buy=False)
    cases = [
        (signer.fill(m, bob, order(alice, buy=True, marketId=2), alice), "MarketMismatch"),
        (signer.fill(m, bob, order(alice, buy=False), alice), "SameSide"),
        (signer.fill(m, bob, order(bob, buy=True, nonce=2), bob), "SelfTrade"),
        (signer.fill(m, bob, order(alice, buy=True, flags=FLAG_POST_ONLY), alice), "TakerPostOnly"),
        (signer.fill(m, bob, order(alice, buy=True, leg=3), alice), "InvalidOrderFields"),
        (signer.fill(m, bob, order(alice, buy=True, flags=32), alice), "InvalidOrderFields"),
        (signer.fill(m, bob, order(alice, buy=True, leverage=0), alice), "InvalidOrderFields"),
        (signer.fill(m, bob, order(alice, buy=True, leverage=51), alice), "InvalidOrderFields"),
        (signer.fill(m, bob, order(alice, buy=True), alice, size=0), "EmptyFill"),
        (signer.fill(order(bob, buy=False, marketId=9), bob, order(alice, buy=True, marketId=9), alice),
         "MarketNotTradable"),
    ]  # fmt: skip
    for f, reason in cases:
        rejected(settlement, operator, [f], 0, reason)


def test_settled_market_not_tradable(settlement, operator, funded, signer, perp, admin):
    alice, bob, _ = funded
    perp.registry.setStatus(1, 4, sender=admin)  # Settled
    rejected(settlement, operator, [signer.fill(order(bob, buy=False), bob, order(alice, buy=True), alice)], 0,
             "MarketNotTradable")  # fmt: skip


def test_paused_market_blocks_risk_increase(settlement, operator, funded, signer, perp, guardian):
    alice, bob, _ = funded
    perp.registry.pauseMarket(1, sender=guardian)
    f = signer.fill(order(bob, buy=False), bob, order(alice, buy=True), alice)
    engine_error(settlement, perp.engine, operator, [f], "PerpEngineRiskIncreaseBlocked", fillIndex=0, marketId=1)


def test_compliance(settlement, operator, funded, signer, compliance, compliance_officer, stranger, vault, usdc):
    alice, bob, _ = funded
    compliance.setBlocked(bob, True, sender=compliance_officer)
    rejected(settlement, operator, [signer.fill(order(bob, buy=False), bob, order(alice, buy=True), alice)], 0,
             "MakerNotAllowed")  # fmt: skip
    rejected(settlement, operator, [signer.fill(order(alice, buy=False), alice, order(bob, buy=True), bob)], 0,
             "TakerNotAllowed")  # fmt: skip
    # never allowlisted
    f = signer.fill(order(alice, buy=False, nonce=5), alice, order(stranger, buy=True), stranger)
    rejected(settlement, operator, [f], 0, "TakerNotAllowed")


def test_reduce_only_flag_reaches_engine(settlement, operator, funded, signer, perp):
    alice, bob, _ = funded
    f = signer.fill(order(bob, buy=False), bob, order(alice, buy=True, flags=FLAG_REDUCE_ONLY), alice)
    engine_error(settlement, perp.engine, operator, [f], "PerpEngineReduceOnly", fillIndex=0, account=alice.address)


def test_margin_checked_at_end_state(settlement, operator, funded, signer, perp):
    """A fill too large for the taker's collateral reverts the batch in the engine's end-state check."""
    alice, bob, _ = funded
    f = signer.fill(order(bob, buy=False, size=2_000 * ONE), bob, order(alice, buy=True, size=2_000 * ONE), alice)
    # both sides are short of margin; accounts are checked in first-touch order (maker first)
    engine_error(settlement, perp.engine, operator, [f], "PerpEngineInsufficientMargin", account=bob.address)


# ------------------------------------------------------------------ SECURITY 7, 9: batches


def test_batch_ids_consecutive(settlement, operator, pair, funded, signer):
    alice, bob, _ = funded
    with ape.reverts(settlement.SettlementBatchIdNotNext, batchId=2, expected=1):
        settle(settlement, operator, [pair], batch_id=2)
    with ape.reverts(settlement.SettlementBatchIdNotNext, batchId=0, expected=1):
        settle(settlement, operator, [pair], batch_id=0)
    settle(settlement, operator, [pair])
    f2 = signer.fill(order(bob, buy=False, nonce=2), bob, order(alice, buy=True, nonce=2), alice)
    with ape.reverts(settlement.SettlementBatchIdNotNext, batchId=1, expected=2):
        settle(settlement, operator, [f2], batch_id=1)
    settle(settlement, operator, [f2], batch_id=2)


def test_roots_zero_uncommitted_replayed(settlement, operator, funded, signer):
    alice, bob, _ = funded
    pair = signer.fill(order(bob, buy=False, size=2 * ONE), bob, order(alice, buy=True, size=2 * ONE), alice, size=ONE)
    with ape.reverts(settlement.SettlementEmptyBatch):
        settlement.settleBatch(1, b"\x01" * 32, b"", sender=operator)
    with ape.reverts(settlement.SettlementEmptyBatch):
        settlement.settleBatch(1, b"\x01" * 32, b"\x00\x00", sender=operator)
    with ape.reverts(settlement.SettlementZeroRoot):
        settle(settlement, operator, [pair], root=b"\x00" * 32)
    computed = batch_tree(1, [pair]).root
    with ape.reverts(settlement.SettlementRootMismatch, expected=b"\x02" * 32, computed=computed):
        settle(settlement, operator, [pair], root=b"\x02" * 32)
    settle(settlement, operator, [pair])
    # the settled root again, as the next batch: the batch id is in every leaf, so it no longer matches
    with ape.reverts(settlement.SettlementRootMismatch, expected=computed, computed=batch_tree(2, [pair]).root):
        settle(settlement, operator, [pair], batch_id=2, root=computed)


def test_batch_is_atomic(settlement, operator, funded, signer, perp):
    alice, bob, carol = funded
    good = signer.fill(order(bob, buy=False), bob, order(alice, buy=True), alice)
    bad = signer.fill(order(bob, buy=False, nonce=2), bob, order(carol, buy=True, expiry=1), carol)
    rejected(settlement, operator, [good, bad], 1, "TakerExpired")
    assert settlement.lastBatchId() == 0
    assert settlement.orderState(order_tuple(good.maker.order))[1] == 0
    assert perp.engine.positionOf(alice, 1, 0).size == 0


def test_only_operator_settles(settlement, pair, stranger, alice, admin):
    from offchain import roles

    for who in (stranger, alice, admin):
        with ape.reverts(settlement.AccessControlUnauthorizedAccount, account=who, role=roles.OPERATOR):
            settle(settlement, who, [pair])


def test_settlement_needs_settler_role(settlement, perp, operator, pair, acl, admin):
    from offchain import roles

    acl.revokeRole(roles.SETTLER, settlement, sender=admin)
    # The revert comes from the engine; decode by name (Settlement's ABI has an error of the same name).
    with reverts(perp.engine.AccessControlUnauthorizedAccount, account=settlement.address, role=roles.SETTLER):
        settle(settlement, operator, [pair])


# ------------------------------------------------------------------ chained roots, verifyFill


def test_chain_of_roots_rebuilt_from_events(settlement, operator, funded, signer):
    from eth_utils import keccak

    alice, bob, carol = funded
    batches = []
    for b in range(1, 4):
        fills = [signer.fill(order(bob, buy=False, nonce=10 * b + k), bob,
                             order(alice if k % 2 else carol, buy=True, nonce=10 * b + k), alice if k % 2 else carol)
                 for k in range(b + 1)]  # fmt: skip
        batches.append(settle(settlement, operator, fills))
    chained = b"\x00" * 32
    for tx in batches:
        (ev,) = tx.events.filter(settlement.BatchSettled)
        leaves = [f.leaf(ev.batchId) for f in settled_fills(bytes(ev.fills))]
        assert len(leaves) == ev.size
        from offchain.settlement.merkle import root_of

        assert root_of(leaves) == bytes(ev.root)
        chained = keccak(chained + bytes(ev.root))
        assert bytes(ev.chainRoot) == chained
    assert settlement.chainRoot() == chained


def test_verify_fill(settlement, operator, funded, signer):
    alice, bob, carol = funded
    fills = [signer.fill(order(bob, buy=False, nonce=k, size=ONE // 10), bob,
                         order(alice if k % 2 else carol, buy=True, nonce=k, size=ONE // 10), alice if k % 2 else carol)
             for k in range(1, 6)]  # fmt: skip
    settle(settlement, operator, fills)
    tree = batch_tree(1, fills)
    for i, f in enumerate(fills):
        path = tree.prove(i).path
        assert settlement.verifyFill(1, f.leaf(1), i, path)
        assert not settlement.verifyFill(1, f.leaf(2), i, path)  # wrong batch id in the leaf
        assert not settlement.verifyFill(1, f.leaf(1), (i + 1) % 5, path)
        assert not settlement.verifyFill(1, f.leaf(1), i, [*path, path[-1]])  # extra element
        assert not settlement.verifyFill(1, f.leaf(1), i, path[:-1])  # missing element
    # an internal node (hash of leaves 0 and 1) presented as a leaf
    from eth_utils import keccak

    h0, h1 = (keccak(b"\x00" + f.leaf(1)) for f in fills[:2])
    node = keccak(b"\x01" + h0 + h1)
    assert not settlement.verifyFill(1, node, 0, tree.prove(0).path[1:])
    assert not settlement.verifyFill(1, h0 + h1, 0, tree.prove(0).path[1:])
    with ape.reverts(settlement.SettlementUnknownBatch, batchId=2):
        settlement.verifyFill(2, fills[0].leaf(2), 0, [])


def test_far_expiry_constant_is_future(chain):
    assert chain.pending_timestamp < FAR


def test_signer_helper_domain(signer, settlement, chain):
    assert isinstance(signer, Signer) and signer.domain.chain_id == chain.chain_id
