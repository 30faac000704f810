"""Reporter configuration: which assets, which sources (signing key + feed).

Example (keys never live in the file, only the names of the environment variables holding them)::

    {
      "assets": ["ETH", "BTC"],
      "sources": [
        {"name": "sim-a", "key_env": "ORACLE_KEY_A", "feed": {"kind": "simulated", "seed": 1,
                                                               "base": {"ETH": "3000", "BTC": "60000"}}},
        {"name": "desk", "key_env": "ORACLE_KEY_B", "feed": {"kind": "file", "path": "prices.json"}},
        {"name": "cex", "key_env": "ORACLE_KEY_C", "feed": {"kind": "http", "url": "http://x/p?s={symbol}",
                                                             "field": "data.price"}}
      ]
    }
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from offchain.oracle.feeds import feed_from_config
from offchain.oracle.reporter import Reporter
from offchain.oracle.signing import ReportSigner


class ConfigError(ValueError):
    """The reporter configuration is unusable; the message says which entry and why."""


@dataclass(frozen=True)
class ReporterConfig:
    """Parsed configuration: asset symbols and one reporter per source."""

    symbols: list[str]
    reporters: list[Reporter]


def load_config(path: Path, chain_id: int, oracle: str, env: Mapping[str, str]) -> ReporterConfig:
    """Read ``path`` and build the reporters; signing keys come from ``env`` (``key_env`` entries)."""
    try:
        document = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"cannot read reporter config {path}: {err}") from err
    symbols = [str(s).upper() for s in document.get("assets", [])]
    if not symbols:
        raise ConfigError(f"{path}: 'assets' must list at least one symbol")
    entries = document.get("sources", [])
    if not entries:
        raise ConfigError(f"{path}: 'sources' must list at least one source")
    reporters = []
    for n, entry in enumerate(entries):
        name = str(entry.get("name", f"source-{n}"))
        key_env = entry.get("key_env")
        if not key_env or not env.get(key_env):
            raise ConfigError(f"source {name!r}: environment variable {key_env!r} with its private key is not set")
        try:
            feed = feed_from_config(entry.get("feed", {}), name)
            signer = ReportSigner(env[key_env], chain_id, oracle)
        except (KeyError, ValueError, TypeError) as err:
            raise ConfigError(f"source {name!r}: {err}") from err
        reporters.append(Reporter(name=name, signer=signer, feed=feed))
    return ReporterConfig(symbols=symbols, reporters=reporters)
