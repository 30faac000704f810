"""On-chain rounding edges the other suites do not pin to the wei (SECURITY C10, P7).

A linear market with tick = lot = 1 wei lets a single fill produce a notional and a margin requirement
that are not whole atoms; the engine must report requirements rounded up (ceil of the exact product,
notional itself rounded up first) and equity rounded down, against an exact Fraction reference.
"""

from __future__ import annotations

import math
from fractions import Fraction

from eth_utils import keccak

from offchain.perp.deploy import deploy_perp, risk_params, trading_params
from offchain.perp.math import ONE
from offchain.perp.model import Fill

ASSET = keccak(text="AUDIT-EDGE")
TREASURY = "0x00000000000000000000000000000000000000A1"
USDC = 10**6
MMR = 2 * ONE // 100  # 2%: requirement = notional / 50


def _edge_price(size: int) -> int:
    """A price near 2000 whose notional for ``size`` is fractional and rounds up to 1 mod 50.

    Then notional / 50 has a fractional part of at most 1/50: rounding the notional down (or the
    requirement down) changes the requirement by one atom, which the test sees.
    """
    price = 2_000 * ONE + 7
    while True:
        exact = Fraction(size * price, ONE)
        if exact.denominator != 1 and math.ceil(exact) % 50 == 1:
            return price
        price += 1


def test_requirements_round_up_against_fractions(project, chain, admin, core, operator, vault, usdc, traders):
    alice, bob, _ = traders
    oracle = project.MockPriceOracle.deploy(sender=admin)
    perp = deploy_perp(project, admin, core, oracle, treasury=TREASURY, insurance_fund=TREASURY, settlers=[operator])
    perp.fees.setTiers([[i, 0, 0] for i in range(6)], sender=admin)
    perp.registry.listMarket(ASSET, usdc, 0, risk_params(20, MMR), trading_params(1, 1), sender=admin)
    market = perp.registry.marketCount()
    for t in (alice, bob):
        usdc.mint(t, 1_000 * USDC, sender=t)
        usdc.approve(vault, 1_000 * USDC, sender=t)
        vault.deposit(usdc, 1_000 * USDC, sender=t)
    size = ONE + 1
    price = _edge_price(size)
    oracle.setPrice(ASSET, price, sender=admin)
    fill = Fill(market, str(alice), str(bob), True, size, price, 0, 0)
    perp.engine.applyFills([fill.as_tuple()], sender=operator)

    exact_notional = Fraction(size * price, ONE)
    notional_up = math.ceil(exact_notional)
    imr = risk_params(20, MMR)[0]
    for account in (alice, bob):
        assert perp.engine.maintenanceMargin(account, usdc) == math.ceil(Fraction(notional_up * MMR, ONE))
        assert perp.engine.initialMargin(account, usdc) == math.ceil(Fraction(notional_up * imr, ONE))
        # marked at the entry price the exact PnL is zero; cash rounding may only cost the trader
        assert perp.engine.equity(account, usdc) <= 1_000 * USDC * 10**12
    # the exact requirement is strictly below the reported one: the rounding really happened
    assert Fraction(notional_up * MMR, ONE) < perp.engine.maintenanceMargin(alice, usdc)
    assert exact_notional * MMR / ONE < math.ceil(Fraction(notional_up * MMR, ONE))
