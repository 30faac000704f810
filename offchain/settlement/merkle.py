"""Batch Merkle trees as the Settlement contract builds them (contracts/libraries/MerkleRFC9162.sol).

pymerkle with keccak_256 builds the RFC 9162 tree (leaf = H(0x00 || data), node = H(0x01 || l || r)).
This module adds what the chain needs: 0-based indices and RFC 9162 audit paths (the sibling
hashes bottom-up, without the leaf itself) for ``verifyFill``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pymerkle import InmemoryTree


class MerkleError(ValueError):
    """Bad input to a batch tree (empty batch, index out of range)."""


@dataclass(frozen=True)
class InclusionProof:
    """What ``verifyFill(batchId, leaf, index, proof)`` takes, plus the tree size it was made for."""

    index: int
    size: int
    path: list[bytes]


class BatchTree:
    """An append-only tree over one batch's leaf data."""

    def __init__(self, leaves: Sequence[bytes]):
        if not leaves:
            raise MerkleError("a batch tree needs at least one leaf")
        self._tree = InmemoryTree(algorithm="keccak_256")
        for leaf in leaves:
            self._tree.append_entry(bytes(leaf))

    @property
    def size(self) -> int:
        return self._tree.get_size()

    @property
    def root(self) -> bytes:
        return self._tree.get_root()

    def prove(self, index: int) -> InclusionProof:
        """RFC 9162 audit path of the leaf at 0-based ``index``."""
        if not 0 <= index < self.size:
            raise MerkleError(f"leaf index {index} outside a batch of {self.size}")
        proof = self._tree.prove_inclusion(index + 1, self.size)
        # pymerkle's path starts with the leaf hash itself; the chain wants only the siblings.
        return InclusionProof(index=index, size=self.size, path=list(proof.path[1:]))


def root_of(leaves: Sequence[bytes]) -> bytes:
    """The batch root over ``leaves``."""
    return BatchTree(leaves).root
