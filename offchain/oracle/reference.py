"""Exact Python reference of MedianOracle's index maths (median, isolation, quorum, jump cap, volatility).

Every function mirrors the Solidity code bit for bit (integer arithmetic, same rounding), so tests can
compare the contract's answer with ``==``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from math import isqrt

ONE_X18 = 10**18
VOLATILITY_WINDOW = 24
MAX_RETURN_X18 = 100 * ONE_X18


class Breaker(IntEnum):
    """Circuit-breaker state, same values as ``IMedianOracle.Breaker``."""

    NONE = 0
    QUORUM_LOST = 1
    JUMP_CAPPED = 2


@dataclass(frozen=True)
class OracleParams:
    """Governed parameters of one asset."""

    quorum: int
    max_age: int
    max_deviation_x18: int
    jump_cap_x18: int
    sample_interval: int = 3600


@dataclass(frozen=True)
class StoredReport:
    """The latest accepted report of one source."""

    price_x18: int
    timestamp: int


@dataclass(frozen=True)
class IndexOutcome:
    """What one update does to the index."""

    raw_median_x18: int
    agreeing: int
    isolated: frozenset[str]
    breaker: Breaker
    price_x18: int | None  # None: quorum lost, index unchanged
    updated_at: int | None
    median_x18: int | None  # median of agreeing sources before the jump cap


def ceil_div(a: int, b: int) -> int:
    """Ceiling of a / b for non-negative integers."""
    return -(-a // b)


def median_of_sorted(values: list[int]) -> int:
    """Middle element (odd count) or floor of the mean of the two middle elements (even count)."""
    if not values:
        raise ValueError("median of an empty list")
    n = len(values)
    if n % 2 == 1:
        return values[n // 2]
    return (values[n // 2 - 1] + values[n // 2]) // 2


def deviates(price_x18: int, reference_x18: int, max_deviation_x18: int) -> bool:
    """Strictly more than ``max_deviation_x18`` (relative) from the reference; the threshold itself is kept."""
    return abs(price_x18 - reference_x18) * ONE_X18 > max_deviation_x18 * reference_x18


def clamp_move(previous_x18: int, target_x18: int, cap_x18: int) -> tuple[int, bool]:
    """Limit a move to ``previous * cap`` (step rounded down); return (price, clamped)."""
    if not deviates(target_x18, previous_x18, cap_x18):
        return target_x18, False
    step = previous_x18 * cap_x18 // ONE_X18
    return (previous_x18 + step if target_x18 > previous_x18 else previous_x18 - step), True


def fresh_reports(reports: Mapping[str, StoredReport], now: int, max_age: int) -> dict[str, StoredReport]:
    """Reports with a price whose age is at most ``max_age`` seconds."""
    return {s: r for s, r in reports.items() if r.price_x18 != 0 and now - r.timestamp <= max_age}


def compute_index(
    reports: Mapping[str, StoredReport], now: int, params: OracleParams, previous_x18: int
) -> IndexOutcome:
    """The index after an update, given every registered source's latest report (``previous_x18`` 0 = none yet)."""
    fresh = fresh_reports(reports, now, params.max_age)
    if not fresh:
        return IndexOutcome(0, 0, frozenset(), Breaker.QUORUM_LOST, None, None, None)
    ordered = sorted(r.price_x18 for r in fresh.values())
    raw = median_of_sorted(ordered)
    isolated = frozenset(s for s, r in fresh.items() if deviates(r.price_x18, raw, params.max_deviation_x18))
    kept = {s: r for s, r in fresh.items() if s not in isolated}
    if len(kept) < params.quorum:
        return IndexOutcome(raw, len(kept), isolated, Breaker.QUORUM_LOST, None, None, None)
    median = median_of_sorted(sorted(r.price_x18 for r in kept.values()))
    price, capped = (median, False) if previous_x18 == 0 else clamp_move(previous_x18, median, params.jump_cap_x18)
    oldest = min(r.timestamp for r in kept.values())
    breaker = Breaker.JUMP_CAPPED if capped else Breaker.NONE
    return IndexOutcome(raw, len(kept), isolated, breaker, price, oldest, median)


@dataclass
class VolatilityModel:
    """Reference of ``OracleVolatilityLib``: ring of time-normalised squared returns, rounded up."""

    last_price_x18: int = 0
    last_sample_at: int = 0
    squares_x18: list[int] = field(default_factory=list)

    def try_sample(self, price_x18: int, timestamp: int, interval: int) -> tuple[bool, int]:
        """Record a sample if ``interval`` has passed; return (sampled, signed return x18)."""
        last = self.last_price_x18
        if last != 0 and timestamp < self.last_sample_at + interval:
            return False, 0
        signed = 0
        if last != 0:
            elapsed = timestamp - self.last_sample_at
            abs_return = min(ceil_div(abs(price_x18 - last) * ONE_X18, last), MAX_RETURN_X18)
            square = ceil_div(abs_return * abs_return, ONE_X18)
            self.squares_x18 = [*self.squares_x18, ceil_div(square * interval, elapsed)][-VOLATILITY_WINDOW:]
            signed = abs_return if price_x18 >= last else -abs_return
        self.last_price_x18 = price_x18
        self.last_sample_at = timestamp
        return True, signed

    def volatility_x18(self) -> int:
        """sqrt(mean of squares) per interval, every step rounded up; 0 before the first return."""
        if not self.squares_x18:
            return 0
        variance = ceil_div(sum(self.squares_x18), len(self.squares_x18))
        return isqrt_ceil(variance * ONE_X18)


def isqrt_ceil(value: int) -> int:
    """Smallest integer r with r * r >= value."""
    root = isqrt(value)
    return root if root * root == value else root + 1


def twap_x18(cumulative_a: int, time_a: int, cumulative_b: int, time_b: int) -> int:
    """Time-weighted average price between two accumulator readings (rounded down)."""
    if time_b <= time_a:
        raise ValueError(f"TWAP needs time_b > time_a, got {time_a} and {time_b}")
    return (cumulative_b - cumulative_a) // (time_b - time_a)
