// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";
import {Vault} from "../core/Vault.sol";
import {IFeeSchedule} from "../interfaces/IFeeSchedule.sol";
import {IMarketRegistry} from "../interfaces/IMarketRegistry.sol";
import {IPerpEngine} from "../interfaces/IPerpEngine.sol";
import {IPriceOracle} from "../interfaces/IPriceOracle.sol";
import {IWithdrawalGuard} from "../interfaces/IWithdrawalGuard.sol";
import {PerpLedger} from "./PerpLedger.sol";

/// @title PerpMargin
/// @notice Account valuation of the perpetual engine: equity, initial and maintenance margin, the
/// end-state check of a trade, the Vault's withdrawal hook, ledger settlement into the Vault and the
/// negative-equity gate.
/// @dev Abstract base of {PerpEngine}. Market data (margin parameters, index price, maintenance rate,
/// funding index) is read once per call into a {MarginCache}: every account of a batch valued in the
/// same market reuses it. An account in one-way mode has only its net leg read.
abstract contract PerpMargin is IPerpEngine, IWithdrawalGuard, ReentrancyGuard, PerpLedger {
    using SafeCast for uint256;
    using SafeCast for int256;

    /// @notice Markets whose data one margin cache holds (further markets are read uncached).
    uint256 internal constant CACHE_MARKETS = 8;

    /// @notice The collateral custodian.
    Vault public immutable vault;
    /// @notice Market parameters.
    IMarketRegistry public immutable registry;
    /// @notice Fee tiers.
    IFeeSchedule public immutable feeSchedule;
    /// @notice Index prices and volatility.
    IPriceOracle public immutable oracle;

    /// @notice After risk increased, equity is below the initial margin.
    error PerpEngineInsufficientMargin(address account, address token, int256 equityX18, uint256 requiredX18);
    /// @notice After a reduction, equity is below the maintenance margin.
    error PerpEngineBelowMaintenance(address account, address token, int256 equityX18, uint256 requiredX18);
    /// @notice An auto-deleveraging counterparty would be left with negative equity.
    error PerpEngineInsolvent(address account, address token, int256 equityX18);

    constructor(Vault vault_, IMarketRegistry registry_, IFeeSchedule feeSchedule_) {
        vault = vault_;
        registry = registry_;
        feeSchedule = feeSchedule_;
        oracle = registry_.oracle();
    }

    // ------------------------------------------------------------------ ledger

    /// @notice Moves `account`'s unsettled ledger balance into the Vault: a loss is pulled from its
    /// Vault balance into the engine's pool account, a profit is paid from the pool while it holds
    /// enough. Anyone may call it; it does not change the account's equity.
    /// @param account The account.
    /// @param token The settlement token.
    /// @return movedX18 The signed amount credited to the account's Vault balance.
    function settle(address account, address token) external nonReentrant returns (int256 movedX18) {
        int256 cash = _entries[account][token].unsettledX18;
        if (cash < 0) {
            uint256 x = Math.min(SignedMath.abs(cash), vault.balances(account, token));
            if (x == 0) return 0;
            movedX18 = -x.toInt256();
            _bookSettled(account, token, movedX18);
            vault.transferInternal(token, account, address(this), x);
        } else if (cash > 0) {
            uint256 x = Math.min(uint256(cash), vault.balances(address(this), token));
            if (x == 0) return 0;
            movedX18 = x.toInt256();
            _bookSettled(account, token, movedX18);
            vault.transferInternal(token, address(this), account, x);
        }
    }

    /// @notice Re-evaluates whether `account` has negative equity in `token` and updates the
    /// protocol-wide withdrawal gate. Anyone may call it (keepers watch prices).
    /// @param account The account.
    /// @param token The settlement token.
    /// @return negative True when the account's equity is negative.
    function pokeNegativeEquity(address account, address token) external returns (bool negative) {
        int256 eq = _evaluate(account, token, false, _newCache()).equity;
        negative = eq < 0;
        _setNegativeFlag(account, token, negative, eq);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IWithdrawalGuard
    function isWithdrawalAllowed(address account, address token, uint256 balanceAfterX18)
        external
        view
        returns (bool allowed)
    {
        if (negativeEquityCount[token] != 0) return false;
        AccountState memory s = _evaluate(account, token, false, _newCache());
        int256 pending = _entries[account][token].unsettledX18 + s.pnl;
        int256 usable = balanceAfterX18.toInt256() + (pending < 0 ? pending : int256(0));
        return usable >= s.initialReq.toInt256();
    }

    /// @inheritdoc IPerpEngine
    function equity(address account, address token) external view returns (int256) {
        return _evaluate(account, token, false, _newCache()).equity;
    }

    /// @inheritdoc IPerpEngine
    function initialMargin(address account, address token) external view returns (uint256) {
        return _evaluate(account, token, false, _newCache()).initialReq;
    }

    /// @inheritdoc IPerpEngine
    function maintenanceMargin(address account, address token) external view returns (uint256) {
        return _evaluate(account, token, true, _newCache()).maintenanceReq;
    }

    /// @inheritdoc IPerpEngine
    function isLiquidatable(address account, address token) external view returns (bool) {
        AccountState memory s = _evaluate(account, token, true, _newCache());
        return s.equity < s.maintenanceReq.toInt256();
    }

    /// @notice The seed's margin ratio M = Equity / InitialMargin (18 decimals), max for no positions.
    /// @param account The account.
    /// @param token The settlement token.
    /// @return ratioX18 The ratio, rounded toward negative infinity.
    function marginRatio(address account, address token) external view returns (int256 ratioX18) {
        AccountState memory s = _evaluate(account, token, false, _newCache());
        if (s.initialReq == 0) return type(int256).max;
        int256 m = Math.mulDiv(SignedMath.abs(s.equity), 1e18, s.initialReq, s.equity < 0 ? Math.Rounding.Ceil : Math.Rounding.Floor)
            .toInt256();
        return s.equity < 0 ? -m : m;
    }

    /// @notice The markets where `account` has an open leg settled in `token`.
    /// @param account The account.
    /// @param token The settlement token.
    /// @return marketIds The market ids.
    function openMarketsOf(address account, address token) external view returns (uint256[] memory) {
        uint256 lanes = _entries[account][token].lanes;
        uint256[] memory ids = new uint256[](_laneCount(lanes));
        for (uint256 k; k < ids.length; ++k) {
            ids[k] = (lanes >> (k << 4)) & 0xffff;
        }
        return ids;
    }

    // ------------------------------------------------------------------ internals

    /// @dev Initial margin when the account's risk increased, else maintenance; clears a stale
    /// negative-equity flag.
    function _checkEndState(Touch memory t, MarginCache memory mc) internal {
        AccountState memory s = _evaluate(t.account, t.token, !t.riskIncreased, mc);
        if (t.riskIncreased) {
            if (s.equity < s.initialReq.toInt256()) {
                revert PerpEngineInsufficientMargin(t.account, t.token, s.equity, s.initialReq);
            }
        } else if (s.equity < s.maintenanceReq.toInt256()) {
            revert PerpEngineBelowMaintenance(t.account, t.token, s.equity, s.maintenanceReq);
        }
        _liftNegativeFlag(t.account, t.token, s.equity);
    }

    /// @dev The check on an auto-deleveraging counterparty (the reduce-only side of a liquidation trade):
    /// it must stay solvent (equity >= 0, P11) but may be left below maintenance, since ADL takes the
    /// bankrupt side's loss at the bankruptcy price. Lifts a stale negative-equity flag like {_checkEndState}.
    function _checkSolvent(address account, address token) internal {
        int256 eq = _evaluate(account, token, false, _newCache()).equity;
        if (eq < 0) revert PerpEngineInsolvent(account, token, eq);
        _liftNegativeFlag(account, token, eq);
    }

    /// @dev After a passed end-state check (`equityX18 >= 0`): clears the account's negative-equity flag if
    /// it is set. No flag can be set while the token's count is zero (one warm slot instead of a cold one
    /// per account).
    function _liftNegativeFlag(address account, address token, int256 equityX18) private {
        if (negativeEquityCount[token] != 0 && negativeEquityFlag[account][token]) {
            _setNegativeFlag(account, token, false, equityX18);
        }
    }

    function _newCache() internal pure returns (MarginCache memory mc) {
        mc.ctx = new LegContext[](CACHE_MARKETS);
    }

    function _evaluate(address account, address token, bool withMaintenance, MarginCache memory mc)
        internal
        view
        returns (AccountState memory s)
    {
        AccountEntry storage e = _entries[account][token];
        s.equity = vault.balances(account, token).toInt256() + e.unsettledX18;
        uint256 lanes = e.lanes;
        for (uint256 k; k < MAX_OPEN_MARKETS; ++k) {
            uint256 marketId = (lanes >> (k << 4)) & 0xffff;
            if (marketId == 0) break;
            LegContext memory c = _context(mc, marketId, withMaintenance);
            mapping(uint8 => PackedPosition) storage legs = _positions[account][marketId];
            if (_addStoredLeg(s, legs[LEG_NET], c)) {
                _addStoredLeg(s, legs[LEG_LONG], c);
                _addStoredLeg(s, legs[LEG_SHORT], c);
            }
        }
        s.equity += s.pnl;
    }

    /// @dev Adds a stored leg to the valuation (its funding snapshot is read only when the market's funding
    /// epoch moved since the leg's); returns the leg's hedge-mode bit (meaningful on the net leg: a hedge-mode
    /// account's net leg is flat and its long and short legs count instead).
    function _addStoredLeg(AccountState memory s, PackedPosition storage p, LegContext memory c)
        private
        view
        returns (bool hedge)
    {
        (int256 size, int256 openValue, uint256 epoch, bool h) = _loadLeg(p);
        if (size == 0) return h;
        int256 snapshot = epoch == c.fundingEpoch ? c.fundingIndexX18 : p.fundingSnapshotX18;
        _addLeg(s, size, openValue, snapshot, c);
        return h;
    }

    /// @dev The market's margin data, from the cache when present (the maintenance rate is loaded the
    /// first time it is needed).
    function _context(MarginCache memory mc, uint256 marketId, bool withMaintenance)
        private
        view
        returns (LegContext memory c)
    {
        uint256 n = mc.count;
        for (uint256 k; k < n; ++k) {
            if (mc.ctx[k].marketId == marketId) {
                c = mc.ctx[k];
                break;
            }
        }
        if (c.marketId == 0) {
            bytes32 asset;
            (asset,, c.inverse, c.imrX18, c.imrSlopeX18) = registry.marginInfo(marketId);
            (c.priceX18,) = oracle.getPrice(asset);
            c.fundingIndexX18 = marketStates[marketId].fundingIndexX18;
            c.fundingEpoch = fundingEpochOf[marketId];
            c.marketId = marketId;
            if (n < mc.ctx.length) {
                mc.ctx[n] = c;
                mc.count = n + 1;
            }
        }
        if (withMaintenance && !c.hasMaintenance) {
            c.mmrX18 = registry.maintenanceRate(marketId);
            c.hasMaintenance = true;
        }
    }

    /// @dev Records that `account` was touched in `token` (risk increased or not). A transient slot per
    /// (account, token) holds its 1-based index in `touches`, so a batch costs O(1) per fill; the
    /// slots are cleared by {_clearTouch} before the call returns.
    function _touch(Touch[] memory touches, uint256 n, address account, address token, bool up)
        internal
        returns (uint256)
    {
        bytes32 key = _touchKey(account, token);
        uint256 slot;
        assembly {
            slot := tload(key)
        }
        if (slot != 0) {
            if (up) touches[slot - 1].riskIncreased = true;
            return n;
        }
        touches[n] = Touch(account, token, up);
        assembly {
            tstore(key, add(n, 1))
        }
        return n + 1;
    }

    function _clearTouch(Touch memory t) internal {
        bytes32 key = _touchKey(t.account, t.token);
        assembly {
            tstore(key, 0)
        }
    }

    function _touchKey(address account, address token) private pure returns (bytes32 key) {
        assembly ("memory-safe") {
            mstore(0x00, account)
            mstore(0x20, token)
            key := keccak256(0x00, 0x40)
        }
    }
}
