"""Small helpers shared by the perpetual engine tests."""

from __future__ import annotations

from eth_utils import keccak

from offchain.perp.math import ONE
from offchain.perp.model import EngineModel, Fill, MarketSpec, Tier

USDC = 10**6
ETH = keccak(text="ETH")
BTC = keccak(text="BTC")
TREASURY = "0x00000000000000000000000000000000000000A1"
INSURANCE = "0x00000000000000000000000000000000000000A2"
TICK = 10**14
LOT = 10**15
INV_LOT = ONE  # one USD contract


def fill(market: int, maker, taker, size: int, price: int, *, buy: bool = True, mflags: int = 0, tflags: int = 0):
    """A model Fill between two ape accounts (taker buys by default)."""
    return Fill(market, str(maker), str(taker), buy, size, price, mflags, tflags)


def apply(engine, operator, *fills: Fill):
    """Send the fills through applyFills as the settler."""
    return engine.applyFills([f.as_tuple() for f in fills], sender=operator)


def usd(x: int | float) -> int:
    """Whole or fractional USD as 18-decimal fixed point (exact for the literals used in tests)."""
    return round(x * 10**6) * 10**12


def eth(x: int | float) -> int:
    return round(x * 10**6) * 10**12


def make_model(registry, oracle, markets, vault, accounts, tokens, engine) -> EngineModel:
    """A reference model mirroring the chain's markets, prices, fee tiers and Vault balances."""
    model = EngineModel(engine=str(engine.address))
    for mid in markets.values():
        m = registry.getMarket(mid)
        model.markets[mid] = MarketSpec(
            asset=bytes(m.asset),
            token=str(m.token),
            inverse=m.kind == 1,
            imr=m.risk.imrX18,
            mmr_base=m.risk.mmrBaseX18,
            vol_factor=m.risk.volFactorX18,
            mmr_max=m.risk.mmrMaxX18,
            tick=m.trading.tickSizeX18,
            lot=m.trading.lotSizeX18,
            min_notional=m.trading.minNotionalX18,
            oi_cap=m.trading.openInterestCapX18,
            max_position=m.trading.maxPositionX18,
            status=m.status,
            imr_slope=m.risk.imrSlopeX18,
        )
        model.prices[bytes(m.asset)] = oracle.getPrice(m.asset)[0]
        model.volatility[bytes(m.asset)] = oracle.volatilityX18(m.asset)
    sync_vault(model, vault, [*accounts, str(engine.address)], tokens)
    return model


def sync_vault(model: EngineModel, vault, accounts, tokens) -> None:
    for a in accounts:
        for t in tokens:
            model.vault[(str(a), str(t))] = vault.balances(a, t)


def sync_fees(model: EngineModel, fees) -> None:
    model.tiers = []
    for i in range(6):
        t = fees.tier(i)
        model.tiers.append(Tier(t.minVolumeUsdX18, t.takerRateX18, t.makerRebateRateX18))
    model.api_discount = fees.apiDiscountX18()
    model.insurance_share = fees.insuranceShareX18()
