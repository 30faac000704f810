// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IPriceOracle
/// @notice What the perpetual engine, funding and liquidation read from the index-price oracle.
/// @dev Assets are identified by a bytes32 id (e.g. keccak256("ETH"), keccak256("AAPL")).
/// Prices are 18-decimal USD per unit of the asset (`priceX18`).
interface IPriceOracle {
    /// @notice The index price of `asset` for margin decisions.
    /// @dev Reverts when the price is older than the asset's max age or the asset is unknown;
    /// margin users must never act on a stale price.
    /// @return priceX18 The median index price, 18 decimals.
    /// @return updatedAt The timestamp of the index update.
    function getPrice(bytes32 asset) external view returns (uint256 priceX18, uint256 updatedAt);

    /// @notice False while the asset's circuit breaker is tripped (quorum lost, abnormal jump,
    /// stale price): risk-increasing actions must be refused.
    function isHealthy(bytes32 asset) external view returns (bool);

    /// @notice Realised volatility of the asset's recent index returns over the window the oracle
    /// documents (18 decimals, 1e18 = 100%), for dynamic maintenance margin (SPEC section 3).
    function volatilityX18(bytes32 asset) external view returns (uint256);
}
