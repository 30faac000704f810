// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {AccessControlled} from "../access/AccessControlled.sol";
import {Roles} from "../access/Roles.sol";
import {IComplianceRegistry} from "../interfaces/IComplianceRegistry.sol";
import {IFeeSchedule} from "../interfaces/IFeeSchedule.sol";
import {IMarketRegistry} from "../interfaces/IMarketRegistry.sol";
import {IPerpEngine} from "../interfaces/IPerpEngine.sol";
import {ISettlement} from "../interfaces/ISettlement.sol";
import {MerkleRFC9162} from "../libraries/MerkleRFC9162.sol";
import {PackedFills} from "../libraries/PackedFills.sol";

/// @title Settlement
/// @notice Verifies signed orders, tracks their fills, settles matched batches through the
/// perpetual engine and commits every batch to a Merkle root chained into one running commitment.
/// @dev Order state, designed so that a fill of two fresh orders that fill completely costs one
/// warm-able storage word per order:
/// - `_orderBits[trader][nonce >> 7]` holds 2 bits per nonce: CONSUMED (an order with this nonce
///   filled completely: every order of the trader with this nonce is dead) and RECORDED (read
///   `_filled[hash]`: a partial fill or a cancel exists for some order with this nonce).
/// - `_filled[hash]` exists only while an order is partially filled or cancelled: the filled amount, with
///   the {CANCELLED} bit (bit 255) set once cancelled.
/// A nonce is therefore single-use once an order with it fills completely (like Permit2 nonces).
/// Leaf data of fill i of batch b: `abi.encodePacked(uint64 b, makerHash, takerHash, uint128 size,
/// uint128 price)`, hashed RFC 9162 style (0x00 prefix); the batch id in the leaf makes every batch
/// root unique, so a root can never settle twice.
contract Settlement is ISettlement, EIP712, AccessControlled, ReentrancyGuard {
    /// @notice EIP-712 type hash of {ISettlement.Order}.
    bytes32 public constant ORDER_TYPEHASH = keccak256(
        "Order(address trader,uint32 marketId,bool isBuy,uint8 leg,uint16 flags,uint16 leverage,"
        "uint128 size,uint128 limitPrice,uint64 maxFeeRate,uint64 nonce,uint64 expiry)"
    );
    /// @notice Order flag: reduce-only.
    uint16 public constant FLAG_REDUCE_ONLY = 1;
    /// @notice Order flag: post-only (may never take liquidity).
    uint16 public constant FLAG_POST_ONLY = 2;
    /// @notice Order flag: submitted through the API (taker fee discount).
    uint16 public constant FLAG_VIA_API = 16;
    /// @notice Every defined order flag bit (reduce-only, post-only, IOC, FOK, via API).
    uint16 public constant ALL_FLAGS = 31;
    /// @notice Order leg: hedge-mode long leg.
    uint8 public constant LEG_LONG = 1;
    /// @notice Order leg: hedge-mode short leg.
    uint8 public constant LEG_SHORT = 2;
    /// @notice Highest order leverage.
    uint16 public constant MAX_LEVERAGE = 50;

    uint256 private constant CONSUMED = 1;
    uint256 private constant RECORDED = 2;
    uint256 private constant CANCELLED = 1 << 255;

    /// @notice The perpetual engine fills are applied to (this contract needs Roles.SETTLER).
    IPerpEngine public immutable engine;
    /// @notice Market listing and status.
    IMarketRegistry public immutable registry;
    /// @notice Fee tiers, used to check the taker fee against the signed maximum.
    IFeeSchedule public immutable feeSchedule;
    /// @notice Allowlist and blocklist of traders.
    IComplianceRegistry public immutable compliance;

    /// @notice Id of the last settled batch (0 before the first); the next batch is `lastBatchId + 1`.
    uint256 public lastBatchId;
    /// @notice keccak256(previous chainRoot || batch root) over every settled batch, from zero.
    bytes32 public chainRoot;
    /// @notice Expiry of each (trader, delegate) API-key authorisation; 0 = none.
    mapping(address trader => mapping(address delegate => uint256 expiry)) public delegateExpiry;
    /// @notice Orders of a trader with a nonce below this are cancelled.
    mapping(address trader => uint256 minNonce) public nonceFloor;

    mapping(uint256 batchId => Batch) private _batches;
    mapping(address trader => mapping(uint256 word => uint256 bits)) private _orderBits;
    mapping(bytes32 orderHash => uint256 filledOrCancelled) private _filled;

    /// @dev Per-batch memory: the batch id, the last checked market, traders the compliance registry
    /// allowed, and the current fill's decoded orders, signature bounds, size and price.
    struct BatchCache {
        uint256 batchId;
        uint256 marketId;
        address[] allowed;
        uint256 allowedCount;
        Order mk;
        Order tk;
        uint256 makerSigStart;
        uint256 makerSigEnd;
        uint256 takerSigStart;
        uint256 takerSigEnd;
        uint256 size;
        uint256 price;
    }

    /// @dev Traders whose allowance one batch remembers (market makers recur across fills).
    uint256 private constant ALLOWED_CACHE = 16;

    /// @param acl_ ProtocolAccess.
    /// @param engine_ The perpetual engine.
    /// @param registry_ The engine's market registry.
    /// @param feeSchedule_ The engine's fee schedule.
    /// @param compliance_ The compliance registry.
    constructor(
        IAccessControl acl_,
        IPerpEngine engine_,
        IMarketRegistry registry_,
        IFeeSchedule feeSchedule_,
        IComplianceRegistry compliance_
    ) EIP712("perpx Settlement", "1") AccessControlled(acl_) {
        if (
            address(engine_) == address(0) || address(registry_) == address(0) || address(feeSchedule_) == address(0)
                || address(compliance_) == address(0)
        ) revert SettlementZeroAddress();
        engine = engine_;
        registry = registry_;
        feeSchedule = feeSchedule_;
        compliance = compliance_;
    }

    // ------------------------------------------------------------------ traders

    /// @inheritdoc ISettlement
    function authorizeDelegate(address delegate, uint256 expiry) external {
        if (delegate == address(0) || delegate == msg.sender) revert SettlementInvalidDelegate(delegate);
        if (expiry <= block.timestamp) revert SettlementExpiryNotInFuture(expiry);
        delegateExpiry[msg.sender][delegate] = expiry;
        emit DelegateAuthorized(msg.sender, delegate, expiry);
    }

    /// @inheritdoc ISettlement
    function revokeDelegate(address delegate) external {
        delete delegateExpiry[msg.sender][delegate];
        emit DelegateRevoked(msg.sender, delegate);
    }

    /// @inheritdoc ISettlement
    function cancelOrder(Order calldata order) external {
        address trader = order.trader;
        if (msg.sender != trader && delegateExpiry[trader][msg.sender] <= block.timestamp) {
            revert SettlementNotTraderOrDelegate(msg.sender, trader);
        }
        bytes32 h = _hashOrder(order);
        uint256 nonce = order.nonce;
        _orderBits[trader][nonce >> 7] |= RECORDED << ((nonce & 127) << 1);
        _filled[h] |= CANCELLED; // keeps the filled amount (sizes are uint128) readable
        emit OrderCancelled(h, trader, nonce);
    }

    /// @inheritdoc ISettlement
    function cancelBelowNonce(uint256 minNonce) external {
        uint256 current = nonceFloor[msg.sender];
        if (minNonce <= current) revert SettlementNonceFloorNotIncreasing(current, minNonce);
        nonceFloor[msg.sender] = minNonce;
        emit NonceFloorRaised(msg.sender, minNonce);
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
        bc.allowed = new address[](ALLOWED_CACHE);
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
        emit BatchSettled(batchId, root, chained, n);

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

    /// @inheritdoc ISettlement
    function hashOrder(Order calldata order) external view returns (bytes32) {
        return _hashOrder(order);
    }

    /// @notice The EIP-712 domain separator of this deployment.
    /// @return The separator.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice Fill state of `order`.
    /// @param order The order.
    /// @return orderHash Its EIP-712 hash.
    /// @return filledX18 Size filled so far; the full size once its nonce is consumed (no more fills).
    /// @return cancelled True when cancelled by hash or below the trader's nonce floor.
    function orderState(Order calldata order)
        external
        view
        returns (bytes32 orderHash, uint256 filledX18, bool cancelled)
    {
        orderHash = _hashOrder(order);
        uint256 nonce = order.nonce;
        uint256 bits = (_orderBits[order.trader][nonce >> 7] >> ((nonce & 127) << 1)) & 3;
        uint256 recorded = (bits & RECORDED) != 0 ? _filled[orderHash] : 0;
        cancelled = (recorded & CANCELLED) != 0 || nonce < nonceFloor[order.trader];
        filledX18 = (bits & CONSUMED) != 0 ? order.size : recorded & ~CANCELLED;
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
        emit FillSettled(makerHash, takerHash, bc.batchId, size, price);
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

    /// @dev `compliance.isAllowed(trader)`, remembering allowed traders for the rest of the batch
    /// (the registry cannot change during the call: nonReentrant, and it is not called back).
    function _allowed(address trader, BatchCache memory bc) private view returns (bool) {
        address[] memory cached = bc.allowed;
        uint256 count = bc.allowedCount;
        for (uint256 k; k < count; ++k) {
            if (cached[k] == trader) return true;
        }
        if (!compliance.isAllowed(trader)) return false;
        if (count < cached.length) {
            cached[count] = trader;
            bc.allowedCount = count + 1;
        }
        return true;
    }

    /// @dev The trader's own ECDSA signature (low-s, v in {27, 28}, signer != 0; 65 bytes `r || s || v`
    /// or 64 bytes EIP-2098 `r || vs`), a live delegate's, or an ERC-1271 approval by the trader's
    /// contract wallet (given the signature bytes as submitted).
    function _isValidSigner(address trader, bytes32 digest, bytes calldata signature) private view returns (bool) {
        address signer;
        ECDSA.RecoverError err;
        if (signature.length == 64) {
            (signer, err,) = ECDSA.tryRecover(digest, bytes32(signature[0:32]), bytes32(signature[32:64]));
        } else {
            (signer, err,) = ECDSA.tryRecover(digest, signature);
        }
        if (err == ECDSA.RecoverError.NoError) {
            if (signer == trader) return true;
            if (delegateExpiry[trader][signer] > block.timestamp) return true;
        }
        return trader.code.length != 0 && SignatureChecker.isValidERC1271SignatureNow(trader, digest, signature);
    }

    /// @dev Adds `size` to the order's fills: refuses cancelled orders, consumed nonces and overfills.
    function _consume(uint256 i, Order memory o, bytes32 orderHash, uint256 size, bool isMaker) private {
        address trader = o.trader;
        uint256 nonce = o.nonce;
        if (nonce < nonceFloor[trader]) _reject(i, isMaker ? FillError.MakerCancelled : FillError.TakerCancelled);
        uint256 wordIndex = nonce >> 7;
        uint256 shift = (nonce & 127) << 1;
        uint256 word = _orderBits[trader][wordIndex];
        uint256 bits = (word >> shift) & 3;
        if ((bits & CONSUMED) != 0) _reject(i, isMaker ? FillError.MakerOverfill : FillError.TakerOverfill);
        uint256 prior;
        if ((bits & RECORDED) != 0) {
            prior = _filled[orderHash];
            if ((prior & CANCELLED) != 0) _reject(i, isMaker ? FillError.MakerCancelled : FillError.TakerCancelled);
        }
        uint256 total = prior + size;
        if (total > o.size) _reject(i, isMaker ? FillError.MakerOverfill : FillError.TakerOverfill);
        if (total == o.size) {
            _orderBits[trader][wordIndex] = word | (CONSUMED << shift);
            if (prior != 0) delete _filled[orderHash];
        } else {
            if ((bits & RECORDED) == 0) _orderBits[trader][wordIndex] = word | (RECORDED << shift);
            _filled[orderHash] = total;
        }
    }

    /// @dev Engine fill flags: bit 0 API, bit 1 reduce-only, bit 2 short leg, bit 3 long leg (the engine
    /// checks the declared leg against the account's hedge mode).
    function _engineFlags(Order memory o) private pure returns (uint8 flags) {
        if ((o.flags & FLAG_VIA_API) != 0) flags |= 1;
        if ((o.flags & FLAG_REDUCE_ONLY) != 0) flags |= 2;
        if (o.leg == LEG_SHORT) flags |= 4;
        else if (o.leg == LEG_LONG) flags |= 8;
    }

    /// @dev EIP-712 digest of an order in memory: the struct hash is keccak256 over the type hash
    /// followed by the struct's 11 words, computed in place (the word before the struct is saved,
    /// overwritten with the type hash and restored). Memory structs hold cleaned, ABI-validated values,
    /// so this equals keccak256(abi.encode(ORDER_TYPEHASH, o)).
    function _hashOrder(Order memory o) private view returns (bytes32) {
        bytes32 typeHash = ORDER_TYPEHASH;
        bytes32 structHash;
        assembly {
            let ptr := sub(o, 0x20)
            let saved := mload(ptr)
            mstore(ptr, typeHash)
            structHash := keccak256(ptr, 0x180)
            mstore(ptr, saved)
        }
        return _hashTypedDataV4(structHash);
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

    function _reject(uint256 i, FillError reason) private pure {
        revert SettlementFillRejected(i, reason);
    }
}
