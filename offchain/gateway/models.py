"""Request and response bodies of the gateway (the OpenAPI schema is generated from these).

Big integers (X18 sizes and prices, nonces, expiries) are accepted as JSON integers or decimal strings and
always returned as decimal strings, so JavaScript clients never lose precision.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, WithJsonSchema

ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"
HASH_PATTERN = r"^0x[0-9a-fA-F]{64}$"
SIGNATURE_PATTERN = r"^0x[0-9a-fA-F]{130}$"


def _decimal_int(value: Any) -> Any:
    if isinstance(value, str):
        if not value.isascii() or not value.isdigit() or len(value) > 78:
            raise ValueError("must be a non-negative decimal integer (digits only, at most 78)")
        return int(value)
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    return value


def uint(bits: int, description: str) -> Any:
    """An unsigned integer of ``bits`` bits, as a JSON integer or a decimal string."""
    return Annotated[
        int,
        BeforeValidator(_decimal_int),
        Field(ge=0, lt=1 << bits, description=description),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "integer", "minimum": 0, "maximum": (1 << bits) - 1},
                    {"type": "string", "pattern": "^[0-9]{1,78}$"},
                ],
                "description": f"{description} (uint{bits}; integer or decimal string)",
            }
        ),
    ]


Address = Annotated[str, Field(pattern=ADDRESS_PATTERN, description="0x-prefixed 20-byte hex address")]
Hash = Annotated[str, Field(pattern=HASH_PATTERN, description="0x-prefixed 32-byte hex")]
Decimal = Annotated[str, Field(description="decimal integer (X18 fixed point where the name says so)")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrderIn(Strict):
    """The Settlement contract's EIP-712 ``Order`` struct, field for field."""

    trader: Address
    marketId: uint(32, "market id")  # type: ignore[valid-type]
    isBuy: StrictBool
    leg: uint(8, "0 one-way, 1 hedge long, 2 hedge short")  # type: ignore[valid-type]
    flags: uint(16, "bits: 1 reduce-only, 2 post-only, 4 IOC, 8 FOK, 16 via API (required)")  # type: ignore[valid-type]
    leverage: uint(16, "1..market max leverage")  # type: ignore[valid-type]
    size: uint(128, "base units X18")  # type: ignore[valid-type]
    limitPrice: uint(128, "USD per base unit X18")  # type: ignore[valid-type]
    maxFeeRate: uint(64, "highest acceptable fee rate X18 (1e18 = 100%)")  # type: ignore[valid-type]
    nonce: uint(64, "order nonce")  # type: ignore[valid-type]
    expiry: uint(64, "unix seconds")  # type: ignore[valid-type]


class SubmitOrderRequest(Strict):
    """A signed order. ``chainId``/``verifyingContract`` are optional; when given they must match the gateway's."""

    order: OrderIn
    signature: str = Field(pattern=SIGNATURE_PATTERN, description="65-byte r||s||v, v in {27, 28}")
    chainId: int | None = Field(default=None, ge=0, lt=1 << 256)
    verifyingContract: Address | None = None


class FillOut(BaseModel):
    seq: int
    marketId: int
    price: Decimal
    size: Decimal
    maker: Address
    taker: Address
    makerOrder: Hash
    takerOrder: Hash
    takerIsBuy: bool
    timestamp: int


class OrderOut(BaseModel):
    hash: Hash
    trader: Address
    marketId: int
    isBuy: bool
    limitPrice: Decimal
    size: Decimal
    remaining: Decimal
    status: str = Field(description="accepted, partially_filled, filled, cancelled, reduced or rejected")
    reason: str = ""
    createdAt: int
    updatedAt: int


class SubmitOrderResponse(BaseModel):
    order: OrderOut
    fills: list[FillOut]


class CancelAllRequest(Strict):
    marketId: int | None = Field(default=None, ge=0, lt=1 << 32, description="only this market (all when null)")


class CancelAllResponse(BaseModel):
    cancelled: list[Hash]


class MarketOut(BaseModel):
    marketId: int
    symbol: str
    tickSize: Decimal
    lotSize: Decimal
    maxLeverage: int


class BookOut(BaseModel):
    marketId: int
    seq: int = Field(description="depth sequence number: stream updates with a higher seq apply on top")
    bids: list[list[Decimal]] = Field(description="[price, size] pairs, best first")
    asks: list[list[Decimal]] = Field(description="[price, size] pairs, best first")


class PositionOut(BaseModel):
    marketId: int
    leg: int
    size: Decimal = Field(description="signed, base units X18 (inverse: USD X18)")
    openValue: Decimal
    indexPrice: Decimal
    maintenanceRate: Decimal
    liquidationPrice: Decimal | None = Field(description="estimated index price of liquidation, other prices fixed")


class AccountOut(BaseModel):
    account: Address
    token: Address
    collateral: Decimal
    equity: Decimal
    initialMargin: Decimal
    maintenanceMargin: Decimal
    marginRatio: Decimal | None = Field(description="Equity / InitialMargin X18; null without positions")
    liquidatable: bool
    positions: list[PositionOut]


class ChallengeRequest(Strict):
    account: Address


class ChallengeResponse(BaseModel):
    account: Address
    nonce: Hash
    expiry: int
    typedData: dict[str, Any] = Field(description="EIP-712 typed data to sign (eth_signTypedData_v4)")


class LoginRequest(Strict):
    account: Address
    nonce: Hash
    signature: str = Field(pattern=SIGNATURE_PATTERN)


class LoginResponse(BaseModel):
    token: str
    account: Address
    signer: Address
    expiry: int


class ErrorOut(BaseModel):
    error: str
    message: str


class HealthOut(BaseModel):
    status: Literal["ok"]
    markets: int
    openOrders: int
    appliedSeq: int
    wsClients: int
