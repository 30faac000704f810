// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {AccessControlled} from "../access/AccessControlled.sol";
import {Roles} from "../access/Roles.sol";
import {BridgeMessages} from "./BridgeMessages.sol";

/// @title BridgeValidatorSet
/// @notice The M-of-N validator set of a bridge: quorum signature checks and time-locked rotation.
/// @dev Invariants (SECURITY 29, B4, B8):
/// - `0 < threshold <= validators.length <= MAX_VALIDATORS` from construction on; every set is
///   checked by {_checkSet} before it is stored, and there is no initializer or upgrade path.
/// - A quorum is `threshold` or more signatures whose signers are strictly ascending (so no
///   signer counts twice), each a member of the current epoch's set; OpenZeppelin's `tryRecover`
///   refuses high-s, bad `v`, malformed and zero-address signatures.
/// - `epoch` only increases: a rotation names an epoch above the current one (and above any
///   rotation already pending), is approved by a quorum of the current set, waits the bridge's
///   time lock in seconds and in blocks, and can be cancelled by a guardian meanwhile.
abstract contract BridgeValidatorSet is EIP712, AccessControlled {
    /// @notice Largest validator set accepted (bounds the gas of a rotation).
    uint256 public constant MAX_VALIDATORS = 32;

    /// @notice A rotation waiting for its time lock.
    struct PendingRotation {
        address[] validators;
        uint256 threshold;
        uint64 epoch;
        uint64 readyAt;
        uint64 readyBlock;
    }

    /// @notice The current epoch; only ever increases.
    uint64 public epoch;
    /// @notice Signatures needed for a quorum of the current set.
    uint256 public threshold;
    address[] private _validators;
    mapping(uint64 epoch => mapping(address account => bool)) private _member;
    PendingRotation private _pending;

    /// @notice A validator set is empty, larger than MAX_VALIDATORS, or its threshold is 0 or above its size.
    error BridgeValidatorSetInvalidThreshold(uint256 threshold, uint256 size);
    /// @notice A validator address is zero or the set is not strictly ascending (duplicates included).
    error BridgeValidatorSetInvalidMember(uint256 index, address validator);
    /// @notice Fewer signatures than the threshold were supplied.
    error BridgeValidatorSetInsufficientSignatures(uint256 supplied, uint256 threshold);
    /// @notice Signature `index` is malformed, malleable (high s), has a bad `v` or recovers to zero.
    error BridgeValidatorSetInvalidSignature(uint256 index);
    /// @notice Signers are not strictly ascending: `signer` repeats or follows a larger address.
    error BridgeValidatorSetSignerOrder(address previous, address signer);
    /// @notice `signer` is not a validator of the current epoch.
    error BridgeValidatorSetUnknownSigner(address signer, uint64 epoch);
    /// @notice A rotation's epoch does not exceed the current epoch or the pending rotation's.
    error BridgeValidatorSetStaleEpoch(uint64 proposed, uint64 floor);
    /// @notice No rotation is pending.
    error BridgeValidatorSetNoPendingRotation();
    /// @notice The pending rotation's time lock has not elapsed.
    error BridgeValidatorSetRotationNotReady(uint64 readyAt, uint64 readyBlock);

    /// @notice A rotation to `epoch` was approved by the current set and waits until the given time and block.
    event ValidatorSetProposed(uint64 indexed epoch, address[] validators, uint256 threshold, uint64 readyAt, uint64 readyBlock);
    /// @notice The validator set of `epoch` took effect.
    event ValidatorSetRotated(uint64 indexed epoch, address[] validators, uint256 threshold);
    /// @notice A guardian cancelled the pending rotation to `epoch`.
    event ValidatorSetRotationCancelled(uint64 indexed epoch, address indexed guardian);

    /// @param validators The initial set, strictly ascending, non-zero.
    /// @param threshold_ The initial threshold, 0 < threshold_ <= validators.length.
    constructor(address[] memory validators, uint256 threshold_) EIP712("perpx Bridge", "1") {
        _install(validators, threshold_, 0);
    }

    /// @notice The current validator set.
    /// @return The validators, ascending.
    function validators() external view returns (address[] memory) {
        return _validators;
    }

    /// @notice Whether `account` is a validator of the current epoch.
    /// @param account The address.
    /// @return True when it is a member of the current set.
    function isValidator(address account) external view returns (bool) {
        return _member[epoch][account];
    }

    /// @notice The pending rotation (epoch 0 when none).
    /// @return The pending rotation.
    function pendingRotation() external view returns (PendingRotation memory) {
        return _pending;
    }

    /// @notice The EIP-712 domain separator (chain id and this contract).
    /// @return The separator.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice Stages a new validator set approved by a quorum of the current set; it takes effect
    /// through {finalizeRotation} after the time lock. Anyone may submit the approval.
    /// @param newValidators The new set, strictly ascending, non-zero.
    /// @param newThreshold The new threshold, 0 < newThreshold <= newValidators.length.
    /// @param newEpoch The new epoch, above the current one and above any pending rotation's.
    /// @param signatures Current validators' EIP-712 signatures of the rotation, signers ascending.
    function proposeRotation(
        address[] calldata newValidators,
        uint256 newThreshold,
        uint64 newEpoch,
        bytes[] calldata signatures
    ) external {
        uint64 floor = _pending.epoch > epoch ? _pending.epoch : epoch;
        if (newEpoch <= floor) revert BridgeValidatorSetStaleEpoch(newEpoch, floor);
        _checkSet(newValidators, newThreshold);
        _verifyQuorum(_hashTypedDataV4(BridgeMessages.hashRotation(newValidators, newThreshold, newEpoch)), signatures);
        (uint64 delaySeconds, uint64 delayBlocks) = _timelock();
        uint64 readyAt = uint64(block.timestamp) + delaySeconds;
        uint64 readyBlock = uint64(block.number) + delayBlocks;
        _pending = PendingRotation(newValidators, newThreshold, newEpoch, readyAt, readyBlock);
        emit ValidatorSetProposed(newEpoch, newValidators, newThreshold, readyAt, readyBlock);
    }

    /// @notice Applies the pending rotation once its time lock has elapsed in seconds and in blocks.
    function finalizeRotation() external {
        PendingRotation memory p = _pending;
        if (p.epoch == 0) revert BridgeValidatorSetNoPendingRotation();
        if (block.timestamp < p.readyAt || block.number < p.readyBlock) {
            revert BridgeValidatorSetRotationNotReady(p.readyAt, p.readyBlock);
        }
        delete _pending;
        _install(p.validators, p.threshold, p.epoch);
    }

    /// @notice Cancels the pending rotation (guardian veto during the time lock).
    function cancelRotation() external onlyRole(Roles.GUARDIAN) {
        uint64 pendingEpoch = _pending.epoch;
        if (pendingEpoch == 0) revert BridgeValidatorSetNoPendingRotation();
        delete _pending;
        emit ValidatorSetRotationCancelled(pendingEpoch, msg.sender);
    }

    /// @dev Reverts unless `signatures` hold a quorum of the current set over `digest`.
    function _verifyQuorum(bytes32 digest, bytes[] calldata signatures) internal view {
        uint256 needed = threshold;
        if (signatures.length < needed) revert BridgeValidatorSetInsufficientSignatures(signatures.length, needed);
        uint64 current = epoch;
        address previous;
        for (uint256 i; i < signatures.length; ++i) {
            (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signatures[i]);
            if (err != ECDSA.RecoverError.NoError) revert BridgeValidatorSetInvalidSignature(i);
            if (signer <= previous) revert BridgeValidatorSetSignerOrder(previous, signer);
            if (!_member[current][signer]) revert BridgeValidatorSetUnknownSigner(signer, current);
            previous = signer;
        }
    }

    /// @dev The bridge's time lock (seconds, blocks), shared by rotations and large releases.
    function _timelock() internal view virtual returns (uint64 delaySeconds, uint64 delayBlocks);

    function _install(address[] memory set, uint256 threshold_, uint64 newEpoch) private {
        _checkSet(set, threshold_);
        for (uint256 i; i < set.length; ++i) {
            _member[newEpoch][set[i]] = true;
        }
        _validators = set;
        threshold = threshold_;
        epoch = newEpoch;
        emit ValidatorSetRotated(newEpoch, set, threshold_);
    }

    function _checkSet(address[] memory set, uint256 threshold_) private pure {
        if (threshold_ == 0 || threshold_ > set.length || set.length > MAX_VALIDATORS) {
            revert BridgeValidatorSetInvalidThreshold(threshold_, set.length);
        }
        address previous;
        for (uint256 i; i < set.length; ++i) {
            if (set[i] <= previous) revert BridgeValidatorSetInvalidMember(i, set[i]);
            previous = set[i];
        }
    }
}
