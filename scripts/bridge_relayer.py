"""`ape run bridge_relayer --help`: bridge validators and relayer between two chains (offchain/bridge/cli.py)."""

from offchain.bridge.cli import cli

__all__ = ["cli"]
