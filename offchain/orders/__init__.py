"""Order SDK: the Settlement contract's EIP-712 order, signing with keys or ape accounts, verification."""

from offchain.orders.order import (
    ALL_FLAGS,
    FLAG_FOK,
    FLAG_IOC,
    FLAG_POST_ONLY,
    FLAG_REDUCE_ONLY,
    FLAG_VIA_API,
    LEG_LONG,
    LEG_ONE_WAY,
    LEG_SHORT,
    Domain,
    Order,
    SignedOrder,
)
from offchain.orders.signing import (
    SignatureError,
    address_of_key,
    recover_signer,
    sign_order,
    sign_order_with_account,
    verify_signed_order,
)

__all__ = [
    "ALL_FLAGS",
    "FLAG_FOK",
    "FLAG_IOC",
    "FLAG_POST_ONLY",
    "FLAG_REDUCE_ONLY",
    "FLAG_VIA_API",
    "LEG_LONG",
    "LEG_ONE_WAY",
    "LEG_SHORT",
    "Domain",
    "Order",
    "SignatureError",
    "SignedOrder",
    "address_of_key",
    "recover_signer",
    "sign_order",
    "sign_order_with_account",
    "verify_signed_order",
]
