"""Decoder of the engine's ``FillsApplied(bytes fills)`` event (layout: contracts/libraries/FillLog.sol).

One record per fill, in order::

    leg(taker) || leg(maker) || fill
    leg  = uint8 leg || int128 sizeX18 || int128 openValueX18 || int128 realisedPnlX18          (49 bytes)
    fill = uint32 marketId || address maker || address taker || uint8 takerIsBuy
           || uint128 sizeX18 || uint128 priceX18 || uint128 takerFeeX18 || uint128 makerRebateX18  (109 bytes)

Leg fields are the leg's state after the fill, as a ``PositionUpdated`` event reports it; the engine
emits ``PositionUpdated`` only for legs changed outside fills (liquidation trades).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address

LEG_BYTES = 49
FILL_BYTES = 109
RECORD_BYTES = 2 * LEG_BYTES + FILL_BYTES


@dataclass(frozen=True)
class LegUpdate:
    """A position leg after a fill (the fields of ``PositionUpdated``)."""

    account: str
    marketId: int
    leg: int
    sizeX18: int
    openValueX18: int
    realisedPnlX18: int

    def as_args(self) -> dict[str, Any]:
        """The update as ``PositionUpdated`` event arguments."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class AppliedFill:
    """One fill of a ``FillsApplied`` event."""

    marketId: int
    maker: str
    taker: str
    takerIsBuy: bool
    sizeX18: int
    priceX18: int
    takerFeeX18: int
    makerRebateX18: int
    taker_leg: LegUpdate
    maker_leg: LegUpdate


def _signed(raw: bytes) -> int:
    return int.from_bytes(raw, "big", signed=True)


def _leg(raw: bytes, account: str, market: int) -> LegUpdate:
    return LegUpdate(account, market, raw[0], _signed(raw[1:17]), _signed(raw[17:33]), _signed(raw[33:49]))


def decode_fills_applied(data: bytes) -> list[AppliedFill]:
    """Every fill record of a ``FillsApplied`` event's ``fills`` field."""
    data = bytes(data)
    if len(data) % RECORD_BYTES:
        raise ValueError(f"FillsApplied: {len(data)} bytes is not a multiple of {RECORD_BYTES}")
    out = []
    for k in range(0, len(data), RECORD_BYTES):
        taker_raw, maker_raw = data[k : k + LEG_BYTES], data[k + LEG_BYTES : k + 2 * LEG_BYTES]
        f = data[k + 2 * LEG_BYTES : k + RECORD_BYTES]
        market = int.from_bytes(f[0:4], "big")
        maker, taker = to_checksum_address(f[4:24]), to_checksum_address(f[24:44])
        if f[44] > 1:
            raise ValueError(f"FillsApplied: takerIsBuy byte {f[44]} of fill {k // RECORD_BYTES}")
        nums = [int.from_bytes(f[o : o + 16], "big") for o in (45, 61, 77, 93)]
        out.append(
            AppliedFill(
                market, maker, taker, f[44] == 1, *nums, _leg(taker_raw, taker, market), _leg(maker_raw, maker, market)
            )
        )
    return out


def position_updates(data: bytes) -> list[LegUpdate]:
    """The leg updates of a ``FillsApplied`` event in the order the engine applied them (taker, then maker)."""
    return [leg for f in decode_fills_applied(data) for leg in (f.taker_leg, f.maker_leg)]


def fills_applied(receipt: Any, engine: Any) -> list[AppliedFill]:
    """Every fill the engine applied in an ape transaction receipt."""
    return [f for ev in receipt.events.filter(engine.FillsApplied) for f in decode_fills_applied(ev.fills)]
