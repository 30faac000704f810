"""The EIP-712 domain type shared by every typed message the protocol signs (orders, logins, price reports)."""

from __future__ import annotations

EIP712_DOMAIN_TYPE: list[dict[str, str]] = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
