"""State shared by the demo's acts: the deployment, the actors, the off-chain services and the figures."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ape.exceptions import ContractLogicError

from offchain.demo.actors import PriceWorld, Trader
from offchain.demo.exchange import Exchange
from offchain.demo.report import Report

ONE = 10**18
USDC = 10**6


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence file descriptor 1 (ape-foundry prints a call trace for every reverted transaction)."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


@dataclass
class Series:
    """Time series for the optional chart: (chain time, value)."""

    index: list[tuple[int, float]] = field(default_factory=list)
    contract: list[tuple[int, float]] = field(default_factory=list)
    funding: list[tuple[int, float]] = field(default_factory=list)
    insurance: list[tuple[int, float]] = field(default_factory=list)


@dataclass
class Demo:
    """Everything an act may use. ``roles`` holds the operational accounts by name."""

    project: Any
    chain: Any
    config: Any
    deployment: Any
    roles: dict[str, Any]
    report: Report
    world: PriceWorld
    exchange: Exchange
    oracle_submitter: Any
    traders: dict[str, Trader] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    series: Series = field(default_factory=Series)

    @property
    def now(self) -> int:
        """The latest block's timestamp."""
        return int(self.chain.blocks.head.timestamp)

    def expiry(self) -> int:
        return self.now + 7 * 86400

    def travel(self, seconds: int) -> None:
        """Move chain time forward and mine a block."""
        self.chain.mine(timestamp=self.now + seconds)

    def report_prices(self) -> Any:
        """One oracle round (every source signs, one bundle is submitted); records the index."""
        self.chain.mine()
        result = self.oracle_submitter.tick()
        isolations = sum(1 for e in result.events if e.startswith("SourceIsolated"))
        self.figures["oracle rounds / isolations"] = (
            f"{self.figures.get('oracle_rounds', 0) + 1} / {self.figures.get('oracle_isolations', 0) + isolations}"
        )
        self.figures["oracle_rounds"] = self.figures.get("oracle_rounds", 0) + 1
        self.figures["oracle_isolations"] = self.figures.get("oracle_isolations", 0) + isolations
        for symbol in self.world.prices:
            from offchain.oracle.signing import asset_id

            price = int(self.deployment.oracle.getPrice(asset_id(symbol))[0])
            if symbol == "ETH":
                self.series.index.append((self.now, price / ONE))
        return result

    def usdc(self) -> Any:
        return self.deployment.token("USDC")

    def weth(self) -> Any:
        return self.deployment.token("WETH")

    def expect_refusal(self, name: str, action: Callable[[], Any]) -> bool:
        """Run a transaction that must revert; record the check with the error's name."""
        try:
            with quiet_stdout():
                action()
        except ContractLogicError as err:
            reason = type(err).__name__ if type(err).__name__ != "ContractLogicError" else str(err)
            return self.report.check(name, True, f"reverted with {reason}")
        return self.report.check(name, False, "the transaction went through")

    def sample_insurance(self) -> int:
        value = int(self.deployment.liquidation.fund.available(self.usdc()))
        self.series.insurance.append((self.now, value / ONE))
        return value
