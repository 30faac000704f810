"""The custodian attestor keeper signs the reserve source's figure and posts it."""

import json
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak

from offchain.bridge.artifacts import load_artifact
from offchain.bridge.attestor import Attestor, JsonFileReserveSource
from rwa.helpers import CUSTODIAN_KEY, OTHER_KEY, SHARE

BUILD = Path(__file__).resolve().parents[2] / ".build/__local__.json"


@pytest.fixture
def w3stock(chain, stock):
    return chain.provider.web3.eth.contract(address=stock.address, abi=load_artifact("StockToken", BUILD).abi)


def test_attestor_posts_signed_reserve(tmp_path, chain, stock, w3stock, keeper, minter, traders):
    reserves = tmp_path / "reserves.json"
    reserves.write_text(json.dumps({"xAAPL": {"shares": str(250 * SHARE), "report": "custody statement #1"}}))
    attestor = Attestor(
        w3stock, Account.from_key(CUSTODIAN_KEY), Account.from_key(keeper.private_key), JsonFileReserveSource(reserves)
    )
    assert attestor.attest_once() == 1
    latest = stock.latestAttestation()
    assert (latest.sharesHeld, latest.nonce, latest.reportHash) == (250 * SHARE, 1, keccak(b"custody statement #1"))
    stock.mint(traders[0], 250 * SHARE, sender=minter)
    assert attestor.attest_once() == 2


def test_attestor_refuses_wrong_key_and_missing_entry(tmp_path, w3stock, keeper):
    reserves = tmp_path / "reserves.json"
    reserves.write_text(json.dumps({"xMSFT": {"shares": "1"}}))
    with pytest.raises(ValueError, match="not the token's custodian"):
        Attestor(
            w3stock, Account.from_key(OTHER_KEY), Account.from_key(keeper.private_key), JsonFileReserveSource(reserves)
        )
    attestor = Attestor(
        w3stock, Account.from_key(CUSTODIAN_KEY), Account.from_key(keeper.private_key), JsonFileReserveSource(reserves)
    )
    with pytest.raises(KeyError, match="no reserve entry"):
        attestor.attest_once()
