// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";
import {PerpMath} from "../libraries/PerpMath.sol";

/// @title PerpLedger
/// @notice Storage and bookkeeping of the perpetual engine: positions, the signed unsettled ledger,
/// fee pools, per-market open interest and funding accumulators, and the negative-equity gate.
/// @dev Abstract: only {PerpEngine} mutates it. Every ledger movement here is zero-sum between
/// entries (accounts, fee pool, funding pool), which is what makes the engine's conservation
/// identity exact.
abstract contract PerpLedger {
    using SafeCast for uint256;
    using SafeCast for int256;

    /// @notice Bound on markets with an open position per (account, settlement token): 8 uint16 lanes share
    /// one slot with the account's unsettled ledger balance ({AccountEntry}).
    uint256 public constant MAX_OPEN_MARKETS = 8;
    /// @notice Leg of a one-way position.
    uint8 public constant LEG_NET = 0;
    /// @notice Long leg of a hedge-mode position.
    uint8 public constant LEG_LONG = 1;
    /// @notice Short leg of a hedge-mode position.
    uint8 public constant LEG_SHORT = 2;

    /// @notice One position leg. `openValueX18` is the cost basis: the signed value of the size at
    /// entry (PerpMath.valueUp), so unrealised PnL = value at index - openValue.
    struct Position {
        int256 size;
        int256 openValueX18;
        int256 fundingSnapshotX18;
    }

    /// @dev Storage form of {Position}. First slot (what a fill reads and writes): size as int112 and basis
    /// as int104 (writes are SafeCast: a leg beyond +-2.6e15 units of size or +-1.0e13 of collateral value
    /// reverts, never truncates; list very low-priced assets in multiples, like 1000PEPE), the market's
    /// funding epoch when the leg last settled funding, and, on the net leg, the account's hedge mode in
    /// the market. Second slot: the funding snapshot, read only when the market's
    /// funding epoch moved since the leg's (equal epochs imply snapshot == index, see {fundingEpochOf}).
    struct PackedPosition {
        int112 size;
        int104 openValueX18;
        uint32 fundingEpoch;
        bool hedgeMode;
        int256 fundingSnapshotX18;
    }

    /// @notice Per-market aggregates. `fundingWeightX36 = sum(size * fundingSnapshot)` over all legs,
    /// so what open positions can still claim from the funding pool is `fundingWeight / 1e18`.
    struct MarketState {
        uint256 longOpenInterestX18;
        uint256 shortOpenInterestX18;
        int256 fundingIndexX18;
        int256 fundingWeightX36;
        int256 fundingPoolX18;
    }

    struct Trade {
        uint256 fillIndex;
        uint256 marketId;
        address token;
        bool inverse;
        uint256 priceX18;
        uint256 maxPositionX18;
        bool strictLegs;
        uint256 fundingEpoch; // the market's {fundingEpochOf}
        uint256 logPtr; // next leg entry of the fill's FillsApplied record; 0: emit PositionUpdated instead
    }

    struct LegContext {
        uint256 marketId;
        bool hasMaintenance;
        bool inverse;
        uint256 priceX18;
        int256 fundingIndexX18;
        uint256 fundingEpoch;
        uint256 imrX18;
        uint256 imrSlopeX18;
        uint256 mmrX18;
    }

    struct Touch {
        address account;
        address token;
        bool riskIncreased;
    }

    /// @dev What a margin check reads of each market, loaded once per call (fills of one batch share it).
    struct MarginCache {
        LegContext[] ctx;
        uint256 count;
    }

    struct AccountState {
        int256 equity;
        int256 pnl;
        uint256 initialReq;
        uint256 maintenanceReq;
    }

    /// @dev Per (account, token), one slot: the signed unsettled ledger balance (realised PnL, fees and
    /// funding booked but not yet moved into the Vault) and the markets with an open leg, up to
    /// {MAX_OPEN_MARKETS} uint16 market ids in lanes 0.., contiguous, 0 = empty lane (market ids start at
    /// 1). A trade reads the balance and the lanes with one cold slot. The balance is SafeCast to int128
    /// on every write: a booking that would take it beyond +-1.7e38 (1.7e20 tokens at 18 decimals)
    /// reverts (`SafeCastOverflowedIntDowncast`), it never truncates.
    struct AccountEntry {
        int128 unsettledX18;
        uint128 lanes;
    }

    mapping(address account => mapping(uint256 marketId => mapping(uint8 leg => PackedPosition))) internal _positions;
    mapping(address account => mapping(address token => AccountEntry)) internal _entries;
    /// @notice Net fees collected and not yet distributed, per token.
    mapping(address token => uint256) public feePoolX18;
    /// @notice Per-market open interest and funding state.
    mapping(uint256 marketId => MarketState) public marketStates;
    /// @notice Number of funding accruals of a market. A leg whose stored epoch equals it has its funding
    /// snapshot equal to the market's funding index (every snapshot write sets it to the index; every
    /// index change increments the epoch), so fills and margin checks skip the snapshot's slot. Legs store
    /// it as uint32: a trade in a market after 2^32 accruals (1,000 years at one per second) reverts
    /// (SafeCast), it never wraps.
    mapping(uint256 marketId => uint256) public fundingEpochOf;
    /// @notice Accounts known to have negative equity (withdrawal gate).
    mapping(address account => mapping(address token => bool)) public negativeEquityFlag;
    /// @notice Number of flagged accounts per token; withdrawals of the token are refused while > 0.
    mapping(address token => uint256) public negativeEquityCount;

    /// @notice The account already has open positions in the maximum number of markets.
    error PerpEngineTooManyPositions(address account, address token, uint256 max);
    /// @notice A leg settled its funding: `amountX18` > 0 paid into the market's pool, < 0 received.
    event FundingSettled(address indexed account, uint256 indexed marketId, uint8 leg, int256 amountX18);
    /// @notice Unsettled ledger balance moved into (> 0) or out of (< 0) the account's Vault balance.
    event Settled(address indexed account, address indexed token, int256 amountX18);
    /// @notice Collected fees were split.
    event FeesDistributed(address indexed token, uint256 treasuryX18, uint256 insuranceX18);
    /// @notice A market's funding rounding surplus moved to the insurance fund.
    event FundingSurplusSwept(uint256 indexed marketId, uint256 amountX18);
    /// @notice An account's negative-equity flag changed.
    event NegativeEquityFlagSet(address indexed account, address indexed token, bool flagged, int256 equityX18);

    /// @notice A leg's position with its basis and funding snapshot.
    /// @param account The account.
    /// @param marketId The market.
    /// @param leg 0 one-way, 1 hedge long, 2 hedge short.
    /// @return position The leg.
    function positionOf(address account, uint256 marketId, uint8 leg) external view returns (Position memory) {
        PackedPosition storage p = _positions[account][marketId][leg];
        return Position(p.size, p.openValueX18, p.fundingSnapshotX18);
    }

    /// @notice Realised PnL, fees and funding booked but not yet moved into the Vault (signed).
    /// @param account The account.
    /// @param token The settlement token.
    /// @return The signed balance, 18 decimals.
    function unsettledX18(address account, address token) public view returns (int256) {
        return _entries[account][token].unsettledX18;
    }

    /// @notice Whether an account trades a market in hedge mode.
    /// @param account The account.
    /// @param marketId The market.
    /// @return enabled True in hedge mode (long and short legs), false in one-way mode.
    function hedgeMode(address account, uint256 marketId) public view returns (bool enabled) {
        return _positions[account][marketId][LEG_NET].hedgeMode;
    }

    /// @dev Settles the leg's pending funding in market `t.marketId` (`size` and `snapshot` are its stored values) against the
    /// market's funding state `ms`, a memory copy the caller writes back (fills: once per run of one market).
    function _settleFunding(
        address account,
        Trade memory t,
        uint8 leg,
        PackedPosition storage p,
        int256 size,
        int256 snapshot,
        MarketState memory ms
    ) internal {
        int256 index = ms.fundingIndexX18;
        if (index == snapshot) return;
        if (size != 0) {
            int256 owed = PerpMath.fundingOwedUp(size, index - snapshot);
            if (owed != 0) {
                _credit(account, t.token, -owed);
                ms.fundingPoolX18 += owed;
                emit FundingSettled(account, t.marketId, leg, owed);
            }
            ms.fundingWeightX36 += size * (index - snapshot);
        }
        p.fundingSnapshotX18 = index;
    }

    /// @dev Stores the new size and basis (one slot, with the market's funding epoch: funding was settled,
    /// snapshot == index) and updates the market aggregates in `ms` (a memory copy the caller writes back).
    /// The hedge-mode bit is written as false: a leg traded by a hedge-mode account is never its net leg.
    function _resize(
        MarketState memory ms,
        PackedPosition storage p,
        uint256 epoch,
        int256 oldSize,
        int256 newSize,
        int256 openValue
    ) internal {
        _storeLeg(p, newSize, openValue, epoch);
        ms.fundingWeightX36 += (newSize - oldSize) * ms.fundingIndexX18;
        if (oldSize > 0) ms.longOpenInterestX18 -= uint256(oldSize);
        else if (oldSize < 0) ms.shortOpenInterestX18 -= uint256(-oldSize);
        if (newSize > 0) ms.longOpenInterestX18 += uint256(newSize);
        else if (newSize < 0) ms.shortOpenInterestX18 += uint256(-newSize);
    }

    /// @dev A leg's first slot with one SLOAD. Layout ({PackedPosition}, Solidity's packing order from the
    /// low bits): size bits 0-111, basis 112-215, funding epoch 216-247, hedge mode 248-255.
    function _loadLeg(PackedPosition storage p)
        internal
        view
        returns (int256 size, int256 openValue, uint256 epoch, bool hedge)
    {
        assembly ("memory-safe") {
            let w := sload(p.slot)
            size := signextend(13, w)
            openValue := signextend(12, shr(112, w))
            epoch := and(shr(216, w), 0xffffffff)
            hedge := iszero(iszero(shr(248, w)))
        }
    }

    /// @dev Writes a leg's first slot with one SSTORE, hedge mode false (SafeCast: reverts, never truncates).
    function _storeLeg(PackedPosition storage p, int256 size, int256 openValue, uint256 epoch) internal {
        uint256 w = uint256(uint112(size.toInt112())) | (uint256(uint104(openValue.toInt104())) << 112)
            | (uint256(epoch.toUint32()) << 216);
        assembly ("memory-safe") {
            sstore(p.slot, w)
        }
    }

    /// @dev Adds `amountX18` to the account's unsettled balance (int128: reverts beyond, never truncates).
    function _credit(address account, address token, int256 amountX18) internal {
        AccountEntry storage e = _entries[account][token];
        e.unsettledX18 = (e.unsettledX18 + amountX18).toInt128();
    }

    function _bookRealised(address account, address token, int256 realised) internal {
        if (realised != 0) _credit(account, token, realised);
    }

    /// @dev Books a fill's taker fee and maker rebate; returns the net fee, which the caller adds to the
    /// token's fee pool (with {_bookResidual}).
    function _bookFees(address maker, address taker, address token, uint256 takerFee, uint256 makerRebate)
        internal
        returns (uint256 netFee)
    {
        if (takerFee != 0) _credit(taker, token, -takerFee.toInt256());
        if (makerRebate != 0) _credit(maker, token, makerRebate.toInt256());
        // FeeSchedule guarantees makerRebate <= takerFee on every fill (checked: reverts otherwise)
        return takerFee - makerRebate;
    }

    function _bookResidual(address token, uint256 residual) internal {
        if (residual != 0) feePoolX18[token] += residual;
    }

    function _bookSettled(address account, address token, int256 movedX18) internal {
        _credit(account, token, -movedX18);
        emit Settled(account, token, movedX18);
    }

    function _distributeFees(address token, address treasury, address insurance, uint256 insuranceShareX18) internal {
        uint256 pool = feePoolX18[token];
        if (pool == 0) return;
        uint256 toInsurance = PerpMath.mulRateUp(pool, insuranceShareX18);
        uint256 toTreasury = pool - toInsurance;
        feePoolX18[token] = 0;
        _credit(insurance, token, toInsurance.toInt256());
        _credit(treasury, token, toTreasury.toInt256());
        emit FeesDistributed(token, toTreasury, toInsurance);
    }

    function _sweepFundingSurplus(uint256 marketId, address token, address insurance)
        internal
        returns (uint256 surplus)
    {
        MarketState storage ms = marketStates[marketId];
        int256 weight = ms.fundingWeightX36;
        // what open positions may still claim, rounded up: ceil(weight / 1e18)
        int256 claim = weight / 1e18;
        if (weight > 0 && weight % 1e18 != 0) claim += 1;
        int256 free = ms.fundingPoolX18 - claim;
        if (free <= 0) return 0;
        surplus = uint256(free);
        ms.fundingPoolX18 -= free;
        _credit(insurance, token, free);
        emit FundingSurplusSwept(marketId, surplus);
    }

    function _setNegativeFlag(address account, address token, bool negative, int256 equityX18) internal {
        if (negativeEquityFlag[account][token] == negative) return;
        negativeEquityFlag[account][token] = negative;
        if (negative) ++negativeEquityCount[token];
        else --negativeEquityCount[token];
        emit NegativeEquityFlagSet(account, token, negative, equityX18);
    }

    /// @dev Adds one leg (size, basis and funding snapshot as stored) to the account's valuation.
    function _addLeg(AccountState memory s, int256 size, int256 openValue, int256 snapshot, LegContext memory c)
        internal
        pure
    {
        if (size == 0) return;
        s.pnl += PerpMath.markValueFloor(c.inverse, size, c.priceX18) - openValue
            - PerpMath.fundingOwedUp(size, c.fundingIndexX18 - snapshot);
        uint256 notional = PerpMath.notionalUp(c.inverse, SignedMath.abs(size), c.priceX18);
        s.initialReq += PerpMath.mulRateUp(notional, PerpMath.sizedRate(c.imrX18, c.imrSlopeX18, notional));
        if (c.mmrX18 != 0) s.maintenanceReq += PerpMath.mulRateUp(notional, c.mmrX18);
    }

    /// @dev The cost basis after a size change and the realised PnL (rounded down).
    function _rebase(Trade memory t, int256 openValue, int256 oldSize, int256 delta, int256 flow)
        internal
        pure
        returns (int256 newOpenValue, int256 realised)
    {
        if (oldSize == 0 || (oldSize > 0) == (delta > 0)) return (openValue + flow, 0);
        uint256 absOld = SignedMath.abs(oldSize);
        uint256 absDelta = SignedMath.abs(delta);
        if (absDelta <= absOld) {
            int256 basis = PerpMath.basisShareUp(openValue, absDelta, absOld);
            return (openValue - basis, -flow - basis);
        }
        // flip through zero: close the whole old position, open the remainder at the same price
        int256 closeFlow = PerpMath.valueUp(t.inverse, -oldSize, t.priceX18);
        return (flow - closeFlow, -closeFlow - openValue);
    }

    function _trackOpen(address account, address token, uint256 marketId, int256 oldSize, int256 newSize) internal {
        if (oldSize == 0 && newSize != 0) {
            _addOpenMarket(account, token, marketId);
        } else if (oldSize != 0 && newSize == 0) {
            mapping(uint8 => PackedPosition) storage legs = _positions[account][marketId];
            if (legs[LEG_NET].size == 0 && legs[LEG_LONG].size == 0 && legs[LEG_SHORT].size == 0) {
                _removeOpenMarket(account, token, marketId);
            }
        }
    }

    function _addOpenMarket(address account, address token, uint256 marketId) private {
        AccountEntry storage e = _entries[account][token];
        uint256 lanes = e.lanes;
        uint256 k;
        for (; k < MAX_OPEN_MARKETS; ++k) {
            uint256 id = (lanes >> (k << 4)) & 0xffff;
            if (id == marketId) return;
            if (id == 0) break;
        }
        if (k == MAX_OPEN_MARKETS) revert PerpEngineTooManyPositions(account, token, MAX_OPEN_MARKETS);
        // k < 8: the new lane ends at bit 128 at most
        e.lanes = uint128(lanes | (uint256(marketId.toUint16()) << (k << 4)));
    }

    /// @dev Removes `marketId` and moves the last lane into its place (lanes stay contiguous).
    function _removeOpenMarket(address account, address token, uint256 marketId) private {
        AccountEntry storage e = _entries[account][token];
        uint256 lanes = e.lanes;
        uint256 count = _laneCount(lanes);
        for (uint256 k; k < count; ++k) {
            if (((lanes >> (k << 4)) & 0xffff) == marketId) {
                uint256 lastShift = (count - 1) << 4;
                uint256 lastId = (lanes >> lastShift) & 0xffff;
                lanes &= ~(uint256(0xffff) << lastShift);
                if (k != count - 1) lanes = (lanes & ~(uint256(0xffff) << (k << 4))) | (lastId << (k << 4));
                e.lanes = uint128(lanes); // only lanes of the 128-bit value were cleared or moved
                return;
            }
        }
    }

    function _laneCount(uint256 lanes) internal pure returns (uint256 count) {
        while (count < MAX_OPEN_MARKETS && ((lanes >> (count << 4)) & 0xffff) != 0) ++count;
    }
}
