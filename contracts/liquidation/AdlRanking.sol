// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";
import {PerpMath} from "../libraries/PerpMath.sol";
import {PerpEngine} from "../perp/PerpEngine.sol";
import {PerpLedger} from "../perp/PerpLedger.sol";
import {LiquidationMath} from "./LiquidationMath.sol";

/// @title AdlRanking
/// @notice On-chain check of a keeper-submitted ADL ranking: the keeper cannot pick a lower-ranked
/// victim, leave an opposite leg out, or name a flat or same-side leg.
/// @dev A leg's rank key orders candidates in two tiers (highest key first):
/// - Profit tier (SPEC 7, P11): unrealised PnL at the index (after pending funding) above 0. Key =
///   `PROFIT_TIER + min(profit * notional / equity, PROFIT_TIER - 1)` (LiquidationMath.adlScore: profit
///   times the account's leverage). Linear: notional `|size| * index`; inverse: `|size| / index` and PnL
///   from the inverse value `-size / index`, all in collateral units.
/// - Fallback tier, which only decides when no opposite leg is in profit (else a bankrupt leg could never
///   be closed and its bad debt would stay, P11): key = the account's equity, capped below `PROFIT_TIER`.
///   The account best able to absorb the loss of trading at the bankruptcy price goes first.
/// A leg whose account's equity is at most `MIN_VICTIM_EQUITY` has key 0 and is never the victim: an ADL
/// step must leave its victim solvent (the engine's check on it is equity >= 0), and {AdlModule} caps a
/// step at what the victim's equity can absorb, leaving less than this floor. When every opposite leg has
/// key 0 the whole opposite side is insolvent and ADL refuses (documented limitation).
library AdlRanking {
    /// @notice Keys at or above this value belong to legs in profit; keys below it to the fallback tier.
    uint256 internal constant PROFIT_TIER = 1 << 128;
    /// @notice Accounts with at most this equity (collateral units, 18 decimals) are never ADL victims.
    uint256 internal constant MIN_VICTIM_EQUITY = 4e6;

    /// @notice One opposite-side leg in an ADL ranking submission.
    struct Candidate {
        address account;
        uint8 leg;
    }

    /// @notice What the ranking is checked against.
    struct Context {
        uint256 marketId;
        address token;
        bool inverse;
        bool bankruptLong;
        uint256 indexX18;
        int256 fundingIndexX18;
    }

    /// @notice The submission is invalid at `index` (unsorted, flat or same-side leg, incomplete when
    /// `index` equals the list length, or a victim with key 0: equity at most MIN_VICTIM_EQUITY).
    error AdlRankingBadRanking(uint256 index);
    /// @notice A candidate outranks the submitted victim.
    error AdlRankingNotTopRanked(address victim, uint256 victimScore, address better, uint256 betterScore);

    struct Tally {
        uint256 total;
        uint256 best;
        uint256 bestAt;
        uint256 victimScore;
        int256 victimEquity;
    }

    /// @notice Verifies the submission and returns the victim's rank key and equity.
    /// @param engine The perpetual engine.
    /// @param ctx The market, side and index price (the funding index is read here).
    /// @param c Every opposite-side leg, sorted strictly by (account, leg).
    /// @param victimIndex Position of the victim in `c`.
    /// @return victimScore The victim's rank key (the highest).
    /// @return victimEquityX18 The victim account's equity, as its key was computed from.
    function verify(PerpEngine engine, Context memory ctx, Candidate[] calldata c, uint256 victimIndex)
        internal
        view
        returns (uint256 victimScore, int256 victimEquityX18)
    {
        if (victimIndex >= c.length) revert AdlRankingBadRanking(victimIndex);
        Tally memory t;
        uint256 longOi;
        uint256 shortOi;
        (longOi, shortOi, ctx.fundingIndexX18,,) = engine.marketStates(ctx.marketId);
        for (uint256 i; i < c.length; ++i) {
            if (i > 0 && _key(c[i]) <= _key(c[i - 1])) revert AdlRankingBadRanking(i);
            (uint256 s, int256 size, int256 equity) = score(engine, ctx, c[i].account, c[i].leg);
            // opposite side only: a long bankrupt leg is matched with shorts and vice versa
            if (size == 0 || (size > 0) == ctx.bankruptLong) revert AdlRankingBadRanking(i);
            t.total += SignedMath.abs(size);
            if (s > t.best) (t.best, t.bestAt) = (s, i);
            if (i == victimIndex) (t.victimScore, t.victimEquity) = (s, equity);
        }
        // completeness: the listed legs hold the whole opposite open interest
        if (t.total != (ctx.bankruptLong ? shortOi : longOi)) revert AdlRankingBadRanking(c.length);
        (victimScore, victimEquityX18) = (t.victimScore, t.victimEquity);
        if (victimScore == 0) revert AdlRankingBadRanking(victimIndex);
        if (victimScore < t.best) {
            revert AdlRankingNotTopRanked(c[victimIndex].account, victimScore, c[t.bestAt].account, t.best);
        }
    }

    /// @notice The rank key of one leg and its size (see the contract notes for the two tiers).
    /// @param engine The perpetual engine.
    /// @param ctx The market, its token and kind, the index price and the cumulative funding index.
    /// @param account The account.
    /// @param leg The leg.
    /// @return s The rank key (0: never a victim).
    /// @return size The leg's signed size.
    /// @return equity The account's equity (not read, 0, for a flat leg).
    function score(PerpEngine engine, Context memory ctx, address account, uint8 leg)
        internal
        view
        returns (uint256 s, int256 size, int256 equity)
    {
        PerpLedger.Position memory p = engine.positionOf(account, ctx.marketId, leg);
        size = p.size;
        if (size == 0) return (0, 0, 0);
        equity = engine.equity(account, ctx.token);
        if (equity <= int256(MIN_VICTIM_EQUITY)) return (0, size, equity); // cannot absorb a step
        int256 pnl = PerpMath.markValueFloor(ctx.inverse, size, ctx.indexX18) - p.openValueX18
            - PerpMath.fundingOwedUp(size, ctx.fundingIndexX18 - p.fundingSnapshotX18);
        if (pnl <= 0) return (Math.min(uint256(equity), PROFIT_TIER - 1), size, equity); // fallback tier
        uint256 absSize = SignedMath.abs(size);
        uint256 notional =
            ctx.inverse ? Math.mulDiv(absSize, 1e18, ctx.indexX18) : Math.mulDiv(absSize, ctx.indexX18, 1e18);
        s = PROFIT_TIER + Math.min(LiquidationMath.adlScore(pnl, notional, equity), PROFIT_TIER - 1);
    }

    function _key(Candidate calldata cand) private pure returns (uint256) {
        return (uint256(uint160(cand.account)) << 8) | cand.leg;
    }
}
