// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {AccessControlled} from "../access/AccessControlled.sol";
import {Roles} from "../access/Roles.sol";
import {IMarketRegistry} from "../interfaces/IMarketRegistry.sol";
import {IPerpEngine} from "../interfaces/IPerpEngine.sol";
import {IPriceOracle} from "../interfaces/IPriceOracle.sol";
import {FundingMath} from "./FundingMath.sol";

/// @title FundingModule
/// @notice Computes each market's 8-hourly funding rate and feeds it into the engine's cumulative
/// funding index (SPEC section 6; SECURITY 15-17, P17, P18).
/// @dev Contract price and TWAP:
/// - The operator (or a keeper) posts the fair contract price. Each post must lie within
///   `maxDeviation` of the index and within `maxStep` of the previous post.
/// - A Uniswap-v2 style accumulator integrates the posted price over time: a post only gains weight
///   as time passes, so a post in the same block as an update has no weight in that update's TWAP, and
///   a single post can move the TWAP by at most `maxDeviation * dwell / window`.
/// - `P_contract` in the formula is the price that stood at the start of the current block, so a
///   post in the same block as the update changes nothing.
/// Accrual schedule: intervals are anchored (`anchor += n * INTERVAL`), so the schedule never drifts.
/// An update at `anchor + n * INTERVAL` (n >= 1) accrues n intervals, each with the same premium
/// (the TWAP over the whole window since the last update) passed through the rate-of-change cap in
/// turn. Hence one call after 16 h accrues exactly what calls at 8 h and 16 h accrue when prices
/// did not move between them; when they did, a late update charges every missed interval at the
/// window's average premium (it cannot know the premium that would have been observed at 8 h). A
/// second call in the same interval reverts ({FundingModuleNotDue}) and accrues nothing.
/// Trigger: Roles.KEEPER from the due time, anyone from `due + permissionlessDelay`.
contract FundingModule is AccessControlled, ReentrancyGuard {
    using SafeCast for uint256;

    /// @notice Funding interval.
    uint256 public constant INTERVAL = 8 hours;
    /// @notice Intervals one update may accrue; a longer backlog is accrued by further calls.
    uint256 public constant MAX_CATCHUP = 21;
    /// @notice Upper bound of `alpha`, `beta`, `maxDeviation` and `maxStep` (100%).
    uint256 public constant MAX_WEIGHT = 1e18;

    /// @notice Governed per-market parameters, 18 decimals.
    struct Config {
        uint64 alphaX18;
        uint64 betaX18;
        uint64 maxRateX18;
        uint64 maxRateChangeX18;
        uint64 maxDeviationX18;
        uint64 maxStepX18;
    }

    /// @notice Per-market price accumulator and funding schedule.
    struct MarketFunding {
        uint128 lastPriceX18;
        uint64 lastPostAt;
        uint64 lastPostBlock;
        uint128 blockStartPriceX18;
        uint64 anchor;
        uint64 lastUpdateAt;
        uint256 cumulativeX18;
        uint256 cumulativeAtUpdateX18;
        int256 lastRateX18;
    }

    /// @notice The perpetual engine (this module needs Roles.FUNDING there).
    IPerpEngine public immutable engine;
    /// @notice Market registry (asset of each market).
    IMarketRegistry public immutable registry;
    /// @notice Index price oracle.
    IPriceOracle public immutable oracle;

    /// @notice Delay after the due time from which anyone may trigger an update.
    uint256 public permissionlessDelay = 1 hours;
    /// @notice Parameters per market.
    mapping(uint256 marketId => Config) public configs;
    /// @notice State per market.
    mapping(uint256 marketId => MarketFunding) public states;

    /// @notice A constructor address is zero.
    error FundingModuleZeroAddress();
    /// @notice Parameters out of range (weights or bands above 100%, zero caps).
    error FundingModuleInvalidConfig(uint256 marketId);
    /// @notice The market has no configuration yet.
    error FundingModuleNotConfigured(uint256 marketId);
    /// @notice The market is already active.
    error FundingModuleAlreadyActive(uint256 marketId);
    /// @notice The market is not active (no initial contract price).
    error FundingModuleNotActive(uint256 marketId);
    /// @notice A posted contract price is too far from the index.
    error FundingModulePriceOutOfBand(uint256 marketId, uint256 priceX18, uint256 indexX18);
    /// @notice A posted contract price moved too far from the previous post.
    error FundingModulePriceStep(uint256 marketId, uint256 priceX18, uint256 previousX18);
    /// @notice The caller may not post contract prices.
    error FundingModuleUnauthorizedPoster(address caller);
    /// @notice No full interval has passed since the last accrual.
    error FundingModuleNotDue(uint256 marketId, uint256 dueAt);
    /// @notice Before `openAt` only keepers may trigger the update.
    error FundingModuleKeeperOnly(address caller, uint256 openAt);
    /// @notice The permissionless delay is longer than one interval.
    error FundingModuleInvalidDelay(uint256 delay);

    /// @notice Parameters of a market changed.
    event FundingConfigSet(uint256 indexed marketId, Config config);
    /// @notice Funding started for a market.
    event FundingActivated(uint256 indexed marketId, uint256 priceX18, uint256 anchor);
    /// @notice A contract price was posted; `cumulativeX18` is the accumulator after the post.
    event ContractPricePosted(
        uint256 indexed marketId, address indexed poster, uint256 priceX18, uint256 indexX18, uint256 cumulativeX18
    );
    /// @notice One interval's funding was accrued in the engine with these inputs.
    event FundingRateApplied(
        uint256 indexed marketId,
        uint256 intervalEnd,
        int256 rateX18,
        int256 rawRateX18,
        uint256 contractX18,
        uint256 twapX18,
        uint256 indexX18
    );
    /// @notice The permissionless delay changed.
    event PermissionlessDelaySet(uint256 delay);

    /// @param acl_ ProtocolAccess.
    /// @param engine_ The perpetual engine.
    /// @param registry_ The market registry.
    constructor(IAccessControl acl_, IPerpEngine engine_, IMarketRegistry registry_) AccessControlled(acl_) {
        if (address(engine_) == address(0) || address(registry_) == address(0)) revert FundingModuleZeroAddress();
        engine = engine_;
        registry = registry_;
        oracle = registry_.oracle();
    }

    // ------------------------------------------------------------------ governance

    /// @notice Sets a market's funding parameters (governance).
    /// @param marketId The market (must be listed).
    /// @param config Weights, caps and posting bands.
    function setConfig(uint256 marketId, Config calldata config) external onlyRole(Roles.ADMIN) {
        registry.marginInfo(marketId); // reverts for an unknown market
        if (
            config.alphaX18 > MAX_WEIGHT || config.betaX18 > MAX_WEIGHT || config.maxRateX18 == 0
                || config.maxRateChangeX18 == 0 || config.maxDeviationX18 == 0 || config.maxDeviationX18 > MAX_WEIGHT
                || config.maxStepX18 == 0 || config.maxStepX18 > MAX_WEIGHT
        ) revert FundingModuleInvalidConfig(marketId);
        configs[marketId] = config;
        emit FundingConfigSet(marketId, config);
    }

    /// @notice Sets the delay after which anyone may trigger an overdue update (governance).
    /// @param delay Seconds after the due time, at most one interval.
    function setPermissionlessDelay(uint256 delay) external onlyRole(Roles.ADMIN) {
        if (delay > INTERVAL) revert FundingModuleInvalidDelay(delay);
        permissionlessDelay = delay;
        emit PermissionlessDelaySet(delay);
    }

    /// @notice Starts funding for a configured market: seeds the accumulator with `priceX18` (within
    /// the band around the index) and anchors the schedule at the current time (governance).
    /// @param marketId The market.
    /// @param priceX18 The initial contract price.
    function activate(uint256 marketId, uint256 priceX18) external onlyRole(Roles.ADMIN) {
        Config memory c = _config(marketId);
        MarketFunding storage s = states[marketId];
        if (s.anchor != 0) revert FundingModuleAlreadyActive(marketId);
        uint256 index = _index(marketId);
        if (!FundingMath.withinBand(priceX18, index, c.maxDeviationX18)) {
            revert FundingModulePriceOutOfBand(marketId, priceX18, index);
        }
        uint64 nowTs = uint64(block.timestamp);
        s.lastPriceX18 = priceX18.toUint128();
        s.blockStartPriceX18 = priceX18.toUint128();
        s.lastPostAt = nowTs;
        s.lastPostBlock = uint64(block.number);
        s.anchor = nowTs;
        s.lastUpdateAt = nowTs;
        emit FundingActivated(marketId, priceX18, nowTs);
        emit ContractPricePosted(marketId, msg.sender, priceX18, index, 0);
    }

    // ------------------------------------------------------------------ posting

    /// @notice Posts the fair contract price (weighted best bid/ask of the book). Operator or keeper.
    /// @param marketId The market.
    /// @param priceX18 The price, within `maxDeviation` of the index and `maxStep` of the last post.
    function postContractPrice(uint256 marketId, uint256 priceX18) external {
        if (!acl.hasRole(Roles.OPERATOR, msg.sender) && !acl.hasRole(Roles.KEEPER, msg.sender)) {
            revert FundingModuleUnauthorizedPoster(msg.sender);
        }
        Config memory c = _config(marketId);
        MarketFunding storage s = _active(marketId);
        uint256 index = _index(marketId);
        if (!FundingMath.withinBand(priceX18, index, c.maxDeviationX18)) {
            revert FundingModulePriceOutOfBand(marketId, priceX18, index);
        }
        uint256 last = s.lastPriceX18;
        if (!FundingMath.withinBand(priceX18, last, c.maxStepX18)) {
            revert FundingModulePriceStep(marketId, priceX18, last);
        }
        uint256 cumulative = s.cumulativeX18 + last * (block.timestamp - s.lastPostAt);
        s.cumulativeX18 = cumulative;
        s.lastPostAt = uint64(block.timestamp);
        if (s.lastPostBlock != block.number) {
            s.blockStartPriceX18 = uint128(last);
            s.lastPostBlock = uint64(block.number);
        }
        s.lastPriceX18 = uint128(priceX18);
        emit ContractPricePosted(marketId, msg.sender, priceX18, index, cumulative);
    }

    // ------------------------------------------------------------------ funding

    /// @notice Accrues every full interval elapsed since the last accrual (at most {MAX_CATCHUP}).
    /// Keepers from the due time, anyone from `due + permissionlessDelay`.
    /// @param marketId The market.
    /// @return intervals Number of intervals accrued.
    function updateFunding(uint256 marketId) external nonReentrant returns (uint256 intervals) {
        Config memory c = _config(marketId);
        MarketFunding storage s = _active(marketId);
        uint256 due = uint256(s.anchor) + INTERVAL;
        if (block.timestamp < due) revert FundingModuleNotDue(marketId, due);
        if (block.timestamp < due + permissionlessDelay && !acl.hasRole(Roles.KEEPER, msg.sender)) {
            revert FundingModuleKeeperOnly(msg.sender, due + permissionlessDelay);
        }
        intervals = Math.min((block.timestamp - s.anchor) / INTERVAL, MAX_CATCHUP);
        uint256 index = _index(marketId);
        (uint256 contractPx, uint256 twap, uint256 cumNow) = _prices(s);
        int256 raw = FundingMath.premiumRate(contractPx, twap, index, c.alphaX18, c.betaX18);
        int256 prev = s.lastRateX18;
        uint256 anchor = s.anchor;
        // effects first: the final rate of the clamped sequence, then the schedule and the snapshot
        int256 rate = prev;
        for (uint256 k; k < intervals; ++k) {
            rate = FundingMath.clampRate(raw, rate, c.maxRateX18, c.maxRateChangeX18);
        }
        s.lastRateX18 = rate;
        s.anchor = uint64(anchor + intervals * INTERVAL);
        s.lastUpdateAt = uint64(block.timestamp);
        s.cumulativeAtUpdateX18 = cumNow;
        // interactions: one engine accrual per interval (the engine multiplies each rate by the index)
        rate = prev;
        for (uint256 k = 1; k <= intervals; ++k) {
            rate = FundingMath.clampRate(raw, rate, c.maxRateX18, c.maxRateChangeX18);
            engine.accrueFunding(marketId, rate);
            emit FundingRateApplied(marketId, anchor + k * INTERVAL, rate, raw, contractPx, twap, index);
        }
    }

    // ------------------------------------------------------------------ views

    /// @notice When the next update is due and when anyone may trigger it.
    /// @param marketId The market.
    /// @return dueAt First time a keeper may update.
    /// @return openAt First time anyone may update.
    function nextUpdate(uint256 marketId) external view returns (uint256 dueAt, uint256 openAt) {
        dueAt = uint256(states[marketId].anchor) + INTERVAL;
        openAt = dueAt + permissionlessDelay;
    }

    /// @notice The inputs and the clamped rate an update would use now for the next interval.
    /// @param marketId The market.
    /// @return rateX18 The clamped rate for the next interval.
    /// @return rawX18 The unclamped rate.
    /// @return contractX18 P_contract (price standing at the start of this block).
    /// @return twapX18 TWAP since the last update (the last price if no time passed).
    /// @return indexX18 The index price.
    function previewRate(uint256 marketId)
        external
        view
        returns (int256 rateX18, int256 rawX18, uint256 contractX18, uint256 twapX18, uint256 indexX18)
    {
        Config memory c = _config(marketId);
        MarketFunding storage s = _active(marketId);
        indexX18 = _index(marketId);
        (contractX18, twapX18,) = _prices(s);
        rawX18 = FundingMath.premiumRate(contractX18, twapX18, indexX18, c.alphaX18, c.betaX18);
        rateX18 = FundingMath.clampRate(rawX18, s.lastRateX18, c.maxRateX18, c.maxRateChangeX18);
    }

    /// @notice The accumulator extrapolated to now (price x seconds).
    /// @param marketId The market.
    /// @return cumulativeX18 The cumulative price-seconds.
    function cumulativeNow(uint256 marketId) external view returns (uint256 cumulativeX18) {
        MarketFunding storage s = states[marketId];
        return s.cumulativeX18 + uint256(s.lastPriceX18) * (block.timestamp - s.lastPostAt);
    }

    // ------------------------------------------------------------------ internals

    function _prices(MarketFunding storage s)
        private
        view
        returns (uint256 contractPx, uint256 twap, uint256 cumulative)
    {
        uint256 last = s.lastPriceX18;
        cumulative = s.cumulativeX18 + last * (block.timestamp - s.lastPostAt);
        contractPx = s.lastPostBlock == block.number ? s.blockStartPriceX18 : last;
        uint256 window = block.timestamp - s.lastUpdateAt;
        twap = window == 0 ? last : (cumulative - s.cumulativeAtUpdateX18) / window;
    }

    function _index(uint256 marketId) private view returns (uint256 index) {
        (bytes32 asset,,,,) = registry.marginInfo(marketId);
        (index,) = oracle.getPrice(asset);
    }

    function _config(uint256 marketId) private view returns (Config memory c) {
        c = configs[marketId];
        if (c.maxRateX18 == 0) revert FundingModuleNotConfigured(marketId);
    }

    function _active(uint256 marketId) private view returns (MarketFunding storage s) {
        s = states[marketId];
        if (s.anchor == 0) revert FundingModuleNotActive(marketId);
    }
}
