"""Fixed-point units shared with the contracts (SPEC section 2).

Prices, rates and internal balances are 18-decimal integers (``X18``). Token amounts
use the token's own decimals and are converted only at the Vault boundary.
"""

from __future__ import annotations

from decimal import Decimal

ONE_X18 = 10**18
INTERNAL_DECIMALS = 18


def to_x18(value: int | str | Decimal) -> int:
    """Convert a human number (``"1.5"``) to 18-decimal fixed point; refuses sub-1e-18 precision."""
    scaled = Decimal(value) * ONE_X18
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than 18 decimals")
    return int(scaled)


def token_to_internal(amount: int, decimals: int) -> int:
    """Token units -> internal units, exactly as Vault credits and debits them."""
    _check_decimals(decimals)
    return amount * 10 ** (INTERNAL_DECIMALS - decimals)


def internal_to_token_floor(amount_x18: int, decimals: int) -> int:
    """Internal units -> whole token units, rounded down (what a trader can withdraw)."""
    _check_decimals(decimals)
    return amount_x18 // 10 ** (INTERNAL_DECIMALS - decimals)


def internal_to_token_ceil(amount_x18: int, decimals: int) -> int:
    """Internal units -> token units, rounded up (what the Vault must hold)."""
    _check_decimals(decimals)
    scale = 10 ** (INTERNAL_DECIMALS - decimals)
    return -(-amount_x18 // scale)


def _check_decimals(decimals: int) -> None:
    if not 0 <= decimals <= INTERNAL_DECIMALS:
        raise ValueError(f"token decimals must be 0..18, got {decimals}")
