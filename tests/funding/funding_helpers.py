"""Constants of the funding tests' fixtures (imported by name: ``conftest`` is ambiguous when several test
directories are collected together)."""

from __future__ import annotations

from eth_utils import keccak

ETH = keccak(text="ETH")
LINEAR = 1  # the linear ETH-USDC market of the funding fixtures
INVERSE = 2  # the inverse ETH-WETH market
