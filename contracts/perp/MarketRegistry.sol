// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {AccessControlled} from "../access/AccessControlled.sol";
import {Roles} from "../access/Roles.sol";
import {IMarketRegistry} from "../interfaces/IMarketRegistry.sol";
import {IPriceOracle} from "../interfaces/IPriceOracle.sol";

/// @title MarketRegistry
/// @notice Lists perpetual markets and holds their governed risk and trading parameters.
/// @dev Governance (`Roles.ADMIN`) lists markets and changes parameters; the guardian may only
/// pause a market (never resume it). The dynamic maintenance rate is computed on read from the
/// oracle's volatility: `mmr = min(mmrBase + k * sigma, mmrMax)` (SPEC section 3).
contract MarketRegistry is IMarketRegistry, AccessControlled {
    /// @notice Highest allowed leverage: imr must be at least 1/50.
    uint256 public constant MIN_IMR_X18 = 2e16;

    /// @inheritdoc IMarketRegistry
    IPriceOracle public immutable oracle;
    /// @inheritdoc IMarketRegistry
    uint256 public marketCount;

    mapping(uint256 marketId => Market) private _markets;

    /// @notice A required address or id is zero.
    error MarketRegistryZeroValue();
    /// @notice No market with this id is listed.
    error MarketRegistryUnknownMarket(uint256 marketId);
    /// @notice Risk parameters break `2% <= imr <= 100%` or `mmrBase <= mmrMax <= imr`.
    error MarketRegistryInvalidRiskParams(uint256 imrX18, uint256 mmrBaseX18, uint256 mmrMaxX18);
    /// @notice Tick or lot size is zero.
    error MarketRegistryInvalidTradingParams(uint256 tickSizeX18, uint256 lotSizeX18);
    /// @notice The requested status is not a valid transition (None, or leaving Settled).
    error MarketRegistryInvalidStatus(uint256 marketId, MarketStatus from, MarketStatus to);

    /// @notice A market was listed.
    event MarketListed(uint256 indexed marketId, bytes32 indexed asset, address indexed token, MarketKind kind);
    /// @notice Risk parameters of a market changed.
    event RiskParamsSet(
        uint256 indexed marketId,
        uint256 imrX18,
        uint256 mmrBaseX18,
        uint256 volFactorX18,
        uint256 mmrMaxX18,
        uint256 imrSlopeX18
    );
    /// @notice Trading parameters of a market changed.
    event TradingParamsSet(
        uint256 indexed marketId,
        uint256 tickSizeX18,
        uint256 lotSizeX18,
        uint256 minNotionalX18,
        uint256 openInterestCapX18,
        uint256 maxPositionX18
    );
    /// @notice A market's status changed.
    event MarketStatusSet(uint256 indexed marketId, MarketStatus status);

    /// @param acl_ The deployment's ProtocolAccess.
    /// @param oracle_ The index-price oracle.
    constructor(IAccessControl acl_, IPriceOracle oracle_) AccessControlled(acl_) {
        if (address(oracle_) == address(0)) revert MarketRegistryZeroValue();
        oracle = oracle_;
    }

    /// @notice Lists a market in status Active.
    /// @param asset The oracle asset id of the underlying.
    /// @param token The settlement (margin) token, a Vault collateral.
    /// @param kind Linear or inverse.
    /// @param risk Margin parameters.
    /// @param trading Tick, lot, minimum notional, caps.
    /// @return marketId The new market's id (1-based).
    function listMarket(
        bytes32 asset,
        address token,
        MarketKind kind,
        RiskParams calldata risk,
        TradingParams calldata trading
    ) external onlyRole(Roles.ADMIN) returns (uint256 marketId) {
        if (asset == bytes32(0) || token == address(0)) revert MarketRegistryZeroValue();
        marketId = ++marketCount;
        Market storage m = _markets[marketId];
        m.asset = asset;
        m.token = token;
        m.kind = kind;
        m.status = MarketStatus.Active;
        emit MarketListed(marketId, asset, token, kind);
        emit MarketStatusSet(marketId, MarketStatus.Active);
        _setRisk(marketId, m, risk);
        _setTrading(marketId, m, trading);
    }

    /// @notice Replaces the risk parameters of a market.
    /// @param marketId The market.
    /// @param risk The new parameters.
    function setRiskParams(uint256 marketId, RiskParams calldata risk) external onlyRole(Roles.ADMIN) {
        _setRisk(marketId, _listed(marketId), risk);
    }

    /// @notice Replaces the trading parameters of a market.
    /// @param marketId The market.
    /// @param trading The new parameters.
    function setTradingParams(uint256 marketId, TradingParams calldata trading) external onlyRole(Roles.ADMIN) {
        _setTrading(marketId, _listed(marketId), trading);
    }

    /// @notice Sets a market's status (governance). Settled is final.
    /// @param marketId The market.
    /// @param status Active, ReduceOnly, Paused or Settled.
    function setStatus(uint256 marketId, MarketStatus status) external onlyRole(Roles.ADMIN) {
        _setStatus(marketId, status);
    }

    /// @notice Pauses a market (guardian): only risk-reducing fills remain possible.
    /// @param marketId The market.
    function pauseMarket(uint256 marketId) external onlyRole(Roles.GUARDIAN) {
        _setStatus(marketId, MarketStatus.Paused);
    }

    /// @inheritdoc IMarketRegistry
    function getMarket(uint256 marketId) external view returns (Market memory) {
        return _listed(marketId);
    }

    /// @inheritdoc IMarketRegistry
    function marginInfo(uint256 marketId)
        external
        view
        returns (bytes32 asset, address token, bool inverse, uint256 imrX18, uint256 imrSlopeX18)
    {
        Market storage m = _listed(marketId);
        return (m.asset, m.token, m.kind == MarketKind.Inverse, m.risk.imrX18, m.risk.imrSlopeX18);
    }

    /// @inheritdoc IMarketRegistry
    function maintenanceRate(uint256 marketId) external view returns (uint256 mmrX18) {
        Market storage m = _listed(marketId);
        uint256 sigma = oracle.volatilityX18(m.asset);
        uint256 dynamicRate = m.risk.mmrBaseX18 + Math.mulDiv(m.risk.volFactorX18, sigma, 1e18, Math.Rounding.Ceil);
        return Math.min(dynamicRate, m.risk.mmrMaxX18);
    }

    function _setRisk(uint256 marketId, Market storage m, RiskParams calldata risk) private {
        if (
            risk.imrX18 < MIN_IMR_X18 || risk.imrX18 > 1e18 || risk.mmrBaseX18 == 0 || risk.mmrBaseX18 > risk.mmrMaxX18
                || risk.mmrMaxX18 > risk.imrX18
        ) revert MarketRegistryInvalidRiskParams(risk.imrX18, risk.mmrBaseX18, risk.mmrMaxX18);
        m.risk = risk;
        emit RiskParamsSet(
            marketId, risk.imrX18, risk.mmrBaseX18, risk.volFactorX18, risk.mmrMaxX18, risk.imrSlopeX18
        );
    }

    function _setTrading(uint256 marketId, Market storage m, TradingParams calldata trading) private {
        if (trading.tickSizeX18 == 0 || trading.lotSizeX18 == 0) {
            revert MarketRegistryInvalidTradingParams(trading.tickSizeX18, trading.lotSizeX18);
        }
        m.trading = trading;
        emit TradingParamsSet(
            marketId,
            trading.tickSizeX18,
            trading.lotSizeX18,
            trading.minNotionalX18,
            trading.openInterestCapX18,
            trading.maxPositionX18
        );
    }

    function _setStatus(uint256 marketId, MarketStatus status) private {
        Market storage m = _listed(marketId);
        if (status == MarketStatus.None || m.status == MarketStatus.Settled) {
            revert MarketRegistryInvalidStatus(marketId, m.status, status);
        }
        m.status = status;
        emit MarketStatusSet(marketId, status);
    }

    function _listed(uint256 marketId) private view returns (Market storage m) {
        m = _markets[marketId];
        if (m.status == MarketStatus.None) revert MarketRegistryUnknownMarket(marketId);
    }
}
