// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";
import {AccessControlled} from "../access/AccessControlled.sol";
import {Roles} from "../access/Roles.sol";
import {IMarketRegistry} from "../interfaces/IMarketRegistry.sol";
import {IPriceOracle} from "../interfaces/IPriceOracle.sol";
import {PerpEngine} from "../perp/PerpEngine.sol";
import {PerpLedger} from "../perp/PerpLedger.sol";
import {PerpMath} from "../libraries/PerpMath.sol";
import {InsuranceFund} from "./InsuranceFund.sol";
import {LiquidationMath} from "./LiquidationMath.sol";

/// @title LiquidationModule
/// @notice Flag, 30 s grace, forced close at `index * (1 -/+ gamma)` against the insurance fund,
/// tiered keeper reward, bad-debt cover by the fund, and auto-deleveraging at the bankruptcy price
/// with an on-chain-verified ranking (SPEC section 7; SECURITY 18-22, P8-P12).
/// @dev
/// - Flag: anyone, only while `equity < maintenance`. The flag is cleared (timer reset) by
///   {clearFlag} once the account is healthy, and by a forced close or ADL step that restores health.
/// - Grace: for {GRACE_PERIOD} seconds after the flag only the operator's book may close the account
///   (through normal settlement); from `flaggedAt + 30 s` anyone may {forceClose}.
/// - Forced close: one leg per call, at most `maxCloseSize[market]` (0 = whole leg). Keeper reward
///   `min(tieredReward(closed notional at index), equity left)`; the fund's share is the gamma
///   discount it buys at. A leg that leaves the account flat with negative equity is covered by the
///   fund; when the fund cannot cover, the close reverts and ADL takes over.
/// - ADL: linear markets only. The keeper submits every opposite-side leg of the market sorted by
///   (account, leg); the module checks their sizes add up to the market's opposite open interest (so
///   the list is complete) and that the victim has the highest score `profit * notional / equity`.
///   The bankrupt leg is closed against the victim at the bankruptcy price.
contract LiquidationModule is AccessControlled, ReentrancyGuard {
    using SafeCast for uint256;

    /// @notice Seconds after the flag before anyone may force-close.
    uint256 public constant GRACE_PERIOD = 30;
    /// @notice Upper bound of gamma (10%).
    uint256 public constant MAX_GAMMA = 1e17;
    /// @notice Upper bound of a keeper reward rate (5%).
    uint256 public constant MAX_REWARD_RATE = 5e16;

    /// @notice One opposite-side leg in an ADL ranking submission.
    struct Candidate {
        address account;
        uint8 leg;
    }

    /// @notice The perpetual engine (this module needs Roles.LIQUIDATOR there).
    PerpEngine public immutable engine;
    /// @notice Market registry.
    IMarketRegistry public immutable registry;
    /// @notice Index oracle.
    IPriceOracle public immutable oracle;
    /// @notice The insurance fund (counterparty of forced closes, payer of bad debt).
    InsuranceFund public immutable fund;

    /// @notice When an account was flagged per settlement token (0 = not flagged).
    mapping(address account => mapping(address token => uint256)) public flaggedAt;
    /// @notice Largest size one forced close or ADL step may close per market (0 = no cap).
    mapping(uint256 marketId => uint256) public maxCloseSize;
    /// @notice Book depth last posted per market (drives gamma).
    mapping(uint256 marketId => uint256) public depth;

    LiquidationMath.RewardTier[] private _rewardTiers;
    mapping(uint256 marketId => LiquidationMath.GammaTier[]) private _gammaTiers;

    /// @notice A constructor address is zero.
    error LiquidationZeroAddress();
    /// @notice The account is not below maintenance margin.
    error LiquidationAccountHealthy(address account, address token, int256 equityX18, uint256 maintenanceX18);
    /// @notice The account is already flagged.
    error LiquidationAlreadyFlagged(address account, address token, uint256 flaggedAt);
    /// @notice The account is not flagged.
    error LiquidationNotFlagged(address account, address token);
    /// @notice The grace period is still running.
    error LiquidationGraceActive(address account, address token, uint256 endsAt);
    /// @notice The flag cannot be cleared: the account is still unhealthy.
    error LiquidationStillUnhealthy(address account, address token);
    /// @notice The leg is flat.
    error LiquidationNoPosition(address account, uint256 marketId, uint8 leg);
    /// @notice The fund cannot cover the bad debt a forced close would leave: use ADL.
    error LiquidationInsuranceInsufficient(address token, uint256 deficitX18, uint256 availableX18);
    /// @notice ADL is not allowed: the fund can absorb a forced close (deficit plus the leg's margin).
    error LiquidationAdlNotNeeded(address token, int256 equityAfterCloseX18, uint256 fundCapacityX18);
    /// @notice ADL runs in linear markets only.
    error LiquidationAdlLinearOnly(uint256 marketId);
    /// @notice The ADL ranking submission is invalid (unsorted, wrong side, incomplete, bad victim index).
    error LiquidationAdlBadRanking(uint256 index);
    /// @notice A candidate outranks the submitted victim.
    error LiquidationAdlNotTopRanked(address victim, uint256 victimScore, address better, uint256 betterScore);
    /// @notice A governed schedule is malformed.
    error LiquidationInvalidSchedule(uint256 index);
    /// @notice The caller may not post book depth.
    error LiquidationUnauthorizedPoster(address caller);

    /// @notice An account was flagged below maintenance margin.
    event AccountFlagged(address indexed account, address indexed token, int256 equityX18, uint256 maintenanceX18, uint256 at);
    /// @notice An account's flag was cleared (it recovered, or was closed back to health).
    event FlagCleared(address indexed account, address indexed token);
    /// @notice A forced close executed.
    event ForcedClose(
        address indexed account,
        uint256 indexed marketId,
        address indexed keeper,
        uint8 leg,
        int256 deltaX18,
        uint256 priceX18,
        uint256 indexX18,
        uint256 gammaX18,
        uint256 rewardX18
    );
    /// @notice The insurance fund covered bad debt.
    event BadDebtCovered(address indexed account, address indexed token, uint256 amountX18);
    /// @notice One ADL step executed at the bankruptcy price.
    event AdlStep(
        address indexed account, address indexed victim, uint256 indexed marketId, int256 deltaX18, uint256 priceX18, uint256 indexX18, uint256 score
    );
    /// @notice Book depth posted for a market.
    event DepthPosted(uint256 indexed marketId, uint256 depthX18, uint256 gammaX18);
    /// @notice The keeper reward schedule changed.
    event RewardTiersSet(LiquidationMath.RewardTier[] tiers);
    /// @notice A market's gamma schedule changed.
    event GammaTiersSet(uint256 indexed marketId, LiquidationMath.GammaTier[] tiers);
    /// @notice A market's per-call close cap changed.
    event MaxCloseSizeSet(uint256 indexed marketId, uint256 sizeX18);

    /// @param acl_ ProtocolAccess.
    /// @param engine_ The perpetual engine.
    /// @param fund_ The insurance fund.
    constructor(IAccessControl acl_, PerpEngine engine_, InsuranceFund fund_) AccessControlled(acl_) {
        if (address(engine_) == address(0) || address(fund_) == address(0)) revert LiquidationZeroAddress();
        engine = engine_;
        registry = engine_.registry();
        oracle = engine_.oracle();
        fund = fund_;
    }

    // ------------------------------------------------------------------ governance

    /// @notice Sets the keeper reward brackets (governance): first starts at 0, starts increasing,
    /// rates non-increasing and at most {MAX_REWARD_RATE}.
    /// @param tiers The brackets.
    function setRewardTiers(LiquidationMath.RewardTier[] calldata tiers) external onlyRole(Roles.ADMIN) {
        delete _rewardTiers;
        for (uint256 i; i < tiers.length; ++i) {
            LiquidationMath.RewardTier calldata t = tiers[i];
            bool bad = t.rateX18 > MAX_REWARD_RATE || (i == 0 && t.fromNotionalX18 != 0)
                || (i > 0 && (t.fromNotionalX18 <= tiers[i - 1].fromNotionalX18 || t.rateX18 > tiers[i - 1].rateX18));
            if (bad) revert LiquidationInvalidSchedule(i);
            _rewardTiers.push(t);
        }
        emit RewardTiersSet(tiers);
    }

    /// @notice Sets a market's gamma schedule (governance): non-empty, first step at depth 0, depths
    /// increasing, gammas non-increasing (gamma rises as liquidity falls), at most {MAX_GAMMA}.
    /// @param marketId The market.
    /// @param tiers The steps.
    function setGammaTiers(uint256 marketId, LiquidationMath.GammaTier[] calldata tiers) external onlyRole(Roles.ADMIN) {
        registry.marginInfo(marketId);
        if (tiers.length == 0) revert LiquidationInvalidSchedule(0);
        delete _gammaTiers[marketId];
        for (uint256 i; i < tiers.length; ++i) {
            LiquidationMath.GammaTier calldata t = tiers[i];
            bool bad = t.gammaX18 > MAX_GAMMA || (i == 0 && t.minDepthX18 != 0)
                || (i > 0 && (t.minDepthX18 <= tiers[i - 1].minDepthX18 || t.gammaX18 > tiers[i - 1].gammaX18));
            if (bad) revert LiquidationInvalidSchedule(i);
            _gammaTiers[marketId].push(t);
        }
        emit GammaTiersSet(marketId, tiers);
    }

    /// @notice Sets the per-call close cap of a market (governance; 0 = no cap).
    /// @param marketId The market.
    /// @param sizeX18 The cap.
    function setMaxCloseSize(uint256 marketId, uint256 sizeX18) external onlyRole(Roles.ADMIN) {
        maxCloseSize[marketId] = sizeX18;
        emit MaxCloseSizeSet(marketId, sizeX18);
    }

    /// @notice Posts the market's book depth (operator or keeper); gamma follows the schedule.
    /// @param marketId The market.
    /// @param depthX18 Depth near the index, collateral units.
    function postDepth(uint256 marketId, uint256 depthX18) external {
        if (!acl.hasRole(Roles.OPERATOR, msg.sender) && !acl.hasRole(Roles.KEEPER, msg.sender)) {
            revert LiquidationUnauthorizedPoster(msg.sender);
        }
        depth[marketId] = depthX18;
        emit DepthPosted(marketId, depthX18, gamma(marketId));
    }

    // ------------------------------------------------------------------ flag

    /// @notice Flags an account below maintenance margin in `token` (anyone); starts the grace period.
    /// @param account The account.
    /// @param token The settlement token.
    function flag(address account, address token) external {
        uint256 at = flaggedAt[account][token];
        if (at != 0) revert LiquidationAlreadyFlagged(account, token, at);
        int256 eq = engine.equity(account, token);
        uint256 mm = engine.maintenanceMargin(account, token);
        if (eq >= mm.toInt256()) revert LiquidationAccountHealthy(account, token, eq, mm);
        flaggedAt[account][token] = block.timestamp;
        emit AccountFlagged(account, token, eq, mm, block.timestamp);
    }

    /// @notice Clears the flag of an account that is healthy again (anyone): the grace timer resets.
    /// @param account The account.
    /// @param token The settlement token.
    function clearFlag(address account, address token) external {
        if (flaggedAt[account][token] == 0) revert LiquidationNotFlagged(account, token);
        if (engine.isLiquidatable(account, token)) revert LiquidationStillUnhealthy(account, token);
        _clear(account, token);
    }

    // ------------------------------------------------------------------ forced close

    /// @notice Force-closes (part of) a leg of a flagged account after the grace period (anyone).
    /// @param account The account.
    /// @param marketId The market.
    /// @param leg 0 one-way, 1 hedge long, 2 hedge short.
    /// @return deltaX18 The signed size change of the account's leg.
    /// @return rewardX18 The keeper reward paid to the caller.
    function forceClose(address account, uint256 marketId, uint8 leg)
        external
        nonReentrant
        returns (int256 deltaX18, uint256 rewardX18)
    {
        Close memory c = _executeClose(account, marketId, leg);
        deltaX18 = c.deltaX18;
        int256 eq = engine.equity(account, c.token);
        if (eq > 0) rewardX18 = Math.min(LiquidationMath.tieredReward(_rewardTiers, c.notionalX18), uint256(eq));
        if (rewardX18 != 0) engine.liquidationTransfer(account, msg.sender, c.token, rewardX18);
        if (eq < 0 && engine.openMarketsOf(account, c.token).length == 0) _coverBadDebt(account, c.token, uint256(-eq));
        emit ForcedClose(account, marketId, msg.sender, leg, deltaX18, c.priceX18, c.indexX18, c.gammaX18, rewardX18);
        _afterStep(account, c.token);
    }

    struct Close {
        address token;
        int256 deltaX18;
        uint256 priceX18;
        uint256 indexX18;
        uint256 gammaX18;
        uint256 notionalX18;
    }

    function _executeClose(address account, uint256 marketId, uint8 leg) private returns (Close memory c) {
        bytes32 asset;
        bool inverse;
        (asset, c.token, inverse,,) = registry.marginInfo(marketId);
        _checkGraceOver(account, c.token);
        int256 size = engine.positionOf(account, marketId, leg).size;
        if (size == 0) revert LiquidationNoPosition(account, marketId, leg);
        (c.indexX18,) = oracle.getPrice(asset);
        c.gammaX18 = gamma(marketId);
        c.priceX18 = LiquidationMath.closePrice(size > 0, c.indexX18, c.gammaX18);
        uint256 closed = _closeSize(marketId, SignedMath.abs(size));
        c.deltaX18 = size > 0 ? -closed.toInt256() : closed.toInt256();
        c.notionalX18 = inverse ? Math.mulDiv(closed, 1e18, c.indexX18) : Math.mulDiv(closed, c.indexX18, 1e18);
        engine.liquidationTrade(account, address(fund), marketId, c.deltaX18, c.priceX18, _legFlags(leg), 0);
    }

    // ------------------------------------------------------------------ ADL

    /// @notice One auto-deleveraging step (anyone, after the grace period, only when the fund cannot
    /// absorb a forced close of the whole leg: its deficit plus the leg's initial margin): closes the
    /// bankrupt leg against the top-ranked opposite leg at the bankruptcy price.
    /// @param account The bankrupt account.
    /// @param marketId A linear market.
    /// @param leg The bankrupt leg.
    /// @param candidates Every opposite-side leg of the market, sorted strictly by (account, leg).
    /// @param victimIndex Position of the victim in `candidates`.
    /// @return deltaX18 The signed size change of the bankrupt leg.
    function adl(address account, uint256 marketId, uint8 leg, Candidate[] calldata candidates, uint256 victimIndex)
        external
        nonReentrant
        returns (int256 deltaX18)
    {
        Close memory c;
        bytes32 asset;
        bool inverse;
        (asset, c.token, inverse,,) = registry.marginInfo(marketId);
        if (inverse) revert LiquidationAdlLinearOnly(marketId);
        _checkGraceOver(account, c.token);
        int256 size = engine.positionOf(account, marketId, leg).size;
        if (size == 0) revert LiquidationNoPosition(account, marketId, leg);
        (c.indexX18,) = oracle.getPrice(asset);
        int256 eq = engine.equity(account, c.token);
        _checkAdlNeeded(c.token, marketId, size, c.indexX18, eq);
        if (victimIndex >= candidates.length) revert LiquidationAdlBadRanking(victimIndex);
        uint256 score = _verifyRanking(marketId, c.token, size > 0, c.indexX18, candidates, victimIndex);
        Candidate calldata v = candidates[victimIndex];
        c.priceX18 = LiquidationMath.bankruptcyPrice(size, c.indexX18, eq);
        if (c.priceX18 == 0) revert LiquidationAdlBadRanking(victimIndex);
        deltaX18 = _adlTrade(account, marketId, leg, size, v, c.priceX18);
        emit AdlStep(account, v.account, marketId, deltaX18, c.priceX18, c.indexX18, score);
        _afterStep(account, c.token);
    }

    function _adlTrade(address account, uint256 marketId, uint8 leg, int256 size, Candidate calldata v, uint256 price)
        private
        returns (int256 deltaX18)
    {
        uint256 victimSize = SignedMath.abs(engine.positionOf(v.account, marketId, v.leg).size);
        uint256 closed = _closeSize(marketId, Math.min(SignedMath.abs(size), victimSize));
        deltaX18 = size > 0 ? -closed.toInt256() : closed.toInt256();
        // the victim's side is reduce-only (flag bit 1)
        engine.liquidationTrade(account, v.account, marketId, deltaX18, price, _legFlags(leg), _legFlags(v.leg) | 2);
    }

    /// @dev ADL only when the fund could not absorb a forced close of the whole leg: it would need the
    /// deficit the close leaves plus the initial margin of the leg it takes over, and it has what it can
    /// pay now plus the gamma discount it buys at. (Conservative when the fund already holds an
    /// offsetting position in the market: its margin would net, so ADL may be allowed slightly early.)
    function _checkAdlNeeded(address token, uint256 marketId, int256 size, uint256 index, int256 eq) private view {
        (uint256 penalty, uint256 need) = _absorbCost(marketId, size, index);
        int256 after_ = eq - penalty.toInt256();
        if (after_ < 0) need += uint256(-after_);
        uint256 have = fund.available(token) + penalty;
        if (have >= need) revert LiquidationAdlNotNeeded(token, after_, have);
    }

    /// @dev The gamma discount of closing the whole leg and the initial margin of the leg at the index.
    function _absorbCost(uint256 marketId, int256 size, uint256 index)
        private
        view
        returns (uint256 penalty, uint256 margin)
    {
        uint256 absSize = SignedMath.abs(size);
        uint256 closeAt = LiquidationMath.closePrice(size > 0, index, gamma(marketId));
        uint256 atIndex = Math.mulDiv(absSize, index, 1e18, Math.Rounding.Ceil);
        uint256 atClose = Math.mulDiv(absSize, closeAt, 1e18);
        penalty = atIndex > atClose ? atIndex - atClose : atClose - atIndex;
        (,,, uint256 imr, uint256 slope) = registry.marginInfo(marketId);
        margin = PerpMath.mulRateUp(atIndex, PerpMath.sizedRate(imr, slope, atIndex));
    }

    // ------------------------------------------------------------------ views

    /// @notice The market's current gamma from its schedule and posted depth.
    /// @param marketId The market.
    /// @return gammaX18 The gamma.
    function gamma(uint256 marketId) public view returns (uint256 gammaX18) {
        return LiquidationMath.gammaFor(_gammaTiers[marketId], depth[marketId]);
    }

    /// @notice The uncapped keeper reward for a closed notional.
    /// @param notionalX18 The notional.
    /// @return rewardX18 The reward.
    function rewardFor(uint256 notionalX18) external view returns (uint256 rewardX18) {
        return LiquidationMath.tieredReward(_rewardTiers, notionalX18);
    }

    /// @notice The ADL score of a leg: profit at the index times the account's leverage.
    /// @param account The account.
    /// @param marketId The market.
    /// @param leg The leg.
    /// @return score The score (0 without profit or equity).
    function adlScore(address account, uint256 marketId, uint8 leg) external view returns (uint256 score) {
        (bytes32 asset, address token,,,) = registry.marginInfo(marketId);
        (uint256 index,) = oracle.getPrice(asset);
        (score,) = _score(account, marketId, leg, token, index);
    }

    // ------------------------------------------------------------------ internals

    function _checkGraceOver(address account, address token) private view {
        uint256 at = flaggedAt[account][token];
        if (at == 0) revert LiquidationNotFlagged(account, token);
        if (block.timestamp < at + GRACE_PERIOD) revert LiquidationGraceActive(account, token, at + GRACE_PERIOD);
        if (!engine.isLiquidatable(account, token)) {
            revert LiquidationAccountHealthy(
                account, token, engine.equity(account, token), engine.maintenanceMargin(account, token)
            );
        }
    }

    function _closeSize(uint256 marketId, uint256 want) private view returns (uint256) {
        uint256 cap = maxCloseSize[marketId];
        return cap != 0 && want > cap ? cap : want;
    }

    function _legFlags(uint8 leg) private pure returns (uint8) {
        return leg == 2 ? 4 : 0; // PerpEngine.FLAG_SHORT_LEG
    }

    function _coverBadDebt(address account, address token, uint256 deficit) private {
        uint256 avail = fund.available(token);
        if (avail < deficit) revert LiquidationInsuranceInsufficient(token, deficit, avail);
        engine.liquidationTransfer(address(fund), account, token, deficit);
        emit BadDebtCovered(account, token, deficit);
    }

    function _afterStep(address account, address token) private {
        engine.pokeNegativeEquity(account, token);
        if (!engine.isLiquidatable(account, token)) _clear(account, token);
    }

    function _clear(address account, address token) private {
        delete flaggedAt[account][token];
        emit FlagCleared(account, token);
    }

    struct Rank {
        uint256 marketId;
        address token;
        bool bankruptLong;
        uint256 index;
        uint256 total;
        uint256 best;
        uint256 bestAt;
    }

    function _verifyRanking(
        uint256 marketId,
        address token,
        bool bankruptLong,
        uint256 index,
        Candidate[] calldata c,
        uint256 victimIndex
    ) private view returns (uint256 victimScore) {
        Rank memory r = Rank(marketId, token, bankruptLong, index, 0, 0, 0);
        for (uint256 i; i < c.length; ++i) {
            if (i > 0 && _key(c[i]) <= _key(c[i - 1])) revert LiquidationAdlBadRanking(i);
            _rankOne(r, c[i], i);
        }
        (uint256 longOi, uint256 shortOi,,,) = engine.marketStates(marketId);
        // completeness: the listed legs hold the whole opposite open interest
        if (r.total != (bankruptLong ? shortOi : longOi)) revert LiquidationAdlBadRanking(c.length);
        (victimScore,) = _score(c[victimIndex].account, marketId, c[victimIndex].leg, token, index);
        if (victimScore == 0) revert LiquidationAdlBadRanking(victimIndex);
        if (victimScore < r.best) {
            revert LiquidationAdlNotTopRanked(c[victimIndex].account, victimScore, c[r.bestAt].account, r.best);
        }
    }

    function _rankOne(Rank memory r, Candidate calldata cand, uint256 i) private view {
        (uint256 s, int256 size) = _score(cand.account, r.marketId, cand.leg, r.token, r.index);
        // opposite side only: a long bankrupt leg is matched with shorts and vice versa
        if (size == 0 || (size > 0) == r.bankruptLong) revert LiquidationAdlBadRanking(i);
        r.total += SignedMath.abs(size);
        if (s > r.best) (r.best, r.bestAt) = (s, i);
    }

    function _key(Candidate calldata cand) private pure returns (uint256) {
        return (uint256(uint160(cand.account)) << 8) | cand.leg;
    }

    function _score(address account, uint256 marketId, uint8 leg, address token, uint256 index)
        private
        view
        returns (uint256 score, int256 size)
    {
        PerpLedger.Position memory p = engine.positionOf(account, marketId, leg);
        size = p.size;
        if (size == 0) return (0, 0);
        (,, int256 fundingIndex,,) = engine.marketStates(marketId);
        int256 pnl = PerpMath.markValueFloor(false, size, index) - p.openValueX18
            - PerpMath.fundingOwedUp(size, fundingIndex - p.fundingSnapshotX18);
        uint256 notional = Math.mulDiv(SignedMath.abs(size), index, 1e18);
        score = LiquidationMath.adlScore(pnl, notional, engine.equity(account, token));
    }
}
