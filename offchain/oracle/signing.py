"""EIP-712 signing of MedianOracle price reports (``PriceReport(bytes32 asset,uint256 priceX18,uint64 timestamp)``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from offchain.eip712 import EIP712_DOMAIN_TYPE

DOMAIN_NAME = "perpx MedianOracle"
DOMAIN_VERSION = "1"
REPORT_TYPES = {
    "PriceReport": [
        {"name": "asset", "type": "bytes32"},
        {"name": "priceX18", "type": "uint256"},
        {"name": "timestamp", "type": "uint64"},
    ]
}


def asset_id(symbol: str) -> bytes:
    """The bytes32 id of an asset: keccak256 of its upper-case symbol (``asset_id("ETH")``)."""
    if not symbol or not symbol.isascii():
        raise ValueError(f"asset symbol must be non-empty ASCII, got {symbol!r}")
    return keccak(text=symbol.upper())


@dataclass(frozen=True)
class SignedReport:
    """A report signed by one source, in the field order of ``IMedianOracle.SignedReport``."""

    asset: bytes
    price_x18: int
    timestamp: int
    v: int
    r: bytes
    s: bytes
    source: str

    def as_tuple(self) -> tuple[int, int, int, bytes, bytes]:
        """ABI tuple (priceX18, timestamp, v, r, s) for ``MedianOracle.update``."""
        return (self.price_x18, self.timestamp, self.v, self.r, self.s)


def typed_message(asset: bytes, price_x18: int, timestamp: int, chain_id: int, oracle: str) -> Any:
    """The EIP-712 signable message of a report for the oracle at ``oracle`` on ``chain_id``."""
    return encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": EIP712_DOMAIN_TYPE,
                **REPORT_TYPES,
            },
            "primaryType": "PriceReport",
            "domain": {
                "name": DOMAIN_NAME,
                "version": DOMAIN_VERSION,
                "chainId": chain_id,
                "verifyingContract": oracle,
            },
            "message": {"asset": asset, "priceX18": price_x18, "timestamp": timestamp},
        }
    )


class ReportSigner:
    """One oracle source: a private key that signs reports for one oracle deployment."""

    def __init__(self, private_key: bytes | str, chain_id: int, oracle: str) -> None:
        self._account = Account.from_key(private_key)
        self.chain_id = chain_id
        self.oracle = str(oracle)

    @property
    def address(self) -> str:
        """The source's address (what the oracle registers)."""
        return self._account.address

    def sign(self, asset: bytes, price_x18: int, timestamp: int) -> SignedReport:
        """Sign ``(asset, price, timestamp)``; the signature is canonical (low s, v in {27, 28})."""
        if price_x18 <= 0:
            raise ValueError(f"price must be positive, got {price_x18}")
        message = typed_message(asset, price_x18, timestamp, self.chain_id, self.oracle)
        signed = self._account.sign_message(message)
        return SignedReport(
            asset=asset,
            price_x18=price_x18,
            timestamp=timestamp,
            v=signed.v,
            r=signed.r.to_bytes(32, "big"),
            s=signed.s.to_bytes(32, "big"),
            source=self.address,
        )
