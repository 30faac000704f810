"""Wei-exact Python twin of contracts/liquidation/LiquidationMath.sol and of the ADL ranking key and step cut
(AdlRanking, AdlModule)."""

from __future__ import annotations

ONE = 10**18


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def close_price(is_long: bool, index: int, gamma: int) -> int:
    """Longs ``index (1 - gamma)`` rounded down, shorts ``index (1 + gamma)`` rounded up."""
    return index * (ONE - gamma) // ONE if is_long else ceil_div(index * (ONE + gamma), ONE)


def tiered_reward(tiers: list[tuple[int, int]], notional: int) -> int:
    """Marginal brackets ``(from_notional, rate)``, each bracket rounded down."""
    reward = 0
    for i, (start, rate) in enumerate(tiers):
        if notional <= start:
            break
        end = min(notional, tiers[i + 1][0]) if i + 1 < len(tiers) else notional
        reward += (end - start) * rate // ONE
    return reward


def gamma_for(tiers: list[tuple[int, int]], depth: int) -> int:
    """Gamma of the deepest step ``(min_depth, gamma)`` reached by ``depth``."""
    g = 0
    for min_depth, gamma in tiers:
        if depth < min_depth:
            break
        g = gamma
    return g


def bankruptcy_price(size: int, index: int, equity: int) -> int:
    """``index - equity / size`` rounded so the account ends at or above zero (0 if non-positive)."""
    exact_num = index * size - equity * ONE  # price * size = index * size - equity  (X18 * X18)
    p = ceil_div(exact_num, size) if size > 0 else (-exact_num) // (-size)  # long up, short down
    return max(p, 0)


def inverse_bankruptcy_price(size: int, index: int, equity: int) -> int:
    """``|size| index / (|size| + sign(size) equity index)``: long rounded up, short down (0 if none)."""
    sign = 1 if size > 0 else -1
    t_num = sign * equity * index  # X36
    t = -((-t_num) // ONE) if size < 0 else t_num // ONE  # long toward -inf, short toward +inf
    denominator = abs(size) + t
    if denominator <= 0:
        return 0
    num = abs(size) * index
    return ceil_div(num, denominator) if size > 0 else num // denominator


def adl_score(pnl: int, notional: int, equity: int) -> int:
    """``pnl * notional / equity`` rounded down, 0 unless pnl and equity are positive."""
    if pnl <= 0 or equity <= 0:
        return 0
    return pnl * notional // equity


PROFIT_TIER = 1 << 128  # AdlRanking.PROFIT_TIER: keys at or above it belong to legs in profit
MIN_VICTIM_EQUITY = 4 * 10**6  # AdlRanking.MIN_VICTIM_EQUITY
VICTIM_RESERVE = 2 * 10**6  # AdlModule.VICTIM_RESERVE


def adl_rank_key(pnl: int, notional: int, equity: int) -> int:
    """AdlRanking's two-tier key: profit tier ``PROFIT_TIER + profit x leverage`` for a leg in profit, else
    the account's equity (the fallback when nobody is in profit); 0 (never a victim) at or below
    ``MIN_VICTIM_EQUITY``."""
    if equity <= MIN_VICTIM_EQUITY:
        return 0
    if pnl <= 0:
        return min(equity, PROFIT_TIER - 1)
    return PROFIT_TIER + min(adl_score(pnl, notional, equity), PROFIT_TIER - 1)


def adl_absorbable(closed: int, victim_loss: int, victim_equity: int) -> int:
    """AdlModule's cut of a step: what the victim's equity absorbs above ``VICTIM_RESERVE`` (``victim_loss``
    is its loss against the index at the bankruptcy price for ``closed``); 0 means the step is refused."""
    usable = victim_equity - VICTIM_RESERVE
    if victim_loss <= 0 or victim_loss <= usable:
        return closed
    return closed * usable // victim_loss if usable > 0 else 0
