// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MerkleRFC9162} from "../libraries/MerkleRFC9162.sol";

/// @title MockMerkleHarness
/// @notice Exposes {MerkleRFC9162} to tests.
contract MockMerkleHarness {
    /// @notice Root over the leaf data items, in order.
    function root(bytes[] calldata leaves) external pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](leaves.length);
        for (uint256 i; i < leaves.length; ++i) {
            hashes[i] = MerkleRFC9162.leafHash(leaves[i]);
        }
        return MerkleRFC9162.rootInPlace(hashes);
    }

    /// @notice RFC 9162 inclusion check of `leafData` at `index` in a tree of `size` leaves.
    function verify(bytes32 root_, uint256 size, uint256 index, bytes calldata leafData, bytes32[] calldata proof)
        external
        pure
        returns (bool)
    {
        return MerkleRFC9162.verify(root_, size, index, MerkleRFC9162.leafHash(leafData), proof);
    }
}
