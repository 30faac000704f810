// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";
import {IMarketRegistry} from "../interfaces/IMarketRegistry.sol";
import {IPriceOracle} from "../interfaces/IPriceOracle.sol";
import {PerpMath} from "../libraries/PerpMath.sol";
import {PerpEngine} from "../perp/PerpEngine.sol";
import {InsuranceFund} from "./InsuranceFund.sol";
import {AdlRanking} from "./AdlRanking.sol";
import {LiquidationMath} from "./LiquidationMath.sol";
import {LiquidationModule} from "./LiquidationModule.sol";

/// @title AdlModule
/// @notice Auto-deleveraging (SPEC section 7; SECURITY 21-22, P11-P12): when the insurance fund
/// cannot absorb a flagged account's leg, the leg is closed at the bankruptcy price against the
/// opposite-side leg with the highest profit x leverage, in linear and inverse markets.
/// @dev Holds its own Roles.LIQUIDATOR grant on the engine and no governance of its own: the flag,
/// grace period, gamma and per-call close cap are the {LiquidationModule}'s.
/// - Allowed only after the grace period and only when the fund could not absorb a forced close of
///   the whole leg: its deficit plus the leg's initial margin exceed what the fund can pay plus the
///   gamma discount it would buy at ("fund exhausted first").
/// - Ranking: the keeper submits every opposite-side leg of the market sorted strictly by
///   (account, leg); {AdlRanking} checks the side of each, that their sizes add up to the market's
///   opposite open interest (so nobody is left out) and that the victim's rank key is the highest:
///   legs in profit by profit x leverage first; only when no opposite leg is in profit, by equity (so a
///   bankrupt leg can always be closed while the opposite side is solvent). Flat legs are rejected, so
///   a flat account can never be touched.
/// - Price: {LiquidationMath.bankruptcyPrice} (linear) or {LiquidationMath.inverseBankruptcyPrice}
///   (inverse): the price at which closing the whole leg leaves the account's equity at zero. The
///   step closes `min(leg, victim leg, close cap)` there, cut further to what the victim's equity can
///   absorb above {VICTIM_RESERVE}; the price is invariant over partial steps.
/// - The victim stays solvent (P11): the engine only requires its equity >= 0 after the step (it may
///   be left below maintenance and liquidated in turn), and the cut keeps it above {VICTIM_RESERVE}, so
///   its rank key is 0 afterwards and the next step goes to the next-ranked leg.
/// - No negative equity left behind (P11): when the step leaves the bankrupt account flat with a
///   negative equity (only the engine's per-trade wei rounding can do that), the victim, who traded
///   at a price at least as good as the one that zeroes the account, pays that dust to it.
contract AdlModule is ReentrancyGuard {
    using SafeCast for uint256;

    /// @notice Largest rounding dust (collateral units, 18 decimals) a victim may pay at the last step.
    uint256 public constant MAX_DUST = 1e6;
    /// @notice Equity (collateral units, 18 decimals) a step leaves its victim at least: covers the last
    /// step's dust and the engine's per-trade rounding. Below {AdlRanking.MIN_VICTIM_EQUITY}.
    uint256 public constant VICTIM_RESERVE = 2e6;

    /// @notice The liquidation module (flags, grace period, gamma, close caps).
    LiquidationModule public immutable liquidation;
    /// @notice The perpetual engine (this module needs Roles.LIQUIDATOR there).
    PerpEngine public immutable engine;
    /// @notice Market registry.
    IMarketRegistry public immutable registry;
    /// @notice Index oracle.
    IPriceOracle public immutable oracle;
    /// @notice The insurance fund (must be exhausted before ADL).
    InsuranceFund public immutable fund;

    /// @notice The liquidation module address is zero.
    error AdlModuleZeroAddress();
    /// @notice The account is not flagged in the liquidation module.
    error AdlModuleNotFlagged(address account, address token);
    /// @notice The grace period is still running.
    error AdlModuleGraceActive(address account, address token, uint256 endsAt);
    /// @notice The account is not below maintenance margin.
    error AdlModuleAccountHealthy(address account, address token);
    /// @notice The leg is flat.
    error AdlModuleNoPosition(address account, uint256 marketId, uint8 leg);
    /// @notice ADL is not allowed: the fund can absorb a forced close (deficit plus the leg's margin).
    error AdlModuleNotNeeded(address token, int256 equityAfterCloseX18, uint256 fundCapacityX18);
    /// @notice No positive bankruptcy price exists (an inverse long whose loss exceeds its coin value, or an
    /// inverse short whose price would be below one wei).
    error AdlModuleNoBankruptcyPrice(address account, uint256 marketId, int256 equityX18);
    /// @notice The last step left more than {MAX_DUST} of negative equity.
    error AdlModuleResidualDeficit(address account, address token, uint256 deficitX18);
    /// @notice The victim's equity cannot absorb even the smallest step at the bankruptcy price.
    error AdlModuleVictimCannotAbsorb(address victim, int256 equityX18, uint256 lossX18);

    /// @notice One ADL step executed at the bankruptcy price.
    /// @param account The bankrupt account.
    /// @param victim The top-ranked opposite account.
    /// @param marketId The market.
    /// @param deltaX18 The signed size change of the bankrupt leg.
    /// @param priceX18 The bankruptcy price used.
    /// @param indexX18 The index price used.
    /// @param score The victim's rank key ({AdlRanking}: profit tier above `2**128`, else its equity).
    /// @param dustX18 Rounding dust the victim paid to leave the bankrupt account at zero.
    event AdlStep(
        address indexed account,
        address indexed victim,
        uint256 indexed marketId,
        int256 deltaX18,
        uint256 priceX18,
        uint256 indexX18,
        uint256 score,
        uint256 dustX18
    );

    /// @param liquidation_ The liquidation module.
    constructor(LiquidationModule liquidation_) {
        if (address(liquidation_) == address(0)) revert AdlModuleZeroAddress();
        liquidation = liquidation_;
        engine = liquidation_.engine();
        registry = liquidation_.registry();
        oracle = liquidation_.oracle();
        fund = liquidation_.fund();
    }

    struct Step {
        address token;
        bool inverse;
        int256 size;
        uint256 indexX18;
        int256 equityX18;
        uint256 priceX18;
        uint256 score;
        int256 victimEquityX18;
        int256 deltaX18;
        uint256 dustX18;
        uint256 imrX18;
        uint256 imrSlopeX18;
    }

    /// @notice One auto-deleveraging step (anyone, after the grace period, only when the fund cannot
    /// absorb a forced close of the whole leg): closes the bankrupt leg against the top-ranked opposite
    /// leg at the bankruptcy price.
    /// @param account The bankrupt account.
    /// @param marketId The market (linear or inverse).
    /// @param leg The bankrupt leg (0 one-way, 1 hedge long, 2 hedge short).
    /// @param candidates Every opposite-side leg of the market, sorted strictly by (account, leg).
    /// @param victimIndex Position of the victim in `candidates`.
    /// @return deltaX18 The signed size change of the bankrupt leg.
    function adl(
        address account,
        uint256 marketId,
        uint8 leg,
        AdlRanking.Candidate[] calldata candidates,
        uint256 victimIndex
    ) external nonReentrant returns (int256 deltaX18) {
        Step memory s;
        bytes32 asset;
        (asset, s.token, s.inverse, s.imrX18, s.imrSlopeX18) = registry.marginInfo(marketId);
        _checkGraceOver(account, s.token);
        s.size = engine.positionOf(account, marketId, leg).size;
        if (s.size == 0) revert AdlModuleNoPosition(account, marketId, leg);
        (s.indexX18,) = oracle.getPrice(asset);
        s.equityX18 = engine.equity(account, s.token);
        _checkAdlNeeded(s, marketId);
        (s.score, s.victimEquityX18) = AdlRanking.verify(
            engine, AdlRanking.Context(marketId, s.token, s.inverse, s.size > 0, s.indexX18, 0), candidates, victimIndex
        );
        s.priceX18 = s.inverse
            ? LiquidationMath.inverseBankruptcyPrice(s.size, s.indexX18, s.equityX18)
            : LiquidationMath.bankruptcyPrice(s.size, s.indexX18, s.equityX18);
        if (s.priceX18 == 0) revert AdlModuleNoBankruptcyPrice(account, marketId, s.equityX18);
        AdlRanking.Candidate calldata v = candidates[victimIndex];
        _trade(s, account, marketId, leg, v);
        bool flat = _settleDust(s, account, v.account);
        deltaX18 = s.deltaX18;
        emit AdlStep(account, v.account, marketId, deltaX18, s.priceX18, s.indexX18, s.score, s.dustX18);
        _afterStep(account, s.token, flat);
    }

    /// @notice The ADL rank key of a leg ({AdlRanking}): `2**128 + profit x leverage` for a leg in profit,
    /// else its account's equity; keepers name the leg with the highest key.
    /// @param account The account.
    /// @param marketId The market.
    /// @param leg The leg.
    /// @return score The rank key (0 for a flat leg or an account with at most MIN_VICTIM_EQUITY).
    function adlScore(address account, uint256 marketId, uint8 leg) external view returns (uint256 score) {
        (bytes32 asset, address token, bool inverse,,) = registry.marginInfo(marketId);
        (uint256 index,) = oracle.getPrice(asset);
        (,, int256 fundingIndex,,) = engine.marketStates(marketId);
        (score,,) = AdlRanking.score(engine, AdlRanking.Context(marketId, token, inverse, false, index, fundingIndex), account, leg);
    }

    // ------------------------------------------------------------------ internals

    function _checkGraceOver(address account, address token) private view {
        uint256 at = liquidation.flaggedAt(account, token);
        if (at == 0) revert AdlModuleNotFlagged(account, token);
        uint256 endsAt = at + liquidation.GRACE_PERIOD();
        if (block.timestamp < endsAt) revert AdlModuleGraceActive(account, token, endsAt);
        if (!engine.isLiquidatable(account, token)) revert AdlModuleAccountHealthy(account, token);
    }

    /// @dev ADL only when the fund could not absorb a forced close of the whole leg: it would need the
    /// deficit the close leaves plus the initial margin of the leg it takes over, and it has what it can
    /// pay now plus the gamma discount it buys at. (Conservative when the fund already holds an
    /// offsetting position in the market: its margin would net, so ADL may be allowed slightly early.)
    function _checkAdlNeeded(Step memory s, uint256 marketId) private view {
        uint256 absSize = SignedMath.abs(s.size);
        uint256 closeAt = LiquidationMath.closePrice(s.size > 0, s.indexX18, liquidation.gamma(marketId));
        // gamma discount the fund buys at: the leg's value at the index minus its value at closeAt
        int256 atIndex = PerpMath.markValueFloor(s.inverse, s.size, s.indexX18);
        int256 atClose = PerpMath.markValueFloor(s.inverse, s.size, closeAt);
        uint256 penalty = SignedMath.abs(atIndex - atClose);
        uint256 notional = PerpMath.notionalUp(s.inverse, absSize, s.indexX18);
        uint256 need = PerpMath.mulRateUp(notional, PerpMath.sizedRate(s.imrX18, s.imrSlopeX18, notional));
        int256 after_ = s.equityX18 - penalty.toInt256();
        if (after_ < 0) need += uint256(-after_);
        uint256 have = fund.available(s.token) + penalty;
        if (have >= need) revert AdlModuleNotNeeded(s.token, after_, have);
    }

    function _trade(Step memory s, address account, uint256 marketId, uint8 leg, AdlRanking.Candidate calldata v)
        private
    {
        uint256 victimSize = SignedMath.abs(engine.positionOf(v.account, marketId, v.leg).size);
        uint256 want = Math.min(SignedMath.abs(s.size), victimSize);
        uint256 cap = liquidation.maxCloseSize(marketId);
        uint256 closed = cap != 0 && want > cap ? cap : want;
        closed = _absorbable(s, v.account, closed);
        s.deltaX18 = s.size > 0 ? -closed.toInt256() : closed.toInt256();
        // the victim's side is reduce-only (flag bit 1); bit 2 selects a hedge-mode short leg
        engine.liquidationTrade(account, v.account, marketId, s.deltaX18, s.priceX18, _legFlags(leg), _legFlags(v.leg) | 2);
    }

    /// @dev Cuts `closed` so the victim's loss against the index at the bankruptcy price leaves it at least
    /// {VICTIM_RESERVE} of equity (its equity as the ranking read it: nothing has moved since). Both values
    /// are linear in the size at a fixed price, so the cut is proportional (rounded down, in the victim's
    /// favour).
    function _absorbable(Step memory s, address victim, uint256 closed) private pure returns (uint256) {
        int256 victimDelta = s.size > 0 ? closed.toInt256() : -closed.toInt256();
        int256 loss = PerpMath.valueUp(s.inverse, victimDelta, s.priceX18)
            - PerpMath.markValueFloor(s.inverse, victimDelta, s.indexX18);
        if (loss <= 0) return closed;
        int256 eq = s.victimEquityX18;
        int256 usable = eq - int256(VICTIM_RESERVE);
        if (loss <= usable) return closed;
        uint256 cut = usable > 0 ? Math.mulDiv(closed, uint256(usable), uint256(loss)) : 0;
        if (cut == 0) revert AdlModuleVictimCannotAbsorb(victim, eq, uint256(loss));
        return cut;
    }

    /// @dev When the account is flat in `token` after the step, its equity must not stay negative: the
    /// engine's per-trade rounding (each side's cash rounds down) can leave a few wei, paid by the victim.
    function _settleDust(Step memory s, address account, address victim) private returns (bool flat) {
        if (engine.openMarketsOf(account, s.token).length != 0) return false;
        flat = true;
        int256 eq = engine.equity(account, s.token);
        if (eq >= 0) return flat;
        s.dustX18 = uint256(-eq);
        if (s.dustX18 > MAX_DUST) revert AdlModuleResidualDeficit(account, s.token, s.dustX18);
        engine.liquidationTransfer(victim, account, s.token, s.dustX18);
    }

    /// @dev Flat with equity >= 0 (dust settled) cannot be liquidatable: lift the engine's gate if it
    /// was set and clear the flag. Otherwise re-evaluate the gate; a still-negative account stays flagged.
    function _afterStep(address account, address token, bool flat) private {
        if (flat) {
            if (engine.negativeEquityFlag(account, token)) engine.pokeNegativeEquity(account, token);
            liquidation.clearFlag(account, token);
            return;
        }
        if (engine.pokeNegativeEquity(account, token)) return; // still negative: still liquidatable
        if (!engine.isLiquidatable(account, token)) liquidation.clearFlag(account, token);
    }

    function _legFlags(uint8 leg) private pure returns (uint8) {
        return leg == 2 ? 4 : 0; // PerpEngine.FLAG_SHORT_LEG
    }
}
