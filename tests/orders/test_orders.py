"""Order SDK: digest equals eth-account's EIP-712 encoding; signing and OpenZeppelin-style verification."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from offchain.orders import (
    FLAG_IOC,
    Domain,
    Order,
    SignatureError,
    SignedOrder,
    address_of_key,
    recover_signer,
    sign_order,
    sign_order_with_account,
    verify_signed_order,
)
from offchain.orders.signing import SECP256K1_N, malleate

KEY = "0x" + "11" * 32
OTHER_KEY = "0x" + "22" * 32
SETTLEMENT = "0x" + "ab" * 20
DOMAIN = Domain(31337, SETTLEMENT)


def make_order(**overrides):
    fields = {
        "trader": address_of_key(KEY),
        "marketId": 1,
        "isBuy": True,
        "leg": 0,
        "flags": FLAG_IOC,
        "leverage": 10,
        "size": 2 * 10**18,
        "limitPrice": 3000 * 10**18,
        "maxFeeRate": 10**15,
        "nonce": 7,
        "expiry": 2_000_000_000,
    }
    fields.update(overrides)
    return Order(**fields)


def test_typehash_is_the_fixed_struct():
    from offchain.orders.order import ORDER_TYPEHASH

    fixed = (
        "Order(address trader,uint32 marketId,bool isBuy,uint8 leg,uint16 flags,uint16 leverage,"
        "uint128 size,uint128 limitPrice,uint64 maxFeeRate,uint64 nonce,uint64 expiry)"
    )
    assert keccak(text=fixed) == ORDER_TYPEHASH


orders = st.builds(
    make_order,
    marketId=st.integers(0, 2**32 - 1),
    isBuy=st.booleans(),
    leg=st.integers(0, 2),
    flags=st.integers(0, 31),
    leverage=st.integers(1, 50),
    size=st.integers(1, 2**128 - 1),
    limitPrice=st.integers(0, 2**128 - 1),
    maxFeeRate=st.integers(0, 2**64 - 1),
    nonce=st.integers(0, 2**64 - 1),
    expiry=st.integers(0, 2**64 - 1),
)


@given(orders, st.integers(1, 2**64), st.binary(min_size=20, max_size=20))
def test_digest_matches_eth_account(order, chain_id, contract):
    domain = Domain(chain_id, "0x" + contract.hex())
    signable = encode_typed_data(full_message=order.typed_data(domain))
    expected = keccak(b"\x19" + signable.version + signable.header + signable.body)
    assert order.digest(domain) == expected


def test_sign_recover_and_eth_account_agree():
    order = make_order()
    signed = sign_order(order, DOMAIN, KEY)
    assert verify_signed_order(signed, DOMAIN) == order.trader
    ref = Account.sign_typed_data(KEY, full_message=order.typed_data(DOMAIN))
    assert signed.signature == ref.signature  # RFC 6979 deterministic: byte-identical
    assert signed.signature[64] in (27, 28)


def test_ape_account_signature_verifies(accounts):
    trader = accounts[5]
    order = make_order(trader=trader.address)
    signed = sign_order_with_account(order, DOMAIN, trader)
    assert verify_signed_order(signed, DOMAIN) == trader.address


def test_other_domain_is_rejected():
    signed = sign_order(make_order(), DOMAIN, KEY)
    for other in (Domain(1, SETTLEMENT), Domain(31337, "0x" + "cd" * 20)):
        with pytest.raises(SignatureError, match="another domain"):
            verify_signed_order(signed, other)
        # and a copy claiming the other domain recovers someone else
        moved = SignedOrder(signed.order, signed.signature, other)
        with pytest.raises(SignatureError, match="neither the trader"):
            verify_signed_order(moved, other)


def test_high_s_and_bad_v_are_rejected():
    signed = sign_order(make_order(), DOMAIN, KEY)
    twin = malleate(signed.signature)
    with pytest.raises(SignatureError, match="high-s"):
        recover_signer(signed.hash, twin)
    for v in (0, 1, 26, 29):
        with pytest.raises(SignatureError, match="invalid v"):
            recover_signer(signed.hash, signed.signature[:64] + bytes([v]))


def test_zero_r_s_and_wrong_signer_are_rejected():
    signed = sign_order(make_order(), DOMAIN, KEY)
    with pytest.raises(SignatureError, match="out of range"):
        recover_signer(signed.hash, b"\x00" * 32 + signed.signature[32:])
    with pytest.raises(SignatureError, match="out of range"):
        recover_signer(signed.hash, SECP256K1_N.to_bytes(32, "big") + signed.signature[32:])
    forged = sign_order(make_order(), DOMAIN, OTHER_KEY)
    with pytest.raises(SignatureError, match="neither the trader"):
        verify_signed_order(forged, DOMAIN)
    assert verify_signed_order(forged, DOMAIN, delegates=frozenset({address_of_key(OTHER_KEY)}))


def test_zero_trader_is_rejected():
    order = make_order(trader="0x" + "00" * 20)
    signed = sign_order(order, DOMAIN, KEY)
    with pytest.raises(SignatureError, match="address\\(0\\)"):
        verify_signed_order(signed, DOMAIN)


def test_field_ranges_and_json_round_trip():
    with pytest.raises(ValueError, match="does not fit uint128"):
        make_order(size=2**128)
    with pytest.raises(ValueError, match="does not fit uint8"):
        make_order(leg=256)
    with pytest.raises(TypeError, match="isBuy"):
        make_order(isBuy=1)
    signed = sign_order(make_order(), DOMAIN, KEY)
    again = SignedOrder.from_json(signed.to_json())
    assert again == signed and again.hash == signed.hash
