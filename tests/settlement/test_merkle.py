"""MerkleRFC9162 (Solidity) agrees with pymerkle (keccak_256) on roots and inclusion proofs for
batches of 1..130 leaves, and rejects wrong, short, long and node-as-leaf proofs."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from offchain.settlement.merkle import BatchTree, MerkleError, root_of


def leaves(n: int, salt: int = 0) -> list[bytes]:
    return [keccak((salt * 1000 + i).to_bytes(8, "big")) + bytes([i % 7]) * (i % 5) for i in range(n)]


def node(left: bytes, right: bytes) -> bytes:
    return keccak(b"\x01" + left + right)


def reference_root(items: list[bytes]) -> bytes:
    """RFC 9162 MTH written out recursively, independent of both implementations."""
    if len(items) == 1:
        return keccak(b"\x00" + items[0])
    k = 1
    while k * 2 < len(items):
        k *= 2
    return node(reference_root(items[:k]), reference_root(items[k:]))


@pytest.fixture(scope="module")
def harness(project, admin):
    return project.MockMerkleHarness.deploy(sender=admin)


def test_roots_match_for_1_to_130_leaves(harness):
    for n in range(1, 131):
        items = leaves(n)
        expected = reference_root(items)
        assert root_of(items) == expected, n
        assert harness.root(items) == expected, n


def test_empty_batch_rejected(harness):
    with pytest.raises(MerkleError, match="at least one leaf"):
        BatchTree([])
    import ape

    with ape.reverts(harness.MerkleEmptyTree):
        harness.root([])


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 64, 100, 130])
def test_every_proof_verifies_on_chain(harness, n):
    items = leaves(n, salt=n)
    tree = BatchTree(items)
    for index in sorted({0, 1, n // 2, n - 2, n - 1} & set(range(n))):
        proof = tree.prove(index)
        assert harness.verify(tree.root, n, index, items[index], proof.path), (n, index)


def test_bad_proofs_rejected(harness):
    n = 13
    items = leaves(n)
    tree = BatchTree(items)
    proof = tree.prove(6).path
    assert harness.verify(tree.root, n, 6, items[6], proof)
    assert not harness.verify(tree.root, n, 7, items[6], proof)  # wrong index
    assert not harness.verify(tree.root, n, 6, items[7], proof)  # wrong leaf
    # The size is not bound by the hashes where the path's shape is the same (Settlement passes
    # the stored batch size, never the caller's); where the shape differs, a wrong size fails.
    last = tree.prove(n - 1).path
    assert harness.verify(tree.root, n, n - 1, items[n - 1], last)
    assert not harness.verify(tree.root, n + 1, n - 1, items[n - 1], last)
    assert not harness.verify(tree.root, n - 1, n - 1, items[n - 1], last)
    assert not harness.verify(tree.root, n, 6, items[6], proof[:-1])  # missing element
    assert not harness.verify(tree.root, n, 6, items[6], [*proof, proof[-1]])  # extra element
    assert not harness.verify(tree.root, n, n, items[6], proof)  # index out of range
    assert not harness.verify(b"\x00" * 32, n, 6, items[6], proof)  # zero root


def test_internal_node_cannot_pass_as_leaf(harness):
    """The node over leaves 0 and 1, presented as leaf data at level 0, does not verify."""
    items = leaves(4)
    tree = BatchTree(items)
    h = [keccak(b"\x00" + x) for x in items]
    n01 = node(h[0], h[1])
    n23 = node(h[2], h[3])
    assert tree.root == node(n01, n23)
    # Claim "n01's preimage is a leaf at index 0 of a 2-leaf tree whose sibling is n23".
    assert not harness.verify(tree.root, 2, 0, h[0] + h[1], [n23])
    assert not harness.verify(tree.root, 2, 0, n01, [n23])


def test_prove_rejects_out_of_range_index():
    with pytest.raises(MerkleError, match="outside a batch of 3"):
        BatchTree(leaves(3)).prove(3)


@given(n=st.integers(1, 70), data=st.data())
def test_random_proofs_verify(harness, n, data):
    items = data.draw(st.lists(st.binary(min_size=0, max_size=40), min_size=n, max_size=n))
    tree = BatchTree(items)
    assert tree.root == reference_root(items)
    index = data.draw(st.integers(0, n - 1))
    assert harness.verify(tree.root, n, index, items[index], tree.prove(index).path)
