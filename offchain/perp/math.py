"""Integer maths of contracts/libraries/PerpMath.sol, operation for operation, plus exact Fraction twins.

Every on-chain rounding is reproduced here so tests compare the contracts with this module to the wei;
the ``exact_*`` functions give the unrounded value, so tests can also assert the rounding direction.
"""

from __future__ import annotations

from fractions import Fraction

ONE = 10**18


def mul_div(a: int, b: int, d: int, *, up: bool = False) -> int:
    """``a * b / d`` for non-negative ints, rounded down (or up)."""
    if a < 0 or b < 0 or d <= 0:
        raise ValueError(f"mul_div expects non-negative operands and a positive divisor: {a}, {b}, {d}")
    q, r = divmod(a * b, d)
    return q + 1 if up and r else q


def _magnitude(inverse: bool, abs_size: int, price: int, *, up: bool) -> int:
    return mul_div(abs_size, ONE, price, up=up) if inverse else mul_div(abs_size, price, ONE, up=up)


def _value_negative(inverse: bool, size: int) -> bool:
    return (size < 0) != inverse


def value_up(inverse: bool, size: int, price: int) -> int:
    """Signed value rounded toward positive infinity: a fill books ``cash = -value_up(delta)`` per side."""
    return -mark_value_floor(inverse, -size, price)


def mark_value_floor(inverse: bool, size: int, price: int) -> int:
    """Signed value rounded toward negative infinity (equity side)."""
    if size == 0:
        return 0
    negative = _value_negative(inverse, size)
    m = _magnitude(inverse, abs(size), price, up=negative)
    return -m if negative else m


def exact_value(inverse: bool, size: int, price: int) -> Fraction:
    """The unrounded signed value."""
    return -Fraction(size * ONE, price) if inverse else Fraction(size * price, ONE)


def notional_up(inverse: bool, abs_size: int, price: int) -> int:
    """Absolute notional in collateral units, rounded up."""
    return _magnitude(inverse, abs_size, price, up=True)


def mul_rate_up(amount: int, rate: int) -> int:
    """``amount * rate / 1e18`` rounded up."""
    return mul_div(amount, rate, ONE, up=True)


def mul_rate_down(amount: int, rate: int) -> int:
    """``amount * rate / 1e18`` rounded down."""
    return mul_div(amount, rate, ONE)


def sized_rate(base: int, slope: int, notional: int) -> int:
    """``min(base + ceil(slope * notional / 1e18), 1e18)``: size-dependent initial margin rate."""
    if slope == 0:
        return base
    return min(base + mul_rate_up(slope, notional), ONE)


def exact_sized_rate(base: int, slope: int, notional: Fraction) -> Fraction:
    """The unrounded size-dependent rate."""
    return min(Fraction(base, ONE) + Fraction(slope, ONE) * notional / ONE, Fraction(1))


def basis_share_up(open_value: int, part: int, whole: int) -> int:
    """Share ``part / whole`` of a signed cost basis, rounded toward positive infinity."""
    if part == whole:
        return open_value
    if open_value >= 0:
        return mul_div(open_value, part, whole, up=True)
    return -mul_div(-open_value, part, whole)


def funding_owed_up(size: int, delta: int) -> int:
    """``size * delta / 1e18`` rounded toward positive infinity (payers round up, receivers down)."""
    if size == 0 or delta == 0:
        return 0
    negative = (size < 0) != (delta < 0)
    m = mul_div(abs(size), abs(delta), ONE, up=not negative)
    return -m if negative else m


def funding_per_unit(inverse: bool, rate: int, price: int) -> int:
    """Per-unit funding index increment, truncated toward zero."""
    m = mul_div(abs(rate), ONE, price) if inverse else mul_div(abs(rate), price, ONE)
    return -m if rate < 0 else m


def ceil_div_signed(a: int, b: int) -> int:
    """Ceiling of ``a / b`` for a positive ``b``."""
    return -((-a) // b)
