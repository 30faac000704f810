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
/// @dev Score of a leg = `profit * notional / equity` (LiquidationMath.adlScore): its unrealised PnL at
/// the index (after pending funding) times its account's leverage. Linear: notional `|size| * index`;
/// inverse: `|size| / index` and PnL from the inverse value `-size / index`, all in collateral units.
library AdlRanking {
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
    /// `index` equals the list length, or a victim without profit).
    error AdlRankingBadRanking(uint256 index);
    /// @notice A candidate outranks the submitted victim.
    error AdlRankingNotTopRanked(address victim, uint256 victimScore, address better, uint256 betterScore);

    struct Tally {
        uint256 total;
        uint256 best;
        uint256 bestAt;
        uint256 victimScore;
    }

    /// @notice Verifies the submission and returns the victim's score.
    /// @param engine The perpetual engine.
    /// @param ctx The market, side and index price (the funding index is read here).
    /// @param c Every opposite-side leg, sorted strictly by (account, leg).
    /// @param victimIndex Position of the victim in `c`.
    /// @return victimScore The victim's score (the highest).
    function verify(PerpEngine engine, Context memory ctx, Candidate[] calldata c, uint256 victimIndex)
        internal
        view
        returns (uint256 victimScore)
    {
        if (victimIndex >= c.length) revert AdlRankingBadRanking(victimIndex);
        Tally memory t;
        uint256 longOi;
        uint256 shortOi;
        (longOi, shortOi, ctx.fundingIndexX18,,) = engine.marketStates(ctx.marketId);
        for (uint256 i; i < c.length; ++i) {
            if (i > 0 && _key(c[i]) <= _key(c[i - 1])) revert AdlRankingBadRanking(i);
            (uint256 s, int256 size) = score(engine, ctx, c[i].account, c[i].leg);
            // opposite side only: a long bankrupt leg is matched with shorts and vice versa
            if (size == 0 || (size > 0) == ctx.bankruptLong) revert AdlRankingBadRanking(i);
            t.total += SignedMath.abs(size);
            if (s > t.best) (t.best, t.bestAt) = (s, i);
            if (i == victimIndex) t.victimScore = s;
        }
        // completeness: the listed legs hold the whole opposite open interest
        if (t.total != (ctx.bankruptLong ? shortOi : longOi)) revert AdlRankingBadRanking(c.length);
        victimScore = t.victimScore;
        if (victimScore == 0) revert AdlRankingBadRanking(victimIndex);
        if (victimScore < t.best) {
            revert AdlRankingNotTopRanked(c[victimIndex].account, victimScore, c[t.bestAt].account, t.best);
        }
    }

    /// @notice The score of one leg and its size.
    /// @param engine The perpetual engine.
    /// @param ctx The market, its token and kind, the index price and the cumulative funding index.
    /// @param account The account.
    /// @param leg The leg.
    /// @return s The score (0 without profit or equity).
    /// @return size The leg's signed size.
    function score(PerpEngine engine, Context memory ctx, address account, uint8 leg)
        internal
        view
        returns (uint256 s, int256 size)
    {
        PerpLedger.Position memory p = engine.positionOf(account, ctx.marketId, leg);
        size = p.size;
        if (size == 0) return (0, 0);
        int256 pnl = PerpMath.markValueFloor(ctx.inverse, size, ctx.indexX18) - p.openValueX18
            - PerpMath.fundingOwedUp(size, ctx.fundingIndexX18 - p.fundingSnapshotX18);
        if (pnl <= 0) return (0, size); // no profit: skip the (costly) equity evaluation
        uint256 absSize = SignedMath.abs(size);
        uint256 notional =
            ctx.inverse ? Math.mulDiv(absSize, 1e18, ctx.indexX18) : Math.mulDiv(absSize, ctx.indexX18, 1e18);
        s = LiquidationMath.adlScore(pnl, notional, engine.equity(account, ctx.token));
    }

    function _key(Candidate calldata cand) private pure returns (uint256) {
        return (uint256(uint160(cand.account)) << 8) | cand.leg;
    }
}
