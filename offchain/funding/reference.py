"""Wei-exact Python twin of contracts/funding/FundingMath.sol and the FundingModule schedule.

``F = alpha (Pc - Pi) / Pi + beta (Ptwap - Pi) / Pi``, one division truncated toward zero, then the
rate-of-change cap around the previous rate and the absolute cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ONE = 10**18
INTERVAL = 8 * 3600


def tdiv(a: int, b: int) -> int:
    """Integer division truncating toward zero (Solidity's signed ``/``)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def premium_rate(contract: int, twap: int, index: int, alpha: int, beta: int) -> int:
    """The unclamped rate for one interval, 18 decimals."""
    return tdiv(alpha * (contract - index) + beta * (twap - index), index)


def clamp(x: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, x))


def clamp_rate(raw: int, prev: int, max_rate: int, max_change: int) -> int:
    """Absolute cap, then change cap around ``prev``, then absolute cap again."""
    r = clamp(raw, -max_rate, max_rate)
    r = clamp(r, prev - max_change, prev + max_change)
    return clamp(r, -max_rate, max_rate)


def within_band(a: int, b: int, bound: int) -> bool:
    """``|a - b| <= b * bound / 1e18`` exactly."""
    return abs(a - b) * ONE <= b * bound


def funding_per_unit(inverse: bool, rate: int, price: int) -> int:
    """Engine index increment for a rate at an index price (PerpMath.fundingPerUnit)."""
    m = abs(rate) * ONE // price if inverse else abs(rate) * price // ONE
    return -m if rate < 0 else m


@dataclass
class FundingSchedule:
    """Reference of one market's accumulator and schedule in FundingModule."""

    alpha: int
    beta: int
    max_rate: int
    max_change: int
    anchor: int
    last_price: int
    last_post_at: int
    last_update_at: int
    cumulative: int = 0
    cumulative_at_update: int = 0
    last_rate: int = 0
    applied: list[int] = field(default_factory=list)

    def post(self, price: int, now: int) -> None:
        self.cumulative += self.last_price * (now - self.last_post_at)
        self.last_post_at = now
        self.last_price = price

    def twap(self, now: int) -> int:
        cum = self.cumulative + self.last_price * (now - self.last_post_at)
        window = now - self.last_update_at
        return self.last_price if window == 0 else (cum - self.cumulative_at_update) // window

    def update(self, now: int, index: int, contract: int | None = None, max_catchup: int = 21) -> list[int]:
        """Rates accrued by an update at ``now`` (``contract`` defaults to the last posted price)."""
        n = min((now - self.anchor) // INTERVAL, max_catchup)
        if n == 0:
            raise ValueError("funding not due")
        cum = self.cumulative + self.last_price * (now - self.last_post_at)
        raw = premium_rate(
            self.last_price if contract is None else contract, self.twap(now), index, self.alpha, self.beta
        )
        rates = []
        rate = self.last_rate
        for _ in range(n):
            rate = clamp_rate(raw, rate, self.max_rate, self.max_change)
            rates.append(rate)
        self.last_rate = rate
        self.anchor += n * INTERVAL
        self.last_update_at = now
        self.cumulative_at_update = cum
        self.applied.extend(rates)
        return rates
