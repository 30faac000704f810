// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";
import {AccessControlled} from "../access/AccessControlled.sol";
import {Roles} from "../access/Roles.sol";
import {Vault} from "../core/Vault.sol";
import {IFeeSchedule} from "../interfaces/IFeeSchedule.sol";
import {IMarketRegistry} from "../interfaces/IMarketRegistry.sol";
import {IPerpEngine} from "../interfaces/IPerpEngine.sol";
import {FillCodec} from "../libraries/FillCodec.sol";
import {FillLog} from "../libraries/FillLog.sol";
import {PerpMath} from "../libraries/PerpMath.sol";
import {PerpLegs} from "./PerpLegs.sol";

/// @title PerpEngine
/// @notice Positions, cross margin per settlement token, fees, funding accrual and the Vault's
/// withdrawal check for linear and inverse perpetuals, in one-way or hedge mode.
/// @dev Value flow (exact conservation, SECURITY P1/P3):
/// - Collateral stays in the Vault. Realised PnL, fees and funding are booked in the engine's
///   signed ledger `unsettledX18(account, token)`; {settle} moves it into the Vault against the
///   engine's own Vault account (the PnL pool): losses are pulled from the trader's balance, profits
///   paid while the pool holds enough. Identity (tests assert it to the wei):
///   `vault.balances(engine) == sum(unsettled) + sum(fundingPool) + sum(feePool) - sum(openValue)`.
/// - Trade cash flows are computed once per fill and booked with opposite signs on the two sides.
/// - Withdrawal policy: unrealised profit and unsettled profit are not withdrawable; a withdrawal
///   needs `balanceAfter + min(unsettled + unrealised PnL - funding, 0) >= initial margin`, and
///   every withdrawal of a token is refused while any account is flagged with negative equity in it.
/// - At most {MAX_OPEN_MARKETS} (8) markets with an open leg per (account, token): every margin check
///   visits at most 8 markets (16 legs in hedge mode), all of them in one margin cache.
contract PerpEngine is AccessControlled, PerpLegs {
    using SafeCast for uint256;
    using SafeCast for int256;

    /// @notice A constructor address is zero.
    error PerpEngineZeroAddress();
    /// @notice A fill is malformed (zero size or price, off lot or tick, self-trade, zero account).
    error PerpEngineInvalidFill(uint256 fillIndex);
    /// @notice A fill raises risk in a market that is not active or whose oracle is unhealthy.
    error PerpEngineRiskIncreaseBlocked(uint256 fillIndex, uint256 marketId);
    /// @notice A settled market takes no fills.
    error PerpEngineMarketSettled(uint256 fillIndex, uint256 marketId);
    /// @notice A risk-increasing fill is below the market's minimum notional.
    error PerpEngineBelowMinNotional(uint256 fillIndex, uint256 notionalX18, uint256 minNotionalX18);
    /// @notice Open interest would exceed the market's cap.
    error PerpEngineOpenInterestCap(uint256 fillIndex, uint256 openInterestX18, uint256 capX18);
    /// @dev The market of a run of consecutive fills, read once; `health` 0 unknown, 1 healthy, 2 not;
    /// `ms` the market's state, loaded at the run's start and written back at its end (every fill of the
    /// run updates open interest and funding weight in memory); `t` the trade record every fill reuses.
    struct MarketRun {
        IMarketRegistry.Market m;
        uint256 id;
        uint256 health;
        MarketState ms;
        Trade t;
    }

    /// @notice The taker's fee exceeds the maximum its signed order accepts.
    error PerpEngineTakerFeeAboveMax(uint256 fillIndex, uint256 feeX18, uint256 maxFeeX18);
    /// @notice Hedge mode can only change while the account is flat in the market.
    error PerpEngineNotFlat(address account, uint256 marketId);

    /// @notice Fills were applied: one packed record per fill, in order, with both legs' new state and the
    /// fees (layout: {FillLog}; offchain/perp/fill_log.py decodes it).
    event FillsApplied(bytes fills);
    /// @notice An account switched hedge mode in a market.
    event HedgeModeSet(address indexed account, uint256 indexed marketId, bool enabled);
    /// @notice The cumulative funding index of a market moved.
    event FundingAccrued(uint256 indexed marketId, int256 rateX18, uint256 priceX18, int256 perUnitX18, int256 indexX18);

    /// @param acl_ ProtocolAccess.
    /// @param vault_ The Vault (the engine needs Roles.LEDGER there).
    /// @param registry_ The market registry.
    /// @param feeSchedule_ The fee schedule (the engine needs Roles.LEDGER to record volume).
    constructor(IAccessControl acl_, Vault vault_, IMarketRegistry registry_, IFeeSchedule feeSchedule_)
        AccessControlled(acl_)
        PerpLegs(vault_, _nonZero(registry_), feeSchedule_)
    {
        if (address(vault_) == address(0) || address(feeSchedule_) == address(0)) revert PerpEngineZeroAddress();
    }

    // ------------------------------------------------------------------ trading

    /// @inheritdoc IPerpEngine
    function applyFills(Fill[] calldata fills) external onlyRole(Roles.SETTLER) nonReentrant {
        _applyFills(fills, new uint256[](0));
    }

    /// @inheritdoc IPerpEngine
    function applySettledFills(bytes calldata fills) external onlyRole(Roles.SETTLER) nonReentrant {
        (Fill[] memory decoded, uint256[] memory caps) = FillCodec.decodeSettledFills(fills);
        _applyFills(decoded, caps);
    }

    /// @notice Switches the caller between one-way and hedge mode in a market (only while flat there).
    /// @param marketId The market.
    /// @param enabled True for hedge mode.
    function setHedgeMode(uint256 marketId, bool enabled) external {
        registry.marginInfo(marketId); // reverts for an unknown market
        mapping(uint8 => PackedPosition) storage legs = _positions[msg.sender][marketId];
        if (legs[LEG_NET].size != 0 || legs[LEG_LONG].size != 0 || legs[LEG_SHORT].size != 0) {
            revert PerpEngineNotFlat(msg.sender, marketId);
        }
        legs[LEG_NET].hedgeMode = enabled;
        emit HedgeModeSet(msg.sender, marketId, enabled);
    }

    /// @inheritdoc IPerpEngine
    function accrueFunding(uint256 marketId, int256 rateX18) external onlyRole(Roles.FUNDING) {
        IMarketRegistry.Market memory m = registry.getMarket(marketId);
        (uint256 price,) = oracle.getPrice(m.asset);
        int256 perUnit = PerpMath.fundingPerUnit(m.kind == IMarketRegistry.MarketKind.Inverse, rateX18, price);
        MarketState storage ms = marketStates[marketId];
        int256 index = ms.fundingIndexX18 + perUnit;
        ms.fundingIndexX18 = index;
        ++fundingEpochOf[marketId];
        emit FundingAccrued(marketId, rateX18, price, perUnit, index);
    }

    /// @notice Settles the funding of every leg of `account` in `marketId` into its ledger entry.
    /// Anyone may call it; it does not change the account's equity (pending funding is already in it).
    /// @param account The account.
    /// @param marketId The market.
    function settleFunding(address account, uint256 marketId) external nonReentrant {
        (, address token,,,) = registry.marginInfo(marketId);
        MarketState memory ms = marketStates[marketId];
        Trade memory t;
        (t.marketId, t.token) = (marketId, token);
        for (uint8 leg; leg < 3; ++leg) {
            PackedPosition storage p = _positions[account][marketId][leg];
            _settleFunding(account, t, leg, p, p.size, p.fundingSnapshotX18, ms);
        }
        marketStates[marketId] = ms;
    }

    /// @notice Moves the market's funding rounding surplus (pool beyond what open positions can
    /// still claim, rounded in the protocol's favour) to the insurance fund's ledger entry.
    /// @param marketId The market.
    /// @return surplusX18 The amount moved.
    function sweepFundingSurplus(uint256 marketId) external nonReentrant returns (uint256 surplusX18) {
        (, address token,,,) = registry.marginInfo(marketId);
        return _sweepFundingSurplus(marketId, token, feeSchedule.insuranceFund());
    }

    /// @notice Splits the token's collected fees between treasury and insurance fund ledger entries.
    /// @param token The settlement token.
    function distributeFees(address token) external nonReentrant {
        _distributeFees(token, feeSchedule.treasury(), feeSchedule.insuranceFund(), feeSchedule.insuranceShareX18());
    }

    // ------------------------------------------------------------------ internals

    /// @dev Applies every fill (the registry's market data and the market's state are read once per run of
    /// one market), charges all their fees in one fee schedule call, then checks the end state of each
    /// touched account once. `caps` empty: no fee cap and legacy leg flags.
    function _applyFills(Fill[] memory fills, uint256[] memory caps) private {
        uint256 count = fills.length;
        Touch[] memory touches = new Touch[](count * 2);
        bytes memory fees = FillCodec.newFeeRequests(count);
        IFeeSchedule.FeeRequest memory req; // reused: each fill's request is packed into `fees`
        address[] memory tokens = new address[](count);
        uint256 n;
        MarketRun memory run;
        Trade memory t = run.t;
        t.strictLegs = caps.length != 0;
        bytes memory log;
        (log, t.logPtr) = FillLog.create(count);
        for (uint256 i; i < count; ++i) {
            Fill memory f = fills[i];
            uint256 marketId = f.marketId;
            if (marketId != run.id) {
                if (run.id != 0) marketStates[run.id] = run.ms;
                _startRun(run, marketId);
            }
            t.fillIndex = i;
            (bool makerUp, bool takerUp) = _applyFill(f, run, req);
            FillCodec.putFeeRequest(fees, i, req);
            address token = t.token;
            tokens[i] = token;
            n = _touch(touches, n, f.maker, token, makerUp);
            n = _touch(touches, n, f.taker, token, takerUp);
        }
        if (run.id != 0) marketStates[run.id] = run.ms;
        _chargeFees(fills, caps, fees, tokens, log);
        emit FillsApplied(log);
        MarginCache memory mc = _newCache();
        for (uint256 j; j < n; ++j) {
            _clearTouch(touches[j]);
            _checkEndState(touches[j], mc);
        }
    }

    /// @dev Loads market `marketId`'s data and state into `run` and its trade record.
    function _startRun(MarketRun memory run, uint256 marketId) private {
        IMarketRegistry.Market memory m = registry.getMarket(marketId);
        run.m = m;
        run.id = marketId;
        run.health = 0;
        run.ms = marketStates[marketId];
        Trade memory t = run.t;
        t.marketId = marketId;
        t.inverse = m.kind == IMarketRegistry.MarketKind.Inverse;
        t.token = m.token;
        t.maxPositionX18 = m.trading.maxPositionX18;
        t.fundingEpoch = fundingEpochOf[marketId];
    }

    /// @dev Checks and applies one fill (index `run.t.fillIndex`) to both legs; fills in its fee request.
    function _applyFill(Fill memory f, MarketRun memory run, IFeeSchedule.FeeRequest memory req)
        private
        returns (bool makerUp, bool takerUp)
    {
        IMarketRegistry.Market memory m = run.m;
        Trade memory t = run.t;
        uint256 size = _checkFill(f, m, t, req);
        MarketState memory ms = run.ms;
        uint256 oiBefore = ms.longOpenInterestX18;
        uint256 notional;
        (takerUp, makerUp, notional) = _applyBothLegs(t, ms, f, req, size);
        if (takerUp || makerUp) {
            uint256 i = t.fillIndex;
            if (run.health == 0) run.health = oracle.isHealthy(m.asset) ? 1 : 2;
            if (m.status != IMarketRegistry.MarketStatus.Active || run.health != 1) {
                revert PerpEngineRiskIncreaseBlocked(i, run.id);
            }
            if (notional < m.trading.minNotionalX18) {
                revert PerpEngineBelowMinNotional(i, notional, m.trading.minNotionalX18);
            }
            uint256 oi = ms.longOpenInterestX18;
            uint256 capOi = m.trading.openInterestCapX18;
            if (capOi != 0 && oi > capOi && oi > oiBefore) revert PerpEngineOpenInterestCap(i, oi, capOi);
        }
        req.notionalX18 = notional;
        req.volumeUsdX18 = t.inverse ? size : notional; // USD volume: an inverse market's size
        req.takerApi = (f.takerFlags & FLAG_API) != 0;
    }

    /// @dev Validates a fill (status, size, price, lot, tick, accounts), reading each field once;
    /// sets the trade's price and the fee request's accounts; returns the size.
    function _checkFill(
        Fill memory f,
        IMarketRegistry.Market memory m,
        Trade memory t,
        IFeeSchedule.FeeRequest memory req
    ) private pure returns (uint256 size) {
        if (m.status == IMarketRegistry.MarketStatus.Settled) revert PerpEngineMarketSettled(t.fillIndex, t.marketId);
        size = f.sizeX18;
        uint256 price = f.priceX18;
        address maker = f.maker;
        address taker = f.taker;
        if (
            size == 0 || price == 0 || size % m.trading.lotSizeX18 != 0 || price % m.trading.tickSizeX18 != 0
                || maker == taker || maker == address(0) || taker == address(0)
        ) revert PerpEngineInvalidFill(t.fillIndex);
        t.priceX18 = price;
        (req.maker, req.taker) = (maker, taker);
    }

    /// @dev Books both sides of a fill; each side's cash (-value, rounded toward +inf) rounds down and the
    /// residual (0 or 1 atom) goes to the fee pool. Returns the fill's notional (rounded down). Moves the
    /// log pointer past the fill's record (the two leg entries moved it past themselves).
    function _applyBothLegs(
        Trade memory t,
        MarketState memory ms,
        Fill memory f,
        IFeeSchedule.FeeRequest memory req,
        uint256 size
    ) private returns (bool takerUp, bool makerUp, uint256 notional) {
        int256 takerDelta = f.takerIsBuy ? size.toInt256() : -size.toInt256();
        int256 takerFlow = PerpMath.valueUp(t.inverse, takerDelta, t.priceX18);
        takerUp = _applyLeg(t, ms, req.taker, takerDelta, takerFlow, f.takerFlags);
        int256 makerFlow = PerpMath.valueUp(t.inverse, -takerDelta, t.priceX18);
        makerUp = _applyLeg(t, ms, req.maker, -takerDelta, makerFlow, f.makerFlags);
        _bookResidual(t.token, uint256(takerFlow + makerFlow));
        notional = Math.min(SignedMath.abs(takerFlow), SignedMath.abs(makerFlow));
        t.logPtr += FillLog.RECORD_BYTES - 2 * FillLog.LEG_BYTES;
    }

    /// @dev Charges every fill's fees in one call (fills in order: the same tiers as one call per fill),
    /// checks each taker fee against its cap, books the fees (the fee pool once per run of one token) and
    /// writes each record's fill part.
    function _chargeFees(
        Fill[] memory fills,
        uint256[] memory caps,
        bytes memory reqs,
        address[] memory tokens,
        bytes memory log
    ) private {
        bytes memory results = feeSchedule.chargeFills(reqs);
        uint256 ptr;
        assembly ("memory-safe") {
            ptr := add(log, 0x20)
        }
        address poolToken;
        uint256 poolAdd; // net fees of a run of fills in one token, added to its pool once
        for (uint256 i; i < fills.length; ++i) {
            Fill memory f = fills[i];
            (uint256 fee, uint256 rebate) = FillCodec.readFeeResult(results, i);
            if (caps.length != 0) {
                // the order's maximum under the engine's rounding (up); a maker is never charged
                uint256 maxFee = Math.mulDiv(FillCodec.feeRequestNotional(reqs, i), caps[i], 1e18, Math.Rounding.Ceil);
                if (fee > maxFee) revert PerpEngineTakerFeeAboveMax(i, fee, maxFee);
            }
            if (tokens[i] != poolToken) {
                _bookResidual(poolToken, poolAdd);
                (poolToken, poolAdd) = (tokens[i], 0);
            }
            poolAdd += _bookFees(f.maker, f.taker, poolToken, fee, rebate);
            FillLog.putFill(
                ptr + i * FillLog.RECORD_BYTES + 2 * FillLog.LEG_BYTES,
                f.marketId, f.maker, f.taker, f.takerIsBuy, f.sizeX18, f.priceX18, fee, rebate
            ); // forgefmt: disable-line
        }
        _bookResidual(poolToken, poolAdd);
    }

    // ------------------------------------------------------------------ liquidation (issue 6)

    /// @notice A liquidation module closed part of `account`'s leg against `counterparty` at `priceX18`.
    event LiquidationTrade(
        address indexed account, address indexed counterparty, uint256 indexed marketId, int256 accountDeltaX18, uint256 priceX18
    );
    /// @notice A liquidation module moved ledger value (keeper reward, remaining margin, bad-debt cover).
    event LiquidationTransfer(address indexed from, address indexed to, address indexed token, uint256 amountX18);

    /// @notice Fee-less trade used by the liquidation module: `account`'s leg changes by
    /// `accountDeltaX18` (which must reduce it) and `counterparty` takes the opposite side at `priceX18`.
    /// The liquidated account gets no margin check (the module checked it is unhealthy and picks the
    /// price). The counterparty gets the usual end-state check, except a reduce-only counterparty (an
    /// ADL victim, `counterpartyFlags` with FLAG_REDUCE_ONLY), which must only stay solvent (equity >= 0,
    /// else PerpEngineInsolvent). No tick/lot or status checks: a forced close must work in paused markets
    /// and at non-tick prices. Liquidator role only.
    /// @param account The liquidated (or bankrupt) account.
    /// @param counterparty The account taking the opposite side (insurance fund or ADL counterparty).
    /// @param marketId The market.
    /// @param accountDeltaX18 Signed size change of the account's leg (opposite sign to the leg).
    /// @param priceX18 The execution price.
    /// @param accountFlags Fill flags of the account's side (FLAG_SHORT_LEG selects a hedge leg).
    /// @param counterpartyFlags Fill flags of the counterparty's side.
    function liquidationTrade(
        address account,
        address counterparty,
        uint256 marketId,
        int256 accountDeltaX18,
        uint256 priceX18,
        uint8 accountFlags,
        uint8 counterpartyFlags
    ) external onlyRole(Roles.LIQUIDATOR) nonReentrant {
        IMarketRegistry.Market memory m = registry.getMarket(marketId);
        if (m.status == IMarketRegistry.MarketStatus.Settled) revert PerpEngineMarketSettled(0, marketId);
        if (accountDeltaX18 == 0 || priceX18 == 0 || account == counterparty) revert PerpEngineInvalidFill(0);
        Trade memory t;
        t.marketId = marketId;
        t.inverse = m.kind == IMarketRegistry.MarketKind.Inverse;
        t.token = m.token;
        t.priceX18 = priceX18;
        t.fundingEpoch = fundingEpochOf[marketId];
        MarketState memory ms = marketStates[marketId];
        // Same rounding as a fill: each side's value rounds toward +inf (its cash rounds down) and the
        // 0-1 atom residual goes to the fee pool.
        int256 accountFlow = PerpMath.valueUp(t.inverse, accountDeltaX18, priceX18);
        int256 counterpartyFlow = PerpMath.valueUp(t.inverse, -accountDeltaX18, priceX18);
        // reduce-only: reverts with PerpEngineReduceOnly if the account's leg would grow or flip
        _applyLeg(t, ms, account, accountDeltaX18, accountFlow, accountFlags | FLAG_REDUCE_ONLY);
        bool up = _applyLeg(t, ms, counterparty, -accountDeltaX18, counterpartyFlow, counterpartyFlags);
        _bookResidual(t.token, uint256(accountFlow + counterpartyFlow));
        marketStates[marketId] = ms;
        if ((counterpartyFlags & FLAG_REDUCE_ONLY) != 0) _checkSolvent(counterparty, m.token);
        else _checkEndState(Touch(counterparty, m.token, up), _newCache());
        emit LiquidationTrade(account, counterparty, marketId, accountDeltaX18, priceX18);
    }

    /// @notice Moves `amountX18` of ledger value from `from` to `to` (keeper reward, remaining margin to
    /// the insurance fund, bad-debt cover). Zero-sum between ledger entries. Liquidator role only.
    /// @param from The debited account.
    /// @param to The credited account.
    /// @param token The settlement token.
    /// @param amountX18 The amount.
    function liquidationTransfer(address from, address to, address token, uint256 amountX18)
        external
        onlyRole(Roles.LIQUIDATOR)
    {
        int256 x = amountX18.toInt256();
        _credit(from, token, -x);
        _credit(to, token, x);
        emit LiquidationTransfer(from, to, token, amountX18);
    }

    function _nonZero(IMarketRegistry registry_) private pure returns (IMarketRegistry) {
        if (address(registry_) == address(0)) revert PerpEngineZeroAddress();
        return registry_;
    }
}
