// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IPriceOracle} from "../interfaces/IPriceOracle.sol";

/// @title MockPriceOracle
/// @notice Settable IPriceOracle for tests: price, update time, health flag and volatility per asset.
/// @dev `getPrice` reverts for an unknown asset (price 0) or when marked stale, like the real oracle.
contract MockPriceOracle is IPriceOracle {
    struct Feed {
        uint256 priceX18;
        uint256 updatedAt;
        bool unhealthy;
        bool stale;
        uint256 volatilityX18;
    }

    mapping(bytes32 asset => Feed) private _feeds;

    /// @notice No price is set for the asset.
    error MockPriceOracleUnknownAsset(bytes32 asset);
    /// @notice The asset is marked stale.
    error MockPriceOracleStalePrice(bytes32 asset, uint256 updatedAt);

    /// @notice A price was set.
    event MockPriceSet(bytes32 indexed asset, uint256 priceX18, uint256 updatedAt);

    /// @notice Sets the price of `asset`, stamped with the current block time.
    function setPrice(bytes32 asset, uint256 priceX18) external {
        _feeds[asset].priceX18 = priceX18;
        _feeds[asset].updatedAt = block.timestamp;
        emit MockPriceSet(asset, priceX18, block.timestamp);
    }

    /// @notice Marks the asset's circuit breaker tripped (true) or clear (false).
    function setUnhealthy(bytes32 asset, bool unhealthy) external {
        _feeds[asset].unhealthy = unhealthy;
    }

    /// @notice Makes `getPrice` revert as stale (true) or not (false).
    function setStale(bytes32 asset, bool stale) external {
        _feeds[asset].stale = stale;
    }

    /// @notice Sets the realised volatility of the asset.
    function setVolatility(bytes32 asset, uint256 volatilityX18_) external {
        _feeds[asset].volatilityX18 = volatilityX18_;
    }

    /// @inheritdoc IPriceOracle
    function getPrice(bytes32 asset) external view returns (uint256 priceX18, uint256 updatedAt) {
        Feed storage f = _feeds[asset];
        if (f.priceX18 == 0) revert MockPriceOracleUnknownAsset(asset);
        if (f.stale) revert MockPriceOracleStalePrice(asset, f.updatedAt);
        return (f.priceX18, f.updatedAt);
    }

    /// @inheritdoc IPriceOracle
    function isHealthy(bytes32 asset) external view returns (bool) {
        Feed storage f = _feeds[asset];
        return f.priceX18 != 0 && !f.unhealthy && !f.stale;
    }

    /// @inheritdoc IPriceOracle
    function volatilityX18(bytes32 asset) external view returns (uint256) {
        return _feeds[asset].volatilityX18;
    }
}
