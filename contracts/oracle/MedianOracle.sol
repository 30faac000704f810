// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {AccessControlled} from "../access/AccessControlled.sol";
import {Roles} from "../access/Roles.sol";
import {IPriceOracle} from "../interfaces/IPriceOracle.sol";
import {IMedianOracle} from "./IMedianOracle.sol";
import {OracleMedianLib} from "../libraries/OracleMedianLib.sol";
import {OracleVolatilityLib} from "../libraries/OracleVolatilityLib.sol";

/// @title MedianOracle
/// @notice Index prices from several signed sources per asset: median of the fresh reports,
/// outlier isolation, quorum and jump circuit breaker, TWAP accumulator and realised volatility.
/// @dev Policies (mirrored exactly by `offchain/oracle/reference.py`):
/// - Reports. A source signs EIP-712 `PriceReport(asset, priceX18, timestamp)` in the domain
///   ("perpx MedianOracle", "1", chainId, this contract), so a report for another chain or another
///   oracle recovers to a different, unregistered signer. Anyone may submit a bundle
///   ({update}); the whole bundle reverts if any report is invalid: bad or high-s signature
///   (OpenZeppelin ECDSA), unregistered signer, the same signer twice for one asset, the same asset
///   twice, price 0 or above 2^128-1, timestamp in the future, older than `maxAge`, or not newer
///   than that source's last accepted report.
/// - Index. On each update of an asset the oracle takes the latest report of every registered
///   source that is fresh (`now - timestamp <= maxAge`), including sources absent from the bundle,
///   so submitting a subset of reports cannot drop sources. `rawMedian` = median of those prices
///   (even count: floor of the mean of the middle two). A source is isolated when its price is
///   strictly more than `maxDeviationX18` from `rawMedian`; a price exactly at the threshold
///   (e.g. exactly 5%) is kept. The index is the median of the kept (agreeing) prices.
/// - Re-admission. Isolation is decided afresh at every update: an isolated source is back in as
///   soon as its latest fresh report is within the threshold of that update's raw median. No admin
///   step; a persistently bad source is removed by governance ({removeSource}). Transitions emit
///   {SourceIsolated} and {SourceReadmitted}.
/// - Circuit breaker. Fewer agreeing sources than `quorum`: the index is not moved and the breaker
///   trips (`QuorumLost`). A median more than `jumpCapX18` from the last index: the index moves by
///   exactly the cap towards it (rounded towards the last index) and the breaker trips
///   (`JumpCapped`); a move exactly equal to the cap is accepted. A genuine large move therefore
///   walks the index by at most the cap per update, paused, until the median is within the cap.
///   The next update that meets the quorum without capping resets the breaker. Independently the
///   guardian may pause an asset ({guardianPause}); only the admin lifts that ({guardianUnpause}).
/// - Staleness. `updatedAt` is the timestamp of the oldest report used in the index, so the price
///   is never older than its oldest input. {getPrice} reverts once `now - updatedAt > maxAge`
///   (exactly `maxAge` is still valid); {isHealthy} is then false. {getPrice} does not revert
///   while the breaker is tripped (reductions and liquidations may still need a price); callers
///   must refuse risk-increasing actions when {isHealthy} is false.
/// - TWAP. `cumulativePrice` integrates the index in force over block time (Uniswap v2 style,
///   price x seconds, 18 decimals); a TWAP is the difference of two readings over their interval.
/// - Volatility. See {OracleVolatilityLib}: per-asset sampling interval (`sampleInterval`, e.g.
///   3600 s), window of 24 returns, value per interval (not annualised), 1e18 = 100%, rounded up.
/// - No external call is made on the update path (ECDSA recovery is a precompile), so it needs
///   no reentrancy guard; admin paths only read the shared role registry.
contract MedianOracle is IPriceOracle, IMedianOracle, AccessControlled, EIP712 {
    using OracleVolatilityLib for OracleVolatilityLib.Window;

    /// @notice EIP-712 type hash of a price report.
    bytes32 public constant REPORT_TYPEHASH = keccak256("PriceReport(bytes32 asset,uint256 priceX18,uint64 timestamp)");
    /// @notice Most sources one asset may have.
    uint256 public constant MAX_SOURCES = 32;
    /// @notice Largest allowed `maxAge`.
    uint256 public constant MAX_AGE_LIMIT = 1 days;
    /// @notice Largest allowed isolation threshold (50%).
    uint256 public constant MAX_DEVIATION_LIMIT = 0.5e18;

    mapping(bytes32 asset => AssetConfig) internal _configs;
    mapping(bytes32 asset => IndexState) internal _index;
    mapping(bytes32 asset => uint256) internal _cumulative;
    mapping(bytes32 asset => address[]) internal _sources;
    mapping(bytes32 asset => mapping(address source => SourceReport)) internal _reports;
    mapping(bytes32 asset => OracleVolatilityLib.Window) internal _volatility;

    /// @param acl_ The deployment's role registry.
    constructor(IAccessControl acl_) AccessControlled(acl_) EIP712("perpx MedianOracle", "1") {}

    // ------------------------------------------------------------------ reports

    /// @notice Submits signed reports for one or more assets and recomputes their index.
    /// @dev Permissionless: authenticity comes from the source signatures. Reverts as a whole on
    /// any invalid report (see the contract notes).
    function update(AssetReports[] calldata bundle) external {
        uint256 n = bundle.length;
        if (n == 0) revert MedianOracleEmptyBundle();
        for (uint256 i; i < n; ++i) {
            bytes32 asset = bundle[i].asset;
            for (uint256 j; j < i; ++j) {
                if (bundle[j].asset == asset) revert MedianOracleDuplicateAsset(asset);
            }
            AssetConfig memory cfg = _configs[asset];
            if (!cfg.listed) revert MedianOracleUnknownAsset(asset);
            _recordReports(asset, cfg.maxAge, bundle[i].reports);
            _refreshIndex(asset, cfg);
        }
    }

    /// @notice The EIP-712 digest a source signs for a report.
    function reportDigest(bytes32 asset, uint256 priceX18, uint64 timestamp) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(REPORT_TYPEHASH, asset, priceX18, timestamp)));
    }

    /// @notice The EIP-712 domain separator of this oracle on this chain.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ------------------------------------------------------------------ IPriceOracle

    /// @inheritdoc IPriceOracle
    function getPrice(bytes32 asset) external view returns (uint256 priceX18, uint256 updatedAt) {
        AssetConfig memory cfg = _configs[asset];
        if (!cfg.listed) revert MedianOracleUnknownAsset(asset);
        IndexState memory st = _index[asset];
        if (st.priceX18 == 0) revert MedianOracleNoPrice(asset);
        uint256 age = block.timestamp - st.updatedAt;
        if (age > cfg.maxAge) revert MedianOracleStalePrice(asset, age, cfg.maxAge);
        return (st.priceX18, st.updatedAt);
    }

    /// @inheritdoc IPriceOracle
    function isHealthy(bytes32 asset) public view returns (bool) {
        AssetConfig memory cfg = _configs[asset];
        IndexState memory st = _index[asset];
        return cfg.listed && st.priceX18 != 0 && cfg.breaker == Breaker.None && !cfg.guardianPaused
            && block.timestamp - st.updatedAt <= cfg.maxAge;
    }

    /// @inheritdoc IPriceOracle
    function volatilityX18(bytes32 asset) external view returns (uint256) {
        return _volatility[asset].volatility();
    }

    // ------------------------------------------------------------------ views

    /// @notice The index without freshness checks, with its breaker state and health (never reverts).
    function latestIndex(bytes32 asset)
        external
        view
        returns (uint256 priceX18, uint256 updatedAt, Breaker breaker, bool healthy)
    {
        IndexState memory st = _index[asset];
        return (st.priceX18, st.updatedAt, _configs[asset].breaker, isHealthy(asset));
    }

    /// @notice The price accumulator (sum of index x seconds) extrapolated to this block.
    /// @return cumulativeX18Seconds The accumulator value at `timestamp`.
    /// @return timestamp The current block timestamp.
    function cumulativePrice(bytes32 asset) external view returns (uint256 cumulativeX18Seconds, uint256 timestamp) {
        IndexState memory st = _index[asset];
        cumulativeX18Seconds = _cumulative[asset];
        if (st.priceX18 != 0) cumulativeX18Seconds += uint256(st.priceX18) * (block.timestamp - st.accumulatedAt);
        return (cumulativeX18Seconds, block.timestamp);
    }

    /// @notice The governed parameters and breaker state of `asset`.
    function assetConfig(bytes32 asset) external view returns (AssetConfig memory) {
        return _configs[asset];
    }

    /// @notice The registered sources of `asset`.
    function sourcesOf(bytes32 asset) external view returns (address[] memory) {
        return _sources[asset];
    }

    /// @notice The latest accepted report of `source` for `asset` and its isolation flag.
    function sourceReport(bytes32 asset, address source) external view returns (SourceReport memory) {
        return _reports[asset][source];
    }

    // ------------------------------------------------------------------ governance

    /// @notice Lists `asset` or changes its parameters (admin).
    /// @param quorum Minimum number of fresh, agreeing sources for a healthy index.
    /// @param maxAge Max age in seconds of a report and of the index.
    /// @param maxDeviationX18 Isolation threshold from the raw median (5% = 0.05e18).
    /// @param jumpCapX18 Largest index move per update before the breaker trips.
    /// @param sampleInterval Seconds between volatility samples.
    function configureAsset(
        bytes32 asset,
        uint256 quorum,
        uint256 maxAge,
        uint256 maxDeviationX18,
        uint256 jumpCapX18,
        uint256 sampleInterval
    ) external onlyRole(Roles.ADMIN) {
        if (quorum == 0 || quorum > MAX_SOURCES) revert MedianOracleInvalidQuorum(quorum);
        if (maxAge == 0 || maxAge > MAX_AGE_LIMIT) revert MedianOracleInvalidMaxAge(maxAge);
        if (maxDeviationX18 == 0 || maxDeviationX18 > MAX_DEVIATION_LIMIT) {
            revert MedianOracleInvalidDeviation(maxDeviationX18);
        }
        if (jumpCapX18 == 0 || jumpCapX18 >= 1e18) revert MedianOracleInvalidJumpCap(jumpCapX18);
        if (sampleInterval == 0 || sampleInterval > type(uint32).max) {
            revert MedianOracleInvalidSampleInterval(sampleInterval);
        }
        AssetConfig storage cfg = _configs[asset];
        cfg.listed = true;
        cfg.quorum = uint8(quorum);
        cfg.maxAge = uint32(maxAge);
        cfg.maxDeviationX18 = uint64(maxDeviationX18);
        cfg.jumpCapX18 = uint64(jumpCapX18);
        cfg.sampleInterval = uint32(sampleInterval);
        emit AssetConfigured(asset, quorum, maxAge, maxDeviationX18, jumpCapX18, sampleInterval);
    }

    /// @notice Registers `source` as a signer for `asset` (admin).
    function addSource(bytes32 asset, address source) external onlyRole(Roles.ADMIN) {
        if (!_configs[asset].listed) revert MedianOracleUnknownAsset(asset);
        if (source == address(0)) revert MedianOracleZeroAddress();
        SourceReport storage report = _reports[asset][source];
        if (report.position != 0) revert MedianOracleSourceAlreadyRegistered(asset, source);
        address[] storage list = _sources[asset];
        if (list.length >= MAX_SOURCES) revert MedianOracleTooManySources(asset, MAX_SOURCES);
        list.push(source);
        report.position = uint8(list.length);
        emit SourceAdded(asset, source);
    }

    /// @notice Deregisters `source` for `asset` (admin). Its last report stops counting at once;
    /// its last timestamp is kept so that old reports cannot be replayed if it is re-added.
    function removeSource(bytes32 asset, address source) external onlyRole(Roles.ADMIN) {
        SourceReport storage report = _reports[asset][source];
        uint8 pos = report.position;
        if (pos == 0) revert MedianOracleSourceNotRegistered(asset, source);
        address[] storage list = _sources[asset];
        address last = list[list.length - 1];
        list[pos - 1] = last;
        _reports[asset][last].position = pos;
        list.pop();
        report.priceX18 = 0;
        report.isolated = false;
        report.position = 0;
        emit SourceRemoved(asset, source);
    }

    /// @notice Pauses `asset` for risk-increasing actions (guardian).
    function guardianPause(bytes32 asset) external onlyRole(Roles.GUARDIAN) {
        if (!_configs[asset].listed) revert MedianOracleUnknownAsset(asset);
        _configs[asset].guardianPaused = true;
        emit GuardianPaused(asset, msg.sender);
    }

    /// @notice Lifts the guardian pause of `asset` (admin). The breaker state is unaffected.
    function guardianUnpause(bytes32 asset) external onlyRole(Roles.ADMIN) {
        if (!_configs[asset].listed) revert MedianOracleUnknownAsset(asset);
        _configs[asset].guardianPaused = false;
        emit GuardianUnpaused(asset, msg.sender);
    }

    // ------------------------------------------------------------------ internals

    function _recordReports(bytes32 asset, uint256 maxAge, SignedReport[] calldata reports) internal {
        uint256 m = reports.length;
        if (m == 0) revert MedianOracleEmptyReports(asset);
        uint256 seen;
        for (uint256 k; k < m; ++k) {
            SignedReport calldata rep = reports[k];
            address signer = _recoverSigner(asset, k, rep);
            SourceReport memory previous = _reports[asset][signer];
            uint256 pos = previous.position;
            if (pos == 0) revert MedianOracleUnknownSource(asset, signer);
            if (seen & (1 << pos) != 0) revert MedianOracleDuplicateSource(asset, signer);
            seen |= 1 << pos;
            if (rep.priceX18 == 0 || rep.priceX18 > type(uint128).max) {
                revert MedianOracleInvalidPrice(asset, signer, rep.priceX18);
            }
            if (rep.timestamp > block.timestamp) {
                revert MedianOracleReportFromFuture(asset, signer, rep.timestamp, block.timestamp);
            }
            if (block.timestamp - rep.timestamp > maxAge) {
                revert MedianOracleReportTooOld(asset, signer, rep.timestamp, maxAge);
            }
            if (rep.timestamp <= previous.timestamp) {
                revert MedianOracleReportNotNewer(asset, signer, rep.timestamp, previous.timestamp);
            }
            SourceReport storage stored = _reports[asset][signer];
            (stored.priceX18, stored.timestamp) = (uint128(rep.priceX18), rep.timestamp);
            emit PriceReported(asset, signer, rep.priceX18, rep.timestamp);
        }
    }

    function _recoverSigner(bytes32 asset, uint256 index, SignedReport calldata rep) internal view returns (address) {
        bytes32 digest = reportDigest(asset, rep.priceX18, rep.timestamp);
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, rep.v, rep.r, rep.s);
        if (err != ECDSA.RecoverError.NoError) revert MedianOracleInvalidSignature(asset, index, err);
        return signer;
    }

    /// @dev Median of fresh reports, isolation, quorum, jump cap, accumulator and volatility.
    function _refreshIndex(bytes32 asset, AssetConfig memory cfg) internal {
        (uint256[] memory sorted, uint256 rawMedian) = _freshSorted(asset, cfg.maxAge);
        (uint256 agreeing, uint256 oldest) = _isolate(asset, cfg, rawMedian);
        IndexState memory st = _index[asset];
        _accumulate(asset, st);
        if (agreeing < cfg.quorum) {
            emit QuorumLost(asset, agreeing, cfg.quorum);
            _setBreaker(asset, cfg.breaker, Breaker.QuorumLost);
            return;
        }
        uint256 median = _keptMedian(sorted, rawMedian, cfg.maxDeviationX18, agreeing);
        uint256 price = _commitIndex(asset, cfg, st.priceX18, median, oldest);
        emit IndexUpdated(asset, price, oldest, rawMedian, agreeing);
        _sampleVolatility(asset, price, cfg.sampleInterval);
    }

    function _sampleVolatility(bytes32 asset, uint256 price, uint256 interval) internal {
        OracleVolatilityLib.Window storage window = _volatility[asset];
        (bool sampled, int256 ret) = window.trySample(price, block.timestamp, interval);
        if (sampled) emit VolatilitySampled(asset, ret, window.volatility());
    }

    /// @dev Median of the agreeing prices; `sorted` is ascending, so the filtered list is too.
    function _keptMedian(uint256[] memory sorted, uint256 rawMedian, uint256 maxDeviationX18, uint256 agreeing)
        internal
        pure
        returns (uint256)
    {
        uint256[] memory kept = new uint256[](agreeing);
        uint256 k;
        for (uint256 i; i < sorted.length; ++i) {
            if (!OracleMedianLib.deviates(sorted[i], rawMedian, maxDeviationX18)) kept[k++] = sorted[i];
        }
        return OracleMedianLib.medianOfSorted(kept);
    }

    /// @dev Applies the jump cap against `previous`, sets the breaker and stores the new index.
    function _commitIndex(bytes32 asset, AssetConfig memory cfg, uint256 previous, uint256 median, uint256 oldest)
        internal
        returns (uint256 price)
    {
        price = median;
        bool capped;
        if (previous != 0) (price, capped) = OracleMedianLib.clampMove(previous, median, cfg.jumpCapX18);
        if (capped) emit JumpCapped(asset, previous, median, price);
        _setBreaker(asset, cfg.breaker, capped ? Breaker.JumpCapped : Breaker.None);
        _index[asset] = IndexState(uint128(price), uint64(oldest), uint64(block.timestamp));
    }

    /// @dev Fresh prices of registered sources, sorted, and their median (0 when none is fresh).
    function _freshSorted(bytes32 asset, uint256 maxAge) internal view returns (uint256[] memory sorted, uint256 med) {
        address[] storage list = _sources[asset];
        uint256 n = list.length;
        uint256[] memory buffer = new uint256[](n);
        uint256 count;
        for (uint256 i; i < n; ++i) {
            SourceReport memory r = _reports[asset][list[i]];
            if (r.priceX18 != 0 && block.timestamp - r.timestamp <= maxAge) buffer[count++] = r.priceX18;
        }
        sorted = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            sorted[i] = buffer[i];
        }
        if (count == 0) return (sorted, 0);
        OracleMedianLib.sort(sorted);
        return (sorted, OracleMedianLib.medianOfSorted(sorted));
    }

    /// @dev Flags fresh sources against the raw median; returns the agreeing count and their oldest
    /// timestamp. Stale sources keep their flag until they report again.
    function _isolate(bytes32 asset, AssetConfig memory cfg, uint256 rawMedian)
        internal
        returns (uint256 agreeing, uint256 oldest)
    {
        if (rawMedian == 0) return (0, 0);
        address[] storage list = _sources[asset];
        uint256 n = list.length;
        oldest = type(uint256).max;
        for (uint256 i; i < n; ++i) {
            address source = list[i];
            SourceReport memory r = _reports[asset][source];
            if (r.priceX18 == 0 || block.timestamp - r.timestamp > cfg.maxAge) continue;
            bool out = OracleMedianLib.deviates(r.priceX18, rawMedian, cfg.maxDeviationX18);
            if (!out) {
                ++agreeing;
                if (r.timestamp < oldest) oldest = r.timestamp;
            }
            if (out != r.isolated) {
                _reports[asset][source].isolated = out;
                if (out) emit SourceIsolated(asset, source, r.priceX18, rawMedian);
                else emit SourceReadmitted(asset, source, r.priceX18, rawMedian);
            }
        }
    }

    function _accumulate(bytes32 asset, IndexState memory st) internal {
        if (st.priceX18 != 0 && block.timestamp > st.accumulatedAt) {
            _cumulative[asset] += uint256(st.priceX18) * (block.timestamp - st.accumulatedAt);
            _index[asset].accumulatedAt = uint64(block.timestamp);
        }
    }

    function _setBreaker(bytes32 asset, Breaker current, Breaker next) internal {
        if (current == next) return;
        _configs[asset].breaker = next;
        if (next == Breaker.None) emit CircuitBreakerReset(asset);
        else emit CircuitBreakerTripped(asset, next);
    }
}
