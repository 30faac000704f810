// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IPriceOracle} from "./IPriceOracle.sol";

/// @title IMarketRegistry
/// @notice The perpetual markets of a deployment and their governed parameters.
interface IMarketRegistry {
    /// @notice Contract kind: linear (USD-margined, PnL = size (exit - entry)) or inverse
    /// (coin-margined, size in USD, PnL in coin = size (1/entry - 1/exit)).
    enum MarketKind {
        Linear,
        Inverse
    }

    /// @notice Trading status. Active: everything. ReduceOnly (governance) and Paused (guardian):
    /// only risk-reducing fills. Settled: no fills. None: not listed.
    enum MarketStatus {
        None,
        Active,
        ReduceOnly,
        Paused,
        Settled
    }

    /// @notice Margin parameters. Rates are 18 decimals. `imrX18 = 1 / maxLeverage` (>= 2%, i.e. <= 50x);
    /// maintenance rate = min(mmrBaseX18 + volFactorX18 * sigma, mmrMaxX18) with sigma the oracle's
    /// realised volatility; `mmrBaseX18 <= mmrMaxX18 <= imrX18`. Size-dependent initial margin: a leg of
    /// notional N needs `N * min(imrX18 + imrSlopeX18 * N, 1)` (slope per unit of collateral notional).
    struct RiskParams {
        uint256 imrX18;
        uint256 mmrBaseX18;
        uint256 volFactorX18;
        uint256 mmrMaxX18;
        uint256 imrSlopeX18;
    }

    /// @notice Trading limits. Sizes are in the market's size unit (base for linear, USD for inverse),
    /// 18 decimals; `minNotionalX18` is in collateral units. Zero caps mean "no cap".
    struct TradingParams {
        uint256 tickSizeX18;
        uint256 lotSizeX18;
        uint256 minNotionalX18;
        uint256 openInterestCapX18;
        uint256 maxPositionX18;
    }

    /// @notice A listed market.
    struct Market {
        bytes32 asset;
        address token;
        MarketKind kind;
        MarketStatus status;
        RiskParams risk;
        TradingParams trading;
    }

    /// @notice The index-price oracle every market reads.
    function oracle() external view returns (IPriceOracle);

    /// @notice Number of listed markets; ids are 1..marketCount.
    function marketCount() external view returns (uint256);

    /// @notice The market `marketId`; reverts when it is not listed.
    function getMarket(uint256 marketId) external view returns (Market memory);

    /// @notice What a margin check needs of `marketId` (cheaper than {getMarket}); reverts when not listed.
    /// @return asset The oracle asset id.
    /// @return token The settlement token.
    /// @return inverse True for an inverse market.
    /// @return imrX18 The base initial margin rate.
    /// @return imrSlopeX18 The initial margin rate added per unit of leg notional.
    function marginInfo(uint256 marketId)
        external
        view
        returns (bytes32 asset, address token, bool inverse, uint256 imrX18, uint256 imrSlopeX18);

    /// @notice The current (dynamic) maintenance margin rate of `marketId`, 18 decimals.
    function maintenanceRate(uint256 marketId) external view returns (uint256 mmrX18);
}
