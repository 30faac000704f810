// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ISettlement} from "../interfaces/ISettlement.sol";

/// @title SettlementOrders
/// @notice Signed orders of {Settlement}: EIP-712 hashing, signers (trader, API-key delegate, ERC-1271
/// wallet), cancels, and per-order fill tracking.
/// @dev Order state, designed so that a fill of a fresh order that fills completely costs one storage
/// word per trader in the common case (sequential nonces within 96 of the trader's nonce floor), the
/// same word that holds the floor, and two bits per nonce otherwise:
/// - `_head[trader]`: the nonce floor (bits 192..255, a uint64) and the *window*: 2 bits for each of the
///   96 nonces `floor + k` (bits 2k, 2k+1; k < 96).
/// - `_orderBits[trader][nonce >> 7]`: 2 bits per nonce (128 per word) for every nonce outside the
///   window (at or above `floor + 96`, or below the floor).
/// - 2 bits per nonce: CONSUMED (an order with this nonce filled completely: every order of the trader
///   with this nonce is dead) and RECORDED (read `_filled[hash]`: a partial fill or a cancel exists for
///   some order with this nonce). Bits are only ever set, never cleared.
/// - Raising the floor ({cancelBelowNonce}) slides the window: the bits of the nonces leaving it (now
///   below the floor) are OR-ed into `_orderBits` (so {orderState} still reports their fills), and the
///   bits of the nonces entering it are copied from `_orderBits` (so a consumed or partially filled
///   order stays so: no overfill across a floor raise). Both ranges are at most 96 nonces: 2 words.
/// - `_filled[hash]` exists only while an order is partially filled or cancelled: the filled amount, with
///   the {CANCELLED} bit (bit 255) set once cancelled.
/// A nonce is therefore single-use once an order with it fills completely (like Permit2 nonces).
abstract contract SettlementOrders is ISettlement, EIP712 {
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

    uint256 internal constant CONSUMED = 1;
    uint256 internal constant RECORDED = 2;
    uint256 internal constant CANCELLED = 1 << 255;
    /// @dev Nonces held in the head word above the floor, and the mask of their bits.
    uint256 internal constant WINDOW = 96;
    uint256 internal constant WINDOW_MASK = (1 << 192) - 1;
    /// @dev Bit position of the nonce floor in the head word.
    uint256 internal constant FLOOR_SHIFT = 192;

    /// @notice Expiry of each (trader, delegate) API-key authorisation; 0 = none.
    mapping(address trader => mapping(address delegate => uint256 expiry)) public delegateExpiry;
    /// @dev Per trader: nonce floor (high 64 bits) and the bits of the 96 nonces above it (see above).
    mapping(address trader => uint256 floorAndWindow) internal _head;
    mapping(address trader => mapping(uint256 word => uint256 bits)) internal _orderBits;
    mapping(bytes32 orderHash => uint256 filledOrCancelled) internal _filled;

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
        (bool inHead, uint256 shift, uint256 word) = _locate(trader, nonce);
        _storeBits(trader, nonce, inHead, word | (RECORDED << shift));
        _filled[h] |= CANCELLED; // keeps the filled amount (sizes are uint128) readable
        emit OrderCancelled(h, trader, nonce);
    }

    /// @inheritdoc ISettlement
    /// @dev The floor is stored as a uint64 (nonces are uint64): a higher `minNonce` reverts with
    /// {SettlementNonceFloorTooLarge} (cancel nonce 2^64 - 1 by hash instead). Slides the window.
    function cancelBelowNonce(uint256 minNonce) external {
        address trader = msg.sender;
        uint256 head = _head[trader];
        uint256 current = head >> FLOOR_SHIFT;
        if (minNonce <= current) revert SettlementNonceFloorNotIncreasing(current, minNonce);
        if (minNonce > type(uint64).max) revert SettlementNonceFloorTooLarge(minNonce, type(uint64).max);
        uint256 window = head & WINDOW_MASK;
        uint256 moved = minNonce - current; // nonces leaving (and entering) the window, at most WINDOW
        if (moved > WINDOW) moved = WINDOW;
        uint256 movedMask = (1 << (moved << 1)) - 1; // moved <= 96: no overflow
        uint256 leaving = window & movedMask; // nonces current .. current + moved - 1, now below the floor
        if (leaving != 0) _orOverflow(trader, current, leaving);
        uint256 kept = window >> (moved << 1); // 0 when the whole window leaves
        // nonces minNonce + WINDOW - moved .. minNonce + WINDOW - 1, until now outside the window
        uint256 entering = _readOverflow(trader, minNonce + WINDOW - moved) & movedMask;
        _head[trader] = (minNonce << FLOOR_SHIFT) | kept | (entering << ((WINDOW - moved) << 1));
        emit NonceFloorRaised(trader, minNonce);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ISettlement
    function hashOrder(Order calldata order) external view returns (bytes32) {
        return _hashOrder(order);
    }

    /// @notice Orders of a trader with a nonce below this are cancelled.
    /// @param trader The trader.
    /// @return The trader's nonce floor (0 until raised).
    function nonceFloor(address trader) external view returns (uint256) {
        return _head[trader] >> FLOOR_SHIFT;
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
        (, uint256 shift, uint256 word) = _locate(order.trader, nonce);
        uint256 bits = (word >> shift) & 3;
        uint256 recorded = (bits & RECORDED) != 0 ? _filled[orderHash] : 0;
        cancelled = (recorded & CANCELLED) != 0 || nonce < (_head[order.trader] >> FLOOR_SHIFT);
        filledX18 = (bits & CONSUMED) != 0 ? order.size : recorded & ~CANCELLED;
    }

    // ------------------------------------------------------------------ internals

    /// @dev The trader's own ECDSA signature (low-s, v in {27, 28}, signer != 0; 65 bytes `r || s || v`
    /// or 64 bytes EIP-2098 `r || vs`), a live delegate's, or an ERC-1271 approval by the trader's
    /// contract wallet (given the signature bytes as submitted).
    function _isValidSigner(address trader, bytes32 digest, bytes calldata signature) internal view returns (bool) {
        address signer;
        ECDSA.RecoverError err;
        if (signature.length == 64) {
            bytes32 r;
            bytes32 vs;
            assembly ("memory-safe") {
                // the two words of the 64-byte slice (no slicing checks needed: the length is 64)
                r := calldataload(signature.offset)
                vs := calldataload(add(signature.offset, 0x20))
            }
            (signer, err,) = ECDSA.tryRecover(digest, r, vs);
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
    function _consume(uint256 i, Order memory o, bytes32 orderHash, uint256 size, bool isMaker) internal {
        address trader = o.trader;
        uint256 nonce = o.nonce;
        uint256 head = _head[trader];
        uint256 floor = head >> FLOOR_SHIFT;
        if (nonce < floor) _reject(i, isMaker ? FillError.MakerCancelled : FillError.TakerCancelled);
        bool inHead;
        uint256 shift;
        uint256 word;
        unchecked {
            // nonce >= floor (checked above): no underflow
            inHead = nonce - floor < WINDOW;
            shift = inHead ? (nonce - floor) << 1 : (nonce & 127) << 1;
        }
        word = inHead ? head : _orderBits[trader][nonce >> 7];
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
            _storeBits(trader, nonce, inHead, word | (CONSUMED << shift));
            if (prior != 0) delete _filled[orderHash];
        } else {
            if ((bits & RECORDED) == 0) _storeBits(trader, nonce, inHead, word | (RECORDED << shift));
            _filled[orderHash] = total;
        }
    }

    /// @dev Where the 2 bits of `nonce` live: in the head word (the window above the floor) or in its
    /// `_orderBits` word; returns that word and the bits' position in it.
    function _locate(address trader, uint256 nonce) internal view returns (bool inHead, uint256 shift, uint256 word) {
        uint256 head = _head[trader];
        uint256 floor = head >> FLOOR_SHIFT;
        inHead = nonce >= floor && nonce - floor < WINDOW;
        if (inHead) return (true, (nonce - floor) << 1, head);
        return (false, (nonce & 127) << 1, _orderBits[trader][nonce >> 7]);
    }

    /// @dev Writes back the word located by {_locate} (or read in {_consume}) for `nonce`.
    function _storeBits(address trader, uint256 nonce, bool inHead, uint256 word) internal {
        if (inHead) _head[trader] = word;
        else _orderBits[trader][nonce >> 7] = word;
    }

    /// @dev ORs `bits` (2 per nonce, at most 96 nonces from `start`) into the `_orderBits` words.
    function _orOverflow(address trader, uint256 start, uint256 bits) private {
        uint256 index = start >> 7;
        uint256 offset = (start & 127) << 1;
        uint256 low = bits << offset; // the part that fits in word `index` (shl drops the rest)
        if (low != 0) _orderBits[trader][index] |= low;
        if (offset != 0) {
            uint256 high = bits >> (256 - offset); // the rest, into the next word
            if (high != 0) _orderBits[trader][index + 1] |= high;
        }
    }

    /// @dev The `_orderBits` bits from nonce `start` on (256 bits: the caller masks the nonces it needs).
    function _readOverflow(address trader, uint256 start) private view returns (uint256 bits) {
        uint256 index = start >> 7;
        uint256 offset = (start & 127) << 1;
        bits = _orderBits[trader][index] >> offset;
        // the next word only when the at most 96 nonces needed (192 bits) cross into it
        if (offset > 64) bits |= _orderBits[trader][index + 1] << (256 - offset);
    }

    /// @dev EIP-712 digest of an order in memory (see {_hashOrderIn}).
    function _hashOrder(Order memory o) internal view returns (bytes32) {
        return _hashOrderIn(o, _domainSeparatorV4());
    }

    /// @dev EIP-712 digest of an order in memory under `separator` (a batch reads {_domainSeparatorV4}
    /// once): the struct hash is keccak256 over the type hash followed by the struct's 11 words, computed
    /// in place (the word before the struct is saved, overwritten with the type hash and restored).
    /// Memory structs hold cleaned, ABI-validated values, so this equals
    /// keccak256(abi.encode(ORDER_TYPEHASH, o)).
    function _hashOrderIn(Order memory o, bytes32 separator) internal pure returns (bytes32) {
        bytes32 typeHash = ORDER_TYPEHASH;
        bytes32 structHash;
        assembly {
            let ptr := sub(o, 0x20)
            let saved := mload(ptr)
            mstore(ptr, typeHash)
            structHash := keccak256(ptr, 0x180)
            mstore(ptr, saved)
        }
        return MessageHashUtils.toTypedDataHash(separator, structHash);
    }

    function _reject(uint256 i, FillError reason) internal pure {
        revert SettlementFillRejected(i, reason);
    }
}
