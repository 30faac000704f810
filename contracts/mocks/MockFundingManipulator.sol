// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice The two FundingModule entry points the manipulator uses.
interface IFundingModuleTarget {
    /// @notice Posts a contract price.
    function postContractPrice(uint256 marketId, uint256 priceX18) external;
    /// @notice Triggers the funding update.
    function updateFunding(uint256 marketId) external returns (uint256);
}

/// @title MockFundingManipulator
/// @notice Test attacker: a rogue poster that posts an extreme contract price and triggers the
/// funding update in the same transaction (same block), to show the post has no effect on it.
contract MockFundingManipulator {
    /// @notice Posts `priceX18` then updates funding of `marketId`, atomically.
    function postAndUpdate(IFundingModuleTarget module, uint256 marketId, uint256 priceX18) external {
        module.postContractPrice(marketId, priceX18);
        module.updateFunding(marketId);
    }

    /// @notice Posts twice in one transaction (the second replaces the first with zero weight).
    function postTwice(IFundingModuleTarget module, uint256 marketId, uint256 first, uint256 second) external {
        module.postContractPrice(marketId, first);
        module.postContractPrice(marketId, second);
    }
}
