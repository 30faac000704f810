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
import {InsuranceFund} from "./InsuranceFund.sol";
import {LiquidationMath} from "./LiquidationMath.sol";

/// @title LiquidationModule
/// @notice Flag, 30 s grace, forced close at `index * (1 -/+ gamma)` against the insurance fund,
/// tiered keeper reward and bad-debt cover by the fund (SPEC section 7; SECURITY 18-22, P8-P12).
/// Auto-deleveraging, when the fund cannot pay, is {AdlModule}'s job; it reads this module's flags,
/// gamma and close caps.
/// @dev
/// - Flag: anyone, only while `equity < maintenance`. The flag is cleared (timer reset) by
///   {clearFlag} once the account is healthy (anyone, so the ADL module uses it too), and by a forced
///   close that restores health.
/// - Grace: for {GRACE_PERIOD} seconds after the flag only the operator's book may close the account
///   (through normal settlement); from `flaggedAt + 30 s` anyone may {forceClose}.
/// - Forced close: one leg per call, at most `maxCloseSize[market]` (0 = whole leg). Keeper reward
///   `min(tieredReward(closed notional at index), equity left)`; the fund's share is the gamma
///   discount it buys at. A leg that leaves the account flat with negative equity is covered by the
///   fund; when the fund cannot cover, the close reverts and ADL takes over.
contract LiquidationModule is AccessControlled, ReentrancyGuard {
    using SafeCast for uint256;

    /// @notice Seconds after the flag before anyone may force-close.
    uint256 public constant GRACE_PERIOD = 30;
    /// @notice Upper bound of gamma (10%).
    uint256 public constant MAX_GAMMA = 1e17;
    /// @notice Upper bound of a keeper reward rate (5%).
    uint256 public constant MAX_REWARD_RATE = 5e16;

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
        // flat in the token: only possible when the whole leg closed
        bool flat = c.closedAll && engine.openMarketsOf(account, c.token).length == 0;
        if (eq < 0 && flat) {
            _coverBadDebt(account, c.token, uint256(-eq));
            eq = 0;
        }
        emit ForcedClose(account, marketId, msg.sender, leg, deltaX18, c.priceX18, c.indexX18, c.gammaX18, rewardX18);
        _afterStep(account, c.token, eq - rewardX18.toInt256(), flat);
    }

    struct Close {
        address token;
        int256 deltaX18;
        uint256 priceX18;
        uint256 indexX18;
        uint256 gammaX18;
        uint256 notionalX18;
        bool closedAll;
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
        c.closedAll = closed == SignedMath.abs(size);
        c.deltaX18 = size > 0 ? -closed.toInt256() : closed.toInt256();
        c.notionalX18 = inverse ? Math.mulDiv(closed, 1e18, c.indexX18) : Math.mulDiv(closed, c.indexX18, 1e18);
        engine.liquidationTrade(account, address(fund), marketId, c.deltaX18, c.priceX18, _legFlags(leg), 0);
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

    /// @dev `equityX18` is the account's equity after the step; `flat` means no open leg in `token`
    /// (then, with equity >= 0, it cannot be liquidatable: no maintenance requirement).
    function _afterStep(address account, address token, int256 equityX18, bool flat) private {
        // the engine's negative-equity gate only needs a poke when the flag may change
        if (equityX18 < 0 || engine.negativeEquityFlag(account, token)) {
            if (engine.pokeNegativeEquity(account, token)) return; // still negative: still liquidatable
        }
        if (flat || !engine.isLiquidatable(account, token)) _clear(account, token);
    }

    function _clear(address account, address token) private {
        delete flaggedAt[account][token];
        emit FlagCleared(account, token);
    }
}
