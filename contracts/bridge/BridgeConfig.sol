// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {AccessControlled} from "../access/AccessControlled.sol";
import {Roles} from "../access/Roles.sol";
import {BridgeValidatorSet} from "./BridgeValidatorSet.sol";

/// @title BridgeConfig
/// @notice Governed parameters of a bridge: listed tokens and their mode, routes to remote tokens,
/// the remote bridges, the time lock and the rate-limit window. Every setter is `Roles.ADMIN` only
/// (governance behind a timelock) and evented.
abstract contract BridgeConfig is BridgeValidatorSet {
    /// @notice Longest time lock accepted, in seconds (30 days).
    uint64 public constant MAX_DELAY_SECONDS = 30 days;

    /// @notice Per-token settings.
    /// @param listed Whether the token may be bridged.
    /// @param wrapped True: a {BridgedToken} minted in and burned out; false: native, locked and released.
    /// @param delayThreshold Inbound amounts above this wait for the time lock.
    /// @param rateCapacity Most that may be released per rate-limit window (0 blocks all releases).
    struct TokenConfig {
        bool listed;
        bool wrapped;
        uint256 delayThreshold;
        uint256 rateCapacity;
    }

    /// @notice Settings by local token.
    mapping(address token => TokenConfig) public tokenConfig;
    /// @notice The remote-chain token that a local token is delivered as (and arrives from).
    mapping(address token => mapping(uint256 remoteChainId => address remoteToken)) public remoteTokenOf;
    /// @notice The bridge contract on each remote chain.
    mapping(uint256 remoteChainId => address) public remoteBridge;
    /// @notice Time lock in seconds for large releases and rotations.
    uint64 public delaySeconds;
    /// @notice Time lock in blocks for large releases and rotations.
    uint64 public delayBlocks;
    /// @notice Rate-limit window in seconds.
    uint64 public rateWindow;

    /// @notice The token has no code.
    error BridgeConfigNotAContract(address token);
    /// @notice A remote chain id equals this chain's or is zero.
    error BridgeConfigInvalidChain(uint256 chainId);
    /// @notice The time lock exceeds the maximum.
    error BridgeConfigDelayTooLong(uint64 delaySeconds);
    /// @notice The rate window is zero.
    error BridgeConfigZeroWindow();

    /// @notice A token's settings changed.
    event TokenConfigured(address indexed token, bool listed, bool wrapped, uint256 delayThreshold, uint256 rateCapacity);
    /// @notice `token` now maps to `remoteToken` on `remoteChainId` (zero: route closed).
    event RouteSet(address indexed token, uint256 indexed remoteChainId, address remoteToken);
    /// @notice The bridge on `remoteChainId` is now `bridge` (zero: chain disconnected).
    event RemoteBridgeSet(uint256 indexed remoteChainId, address bridge);
    /// @notice The time lock changed.
    event DelaySet(uint64 delaySeconds, uint64 delayBlocks);
    /// @notice The rate-limit window changed.
    event RateWindowSet(uint64 rateWindow);

    /// @param acl_ The deployment's {ProtocolAccess}.
    /// @param validators_ The initial validators.
    /// @param threshold_ The initial threshold.
    /// @param delaySeconds_ Time lock in seconds.
    /// @param delayBlocks_ Time lock in blocks.
    /// @param rateWindow_ Rate-limit window in seconds.
    constructor(
        IAccessControl acl_,
        address[] memory validators_,
        uint256 threshold_,
        uint64 delaySeconds_,
        uint64 delayBlocks_,
        uint64 rateWindow_
    ) AccessControlled(acl_) BridgeValidatorSet(validators_, threshold_) {
        _setDelay(delaySeconds_, delayBlocks_);
        _setRateWindow(rateWindow_);
    }

    /// @notice Lists, reconfigures or delists a token.
    /// @param token The local token (must have code).
    /// @param listed Whether it may be bridged.
    /// @param wrapped Whether it is a {BridgedToken} of this bridge (mint/burn) rather than native.
    /// @param delayThreshold Inbound amounts above this are time-locked.
    /// @param rateCapacity Release capacity per window.
    function configureToken(address token, bool listed, bool wrapped, uint256 delayThreshold, uint256 rateCapacity)
        external
        onlyRole(Roles.ADMIN)
    {
        if (token.code.length == 0) revert BridgeConfigNotAContract(token);
        tokenConfig[token] = TokenConfig(listed, wrapped, delayThreshold, rateCapacity);
        emit TokenConfigured(token, listed, wrapped, delayThreshold, rateCapacity);
    }

    /// @notice Maps a local token to its counterpart on a remote chain (zero closes the route).
    /// @param token The local token.
    /// @param remoteChainId The remote chain.
    /// @param remoteToken The token there.
    function setRoute(address token, uint256 remoteChainId, address remoteToken) external onlyRole(Roles.ADMIN) {
        _checkRemoteChain(remoteChainId);
        remoteTokenOf[token][remoteChainId] = remoteToken;
        emit RouteSet(token, remoteChainId, remoteToken);
    }

    /// @notice Registers the bridge deployed on a remote chain (zero disconnects it).
    /// @param remoteChainId The remote chain.
    /// @param bridge The bridge there.
    function setRemoteBridge(uint256 remoteChainId, address bridge) external onlyRole(Roles.ADMIN) {
        _checkRemoteChain(remoteChainId);
        remoteBridge[remoteChainId] = bridge;
        emit RemoteBridgeSet(remoteChainId, bridge);
    }

    /// @notice Sets the time lock.
    /// @param delaySeconds_ Seconds, at most MAX_DELAY_SECONDS.
    /// @param delayBlocks_ Blocks.
    function setDelay(uint64 delaySeconds_, uint64 delayBlocks_) external onlyRole(Roles.ADMIN) {
        _setDelay(delaySeconds_, delayBlocks_);
    }

    /// @notice Sets the rate-limit window; usage restarts in the new window numbering.
    /// @param rateWindow_ Seconds, non-zero.
    function setRateWindow(uint64 rateWindow_) external onlyRole(Roles.ADMIN) {
        _setRateWindow(rateWindow_);
    }

    function _setDelay(uint64 delaySeconds_, uint64 delayBlocks_) private {
        if (delaySeconds_ > MAX_DELAY_SECONDS) revert BridgeConfigDelayTooLong(delaySeconds_);
        delaySeconds = delaySeconds_;
        delayBlocks = delayBlocks_;
        emit DelaySet(delaySeconds_, delayBlocks_);
    }

    function _setRateWindow(uint64 rateWindow_) private {
        if (rateWindow_ == 0) revert BridgeConfigZeroWindow();
        rateWindow = rateWindow_;
        emit RateWindowSet(rateWindow_);
    }

    function _checkRemoteChain(uint256 remoteChainId) private view {
        if (remoteChainId == 0 || remoteChainId == block.chainid) revert BridgeConfigInvalidChain(remoteChainId);
    }
}
