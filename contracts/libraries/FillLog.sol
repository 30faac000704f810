// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title FillLog
/// @notice Packed per-fill records of the engine's `FillsApplied` event: one event per call carries every
/// fill and both position legs it changed (one event of ~207 bytes per fill costs ~1.7k gas, against ~8.2k
/// for a fill event plus two position events).
/// @dev Record of fill i at byte offset `i * RECORD_BYTES` (big-endian, no padding):
///     leg(taker) || leg(maker) || fill
///     leg  = uint8 leg || int128 sizeX18 || int128 openValueX18 || int128 realisedPnlX18      (49 bytes)
///     fill = uint32 marketId || address maker || address taker || uint8 takerIsBuy
///            || uint128 sizeX18 || uint128 priceX18 || uint128 takerFeeX18 || uint128 makerRebateX18 (109 bytes)
/// The leg fields are the leg's state after the fill (as `PositionUpdated` reports them); the fees are in
/// collateral units of the market's token. Leg entries are written first, in increasing address order, with
/// whole-word stores that may spill into the bytes after them (at most into the record's fill part); the
/// fill part is written afterwards and never spills past its record. The buffer has one spare word.
library FillLog {
    using SafeCast for uint256;
    using SafeCast for int256;

    /// @notice Bytes of one leg entry.
    uint256 internal constant LEG_BYTES = 49;
    /// @notice Bytes of one fill record.
    uint256 internal constant RECORD_BYTES = 2 * LEG_BYTES + 109;

    /// @dev A zeroed log of `count` records; returns it and the memory address of its first record.
    function create(uint256 count) internal pure returns (bytes memory log, uint256 ptr) {
        uint256 len = count * RECORD_BYTES;
        log = new bytes(len + 32);
        assembly ("memory-safe") {
            mstore(log, len)
            ptr := add(log, 0x20)
        }
    }

    /// @dev Writes a leg entry at `ptr`; returns the address after it. Reverts if a value exceeds 128 bits.
    function putLeg(uint256 ptr, uint8 leg, int256 sizeX18, int256 openValueX18, int256 realisedX18)
        internal
        pure
        returns (uint256)
    {
        uint256 size = uint256(int256(sizeX18.toInt128()));
        uint256 openValue = uint256(int256(openValueX18.toInt128()));
        uint256 realised = uint256(int256(realisedX18.toInt128()));
        assembly ("memory-safe") {
            mstore(ptr, shl(248, leg))
            mstore(add(ptr, 1), shl(128, size))
            mstore(add(ptr, 17), shl(128, openValue))
            mstore(add(ptr, 33), shl(128, realised))
        }
        return ptr + LEG_BYTES;
    }

    /// @dev Writes the fill part at `ptr` (after the two leg entries of the record).
    function putFill(
        uint256 ptr,
        uint256 marketId,
        address maker,
        address taker,
        bool takerIsBuy,
        uint256 sizeX18,
        uint256 priceX18,
        uint256 takerFeeX18,
        uint256 makerRebateX18
    ) internal pure {
        uint256 head = (uint256(marketId.toUint32()) << 224) | (uint256(uint160(maker)) << 64);
        uint256 size = sizeX18.toUint128();
        uint256 price = priceX18.toUint128();
        uint256 fee = takerFeeX18.toUint128();
        uint256 rebate = makerRebateX18.toUint128();
        assembly ("memory-safe") {
            mstore(ptr, head)
            mstore(add(ptr, 24), or(shl(96, taker), shl(88, takerIsBuy)))
            mstore(add(ptr, 45), or(shl(128, size), price))
            mstore(add(ptr, 77), or(shl(128, fee), rebate))
        }
    }
}
