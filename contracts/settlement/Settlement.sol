// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {AccessControlled} from "../access/AccessControlled.sol";
import {Roles} from "../access/Roles.sol";
import {IComplianceRegistry} from "../interfaces/IComplianceRegistry.sol";
import {IMarketRegistry} from "../interfaces/IMarketRegistry.sol";
import {IPerpEngine} from "../interfaces/IPerpEngine.sol";
import {ISettlement} from "../interfaces/ISettlement.sol";
import {FillCodec} from "../libraries/FillCodec.sol";
import {MerkleRFC9162} from "../libraries/MerkleRFC9162.sol";
import {PackedFills} from "../libraries/PackedFills.sol";
import {SettlementOrders} from "./SettlementOrders.sol";

/// @title Settlement
/// @notice Verifies signed orders, tracks their fills, settles matched batches through the
/// perpetual engine and commits every batch to a Merkle root chained into one running commitment.
/// @dev Orders, signers, cancels and fill tracking: {SettlementOrders}. Calldata: {PackedFills}.
/// Leaf data of fill i of batch b: `abi.encodePacked(uint64 b, makerHash, takerHash, uint128 size,
/// uint128 price)`, hashed RFC 9162 style (0x00 prefix); the batch id in the leaf makes every batch
/// root unique, so a root can never settle twice.
contract Settlement is SettlementOrders, AccessControlled, ReentrancyGuard {
    /// @notice The perpetual engine fills are applied to (this contract needs Roles.SETTLER).
    IPerpEngine public immutable engine;
    /// @notice Market listing and status.
    IMarketRegistry public immutable registry;
    /// @notice Allowlist and blocklist of traders.
    IComplianceRegistry public immutable compliance;

    /// @notice Id of the last settled batch (0 before the first); the next batch is `lastBatchId + 1`.
    uint256 public lastBatchId;
    /// @notice keccak256(previous chainRoot || batch root) over every settled batch, from zero.
    bytes32 public chainRoot;
    mapping(uint256 batchId => Batch) private _batches;

    /// @dev Per-batch memory: the batch id, the EIP-712 domain separator, the last checked market, the fill records of the
    /// {BatchSettled} event, the engine call's calldata and the fill count, the compliance call's
    /// calldata (the traders of every fill: maker of fill i at 2i, taker at 2i + 1), and the current fill's decoded orders, signature bounds, size and price.
    struct BatchCache {
        uint256 batchId;
        bytes32 domainSeparator;
        uint256 marketId;
        bytes records;
        bytes engineCall;
        uint256 n;
        bytes complianceCall;
        Order mk;
        Order tk;
        uint256 makerSigStart;
        uint256 makerSigEnd;
        uint256 takerSigStart;
        uint256 takerSigEnd;
        uint256 size;
        uint256 price;
    }

    /// @dev Bytes of one fill record of {BatchSettled}: maker hash, taker hash, uint128 size, uint128 price.
    uint256 private constant RECORD_BYTES = 96;

    /// @param acl_ ProtocolAccess.
    /// @param engine_ The perpetual engine.
    /// @param registry_ The engine's market registry.
    /// @param compliance_ The compliance registry.
    constructor(
        IAccessControl acl_,
        IPerpEngine engine_,
        IMarketRegistry registry_,
        IComplianceRegistry compliance_
    ) EIP712("perpx Settlement", "1") AccessControlled(acl_) {
        if (
            address(engine_) == address(0) || address(registry_) == address(0) || address(compliance_) == address(0)
        ) revert SettlementZeroAddress();
        if (address(engine_).code.length == 0) revert SettlementEngineNotContract(address(engine_));
        engine = engine_;
        registry = registry_;
        compliance = compliance_;
    }

    // ------------------------------------------------------------------ settlement

    /// @inheritdoc ISettlement
    function settleBatch(uint256 batchId, bytes32 expectedRoot, bytes calldata fills)
        external
        onlyRole(Roles.OPERATOR)
        nonReentrant
    {
        uint256 expectedId = lastBatchId + 1;
        if (batchId != expectedId) revert SettlementBatchIdNotNext(batchId, expectedId);
        if (expectedRoot == bytes32(0)) revert SettlementZeroRoot();
        if (fills.length < 2) revert SettlementEmptyBatch();
        uint256 n = uint16(bytes2(fills[0:2]));
        if (n == 0) revert SettlementEmptyBatch();

        // The engine call's calldata, written fill by fill: abi.encodeCall(engine.applySettledFills,
        // (packed)) with one FillCodec record per fill (see {_engineCalldata}).
        bytes32[] memory hashes = new bytes32[](n);
        BatchCache memory bc;
        bc.batchId = batchId;
        bc.domainSeparator = _domainSeparatorV4();
        bc.engineCall = _engineCalldata(n);
        bc.n = n;
        bc.complianceCall = _complianceCalldata(n);
        bc.records = new bytes(n * RECORD_BYTES);
        uint256 offset = 2;
        for (uint256 i; i < n; ++i) {
            offset = _decode(i, fills, offset, bc);
            hashes[i] = _settleFill(i, fills, bc);
        }
        _checkCompliance(bc.complianceCall, n);
        if (offset != fills.length) revert SettlementMalformedFill(n);
        bytes32 root = MerkleRFC9162.rootInPlace(hashes);
        if (root != expectedRoot) revert SettlementRootMismatch(expectedRoot, root);

        _batches[batchId] = Batch({root: root, size: uint64(n)});
        lastBatchId = batchId;
        bytes32 chained = keccak256(abi.encodePacked(chainRoot, root));
        chainRoot = chained;
        emit BatchSettled(batchId, root, chained, n, bc.records);

        // Positions, fees (capped by each taker's signed maximum), declared hedge legs, and the
        // end-state margin check of every touched account (P1Trade shape). The engine is an immutable
        // contract (code checked at construction); its revert data (custom errors) is passed on unchanged.
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory ret) = address(engine).call(bc.engineCall);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ISettlement
    function verifyFill(uint256 batchId, bytes calldata leaf, uint256 index, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        Batch memory b = _batches[batchId];
        if (b.size == 0) revert SettlementUnknownBatch(batchId);
        return MerkleRFC9162.verify(b.root, b.size, index, MerkleRFC9162.leafHash(leaf), proof);
    }

    /// @notice The root and size of a settled batch (zero for an unknown id).
    /// @param batchId The batch.
    /// @return The batch.
    function batches(uint256 batchId) external view returns (Batch memory) {
        return _batches[batchId];
    }

    // ------------------------------------------------------------------ internals

    /// @dev Decodes fill `i` at `offset` into `bc` (its order structs are reused across fills); returns
    /// the offset after the fill.
    function _decode(uint256 i, bytes calldata data, uint256 offset, BatchCache memory bc)
        private
        pure
        returns (uint256 next)
    {
        next = PackedFills.readOrder(data, offset, bc.mk);
        if (next != 0) (bc.makerSigStart, bc.makerSigEnd, next) = PackedFills.readSignature(data, next);
        if (next != 0) next = PackedFills.readOrder(data, next, bc.tk);
        if (next != 0) (bc.takerSigStart, bc.takerSigEnd, next) = PackedFills.readSignature(data, next);
        if (next != 0) (bc.size, bc.price, next) = PackedFills.readAmounts(data, next);
        if (next == 0) revert SettlementMalformedFill(i);
    }

    /// @dev Every check of the decoded fill `i`, then its order accounting; writes engine fill `i` and its
    /// fee cap into `bc.engineCall` and returns the leaf hash.
    function _settleFill(uint256 i, bytes calldata data, BatchCache memory bc)
        private
        returns (bytes32 leafHash)
    {
        Order memory mk = bc.mk;
        Order memory tk = bc.tk;
        uint256 size = bc.size;
        uint256 price = bc.price;
        _checkShape(i, mk, tk, size, price);
        _checkMarket(i, mk.marketId, bc);
        bytes32 makerHash = _hashOrderIn(mk, bc.domainSeparator);
        bytes32 takerHash = _hashOrderIn(tk, bc.domainSeparator);
        if (!_isValidSigner(mk.trader, makerHash, _slice(data, bc.makerSigStart, bc.makerSigEnd))) {
            _reject(i, FillError.MakerBadSignature);
        }
        if (!_isValidSigner(tk.trader, takerHash, _slice(data, bc.takerSigStart, bc.takerSigEnd))) {
            _reject(i, FillError.TakerBadSignature);
        }
        _consume(i, mk, makerHash, size, true);
        _consume(i, tk, takerHash, size, false);

        leafHash = _leafHash(bc.batchId, makerHash, takerHash, size, price);
        bytes memory records = bc.records;
        assembly ("memory-safe") {
            // size and price are uint128 (PackedFills): the record is three whole words
            let p := add(add(records, 0x20), mul(i, RECORD_BYTES))
            mstore(p, makerHash)
            mstore(add(p, 0x20), takerHash)
            mstore(add(p, 0x40), or(shl(128, size), price))
        }
        _writeEngineFill(i, bc);
    }

    /// @dev Calldata of `engine.applySettledFills(packed)` for `n` fills, the records left zero for
    /// {_writeEngineFill}: selector, offset of `packed` (0x20), its length `n * 87`, the records, zero
    /// padding to a whole word. The allocation keeps a spare word for the last record's spill.
    function _engineCalldata(uint256 n) private pure returns (bytes memory b) {
        uint256 len = n * FillCodec.SETTLED_FILL_BYTES; // n < 2^16 (uint16 fill count): no overflow
        uint256 padded = (len + 31) & ~uint256(31);
        b = new bytes(4 + 0x40 + padded + 0x20);
        bytes4 selector = IPerpEngine.applySettledFills.selector;
        assembly ("memory-safe") {
            mstore(b, add(0x44, padded)) // the call's length: without the spare word
            let p := add(b, 0x20)
            mstore(p, selector)
            mstore(add(p, 0x04), 0x20)
            mstore(add(p, 0x24), len)
        }
    }

    /// @dev Writes engine fill `i` (a {FillCodec} settled fill record with the taker's fee cap) into
    /// `bc.engineCall` (built by {_engineCalldata}), and its maker and taker into `bc.complianceCall` (built
    /// by {_complianceCalldata}). Every value is already clean and in range: marketId uint32, traders 20
    /// bytes, isBuy 0/1 (PackedFills), size and price uint128, flags uint8, maxFeeRate uint64.
    function _writeEngineFill(uint256 i, BatchCache memory bc) private pure {
        bytes memory engineCall = bc.engineCall;
        Order memory mk = bc.mk;
        Order memory tk = bc.tk;
        uint256 rec; // record i at 4 + 0x40 + 87 * i of the calldata
        assembly ("memory-safe") {
            rec := add(engineCall, 0x64)
        }
        rec += i * FillCodec.SETTLED_FILL_BYTES;
        FillCodec.writeSettledFill(
            rec, mk.marketId, mk.trader, tk.trader, bc.size, bc.price, tk.maxFeeRate, tk.isBuy,
            _engineFlags(mk), _engineFlags(tk)
        ); // forgefmt: disable-line
        (address maker, address taker) = (mk.trader, tk.trader);
        bytes memory complianceCall = bc.complianceCall;
        assembly ("memory-safe") {
            // trader 2i at 4 + 0x40 + 0x40 * i of the calldata, trader 2i + 1 a word after it
            let t := add(complianceCall, add(0x64, mul(0x40, i)))
            mstore(t, maker)
            mstore(add(t, 0x20), taker)
        }
    }

    /// @dev `data[start:end]` without the bounds checks: only for bounds from {PackedFills.readSignature},
    /// which guarantees start <= end <= data.length.
    function _slice(bytes calldata data, uint256 start, uint256 end) private pure returns (bytes calldata s) {
        assembly ("memory-safe") {
            s.offset := add(data.offset, start)
            s.length := sub(end, start)
        }
    }

    /// @dev Checks that need no storage: fields, pairing, prices, expiry.
    function _checkShape(uint256 i, Order memory mk, Order memory tk, uint256 size, uint256 price) private view {
        if (size == 0 || price == 0) _reject(i, FillError.EmptyFill);
        if (mk.trader == address(0) || tk.trader == address(0)) _reject(i, FillError.ZeroTrader);
        if (!_validFields(mk) || !_validFields(tk)) _reject(i, FillError.InvalidOrderFields);
        if (mk.trader == tk.trader) _reject(i, FillError.SelfTrade);
        if (mk.marketId != tk.marketId) _reject(i, FillError.MarketMismatch);
        if (mk.isBuy == tk.isBuy) _reject(i, FillError.SameSide);
        if (price != mk.limitPrice) _reject(i, FillError.PriceNotMakerLimit);
        if (tk.isBuy ? price > tk.limitPrice : price < tk.limitPrice) _reject(i, FillError.PriceOutsideTakerLimit);
        if ((tk.flags & FLAG_POST_ONLY) != 0) _reject(i, FillError.TakerPostOnly);
        if (mk.expiry <= block.timestamp) _reject(i, FillError.MakerExpired);
        if (tk.expiry <= block.timestamp) _reject(i, FillError.TakerExpired);
    }

    function _validFields(Order memory o) private pure returns (bool) {
        // ALL_FLAGS is 2^5 - 1: no undefined bit <=> flags <= ALL_FLAGS
        return o.leg <= LEG_SHORT && o.flags <= ALL_FLAGS && o.leverage != 0 && o.leverage <= MAX_LEVERAGE;
    }

    /// @dev Listed and not settled (ReduceOnly and Paused markets take only reductions: the engine
    /// enforces that per fill). Cached across consecutive fills of one market.
    function _checkMarket(uint256 i, uint256 marketId, BatchCache memory bc) private view {
        if (marketId == bc.marketId) return;
        if (marketId == 0 || marketId > registry.marketCount()) _reject(i, FillError.MarketNotTradable);
        IMarketRegistry.Market memory m = registry.getMarket(marketId);
        if (m.status == IMarketRegistry.MarketStatus.Settled || m.status == IMarketRegistry.MarketStatus.None) {
            _reject(i, FillError.MarketNotTradable);
        }
        bc.marketId = marketId;
    }

    /// @dev Calldata of `compliance.firstNotAllowed(traders)` for the 2n traders of `n` fills, the
    /// traders left zero for {_writeEngineFill}: selector, offset (0x20), 2n, 2n addresses.
    function _complianceCalldata(uint256 n) private pure returns (bytes memory b) {
        b = new bytes(4 + 0x40 + 0x40 * n); // n < 2^16: no overflow
        bytes4 selector = IComplianceRegistry.firstNotAllowed.selector;
        assembly ("memory-safe") {
            let p := add(b, 0x20)
            mstore(p, selector)
            mstore(add(p, 0x04), 0x20)
            mstore(add(p, 0x24), mul(2, n))
        }
    }

    /// @dev Every trader of the batch allowed by the compliance registry, in one call (after every other
    /// check of every fill): the first one refused rejects its fill as MakerNotAllowed / TakerNotAllowed.
    /// Recurring traders (market makers) are listed once per fill: the registry reads them warm.
    function _checkCompliance(bytes memory complianceCall, uint256 n) private view {
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory ret) = address(compliance).staticcall(complianceCall);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        uint256 k = abi.decode(ret, (uint256));
        if (k < 2 * n) _reject(k >> 1, (k & 1) == 0 ? FillError.MakerNotAllowed : FillError.TakerNotAllowed);
    }

    /// @dev Engine fill flags: bit 0 API, bit 1 reduce-only, bit 2 short leg, bit 3 long leg (the engine
    /// checks the declared leg against the account's hedge mode).
    function _engineFlags(Order memory o) private pure returns (uint256) {
        uint256 f = o.flags;
        // leg 0 / 1 (long) / 2 (short) -> 0 / 8 / 4: nibble `leg` of 0x480 (leg <= 2: {_validFields})
        return ((f & FLAG_VIA_API) >> 4) | ((f & FLAG_REDUCE_ONLY) << 1) | ((0x480 >> (uint256(o.leg) << 2)) & 0xf);
    }

    /// @dev RFC 9162 leaf hash of `abi.encodePacked(uint64 batchId, makerHash, takerHash, uint128 size,
    /// uint128 price)`: keccak256(0x00 || data), built in scratch memory above the free pointer.
    function _leafHash(uint256 batchId, bytes32 makerHash, bytes32 takerHash, uint256 size, uint256 price)
        private
        pure
        returns (bytes32 h)
    {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, 0)
            mstore(add(ptr, 1), shl(192, batchId))
            mstore(add(ptr, 9), makerHash)
            mstore(add(ptr, 41), takerHash)
            mstore(add(ptr, 73), shl(128, size))
            mstore(add(ptr, 89), shl(128, price))
            h := keccak256(ptr, 105)
        }
    }
}
