"""Custodian reserve attestor: reads the shares held from a reserve source, signs an EIP-712
attestation with the custodian key and posts it to the StockToken.

    python -m offchain.bridge.attestor --rpc http://127.0.0.1:8545 --stock 0x... \
        --reserve-file reserves.json --custodian-key-env CUSTODIAN_KEY --poster-key-env KEEPER_KEY

``reserves.json``: ``{"<stock address or symbol>": {"shares": "<18-decimal units>", "report": "<text>"}}``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import click
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from offchain.bridge.artifacts import DEFAULT_BUILD, load_artifact
from offchain.bridge.deploy import send
from offchain.bridge.messages import sign_typed

log = logging.getLogger("rwa.attestor")

_TYPE = [
    {"name": "stock", "type": "address"},
    {"name": "sharesHeld", "type": "uint256"},
    {"name": "reportHash", "type": "bytes32"},
    {"name": "timestamp", "type": "uint64"},
    {"name": "nonce", "type": "uint64"},
]
_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


@dataclass(frozen=True)
class ReserveReport:
    """What the custodian observed."""

    shares: int
    report: bytes

    @property
    def report_hash(self) -> bytes:
        """keccak256 of the full report document."""
        return keccak(self.report)


class ReserveSource(Protocol):
    """Where the custodian's holdings come from (bank API, file drop, ...)."""

    def read(self, stock: str, symbol: str) -> ReserveReport:
        """The current holding of ``stock``."""
        ...


@dataclass(frozen=True)
class JsonFileReserveSource:
    """Holdings from a JSON file keyed by stock address or symbol."""

    path: Path

    def read(self, stock: str, symbol: str) -> ReserveReport:
        data = json.loads(self.path.read_text())
        entry = data.get(stock) or data.get(symbol)
        if entry is None:
            raise KeyError(f"{self.path}: no reserve entry for {symbol} ({stock})")
        return ReserveReport(shares=int(entry["shares"]), report=str(entry.get("report", "")).encode())


def attestation_typed_data(
    chain_id: int, stock: str, shares: int, report_hash: bytes, timestamp: int, nonce: int
) -> dict[str, Any]:
    """EIP-712 typed data of a reserve attestation (domain: the StockToken on ``chain_id``)."""
    stock = to_checksum_address(stock)
    return {
        "types": {"EIP712Domain": _DOMAIN_TYPE, "ReserveAttestation": _TYPE},
        "primaryType": "ReserveAttestation",
        "domain": {"name": "perpx StockToken", "version": "1", "chainId": chain_id, "verifyingContract": stock},
        "message": {
            "stock": stock,
            "sharesHeld": shares,
            "reportHash": report_hash,
            "timestamp": timestamp,
            "nonce": nonce,
        },
    }


def sign_attestation(
    key: bytes | str, chain_id: int, stock: str, shares: int, report_hash: bytes, timestamp: int, nonce: int
) -> bytes:
    """The custodian's signature of an attestation."""
    return sign_typed(key, attestation_typed_data(chain_id, stock, shares, report_hash, timestamp, nonce))


class Attestor:
    """Signs and posts one StockToken's attestations."""

    def __init__(self, stock: Any, custodian: LocalAccount, poster: LocalAccount, source: ReserveSource) -> None:
        self.stock = stock
        self.custodian = custodian
        self.poster = poster
        self.source = source
        onchain = stock.functions.custodian().call()
        if onchain != custodian.address:
            raise ValueError(f"custodian key {custodian.address} is not the token's custodian {onchain}")

    def attest_once(self) -> int:
        """Post a fresh attestation; returns its nonce."""
        w3 = self.stock.w3
        symbol = self.stock.functions.symbol().call()
        report = self.source.read(self.stock.address, symbol)
        nonce = self.stock.functions.latestAttestation().call()[3] + 1
        timestamp = w3.eth.get_block("latest")["timestamp"]
        sig = sign_attestation(
            self.custodian.key, w3.eth.chain_id, self.stock.address, report.shares, report.report_hash, timestamp, nonce
        )
        receipt = send(
            w3,
            self.poster,
            self.stock.functions.postAttestation(report.shares, report.report_hash, timestamp, nonce, sig),
        )
        log.info(
            "%s: attested %d shares (nonce %d, report %s) in block %d, gas %d",
            symbol,
            report.shares,
            nonce,
            report.report_hash.hex()[:16],
            receipt["blockNumber"],
            receipt["gasUsed"],
        )
        return nonce


def _key(env: str) -> LocalAccount:
    value = os.environ.get(env)
    if not value:
        raise click.BadParameter(f"environment variable {env} is empty or unset")
    return Account.from_key(value)


@click.command(name="reserve_attestor")
@click.option("--rpc", required=True, help="RPC URL of the chain holding the StockToken.")
@click.option("--stock", required=True, help="StockToken address.")
@click.option(
    "--reserve-file", required=True, type=click.Path(exists=True, dir_okay=False), help="JSON reserve source."
)
@click.option("--custodian-key-env", required=True, help="Env var with the custodian's signing key.")
@click.option("--poster-key-env", required=True, help="Env var with the key paying for postAttestation.")
@click.option("--build-file", default=str(DEFAULT_BUILD), show_default=True, help="ape build manifest (ABI source).")
@click.option("--interval", default=3600.0, show_default=True, help="Seconds between attestations.")
@click.option("--once", is_flag=True, help="Attest once and exit.")
def main(
    rpc: str,
    stock: str,
    reserve_file: str,
    custodian_key_env: str,
    poster_key_env: str,
    build_file: str,
    interval: float,
    once: bool,
) -> None:
    """Sign the custodian's reserve holdings and post them to a StockToken, every INTERVAL seconds."""
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", stream=sys.stderr)
    w3 = Web3(Web3.HTTPProvider(rpc))
    contract = w3.eth.contract(address=to_checksum_address(stock), abi=load_artifact("StockToken", build_file).abi)
    attestor = Attestor(
        contract, _key(custodian_key_env), _key(poster_key_env), JsonFileReserveSource(Path(reserve_file))
    )
    while True:
        attestor.attest_once()
        if once:
            return
        time.sleep(interval)


if __name__ == "__main__":
    main()
