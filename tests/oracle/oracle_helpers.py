"""Constants and the signing/submitting driver shared by the oracle tests."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from ape import networks
from ape.exceptions import ContractLogicError, CustomError
from eth_utils import keccak
from hexbytes import HexBytes
from web3.exceptions import ContractCustomError as Web3ContractCustomError

from offchain.oracle.deploy import AssetSpec
from offchain.oracle.reference import OracleParams
from offchain.oracle.signing import ReportSigner, SignedReport, asset_id
from offchain.oracle.submitter import build_bundle

ETH = asset_id("ETH")
BTC = asset_id("BTC")
SPEC = AssetSpec("ETH", quorum=3, max_age=60, max_deviation_x18=5 * 10**16, jump_cap_x18=10**17, sample_interval=3600)
PARAMS = OracleParams(SPEC.quorum, SPEC.max_age, SPEC.max_deviation_x18, SPEC.jump_cap_x18, SPEC.sample_interval)
SOURCE_COUNT = 5


def source_key(i: int) -> bytes:
    """Deterministic private key of test source ``i``."""
    return keccak(text=f"perpx-oracle-test-source-{i}")


class OracleDriver:
    """Signs reports as the test sources and submits them, controlling block time exactly."""

    def __init__(self, oracle: Any, chain: Any, signers: Sequence[ReportSigner], sender: Any) -> None:
        self.oracle = oracle
        self.chain = chain
        self.signers = list(signers)
        self.sender = sender

    @property
    def sources(self) -> list[str]:
        return [s.address for s in self.signers]

    def next_time(self, dt: int = 1) -> int:
        """Set the next block's timestamp ``dt`` seconds after the head and return it."""
        ts = self.chain.blocks.head.timestamp + dt
        self.chain.pending_timestamp = ts
        return ts

    def warp(self, dt: int) -> None:
        """Mine an empty block ``dt`` seconds later."""
        self.chain.pending_timestamp = self.chain.blocks.head.timestamp + dt
        self.chain.mine()

    def sign(self, i: int, price_x18: int, ts: int, asset: bytes = ETH) -> SignedReport:
        return self.signers[i].sign(asset, price_x18, ts)

    def reports(self, prices: Mapping[int, int], ts: int, asset: bytes = ETH) -> list[SignedReport]:
        return [self.sign(i, p, ts, asset) for i, p in prices.items()]

    def submit(self, prices: Mapping[int, int] | Sequence[int], asset: bytes = ETH, dt: int = 1, sender: Any = None):
        """Sign ``prices`` (source index -> price, or a list for sources 0..n-1) at the next block time and submit."""
        if not isinstance(prices, Mapping):
            prices = dict(enumerate(prices))
        ts = self.next_time(dt)
        return self.submit_reports(self.reports(prices, ts, asset), sender=sender)

    def submit_reports(self, reports: Sequence[SignedReport], sender: Any = None):
        return self.oracle.update(build_bundle(reports), sender=sender or self.sender)


@contextmanager
def reverts(error: type, **inputs: Any) -> Iterator[None]:
    """Strict ``ape.reverts(error, **inputs)``.

    On anvil, ape decodes custom errors of transactions but not of ``eth_call`` (views): it raises a plain
    ``ContractLogicError`` and ``ape.reverts`` then accepts any error and any inputs. This helper fails on
    an undecoded revert (wrap views in :func:`call_view`), another error name, a missing input name or a
    different value.
    """
    try:
        yield
    except ContractLogicError as exc:
        assert isinstance(exc, CustomError), (
            f"expected {error.__name__}, got an undecoded revert {exc!r} (views: call_view)"
        )
        decoded = exc
        assert type(decoded).__name__ == error.__name__, f"expected {error.__name__}, got {type(decoded).__name__}"
        for name, expected in inputs.items():
            assert name in decoded.inputs, f"{error.__name__} has no input {name!r}: {decoded.inputs}"
            actual = decoded.inputs[name]
            assert actual == expected, f"{error.__name__}.{name}: expected {expected!r}, got {actual!r}"
    else:
        raise AssertionError(f"expected revert {error.__name__}, but the call succeeded")


def call_view(contract: Any, method: str, *args: Any) -> bytes:
    """Run a view through web3 so that a revert surfaces as ape's decoded custom error.

    Use inside :func:`reverts` for views: anvil's ``eth_call`` error reaches ape with the revert data
    flattened into a string, so ape cannot decode it; web3 keeps the raw data.
    """
    data = getattr(contract, method).encode_input(*args)
    try:
        return bytes(networks.provider.web3.eth.call({"to": contract.address, "data": data}))
    except Web3ContractCustomError as err:
        decoded = networks.provider.network.ecosystem.decode_custom_error(HexBytes(err.data), contract.address)
        if decoded is None:
            raise AssertionError(f"revert data {err.data} is not an error of {contract.contract_type.name}") from err
        raise decoded from None
