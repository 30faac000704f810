"""PerpMath against an exact-rational reference (differential fuzzing through MockPerpMath).

PerpMath multiplies with one 256-bit product when both factors are below 2^128 and hands over to
OpenZeppelin's 512-bit Math.mulDiv otherwise. Every helper must give the exactly rounded rational
result on both sides of that boundary, and revert exactly when the result does not fit (or the divisor
is zero). Operands are drawn around 2^128, across the full 256-bit range and at realistic sizes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from fractions import Fraction

import pytest
from ape.exceptions import ContractLogicError
from hypothesis import given, settings
from hypothesis import strategies as st

ONE = 10**18
U256 = 2**256
I256_MAX = 2**255 - 1
HANDOVER = 2**128  # first operand value that takes Math.mulDiv's 512-bit path

# a pure call is ~5 ms: many more examples than the stateful tests at the same cost
EXAMPLES = 120 if os.environ.get("HYPOTHESIS_PROFILE", "ci") == "ci" else settings().max_examples * 5

EDGES = [0, 1, 2, ONE - 1, ONE, ONE + 1, HANDOVER - 2, HANDOVER - 1, HANDOVER, HANDOVER + 1, 2**255, U256 - 1]
UINT = st.one_of(
    st.sampled_from(EDGES),
    st.integers(HANDOVER - 2**64, HANDOVER + 2**64),
    st.integers(0, HANDOVER - 1),
    st.integers(0, 10**40),
    st.integers(0, U256 - 1),
)
POSITIVE = UINT.filter(lambda x: x > 0)
INT = st.one_of(UINT.map(lambda x: x if x <= I256_MAX else x - U256), UINT.map(lambda x: -min(x, 2**255)))

Revert = object()


@pytest.fixture(scope="module")
def pm(project, admin):
    return project.MockPerpMath.deploy(sender=admin)


def _chain(fn: Callable[..., int], *args: object) -> object:
    try:
        return fn(*args)
    except ContractLogicError:
        return Revert


def _uint(x: int) -> object:
    return x if 0 <= x < U256 else Revert


def _int(x: int) -> object:
    """PerpMath rounds a magnitude then casts it with SafeCast.toInt256: |x| must be at most 2^255 - 1."""
    return x if abs(x) <= I256_MAX else Revert


def _value(inverse: bool, size: int, price: int) -> Fraction | None:
    """The exact signed value of a non-zero size; None when an inverse price of zero divides by zero."""
    if inverse and price == 0:
        return None
    return Fraction(-size * ONE, price) if inverse else Fraction(size * price, ONE)


def ref_mark_value_floor(inverse: bool, size: int, price: int) -> object:
    if size == 0:
        return 0
    v = _value(inverse, size, price)
    return Revert if v is None else _int(math.floor(v))


def ref_value_up(inverse: bool, size: int, price: int) -> object:
    if size == -(2**255):
        return Revert  # -size overflows
    if size == 0:
        return 0
    v = _value(inverse, size, price)
    return Revert if v is None else _int(math.ceil(v))


def ref_notional_up(inverse: bool, abs_size: int, price: int) -> object:
    if inverse and price == 0:
        return Revert
    return _uint(math.ceil(Fraction(abs_size * ONE, price) if inverse else Fraction(abs_size * price, ONE)))


@settings(max_examples=EXAMPLES)
@given(inverse=st.booleans(), size=INT, price=UINT)
def test_values_match_exact_rationals(pm, inverse, size, price):
    assert _chain(pm.markValueFloor, inverse, size, price) == ref_mark_value_floor(inverse, size, price)
    assert _chain(pm.valueUp, inverse, size, price) == ref_value_up(inverse, size, price)
    abs_size = min(abs(size), U256 - 1)
    assert _chain(pm.notionalUp, inverse, abs_size, price) == ref_notional_up(inverse, abs_size, price)


@settings(max_examples=EXAMPLES)
@given(amount=UINT, rate=UINT, base=st.integers(0, 2 * ONE))
def test_rates_match_exact_rationals(pm, amount, rate, base):
    product = Fraction(amount * rate, ONE)
    assert _chain(pm.mulRateUp, amount, rate) == _uint(math.ceil(product))
    assert _chain(pm.mulRateDown, amount, rate) == _uint(math.floor(product))
    if rate == 0:
        expected: object = base
    else:
        extra = _uint(math.ceil(product))
        expected = Revert if extra is Revert or base + extra >= U256 else min(base + extra, ONE)
    assert _chain(pm.sizedRate, base, rate, amount) == expected


@settings(max_examples=EXAMPLES)
@given(open_value=INT, part=UINT, whole=UINT)
def test_basis_share_matches_exact_rationals(pm, open_value, part, whole):
    if part == whole:
        expected: object = open_value
    elif whole == 0:
        expected = Revert
    else:
        expected = _int(math.ceil(Fraction(open_value * part, whole)))
    assert _chain(pm.basisShareUp, open_value, part, whole) == expected


@settings(max_examples=EXAMPLES)
@given(size=INT, delta=INT, inverse=st.booleans(), price=UINT)
def test_funding_matches_exact_rationals(pm, size, delta, inverse, price):
    owed = 0 if size == 0 or delta == 0 else math.ceil(Fraction(size * delta, ONE))
    assert _chain(pm.fundingOwedUp, size, delta) == _int(owed)
    if inverse and price == 0:
        per_unit: object = Revert
    else:
        q = Fraction(abs(delta) * ONE, price) if inverse else Fraction(abs(delta) * price, ONE)
        m = math.floor(q)
        per_unit = _int(m if delta >= 0 else -m)
    assert _chain(pm.fundingPerUnit, inverse, delta, price) == per_unit


@pytest.mark.parametrize("a", [HANDOVER - 1, HANDOVER])
@pytest.mark.parametrize("b", [1, ONE - 1, ONE + 7, HANDOVER - 1, HANDOVER, 3 * HANDOVER + 5])
def test_handover_boundary_rounds_like_mul_div(pm, a, b):
    """Both sides of the 2^128 switch, in both argument orders, with non-zero remainders."""
    for x, y in ((a, b), (b, a)):
        product = Fraction(x * y, ONE)
        assert _chain(pm.mulRateUp, x, y) == _uint(math.ceil(product))
        assert _chain(pm.mulRateDown, x, y) == _uint(math.floor(product))
        assert _chain(pm.notionalUp, True, x, y) == _uint(math.ceil(Fraction(x * ONE, y)))
        assert _chain(pm.basisShareUp, -x, y, y + 1) == _int(math.ceil(Fraction(-x * y, y + 1)))
        assert _chain(pm.basisShareUp, x, y, y + 1) == _int(math.ceil(Fraction(x * y, y + 1)))
