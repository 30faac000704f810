// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IFeeSchedule} from "../interfaces/IFeeSchedule.sol";
import {IPerpEngine} from "../interfaces/IPerpEngine.sol";

/// @title FillCodec
/// @notice Fixed-width big-endian records of the settled-fill calls (Settlement -> PerpEngine ->
/// FeeSchedule), in place of the ABI encoding of struct arrays.
/// @dev Settled fill, {SETTLED_FILL_BYTES} (87) bytes: uint32 marketId, address maker, address taker,
/// uint128 size, uint128 price, uint64 taker max fee rate (1e18 = 100%), uint8 takerIsBuy (0 or 1),
/// uint8 maker flags, uint8 taker flags.
/// Fee request, {FEE_REQUEST_BYTES} (105) bytes: address maker, address taker, uint8 takerApi (0 or 1),
/// uint256 notional, uint256 USD volume. Fee result, {FEE_RESULT_BYTES} (64) bytes: uint256 taker fee,
/// uint256 maker rebate.
library FillCodec {
    /// @notice Bytes of one settled fill record.
    uint256 internal constant SETTLED_FILL_BYTES = 87;
    /// @notice Bytes of one fee request record.
    uint256 internal constant FEE_REQUEST_BYTES = 105;
    /// @notice Bytes of one fee result record.
    uint256 internal constant FEE_RESULT_BYTES = 64;

    /// @notice Packed records are malformed: a length that is not a whole number of records (or not the
    /// expected count), or a boolean byte above 1 in record `index`.
    error FillCodecMalformed(uint256 length, uint256 index);

    // ---------------------------------------------------------------- settled fills

    /// @dev Writes one settled fill record at memory `p` with whole-word stores in increasing address
    /// order: the last store spills 21 zero bytes past the record (the caller reserves them; the next
    /// record overwrites them). Values must be clean and in range (marketId < 2^32, size and price
    /// < 2^128, cap < 2^64, flags < 2^8, isBuy 0/1): Settlement's decoder guarantees it.
    function writeSettledFill(
        uint256 p,
        uint256 marketId,
        address maker,
        address taker,
        uint256 size,
        uint256 price,
        uint256 cap,
        bool takerIsBuy,
        uint256 makerFlags,
        uint256 takerFlags
    ) internal pure {
        assembly ("memory-safe") {
            mstore(p, shl(224, marketId))
            mstore(add(p, 4), shl(96, maker))
            mstore(add(p, 24), shl(96, taker))
            mstore(add(p, 44), or(shl(128, size), price))
            mstore(add(p, 76), or(or(shl(192, cap), shl(184, takerIsBuy)), or(shl(176, makerFlags), shl(168, takerFlags))))
        }
    }

    /// @dev Decodes packed settled fills into engine fills and their taker fee caps. Reverts with
    /// {FillCodecMalformed} unless `data` is a whole number of records and every isBuy byte is 0 or 1.
    function decodeSettledFills(bytes calldata data)
        internal
        pure
        returns (IPerpEngine.Fill[] memory fills, uint256[] memory caps)
    {
        uint256 n = _recordCount(data, SETTLED_FILL_BYTES);
        fills = _allocFills(n);
        caps = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            uint256 a;
            uint256 b;
            uint256 c;
            uint256 d;
            uint256 e;
            assembly ("memory-safe") {
                // record i lies inside `data` (length checked above); bytes loaded past its end are masked off
                let p := add(data.offset, mul(i, SETTLED_FILL_BYTES))
                a := calldataload(p)
                b := calldataload(add(p, 4))
                c := calldataload(add(p, 24))
                d := calldataload(add(p, 44))
                e := calldataload(add(p, 76))
            }
            uint256 isBuy = uint8(e >> 184);
            if (isBuy > 1) revert FillCodecMalformed(data.length, i);
            IPerpEngine.Fill memory f = fills[i];
            f.marketId = a >> 224;
            f.maker = address(uint160(b >> 96));
            f.taker = address(uint160(c >> 96));
            f.sizeX18 = d >> 128;
            f.priceX18 = uint128(d);
            f.takerIsBuy = isBuy == 1;
            f.makerFlags = uint8(e >> 176);
            f.takerFlags = uint8(e >> 168);
            caps[i] = e >> 192;
        }
    }

    /// @dev `new IPerpEngine.Fill[](n)` without zeroing the structs ({decodeSettledFills} writes every field):
    /// the pointer array, then the n structs of 8 words, the free memory pointer moved past them.
    function _allocFills(uint256 n) private pure returns (IPerpEngine.Fill[] memory fills) {
        assembly ("memory-safe") {
            fills := mload(0x40)
            mstore(fills, n)
            let structs := add(fills, mul(add(n, 1), 0x20))
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                mstore(add(fills, mul(add(i, 1), 0x20)), add(structs, mul(i, 0x100)))
            }
            mstore(0x40, add(structs, mul(n, 0x100)))
        }
    }

    // ---------------------------------------------------------------- fee requests and results

    /// @dev Zeroed room for `n` packed fee requests (length `n * 105`, a spare word after it absorbs the
    /// last record's spill), for {putFeeRequest}.
    function newFeeRequests(uint256 n) internal pure returns (bytes memory out) {
        out = new bytes(n * FEE_REQUEST_BYTES + 32);
        assembly ("memory-safe") {
            mstore(out, mul(n, FEE_REQUEST_BYTES))
        }
    }

    /// @dev Packs `r` as fee request `i` of `out` (built by {newFeeRequests}; requests written in index
    /// order, each store spilling at most into the next record or the spare word).
    function putFeeRequest(bytes memory out, uint256 i, IFeeSchedule.FeeRequest memory r) internal pure {
        if ((i + 1) * FEE_REQUEST_BYTES > out.length) revert FillCodecMalformed(out.length, i);
        (address maker, address taker, bool api, uint256 notional, uint256 volume) =
            (r.maker, r.taker, r.takerApi, r.notionalX18, r.volumeUsdX18);
        assembly ("memory-safe") {
            // increasing addresses, whole-word stores
            let p := add(add(out, 0x20), mul(i, FEE_REQUEST_BYTES))
            mstore(p, shl(96, maker))
            mstore(add(p, 20), shl(96, taker))
            mstore(add(p, 40), shl(248, api))
            mstore(add(p, 41), notional)
            mstore(add(p, 73), volume)
        }
    }

    /// @dev The notional of fee request `i` of `out` (written by {putFeeRequest}).
    function feeRequestNotional(bytes memory out, uint256 i) internal pure returns (uint256 notional) {
        if ((i + 1) * FEE_REQUEST_BYTES > out.length) revert FillCodecMalformed(out.length, i);
        assembly ("memory-safe") {
            notional := mload(add(add(add(out, 0x20), mul(i, FEE_REQUEST_BYTES)), 41))
        }
    }

    /// @dev Number of fee requests in `data`; reverts with {FillCodecMalformed} unless it is whole records.
    function feeRequestCount(bytes calldata data) internal pure returns (uint256) {
        return _recordCount(data, FEE_REQUEST_BYTES);
    }

    /// @dev Number of `recordBytes`-byte records in `data`; reverts with {FillCodecMalformed} (the length and
    /// the index of the partial record) unless `data` is whole records.
    function _recordCount(bytes calldata data, uint256 recordBytes) private pure returns (uint256 n) {
        n = data.length / recordBytes;
        if (n * recordBytes != data.length) revert FillCodecMalformed(data.length, n);
    }

    /// @dev Reads fee request `i` of `data` (i < {feeRequestCount}) into `r`; reverts with
    /// {FillCodecMalformed} if its API byte is above 1.
    function readFeeRequest(bytes calldata data, uint256 i, IFeeSchedule.FeeRequest memory r) internal pure {
        uint256 a;
        uint256 b;
        uint256 c;
        uint256 d;
        uint256 e;
        assembly ("memory-safe") {
            // record i lies inside `data` (feeRequestCount checked the length)
            let p := add(data.offset, mul(i, FEE_REQUEST_BYTES))
            a := calldataload(p)
            b := calldataload(add(p, 20))
            c := calldataload(add(p, 40))
            d := calldataload(add(p, 41))
            e := calldataload(add(p, 73))
        }
        uint256 api = c >> 248;
        if (api > 1) revert FillCodecMalformed(data.length, i);
        r.maker = address(uint160(a >> 96));
        r.taker = address(uint160(b >> 96));
        r.takerApi = api == 1;
        r.notionalX18 = d;
        r.volumeUsdX18 = e;
    }

    /// @dev Writes fee result `i` (taker fee, maker rebate) into `results` (n * 64 bytes).
    function writeFeeResult(bytes memory results, uint256 i, uint256 fee, uint256 rebate) internal pure {
        if ((i + 1) * FEE_RESULT_BYTES > results.length) revert FillCodecMalformed(results.length, i);
        assembly ("memory-safe") {
            let p := add(add(results, 0x20), mul(i, FEE_RESULT_BYTES))
            mstore(p, fee)
            mstore(add(p, 0x20), rebate)
        }
    }

    /// @dev Reads fee result `i` of `results`; reverts with {FillCodecMalformed} past its end.
    function readFeeResult(bytes memory results, uint256 i) internal pure returns (uint256 fee, uint256 rebate) {
        if ((i + 1) * FEE_RESULT_BYTES > results.length) revert FillCodecMalformed(results.length, i);
        assembly ("memory-safe") {
            let p := add(add(results, 0x20), mul(i, FEE_RESULT_BYTES))
            fee := mload(p)
            rebate := mload(add(p, 0x20))
        }
    }
}
