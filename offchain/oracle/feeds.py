"""Price feeds a reporter reads: a JSON file, an HTTP JSON endpoint and a deterministic simulated feed.

Every feed raises :class:`FeedError` (with the feed's name and the reason) when it cannot give a price, so
the reporter can log it and carry on with the other sources.
"""

from __future__ import annotations

import hashlib
import json
import math
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from offchain.units import ONE_X18

_X18_QUANTUM = Decimal(1).scaleb(-18)


class FeedError(Exception):
    """A feed could not produce a price (down, malformed answer, unknown symbol)."""


class PriceFeed(Protocol):
    """Where a reporter reads prices from."""

    name: str

    def price_x18(self, symbol: str, now: int) -> int:
        """USD price of ``symbol`` at ``now`` in 18-decimal fixed point; raises :class:`FeedError`."""
        ...


def decimal_to_x18(value: Any, feed: str, symbol: str) -> int:
    """Parse a JSON number or string into a positive 18-decimal integer (extra decimals truncated)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as err:
        raise FeedError(f"{feed}: price of {symbol} is not a number: {value!r}") from err
    if not number.is_finite() or number <= 0:
        raise FeedError(f"{feed}: price of {symbol} must be a positive finite number, got {value!r}")
    return int(number.quantize(_X18_QUANTUM, rounding=ROUND_DOWN) * ONE_X18)


def _dig(document: Any, dotted: str, feed: str, symbol: str) -> Any:
    node = document
    for part in filter(None, dotted.format(symbol=symbol).split(".")):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise FeedError(f"{feed}: no field {part!r} on the path {dotted!r} for {symbol}")
    return node


@dataclass(frozen=True)
class FilePriceFeed:
    """Prices from a JSON file re-read on every call, e.g. ``{"ETH": "3012.5", "BTC": 61000}``.

    ``field`` is a dotted path formatted with ``{symbol}`` (default: the symbol itself).
    """

    path: Path
    field: str = "{symbol}"
    name: str = "file"

    def price_x18(self, symbol: str, now: int) -> int:
        try:
            document = json.loads(Path(self.path).read_text())
        except FileNotFoundError as err:
            raise FeedError(f"{self.name}: price file {self.path} does not exist") from err
        except (OSError, json.JSONDecodeError) as err:
            raise FeedError(f"{self.name}: cannot read {self.path}: {err}") from err
        return decimal_to_x18(_dig(document, self.field, self.name, symbol), self.name, symbol)


@dataclass(frozen=True)
class HttpJsonPriceFeed:
    """Prices from an HTTP JSON endpoint: ``url`` and ``field`` are formatted with ``{symbol}``.

    Example: ``url="https://api.example/price?s={symbol}USD"``, ``field="data.price"``.
    """

    url: str
    field: str = "price"
    timeout_s: float = 2.0
    name: str = "http"

    def price_x18(self, symbol: str, now: int) -> int:
        url = self.url.format(symbol=symbol)
        request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "perpx-oracle"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                document = json.loads(response.read())
        except urllib.error.HTTPError as err:
            raise FeedError(f"{self.name}: {url} answered HTTP {err.code}") from err
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            raise FeedError(f"{self.name}: {url} is unreachable: {err}") from err
        except json.JSONDecodeError as err:
            raise FeedError(f"{self.name}: {url} did not return JSON: {err}") from err
        return decimal_to_x18(_dig(document, self.field, self.name, symbol), self.name, symbol)


@dataclass(frozen=True)
class SimulatedPriceFeed:
    """A deterministic synthetic market: the same (seed, symbol, time) always gives the same price.

    price = base x (1 + amplitude x sin(2 pi t / period) + noise) x (1 + bias), where the noise is uniform
    in +-``noise_bps`` from a hash of (seed, symbol, t). ``bias_bps`` simulates a faulty source;
    ``down`` simulates an outage.
    """

    base: Mapping[str, Decimal]
    seed: int = 0
    amplitude_bps: int = 200
    period_s: int = 3600
    noise_bps: int = 10
    bias_bps: int = 0
    down: bool = False
    name: str = "simulated"
    _scale: int = field(default=10**9, repr=False)

    def price_x18(self, symbol: str, now: int) -> int:
        if self.down:
            raise FeedError(f"{self.name}: simulated outage")
        if symbol not in self.base:
            raise FeedError(f"{self.name}: no simulated market for {symbol}")
        digest = hashlib.sha256(f"{self.seed}:{symbol}:{now}".encode()).digest()
        noise_bps = int.from_bytes(digest[:8], "big") % (2 * self.noise_bps + 1) - self.noise_bps
        wave = round(math.sin(2 * math.pi * (now % self.period_s) / self.period_s) * self._scale)
        factor = self._scale * 10_000 + wave * self.amplitude_bps + noise_bps * self._scale
        base_x18 = decimal_to_x18(self.base[symbol], self.name, symbol)
        price = base_x18 * factor // (self._scale * 10_000)
        return price * (10_000 + self.bias_bps) // 10_000


def feed_from_config(spec: Mapping[str, Any], name: str) -> PriceFeed:
    """Build a feed from a config mapping: ``{"kind": "file"|"http"|"simulated", ...}``."""
    kind = spec.get("kind")
    if kind == "file":
        return FilePriceFeed(Path(spec["path"]), spec.get("field", "{symbol}"), name=name)
    if kind == "http":
        return HttpJsonPriceFeed(spec["url"], spec.get("field", "price"), float(spec.get("timeout_s", 2.0)), name=name)
    if kind == "simulated":
        base = {str(k).upper(): Decimal(str(v)) for k, v in spec["base"].items()}
        return SimulatedPriceFeed(
            base=base,
            seed=int(spec.get("seed", 0)),
            amplitude_bps=int(spec.get("amplitude_bps", 200)),
            period_s=int(spec.get("period_s", 3600)),
            noise_bps=int(spec.get("noise_bps", 10)),
            bias_bps=int(spec.get("bias_bps", 0)),
            down=bool(spec.get("down", False)),
            name=name,
        )
    raise ValueError(f"source {name!r}: unknown feed kind {kind!r}; expected file, http or simulated")
