"""Constants and the signing/submitting driver shared by the oracle tests."""

from __future__ import annotations

import ast
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
        """Make the next block ``dt`` (>= 1) seconds after the head, as far as the provider allows; return
        the next block's timestamp."""
        if dt < 1:
            raise ValueError(f"time must move forward, got dt={dt}")
        return self._set_next_timestamp(self.chain.blocks.head.timestamp + dt)

    def warp(self, dt: int) -> None:
        """Mine an empty block ``dt`` seconds after the head."""
        self.next_time(dt)
        self.chain.mine()

    def _set_next_timestamp(self, target: int) -> int:
        """anvil takes any next timestamp. EthTester (py-evm) mines a block at ``t - 1`` when the pending
        timestamp is set to ``t`` and refuses ``t - 1 <= head``; its pending block is already ``head + 1``
        (or the wall clock), so only a later target needs setting there."""
        if self.chain.provider.name != "test":
            self.chain.pending_timestamp = target
            return target
        pending = self.chain.pending_timestamp
        if target > pending:
            self.chain.pending_timestamp = target
            return target
        return pending

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

    ape does not always decode custom errors (anvil: ``eth_call`` reverts of views; EthTester: revert data
    holding a quote character); it then raises a plain ``ContractLogicError`` and ``ape.reverts`` accepts
    any error with any inputs. This helper decodes what it can and fails on an undecoded revert (wrap
    views in :func:`call_view`), another error name, a missing input name or a different value.
    """
    try:
        yield
    except ContractLogicError as exc:
        decoded = exc if isinstance(exc, CustomError) else _decode_literal(exc, error)
        assert decoded is not None, f"expected {error.__name__}, got an undecoded revert {exc!r} (views: call_view)"
        assert type(decoded).__name__ == error.__name__, f"expected {error.__name__}, got {type(decoded).__name__}"
        for name, expected in inputs.items():
            assert name in decoded.inputs, f"{error.__name__} has no input {name!r}: {decoded.inputs}"
            actual = decoded.inputs[name]
            assert actual == expected, f"{error.__name__}.{name}: expected {expected!r}, got {actual!r}"
    else:
        raise AssertionError(f"expected revert {error.__name__}, but the call succeeded")


def _decode_literal(exc: ContractLogicError, error: type) -> CustomError | None:
    """EthTester sometimes leaves a revert as the text of a bytes literal (when the data holds a quote)."""
    text = str(exc.revert_message or "")
    if not (text.startswith(("b'", 'b"')) and text.endswith(("'", '"'))):
        return None
    data = ast.literal_eval(text)
    address = error.contract.address  # type: ignore[attr-defined]
    return networks.provider.network.ecosystem.decode_custom_error(HexBytes(data), address)


def call_view(contract: Any, method: str, *args: Any) -> Any:
    """Call a view so that a revert surfaces as ape's decoded custom error, on anvil and on EthTester.

    Use inside :func:`reverts` for views. EthTester reverts come back decoded; anvil's ``eth_call`` error
    reaches ape with the revert data flattened into a string, so it is re-run through web3, which keeps
    the raw data, and decoded here.
    """
    try:
        return getattr(contract, method)(*args)
    except CustomError:
        raise
    except ContractLogicError:
        data = getattr(contract, method).encode_input(*args)
        try:
            networks.provider.web3.eth.call({"to": contract.address, "data": data})
        except Web3ContractCustomError as err:
            decoded = networks.provider.network.ecosystem.decode_custom_error(HexBytes(err.data), contract.address)
            if decoded is None:
                raise AssertionError(
                    f"revert data {err.data} is not an error of {contract.contract_type.name}"
                ) from err
            raise decoded from None
        raise
