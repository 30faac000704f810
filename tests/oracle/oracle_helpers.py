"""Constants and the signing/submitting driver shared by the oracle tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth_utils import keccak
from helpers import call_view, reverts  # noqa: F401  (re-exported for the oracle tests)

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
