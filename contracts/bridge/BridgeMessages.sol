// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title BridgeMessages
/// @notice The two messages validators sign, their EIP-712 struct hashes and the transfer id.
/// @dev The EIP-712 domain (name "perpx Bridge", version "1", chainId, verifyingContract) is supplied
/// by the verifying bridge, so every signature is bound to the destination chain and contract. The
/// struct additionally names both chains and the source bridge, so a message cannot be moved to
/// another route (SECURITY 30, B3). Distinct type hashes keep a rotation approval from ever passing
/// as a transfer approval and vice versa.
library BridgeMessages {
    /// @notice A cross-chain transfer, as locked on the source and released on the destination.
    /// @param srcChainId Chain id of the source chain.
    /// @param dstChainId Chain id of the destination chain.
    /// @param srcBridge Bridge contract on the source chain that locked the funds.
    /// @param nonce The source bridge's sequence number for this transfer.
    /// @param token The token to deliver, as an address on the destination chain.
    /// @param sender The account that locked the funds on the source chain.
    /// @param recipient The account that receives the funds on the destination chain.
    /// @param amount The amount, in the destination token's units.
    struct Transfer {
        uint256 srcChainId;
        uint256 dstChainId;
        address srcBridge;
        uint256 nonce;
        address token;
        address sender;
        address recipient;
        uint256 amount;
    }

    /// @notice EIP-712 type hash of {Transfer}.
    bytes32 internal constant TRANSFER_TYPEHASH = keccak256(
        "Transfer(uint256 srcChainId,uint256 dstChainId,address srcBridge,uint256 nonce,address token,address sender,address recipient,uint256 amount)"
    );

    /// @notice EIP-712 type hash of a validator-set rotation approval.
    bytes32 internal constant ROTATION_TYPEHASH =
        keccak256("ValidatorSetRotation(address[] validators,uint256 threshold,uint64 epoch)");

    /// @notice EIP-712 struct hash of `t`.
    /// @param t The transfer.
    /// @return The struct hash.
    function hashTransfer(Transfer calldata t) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                TRANSFER_TYPEHASH,
                t.srcChainId,
                t.dstChainId,
                t.srcBridge,
                t.nonce,
                t.token,
                t.sender,
                t.recipient,
                t.amount
            )
        );
    }

    /// @notice The id under which the destination records a transfer: one per (source chain,
    /// source bridge, nonce), so a message executes at most once whatever its other fields (B2).
    /// @param srcChainId Chain id of the source chain.
    /// @param srcBridge The source bridge.
    /// @param nonce The source bridge's sequence number.
    /// @return The transfer id.
    function transferId(uint256 srcChainId, address srcBridge, uint256 nonce) internal pure returns (bytes32) {
        return keccak256(abi.encode(srcChainId, srcBridge, nonce));
    }

    /// @notice EIP-712 struct hash of a rotation approval.
    /// @param validators The new validator set.
    /// @param threshold The new threshold.
    /// @param epoch The new epoch.
    /// @return The struct hash.
    function hashRotation(address[] calldata validators, uint256 threshold, uint64 epoch)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(
            abi.encode(ROTATION_TYPEHASH, keccak256(abi.encodePacked(validators)), threshold, epoch)
        );
    }
}
