// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ISettlement} from "../interfaces/ISettlement.sol";

/// @title PackedFills
/// @notice Decoder of the compact batch encoding taken by {ISettlement.settleBatch}.
/// @dev Layout (big-endian, no padding):
///     batch  = uint16 fillCount || fill * fillCount
///     fill   = order(maker) || sig(maker) || order(taker) || sig(taker) || uint128 size || uint128 price
///     order  = abi.encodePacked(address trader, uint32 marketId, uint8 isBuy, uint8 leg, uint16 flags,
///              uint16 leverage, uint128 size, uint128 limitPrice, uint64 maxFeeRate, uint64 nonce,
///              uint64 expiry)                                                   (86 bytes)
///     sig    = uint16 length || length bytes: 64 = EIP-2098 compact `r || vs` ECDSA signature,
///              anything else is passed as is (65-byte `r || s || v` ECDSA, or an ERC-1271 payload)
/// A fill of two compact signatures is 2 * (86 + 66) + 32 = 336 bytes (ABI structs: about 1,120).
library PackedFills {
    /// @notice Bytes of one packed order.
    uint256 internal constant ORDER_BYTES = 86;

    /// @dev Reads the order at `offset` of `data` into `o` (memory words in field order, the way
    /// Solidity lays out the struct); returns the offset after it, or 0 when `data` is too short or
    /// `isBuy` is neither 0 nor 1.
    function readOrder(bytes calldata data, uint256 offset, ISettlement.Order memory o)
        internal
        pure
        returns (uint256 next)
    {
        next = offset + ORDER_BYTES;
        if (next > data.length) return 0;
        bool ok;
        assembly ("memory-safe") {
            let p := add(data.offset, offset)
            let w0 := calldataload(p) // trader(20) marketId(4) isBuy(1) leg(1) flags(2) leverage(2) size[0..2]
            mstore(o, shr(96, w0))
            mstore(add(o, 0x20), and(shr(64, w0), 0xffffffff))
            let isBuy := and(shr(56, w0), 0xff)
            ok := lt(isBuy, 2)
            mstore(add(o, 0x40), isBuy)
            mstore(add(o, 0x60), and(shr(48, w0), 0xff))
            mstore(add(o, 0x80), and(shr(32, w0), 0xffff))
            mstore(add(o, 0xa0), and(shr(16, w0), 0xffff))
            mstore(add(o, 0xc0), shr(128, calldataload(add(p, 30)))) // size
            mstore(add(o, 0xe0), shr(128, calldataload(add(p, 46)))) // limitPrice
            let w1 := calldataload(add(p, 62)) // maxFeeRate(8) nonce(8) expiry(8)
            mstore(add(o, 0x100), shr(192, w1))
            mstore(add(o, 0x120), and(shr(128, w1), 0xffffffffffffffff))
            mstore(add(o, 0x140), and(shr(64, w1), 0xffffffffffffffff))
        }
        if (!ok) return 0;
    }

    /// @dev Bounds `[start, end)` of the length-prefixed signature at `offset`; `next` (= `end`) is 0
    /// when `data` is too short.
    function readSignature(bytes calldata data, uint256 offset)
        internal
        pure
        returns (uint256 start, uint256 end, uint256 next)
    {
        start = offset + 2;
        if (start > data.length) return (0, 0, 0);
        uint256 length;
        assembly ("memory-safe") {
            length := shr(240, calldataload(add(data.offset, offset))) // uint16 at offset (in bounds above)
        }
        end = start + length;
        if (end > data.length) return (0, 0, 0);
        next = end;
    }

    /// @dev Reads `uint128 size || uint128 price` at `offset`; `next` is 0 when `data` is too short.
    function readAmounts(bytes calldata data, uint256 offset)
        internal
        pure
        returns (uint256 size, uint256 price, uint256 next)
    {
        next = offset + 32;
        if (next > data.length) return (0, 0, 0);
        assembly {
            let w := calldataload(add(data.offset, offset))
            size := shr(128, w)
            price := and(w, 0xffffffffffffffffffffffffffffffff)
        }
    }
}
