"""Guards for commands that deploy throwaway contracts."""

from __future__ import annotations

LOCAL_CHAIN_IDS = frozenset({1337, 31337})


class NotLocalNetworkError(RuntimeError):
    """A command meant for a local chain was pointed at a shared network."""


def require_local(chain_id: int, command: str) -> None:
    """Raise unless ``chain_id`` is a local development chain (anvil 31337, ape's test 1337)."""
    if chain_id not in LOCAL_CHAIN_IDS:
        raise NotLocalNetworkError(
            f"{command} deploys throwaway contracts; run it on a local network (chain 31337 or 1337), "
            f"not chain {chain_id}"
        )
