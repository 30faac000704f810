// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";
import {Vault} from "../core/Vault.sol";
import {IFeeSchedule} from "../interfaces/IFeeSchedule.sol";
import {IMarketRegistry} from "../interfaces/IMarketRegistry.sol";
import {FillLog} from "../libraries/FillLog.sol";
import {PerpMargin} from "./PerpMargin.sol";

/// @title PerpLegs
/// @notice Position-leg changes of the perpetual engine: which leg a side trades (one-way or hedge
/// mode), direction, reduce-only and position-limit checks, funding settlement before the change, cost
/// basis and realised PnL, and the event (or fill-log entry) of the new leg state.
/// @dev Abstract base of {PerpEngine}; fills and liquidation trades both go through {_applyLeg}.
abstract contract PerpLegs is PerpMargin {
    /// @notice Fill flag: API order.
    uint8 public constant FLAG_API = 1;
    /// @notice Fill flag: reduce-only order.
    uint8 public constant FLAG_REDUCE_ONLY = 2;
    /// @notice Fill flag: hedge-mode short leg.
    uint8 public constant FLAG_SHORT_LEG = 4;
    /// @notice Fill flag: hedge-mode long leg (declared explicitly by settled orders).
    uint8 public constant FLAG_LONG_LEG = 8;

    /// @notice A reduce-only order would increase or flip a position.
    error PerpEngineReduceOnly(uint256 fillIndex, address account);
    /// @notice A hedge-mode fill would take a leg through zero.
    error PerpEngineHedgeLegOverclosed(uint256 fillIndex, address account);
    /// @notice A leg would exceed the market's per-account position limit.
    error PerpEnginePositionLimit(uint256 fillIndex, address account, uint256 sizeX18, uint256 maxX18);
    /// @notice A settled order's declared leg does not match the account's hedge mode in the market
    /// (`declaredLeg` 0 one-way, 1 long, 2 short; 3 = both leg flags set).
    error PerpEngineHedgeLegMismatch(uint256 fillIndex, address account, uint8 declaredLeg, bool hedgeMode);

    /// @notice A position leg changed outside fills (liquidation trades; leg 0 one-way, 1 hedge long,
    /// 2 hedge short). Fills report their legs in {FillsApplied}.
    event PositionUpdated(
        address indexed account, uint256 indexed marketId, uint8 leg, int256 sizeX18, int256 openValueX18, int256 realisedPnlX18
    );

    /// @param vault_ The Vault.
    /// @param registry_ The market registry.
    /// @param feeSchedule_ The fee schedule.
    constructor(Vault vault_, IMarketRegistry registry_, IFeeSchedule feeSchedule_)
        PerpMargin(vault_, registry_, feeSchedule_)
    {}

    /// @dev Applies `delta` to the account's leg; returns whether the leg's risk increased. `ms` is the
    /// market's state in memory: the caller writes it back to storage.
    function _applyLeg(Trade memory t, MarketState memory ms, address account, int256 delta, int256 flow, uint8 flags)
        internal
        returns (bool increased)
    {
        (uint8 leg, PackedPosition storage p, int256 oldSize, int256 openValue) = _openLeg(t, ms, account, flags);
        int256 newSize = oldSize + delta;
        increased = _checkLeg(t, account, leg, oldSize, newSize, flags);
        int256 realised;
        (openValue, realised) = _rebase(t, openValue, oldSize, delta, flow);
        _resize(ms, p, t.fundingEpoch, oldSize, newSize, openValue);
        _bookRealised(account, t.token, realised);
        _trackOpen(account, t.token, t.marketId, oldSize, newSize);
        if (t.logPtr != 0) t.logPtr = FillLog.putLeg(t.logPtr, leg, newSize, openValue, realised);
        else emit PositionUpdated(account, t.marketId, leg, newSize, openValue, realised);
    }

    /// @dev The leg a side trades, its size and basis, after settling its pending funding. One SLOAD gives
    /// the hedge mode and, in one-way mode, the traded leg's size, basis and funding epoch; the funding
    /// snapshot's slot is read only when the market's funding epoch moved since the leg's.
    function _openLeg(Trade memory t, MarketState memory ms, address account, uint8 flags)
        private
        returns (uint8 leg, PackedPosition storage p, int256 size, int256 openValue)
    {
        uint256 epoch;
        {
            mapping(uint8 => PackedPosition) storage legs = _positions[account][t.marketId];
            bool hedge;
            (size, openValue, epoch, hedge) = _loadLeg(legs[LEG_NET]);
            leg = _legOf(t, account, flags, hedge);
            p = legs[leg];
        }
        if (leg != LEG_NET) (size, openValue, epoch,) = _loadLeg(p);
        if (epoch != t.fundingEpoch) _settleFunding(account, t, leg, p, size, p.fundingSnapshotX18, ms);
    }

    /// @dev Leg direction, reduce-only and position limit; returns whether the leg's risk increases.
    function _checkLeg(Trade memory t, address account, uint8 leg, int256 oldSize, int256 newSize, uint8 flags)
        private
        pure
        returns (bool increased)
    {
        if ((leg == LEG_LONG && newSize < 0) || (leg == LEG_SHORT && newSize > 0)) {
            revert PerpEngineHedgeLegOverclosed(t.fillIndex, account);
        }
        uint256 absNew = SignedMath.abs(newSize);
        increased = absNew > SignedMath.abs(oldSize) || (oldSize > 0 && newSize < 0) || (oldSize < 0 && newSize > 0);
        if (increased) {
            if ((flags & FLAG_REDUCE_ONLY) != 0) revert PerpEngineReduceOnly(t.fillIndex, account);
            if (t.maxPositionX18 != 0 && absNew > t.maxPositionX18) {
                revert PerpEnginePositionLimit(t.fillIndex, account, absNew, t.maxPositionX18);
            }
        }
    }

    /// @dev The leg a side trades. Settled orders (`strictLegs`) declare it: a hedge-mode account must
    /// name exactly one leg (FLAG_LONG_LEG or FLAG_SHORT_LEG), a one-way account neither. Other callers
    /// pass FLAG_SHORT_LEG for the short leg of a hedge-mode account, anything else means its long leg.
    function _legOf(Trade memory t, address account, uint8 flags, bool hedge) private pure returns (uint8 leg) {
        if (t.strictLegs) {
            uint8 declared = ((flags & FLAG_LONG_LEG) != 0 ? 1 : 0) | ((flags & FLAG_SHORT_LEG) != 0 ? 2 : 0);
            if (hedge ? (declared == 0 || declared == 3) : declared != 0) {
                revert PerpEngineHedgeLegMismatch(t.fillIndex, account, declared, hedge);
            }
        }
        if (!hedge) return LEG_NET;
        return (flags & FLAG_SHORT_LEG) != 0 ? LEG_SHORT : LEG_LONG;
    }
}
