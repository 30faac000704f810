// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ISettlement} from "../interfaces/ISettlement.sol";

/// @title SettlementOrders
/// @notice Signed orders of {Settlement}: EIP-712 hashing, signers (trader, API-key delegate, ERC-1271
/// wallet), cancels, and per-order fill tracking.
/// @dev Order state, designed so that a fill of a fresh order that fills completely costs one storage
/// word, shared by 128 consecutive nonces of the trader:
/// - `_orderBits[trader][nonce >> 7]` holds 2 bits per nonce: CONSUMED (an order with this nonce
///   filled completely: every order of the trader with this nonce is dead) and RECORDED (read
///   `_filled[hash]`: a partial fill or a cancel exists for some order with this nonce).
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

    /// @notice Expiry of each (trader, delegate) API-key authorisation; 0 = none.
    mapping(address trader => mapping(address delegate => uint256 expiry)) public delegateExpiry;
    /// @notice Orders of a trader with a nonce below this are cancelled.
    mapping(address trader => uint256 minNonce) public nonceFloor;

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

    // ------------------------------------------------------------------ views

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

    /// @dev The trader's own ECDSA signature (low-s, v in {27, 28}, signer != 0; 65 bytes `r || s || v`
    /// or 64 bytes EIP-2098 `r || vs`), a live delegate's, or an ERC-1271 approval by the trader's
    /// contract wallet (given the signature bytes as submitted).
    function _isValidSigner(address trader, bytes32 digest, bytes calldata signature) internal view returns (bool) {
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
    function _consume(uint256 i, Order memory o, bytes32 orderHash, uint256 size, bool isMaker) internal {
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

    /// @dev EIP-712 digest of an order in memory: the struct hash is keccak256 over the type hash
    /// followed by the struct's 11 words, computed in place (the word before the struct is saved,
    /// overwritten with the type hash and restored). Memory structs hold cleaned, ABI-validated values,
    /// so this equals keccak256(abi.encode(ORDER_TYPEHASH, o)).
    function _hashOrder(Order memory o) internal view returns (bytes32) {
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

    function _reject(uint256 i, FillError reason) internal pure {
        revert SettlementFillRejected(i, reason);
    }
}
