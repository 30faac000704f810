// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/*
 * THREAT MODEL (in the manner of Hyperliquid's Bridge2). Each line names the tests that cover it
 * (tests/bridge/).
 *
 * Trust assumptions
 * - Fewer than `threshold` current validator keys are compromised at any time, OR a compromise of a
 *   quorum is noticed within the time lock by a guardian, who can cancel pending releases and
 *   rotations and pause the bridge. Small transfers (<= the token's delay threshold) release at
 *   once: a quorum-level compromise can take at most one rate-limit window's capacity per window
 *   per token before a guardian pauses (test_bridge_ratelimit, test_bridge_timelock).
 * - `Roles.ADMIN` is governance behind a TimelockController. It lists tokens, routes and limits and
 *   unpauses; it can neither sign messages nor move escrowed funds: this contract has no sweep,
 *   no arbitrary call and no upgrade path (test_bridge_admin).
 * - Guardians can only stop things (pause, cancel): a compromised guardian costs liveness, never
 *   funds. Unpausing needs the stronger admin role (B6; test_bridge_admin).
 *
 * Attacks and mitigations
 * 1. Forged or insufficient approvals (Ronin 2022): a release needs `threshold` signatures of
 *    distinct members of the current epoch; signers must be strictly ascending, so a duplicate is
 *    refused; non-members, malformed, high-s, bad-v and zero-address recoveries are refused
 *    (SECURITY 29, B4; test_bridge_release).
 * 2. Threshold misconfiguration (Ronin 2024): 0 < threshold <= N <= 32 is checked in the
 *    constructor and for every rotation; the contract is not upgradeable and has no initializer,
 *    so no uninitialised implementation exists (B12; test_bridge_validators).
 * 3. Replay: a transfer is recorded under id (srcChainId, srcBridge, nonce) and executes at most
 *    once (B2). Signatures are EIP-712 with a domain bound to this chain and contract, and the
 *    struct names both chains and the source bridge, so a message signed for another chain,
 *    deployment or route fails, and changing recipient, amount or token invalidates every
 *    signature (SECURITY 30, B3; test_bridge_release).
 * 4. Nomad (a zero root accepted as proven): no roots exist here; every transfer is approved
 *    individually and the default status `None` never counts as approved (B11 by construction;
 *    a rotation approval cannot pass as a transfer approval: distinct type hashes).
 * 5. Poly Network (the executor called privileged functions): a release only transfers or mints
 *    the listed token to a recipient; there is no arbitrary call, the relayer is permissionless and
 *    needs no role, and the bridge holds no role (B10; test_bridge_admin).
 * 6. Qubit (a deposit of nothing credited): lock accepts only listed tokens with code, credits the
 *    measured balance delta, and burns wrapped tokens from the caller (B7; test_bridge_lock).
 * 7. Draining beyond what was locked: for tokens native to this chain, the amount released from a
 *    remote chain never exceeds the amount locked towards it (per token and route); the
 *    {routeTotals} view exposes both sides so a monitor can compare chains (B1; test_bridge_release,
 *    test_bridge_stateful).
 * 8. Large-transfer theft: amounts above the token's delay threshold wait `delaySeconds` AND
 *    `delayBlocks`; a guardian may cancel meanwhile (the dispute window); cancellation is final,
 *    the funds stay escrowed on the source for governance to resolve (B5; test_bridge_timelock).
 * 9. Rate: every release, immediate or delayed, consumes the token's per-window capacity
 *    (B9; test_bridge_ratelimit). A single transfer above the capacity is refused at request.
 * 10. Validator-set hijack: a rotation needs a quorum of the current set and the time lock, can be
 *    cancelled by a guardian, and its epoch must exceed the current and pending ones (B8).
 *    Releases approved under a retired epoch and still pending cannot be finalised; the new set
 *    must approve them again (requestRelease replaces the stale approval) (test_bridge_validators).
 * 11. Reentrancy through token hooks: lock, requestRelease and finalizeRelease are nonReentrant and
 *    update state before calling the token (SECURITY 28; test_bridge_lock).
 * 12. Compliance: the sender must be allowed and the recipient not blocked at lock; at release the
 *    recipient must be allowed and the sender not blocked, checked again at finalisation. A
 *    refused release stays retryable (test_bridge_lock, test_bridge_release).
 * Amounts cross unchanged: a route pairs tokens of equal decimals (admin's responsibility).
 */

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Roles} from "../access/Roles.sol";
import {IComplianceRegistry} from "../interfaces/IComplianceRegistry.sol";
import {BridgeConfig} from "./BridgeConfig.sol";
import {BridgeMessages} from "./BridgeMessages.sol";
import {BridgeRateLimit} from "./BridgeRateLimit.sol";
import {IBridgedToken} from "./IBridgedToken.sol";

/// @title Bridge
/// @notice Lock/release (and burn/mint for wrapped assets) bridge between chains, approved by M-of-N
/// validators, with a time lock for large transfers, per-token rate limits and guardian controls.
contract Bridge is BridgeConfig, Pausable, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using BridgeRateLimit for BridgeRateLimit.State;

    /// @notice Lifecycle of an inbound transfer.
    enum Status {
        None,
        Pending,
        Executed,
        Cancelled
    }

    /// @notice Destination-side record of an inbound transfer.
    struct Release {
        Status status;
        uint64 epoch;
        uint64 readyAt;
        uint64 readyBlock;
        bytes32 transferHash;
    }

    /// @notice Sum locked towards and released from each (remote chain, local token) route.
    struct Route {
        uint256 locked;
        uint256 released;
    }

    /// @notice The compliance registry consulted for senders and recipients.
    IComplianceRegistry public immutable compliance;
    /// @notice Number of outbound transfers so far; the next lock gets `outboundNonce + 1`.
    uint256 public outboundNonce;
    /// @notice Inbound transfers by id.
    mapping(bytes32 id => Release) public releases;
    mapping(uint256 remoteChainId => mapping(address token => Route)) private _routes;
    mapping(address token => BridgeRateLimit.State) private _rate;

    /// @notice The compliance registry address is zero.
    error BridgeZeroCompliance();
    /// @notice The token is not listed.
    error BridgeTokenNotListed(address token);
    /// @notice No route from this chain's `token` to `remoteChainId` (or no bridge there).
    error BridgeNoRoute(address token, uint256 remoteChainId);
    /// @notice The amount (as received) is zero.
    error BridgeZeroAmount();
    /// @notice The recipient is zero or this bridge.
    error BridgeInvalidRecipient(address recipient);
    /// @notice The sender may not use the bridge (not allowed, or blocked on the destination).
    error BridgeSenderNotAllowed(address sender);
    /// @notice The recipient may not receive (blocked, or not allowed on the destination).
    error BridgeRecipientNotAllowed(address recipient);
    /// @notice The message names another destination chain.
    error BridgeWrongDestination(uint256 dstChainId);
    /// @notice The message's source bridge is not the registered bridge of its source chain.
    error BridgeUnknownSource(uint256 srcChainId, address srcBridge);
    /// @notice The transfer was already executed.
    error BridgeAlreadyExecuted(bytes32 id);
    /// @notice The transfer was cancelled by a guardian.
    error BridgeTransferCancelled(bytes32 id);
    /// @notice The transfer is already pending under the current epoch.
    error BridgeAlreadyPending(bytes32 id);
    /// @notice The transfer is not pending.
    error BridgeNotPending(bytes32 id);
    /// @notice The supplied transfer differs from the one approved under this id.
    error BridgeTransferMismatch(bytes32 id);
    /// @notice The pending approval was given by a retired validator set.
    error BridgeApprovalRetired(bytes32 id, uint64 approvedEpoch, uint64 currentEpoch);
    /// @notice The time lock has not elapsed.
    error BridgeTimelockActive(bytes32 id, uint64 readyAt, uint64 readyBlock);
    /// @notice The release exceeds what is left of the token's capacity in this window.
    error BridgeRateLimited(address token, uint256 amount, uint256 available);
    /// @notice The release would exceed what was locked towards the source chain.
    error BridgeReleaseExceedsLocked(uint256 srcChainId, address token, uint256 released, uint256 locked);

    /// @notice `amount` of `token` locked (or burned) for `recipient` on `dstChainId`, to be delivered
    /// as `remoteToken`; validators sign exactly these fields.
    event Locked(
        uint256 indexed nonce,
        uint256 indexed dstChainId,
        address indexed token,
        address remoteToken,
        address sender,
        address recipient,
        uint256 amount
    );
    /// @notice An inbound transfer was approved and waits until the given time and block.
    event ReleaseQueued(bytes32 indexed id, uint64 epoch, uint64 readyAt, uint64 readyBlock);
    /// @notice An inbound transfer was delivered.
    event Released(
        bytes32 indexed id,
        uint256 indexed srcChainId,
        address indexed token,
        address sender,
        address recipient,
        uint256 amount
    );
    /// @notice A guardian cancelled a pending inbound transfer.
    event ReleaseCancelled(bytes32 indexed id, address indexed guardian);

    /// @param acl_ The deployment's {ProtocolAccess}.
    /// @param compliance_ The compliance registry.
    /// @param validators_ The initial validators, strictly ascending.
    /// @param threshold_ The initial threshold, 0 < threshold_ <= validators_.length.
    /// @param delaySeconds_ Time lock in seconds.
    /// @param delayBlocks_ Time lock in blocks.
    /// @param rateWindow_ Rate-limit window in seconds (non-zero).
    constructor(
        IAccessControl acl_,
        IComplianceRegistry compliance_,
        address[] memory validators_,
        uint256 threshold_,
        uint64 delaySeconds_,
        uint64 delayBlocks_,
        uint64 rateWindow_
    ) BridgeConfig(acl_, validators_, threshold_, delaySeconds_, delayBlocks_, rateWindow_) {
        if (address(compliance_) == address(0)) revert BridgeZeroCompliance();
        compliance = compliance_;
    }

    // ---------------------------------------------------------------- source side

    /// @notice Locks `amount` of a listed token (burns it, for a wrapped token) for `recipient` on
    /// `dstChainId`. Credits the balance actually received.
    /// @param token The token on this chain.
    /// @param amount The amount to take from the caller.
    /// @param dstChainId The destination chain id.
    /// @param recipient The recipient on the destination chain.
    /// @return transferNonce The nonce of this transfer.
    function lock(address token, uint256 amount, uint256 dstChainId, address recipient)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 transferNonce)
    {
        TokenConfig memory cfg = tokenConfig[token];
        if (!cfg.listed) revert BridgeTokenNotListed(token);
        address remoteToken = remoteTokenOf[token][dstChainId];
        if (remoteToken == address(0) || remoteBridge[dstChainId] == address(0)) revert BridgeNoRoute(token, dstChainId);
        if (recipient == address(0)) revert BridgeInvalidRecipient(recipient);
        if (!compliance.isAllowed(msg.sender)) revert BridgeSenderNotAllowed(msg.sender);
        if (compliance.isBlocked(recipient)) revert BridgeRecipientNotAllowed(recipient);
        uint256 credited;
        if (cfg.wrapped) {
            IBridgedToken(token).burn(msg.sender, amount);
            credited = amount;
        } else {
            uint256 before = IERC20(token).balanceOf(address(this));
            IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
            credited = IERC20(token).balanceOf(address(this)) - before;
        }
        if (credited == 0) revert BridgeZeroAmount();
        transferNonce = ++outboundNonce;
        _routes[dstChainId][token].locked += credited;
        emit Locked(transferNonce, dstChainId, token, remoteToken, msg.sender, recipient, credited);
    }

    // ----------------------------------------------------------- destination side

    /// @notice Submits a transfer approved by a validator quorum. Transfers up to the token's delay
    /// threshold are delivered at once; larger ones are queued behind the time lock. Anyone may call.
    /// @param t The transfer, as signed.
    /// @param signatures EIP-712 signatures of `t` by current validators, signers ascending.
    /// @return id The transfer id.
    function requestRelease(BridgeMessages.Transfer calldata t, bytes[] calldata signatures)
        external
        nonReentrant
        whenNotPaused
        returns (bytes32 id)
    {
        if (t.dstChainId != block.chainid) revert BridgeWrongDestination(t.dstChainId);
        if (remoteBridge[t.srcChainId] != t.srcBridge || t.srcBridge == address(0)) {
            revert BridgeUnknownSource(t.srcChainId, t.srcBridge);
        }
        id = BridgeMessages.transferId(t.srcChainId, t.srcBridge, t.nonce);
        Release storage r = releases[id];
        if (r.status == Status.Executed) revert BridgeAlreadyExecuted(id);
        if (r.status == Status.Cancelled) revert BridgeTransferCancelled(id);
        if (r.status == Status.Pending && r.epoch == epoch) revert BridgeAlreadyPending(id);
        bytes32 transferHash = BridgeMessages.hashTransfer(t);
        _verifyQuorum(_hashTypedDataV4(transferHash), signatures);
        TokenConfig memory cfg = _checkInbound(t);
        if (t.amount > cfg.rateCapacity) revert BridgeRateLimited(t.token, t.amount, cfg.rateCapacity);
        if (t.amount <= cfg.delayThreshold) {
            r.status = Status.Executed;
            _deliver(id, t, cfg);
        } else {
            uint64 readyAt = uint64(block.timestamp) + delaySeconds;
            uint64 readyBlock = uint64(block.number) + delayBlocks;
            releases[id] = Release(Status.Pending, epoch, readyAt, readyBlock, transferHash);
            emit ReleaseQueued(id, epoch, readyAt, readyBlock);
        }
    }

    /// @notice Delivers a queued transfer once its time lock has elapsed in seconds and blocks.
    /// @param t The transfer, exactly as approved.
    function finalizeRelease(BridgeMessages.Transfer calldata t) external nonReentrant whenNotPaused {
        bytes32 id = BridgeMessages.transferId(t.srcChainId, t.srcBridge, t.nonce);
        Release storage r = releases[id];
        if (r.status != Status.Pending) revert BridgeNotPending(id);
        if (r.transferHash != BridgeMessages.hashTransfer(t)) revert BridgeTransferMismatch(id);
        if (r.epoch != epoch) revert BridgeApprovalRetired(id, r.epoch, epoch);
        if (block.timestamp < r.readyAt || block.number < r.readyBlock) {
            revert BridgeTimelockActive(id, r.readyAt, r.readyBlock);
        }
        TokenConfig memory cfg = _checkInbound(t);
        r.status = Status.Executed;
        _deliver(id, t, cfg);
    }

    /// @notice Cancels a pending inbound transfer for good (guardian dispute).
    /// @param id The transfer id.
    function cancelRelease(bytes32 id) external onlyRole(Roles.GUARDIAN) {
        Release storage r = releases[id];
        if (r.status != Status.Pending) revert BridgeNotPending(id);
        r.status = Status.Cancelled;
        emit ReleaseCancelled(id, msg.sender);
    }

    // ------------------------------------------------------------------- controls

    /// @notice Stops locks and releases (guardian).
    function pause() external onlyRole(Roles.GUARDIAN) {
        _pause();
    }

    /// @notice Resumes locks and releases (admin only: a stronger quorum than pausing).
    function unpause() external onlyRole(Roles.ADMIN) {
        _unpause();
    }

    // ---------------------------------------------------------------------- views

    /// @notice Amounts locked towards and released from `remoteChainId` for local `token`.
    /// @param remoteChainId The other chain.
    /// @param token The token on this chain.
    /// @return locked Sum locked (or burned) here for delivery on `remoteChainId`.
    /// @return released Sum released (or minted) here for transfers from `remoteChainId`.
    function routeTotals(uint256 remoteChainId, address token) external view returns (uint256 locked, uint256 released) {
        Route storage route = _routes[remoteChainId][token];
        return (route.locked, route.released);
    }

    /// @notice What `token` can still release in the current rate-limit window.
    /// @param token The token on this chain.
    /// @return The remaining capacity.
    function availableCapacity(address token) external view returns (uint256) {
        return _rate[token].available(tokenConfig[token].rateCapacity, rateWindow);
    }

    /// @notice The id of the transfer (srcChainId, srcBridge, nonce).
    /// @param srcChainId Source chain id.
    /// @param srcBridge Source bridge.
    /// @param transferNonce Source nonce.
    /// @return The id.
    function transferId(uint256 srcChainId, address srcBridge, uint256 transferNonce) external pure returns (bytes32) {
        return BridgeMessages.transferId(srcChainId, srcBridge, transferNonce);
    }

    /// @notice The EIP-712 digest validators sign for `t` on this bridge.
    /// @param t The transfer.
    /// @return The digest.
    function transferDigest(BridgeMessages.Transfer calldata t) external view returns (bytes32) {
        return _hashTypedDataV4(BridgeMessages.hashTransfer(t));
    }

    // ------------------------------------------------------------------- internals

    function _checkInbound(BridgeMessages.Transfer calldata t) private view returns (TokenConfig memory cfg) {
        cfg = tokenConfig[t.token];
        if (!cfg.listed) revert BridgeTokenNotListed(t.token);
        if (remoteTokenOf[t.token][t.srcChainId] == address(0)) revert BridgeNoRoute(t.token, t.srcChainId);
        if (t.amount == 0) revert BridgeZeroAmount();
        if (t.recipient == address(0) || t.recipient == address(this)) revert BridgeInvalidRecipient(t.recipient);
        if (compliance.isBlocked(t.sender)) revert BridgeSenderNotAllowed(t.sender);
        if (!compliance.isAllowed(t.recipient)) revert BridgeRecipientNotAllowed(t.recipient);
    }

    /// @dev Effects (rate limit, route totals, event) then the single token interaction.
    function _deliver(bytes32 id, BridgeMessages.Transfer calldata t, TokenConfig memory cfg) private {
        if (!_rate[t.token].tryConsume(cfg.rateCapacity, rateWindow, t.amount)) {
            revert BridgeRateLimited(t.token, t.amount, _rate[t.token].available(cfg.rateCapacity, rateWindow));
        }
        Route storage route = _routes[t.srcChainId][t.token];
        uint256 released = route.released + t.amount;
        if (!cfg.wrapped && released > route.locked) {
            revert BridgeReleaseExceedsLocked(t.srcChainId, t.token, released, route.locked);
        }
        route.released = released;
        emit Released(id, t.srcChainId, t.token, t.sender, t.recipient, t.amount);
        if (cfg.wrapped) {
            IBridgedToken(t.token).mint(t.recipient, t.amount);
        } else {
            IERC20(t.token).safeTransfer(t.recipient, t.amount);
        }
    }

    function _timelock() internal view override returns (uint64, uint64) {
        return (delaySeconds, delayBlocks);
    }
}
