"""Settlement signers: delegated API keys (expiry, revocation) and ERC-1271 contract wallets."""

from __future__ import annotations

import ape
import pytest
from settle_helpers import ONE, USDC, order, settle

from offchain.orders.signing import address_of_key, sign_order
from offchain.settlement.fills import SettlementFill, order_tuple

API_KEY = (0xA11CE).to_bytes(32, "big")
WALLET_OWNER_KEY = (0xB0B).to_bytes(32, "big")


def rejected(settlement, operator, fills, index, reason):
    with ape.reverts(settlement.SettlementFillRejected, fillIndex=index, reason=reason):
        settle(settlement, operator, fills)


def delegated_fill(signer, domain, maker, taker, *, nonce=1):
    """bob's maker order signed by bob; alice's taker order signed by her API key."""
    m = order(maker, buy=False, nonce=nonce)
    t = order(taker, buy=True, nonce=nonce)
    return SettlementFill(signer.sign(m, account=maker), sign_order(t, domain, API_KEY), ONE, m.limitPrice)


def test_delegate_lifecycle(settlement, operator, funded, signer, domain, chain):
    alice, bob, _ = funded
    api = address_of_key(API_KEY)
    rejected(settlement, operator, [delegated_fill(signer, domain, bob, alice)], 0, 14)  # not authorised yet
    expiry = chain.pending_timestamp + 1_000
    tx = settlement.authorizeDelegate(api, expiry, sender=alice)
    assert tx.events == [settlement.DelegateAuthorized(trader=alice, delegate=api, expiry=expiry)]
    assert settlement.delegateExpiry(alice, api) == expiry
    settle(settlement, operator, [delegated_fill(signer, domain, bob, alice)])
    # a delegate of alice is not a delegate of bob
    f = delegated_fill(signer, domain, bob, alice, nonce=2)
    f_bob = SettlementFill(sign_order(f.maker.order, domain, API_KEY), f.taker, ONE, f.price_x18)
    rejected(settlement, operator, [f_bob], 0, 13)
    tx = settlement.revokeDelegate(api, sender=alice)
    assert tx.events == [settlement.DelegateRevoked(trader=alice, delegate=api)]
    rejected(settlement, operator, [delegated_fill(signer, domain, bob, alice, nonce=3)], 0, 14)


def test_delegate_expiry(settlement, operator, funded, signer, domain, chain):
    alice, bob, _ = funded
    expiry = chain.pending_timestamp + 100
    settlement.authorizeDelegate(address_of_key(API_KEY), expiry, sender=alice)
    chain.pending_timestamp = expiry - 1
    settle(settlement, operator, [delegated_fill(signer, domain, bob, alice)])
    chain.pending_timestamp = expiry
    rejected(settlement, operator, [delegated_fill(signer, domain, bob, alice, nonce=2)], 0, 14)


def test_authorize_delegate_validation(settlement, alice, chain):
    with ape.reverts(settlement.SettlementInvalidDelegate, delegate="0x" + "00" * 20):
        settlement.authorizeDelegate("0x" + "00" * 20, chain.pending_timestamp + 10, sender=alice)
    with ape.reverts(settlement.SettlementInvalidDelegate, delegate=alice):
        settlement.authorizeDelegate(alice, chain.pending_timestamp + 10, sender=alice)
    now = chain.pending_timestamp
    with ape.reverts(settlement.SettlementExpiryNotInFuture):
        settlement.authorizeDelegate(address_of_key(API_KEY), now - 1, sender=alice)


def test_revoked_delegate_cannot_cancel(settlement, funded, chain):
    alice, _bob, carol = funded
    settlement.authorizeDelegate(carol, chain.pending_timestamp + 100, sender=alice)
    settlement.revokeDelegate(carol, sender=alice)
    o = order(alice, buy=True)
    with ape.reverts(settlement.SettlementNotTraderOrDelegate, caller=carol, trader=alice):
        settlement.cancelOrder(order_tuple(o), sender=carol)


@pytest.fixture
def wallet(project, admin, vault, usdc, compliance, compliance_officer, far_future, funded):
    w = project.MockERC1271Wallet.deploy(address_of_key(WALLET_OWNER_KEY), sender=admin)
    compliance.setAllowed(w, 1, far_future, sender=compliance_officer)
    usdc.mint(funded[0], 10_000 * USDC, sender=admin)
    vault.depositFor(w, usdc, 10_000 * USDC, sender=funded[0])
    return w


def test_erc1271_wallet_trades(settlement, operator, funded, signer, domain, wallet, perp):
    bob = funded[1]
    t = order(wallet, buy=True)
    m = order(bob, buy=False)
    good = SettlementFill(signer.sign(m, account=bob), sign_order(t, domain, WALLET_OWNER_KEY), ONE, m.limitPrice)
    wrong = SettlementFill(good.maker, sign_order(t, domain, API_KEY), ONE, m.limitPrice)
    rejected(settlement, operator, [wrong], 0, 14)
    wallet.setEnabled(False, sender=bob)
    rejected(settlement, operator, [good], 0, 14)
    wallet.setEnabled(True, sender=bob)
    settle(settlement, operator, [good])
    assert perp.engine.positionOf(wallet, 1, 0).size == ONE


def test_erc1271_wallet_cancels(settlement, operator, funded, signer, domain, wallet):
    bob = funded[1]
    t = order(wallet, buy=True)
    m = order(bob, buy=False)
    fill = SettlementFill(signer.sign(m, account=bob), sign_order(t, domain, WALLET_OWNER_KEY), ONE, m.limitPrice)
    data = settlement.cancelOrder.as_transaction(order_tuple(t), sender=bob).data
    wallet.execute(settlement, data, sender=bob)
    rejected(settlement, operator, [fill], 0, 16)
