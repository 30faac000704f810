// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title IMedianOracle
/// @notice Types, events and errors of {MedianOracle} (kept apart so the contract stays readable).
interface IMedianOracle {
    /// @notice Circuit-breaker state of an asset.
    enum Breaker {
        None,
        QuorumLost,
        JumpCapped
    }

    /// @notice Governed parameters and breaker state of an asset (one storage slot).
    struct AssetConfig {
        bool listed;
        uint8 quorum;
        uint32 maxAge;
        uint64 maxDeviationX18;
        uint64 jumpCapX18;
        uint32 sampleInterval;
        Breaker breaker;
        bool guardianPaused;
    }

    /// @notice The current index of an asset.
    struct IndexState {
        uint128 priceX18;
        uint64 updatedAt;
        uint64 accumulatedAt;
    }

    /// @notice Latest accepted report of a source for an asset, its isolation flag and its 1-based
    /// position in the asset's source list (0 = not registered). One storage slot.
    struct SourceReport {
        uint128 priceX18;
        uint64 timestamp;
        bool isolated;
        uint8 position;
    }

    /// @notice One signed report inside a bundle (the asset comes from its {AssetReports}).
    struct SignedReport {
        uint256 priceX18;
        uint64 timestamp;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    /// @notice The reports for one asset inside a bundle.
    struct AssetReports {
        bytes32 asset;
        SignedReport[] reports;
    }

    /// @notice A source's report was accepted.
    event PriceReported(bytes32 indexed asset, address indexed source, uint256 priceX18, uint256 timestamp);
    /// @notice The index moved (possibly capped); `rawMedianX18` is the median before isolation.
    event IndexUpdated(
        bytes32 indexed asset, uint256 priceX18, uint256 updatedAt, uint256 rawMedianX18, uint256 agreeingSources
    );
    /// @notice A source's fresh price is more than the threshold from the raw median: excluded.
    event SourceIsolated(bytes32 indexed asset, address indexed source, uint256 priceX18, uint256 rawMedianX18);
    /// @notice A previously isolated source agrees with the raw median again: included.
    event SourceReadmitted(bytes32 indexed asset, address indexed source, uint256 priceX18, uint256 rawMedianX18);
    /// @notice Fewer agreeing fresh sources than the quorum; the index was not moved.
    event QuorumLost(bytes32 indexed asset, uint256 agreeingSources, uint256 quorum);
    /// @notice The median jumped more than the cap from the last index; the index moved by the cap.
    event JumpCapped(bytes32 indexed asset, uint256 previousX18, uint256 medianX18, uint256 cappedX18);
    /// @notice The circuit breaker of `asset` tripped (or changed reason).
    event CircuitBreakerTripped(bytes32 indexed asset, Breaker reason);
    /// @notice A healthy update reset the circuit breaker of `asset`.
    event CircuitBreakerReset(bytes32 indexed asset);
    /// @notice The guardian paused `asset`.
    event GuardianPaused(bytes32 indexed asset, address indexed by);
    /// @notice The admin lifted the guardian pause of `asset`.
    event GuardianUnpaused(bytes32 indexed asset, address indexed by);
    /// @notice An asset was listed or its parameters changed.
    event AssetConfigured(
        bytes32 indexed asset,
        uint256 quorum,
        uint256 maxAge,
        uint256 maxDeviationX18,
        uint256 jumpCapX18,
        uint256 sampleInterval
    );
    /// @notice A source was registered for an asset.
    event SourceAdded(bytes32 indexed asset, address indexed source);
    /// @notice A source was deregistered; its last report no longer counts.
    event SourceRemoved(bytes32 indexed asset, address indexed source);
    /// @notice A volatility sample was recorded (`returnX18` is 0 for the first sample).
    event VolatilitySampled(bytes32 indexed asset, int256 returnX18, uint256 volatilityX18);

    /// @notice The asset is not listed.
    error MedianOracleUnknownAsset(bytes32 asset);
    /// @notice The asset is listed but has never had an index price.
    error MedianOracleNoPrice(bytes32 asset);
    /// @notice The index is older than the asset's max age.
    error MedianOracleStalePrice(bytes32 asset, uint256 age, uint256 maxAge);
    /// @notice The bundle holds no asset.
    error MedianOracleEmptyBundle();
    /// @notice The bundle holds no report for `asset`.
    error MedianOracleEmptyReports(bytes32 asset);
    /// @notice `asset` appears twice in one bundle.
    error MedianOracleDuplicateAsset(bytes32 asset);
    /// @notice Report `index` of `asset` has an invalid signature (malformed, high-s or zero signer).
    error MedianOracleInvalidSignature(bytes32 asset, uint256 index, ECDSA.RecoverError reason);
    /// @notice The report's signer is not a registered source of `asset`.
    error MedianOracleUnknownSource(bytes32 asset, address signer);
    /// @notice `source` signed two reports for `asset` in one bundle.
    error MedianOracleDuplicateSource(bytes32 asset, address source);
    /// @notice The price is 0 or does not fit 128 bits.
    error MedianOracleInvalidPrice(bytes32 asset, address source, uint256 priceX18);
    /// @notice The report's timestamp is after the block's.
    error MedianOracleReportFromFuture(bytes32 asset, address source, uint256 timestamp, uint256 blockTimestamp);
    /// @notice The report is older than the asset's max age.
    error MedianOracleReportTooOld(bytes32 asset, address source, uint256 timestamp, uint256 maxAge);
    /// @notice The report is not newer than the source's last accepted report (replay).
    error MedianOracleReportNotNewer(bytes32 asset, address source, uint256 timestamp, uint256 lastTimestamp);
    /// @notice A source address is zero.
    error MedianOracleZeroAddress();
    /// @notice The source is already registered for the asset.
    error MedianOracleSourceAlreadyRegistered(bytes32 asset, address source);
    /// @notice The source is not registered for the asset.
    error MedianOracleSourceNotRegistered(bytes32 asset, address source);
    /// @notice The asset already has `MAX_SOURCES` sources.
    error MedianOracleTooManySources(bytes32 asset, uint256 maxSources);
    /// @notice Quorum must be in [1, MAX_SOURCES].
    error MedianOracleInvalidQuorum(uint256 quorum);
    /// @notice Max age must be in [1, MAX_AGE_LIMIT] seconds.
    error MedianOracleInvalidMaxAge(uint256 maxAge);
    /// @notice Isolation threshold must be in (0, MAX_DEVIATION_LIMIT].
    error MedianOracleInvalidDeviation(uint256 maxDeviationX18);
    /// @notice Jump cap must be in (0, 1e18).
    error MedianOracleInvalidJumpCap(uint256 jumpCapX18);
    /// @notice Volatility sampling interval must be at least 1 second.
    error MedianOracleInvalidSampleInterval(uint256 sampleInterval);
}
