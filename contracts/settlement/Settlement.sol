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

    /// @dev Per-batch memory: the batch id, the last checked market, the fill records of the
    /// {BatchSettled} event, and the current fill's decoded orders, signature bounds, size and price.
    struct BatchCache {
        uint256 batchId;
        uint256 marketId;
        bytes records;
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

        IPerpEngine.Fill[] memory out = new IPerpEngine.Fill[](n);
        uint256[] memory caps = new uint256[](n);
        bytes32[] memory hashes = new bytes32[](n);
        BatchCache memory bc;
        bc.batchId = batchId;
        bc.records = new bytes(n * RECORD_BYTES);
        uint256 offset = 2;
        for (uint256 i; i < n; ++i) {
            offset = _decode(i, fills, offset, bc);
            hashes[i] = _settleFill(i, fills, bc, out[i]);
            caps[i] = bc.tk.maxFeeRate;
        }
        if (offset != fills.length) revert SettlementMalformedFill(n);
        bytes32 root = MerkleRFC9162.rootInPlace(hashes);
        if (root != expectedRoot) revert SettlementRootMismatch(expectedRoot, root);

        _batches[batchId] = Batch({root: root, size: uint64(n)});
        lastBatchId = batchId;
        bytes32 chained = keccak256(abi.encodePacked(chainRoot, root));
        chainRoot = chained;
        emit BatchSettled(batchId, root, chained, n, bc.records);

        // Positions, fees (capped by each taker's signed maximum), declared hedge legs, and the
        // end-state margin check of every touched account (P1Trade shape).
        engine.applySettledFills(out, caps);
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

    /// @dev Every check of the decoded fill `i`, then its order accounting; fills in the engine fill `e`
    /// and returns the leaf hash.
    function _settleFill(uint256 i, bytes calldata data, BatchCache memory bc, IPerpEngine.Fill memory e)
        private
        returns (bytes32 leafHash)
    {
        Order memory mk = bc.mk;
        Order memory tk = bc.tk;
        uint256 size = bc.size;
        uint256 price = bc.price;
        _checkShape(i, mk, tk, size, price);
        _checkMarket(i, mk.marketId, bc);
        bytes32 makerHash = _hashOrder(mk);
        bytes32 takerHash = _hashOrder(tk);
        if (!_isValidSigner(mk.trader, makerHash, data[bc.makerSigStart:bc.makerSigEnd])) {
            _reject(i, FillError.MakerBadSignature);
        }
        if (!_isValidSigner(tk.trader, takerHash, data[bc.takerSigStart:bc.takerSigEnd])) {
            _reject(i, FillError.TakerBadSignature);
        }
        _consume(i, mk, makerHash, size, true);
        _consume(i, tk, takerHash, size, false);
        if (!_allowed(mk.trader, bc)) _reject(i, FillError.MakerNotAllowed);
        if (!_allowed(tk.trader, bc)) _reject(i, FillError.TakerNotAllowed);

        leafHash = _leafHash(bc.batchId, makerHash, takerHash, size, price);
        bytes memory records = bc.records;
        assembly ("memory-safe") {
            // size and price are uint128 (PackedFills): the record is three whole words
            let p := add(add(records, 0x20), mul(i, RECORD_BYTES))
            mstore(p, makerHash)
            mstore(add(p, 0x20), takerHash)
            mstore(add(p, 0x40), or(shl(128, size), price))
        }
        e.marketId = mk.marketId;
        e.maker = mk.trader;
        e.taker = tk.trader;
        e.takerIsBuy = tk.isBuy;
        e.sizeX18 = size;
        e.priceX18 = price;
        e.makerFlags = _engineFlags(mk);
        e.takerFlags = _engineFlags(tk);
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
        return o.leg <= LEG_SHORT && (o.flags & ~ALL_FLAGS) == 0 && o.leverage != 0 && o.leverage <= MAX_LEVERAGE;
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

    /// @dev `compliance.isAllowed(trader)`, remembered for the rest of the batch in a transient slot keyed
    /// by (trader, batch id): market makers recur across fills. The registry cannot change during the call
    /// (nonReentrant, and it is not called back), and a later batch (a new id) asks the registry again.
    function _allowed(address trader, BatchCache memory bc) private returns (bool) {
        uint256 batchId = bc.batchId;
        bytes32 key;
        uint256 known;
        assembly ("memory-safe") {
            mstore(0x00, trader)
            mstore(0x20, batchId)
            key := keccak256(0x00, 0x40)
            known := tload(key)
        }
        if (known != 0) return true;
        if (!compliance.isAllowed(trader)) return false;
        assembly ("memory-safe") {
            tstore(key, 1)
        }
        return true;
    }

    /// @dev Engine fill flags: bit 0 API, bit 1 reduce-only, bit 2 short leg, bit 3 long leg (the engine
    /// checks the declared leg against the account's hedge mode).
    function _engineFlags(Order memory o) private pure returns (uint8 flags) {
        if ((o.flags & FLAG_VIA_API) != 0) flags |= 1;
        if ((o.flags & FLAG_REDUCE_ONLY) != 0) flags |= 2;
        if (o.leg == LEG_SHORT) flags |= 4;
        else if (o.leg == LEG_LONG) flags |= 8;
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
