// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title MerkleRFC9162
/// @notice Merkle tree hashing of RFC 9162 (Certificate Transparency v2) with keccak256: the tree
/// pymerkle builds with `algorithm="keccak_256"`, so an off-chain batcher and the chain agree on
/// every root.
/// @dev Domain separation: leaf hash = keccak256(0x00 || data), node hash = keccak256(0x01 || l || r),
/// so an internal node can never be presented as a leaf. The tree over n leaves splits at the
/// largest power of two below n; equivalently, built bottom-up, a level's odd last node is
/// promoted unchanged. Inclusion proofs follow RFC 9162 section 2.1.3.2, which rejects proofs
/// with missing or extra elements.
library MerkleRFC9162 {
    /// @notice A root over zero leaves was requested.
    error MerkleEmptyTree();

    /// @notice keccak256(0x00 || data).
    function leafHash(bytes memory data) internal pure returns (bytes32 h) {
        return keccak256(abi.encodePacked(bytes1(0x00), data));
    }

    /// @notice keccak256(0x01 || left || right).
    function nodeHash(bytes32 left, bytes32 right) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore8(ptr, 0x01)
            mstore(add(ptr, 1), left)
            mstore(add(ptr, 33), right)
            h := keccak256(ptr, 65)
        }
    }

    /// @notice The root over `hashes` (leaf hashes in order). Overwrites `hashes`.
    function rootInPlace(bytes32[] memory hashes) internal pure returns (bytes32) {
        uint256 n = hashes.length;
        if (n == 0) revert MerkleEmptyTree();
        while (n > 1) {
            uint256 half = n >> 1;
            assembly ("memory-safe") {
                // hashes[i] = nodeHash(hashes[2i], hashes[2i + 1]) for i < half: 2i + 1 < n <= length, so
                // every index is in bounds, and writing index i <= 2i never overwrites a pair not yet read.
                let base := add(hashes, 0x20)
                let scratch := mload(0x40)
                mstore8(scratch, 0x01)
                for { let i := 0 } lt(i, half) { i := add(i, 1) } {
                    let pair := add(base, shl(6, i))
                    mstore(add(scratch, 1), mload(pair))
                    mstore(add(scratch, 33), mload(add(pair, 0x20)))
                    mstore(add(base, shl(5, i)), keccak256(scratch, 65))
                }
            }
            if (n & 1 == 1) hashes[half] = hashes[n - 1];
            n = half + (n & 1);
        }
        return hashes[0];
    }

    /// @notice Whether `proof` shows the leaf with hash `leaf` at `index` in the tree of `size`
    /// leaves whose root is `root`. False for an index out of range or a proof of the wrong length.
    function verify(bytes32 root, uint256 size, uint256 index, bytes32 leaf, bytes32[] calldata proof)
        internal
        pure
        returns (bool)
    {
        if (index >= size) return false;
        uint256 fn = index;
        uint256 sn = size - 1;
        bytes32 r = leaf;
        for (uint256 i; i < proof.length; ++i) {
            if (sn == 0) return false;
            if (fn & 1 == 1 || fn == sn) {
                r = nodeHash(proof[i], r);
                if (fn & 1 == 0) {
                    while (fn & 1 == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = nodeHash(r, proof[i]);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && r == root;
    }
}
