// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {AccessControlled} from "../access/AccessControlled.sol";
import {Roles} from "../access/Roles.sol";

/// @title StockSplit
/// @notice Share multiplier of a tokenised stock, changed by staged corporate actions (SECURITY R2).
/// @dev Balances never change on a split; the shares per token (`multiplierX18`) does, at a staged
/// activation time announced in advance. Price feeds quote per share, so a position's value is
/// `tokens * multiplierX18 * pricePerShare`: when a 2:1 split activates, the share price halves and
/// the multiplier doubles at the same instant, and {pricePerToken} is continuous, so the split
/// alone moves no one's equity and liquidates no one.
abstract contract StockSplit is AccessControlled {
    /// @notice Shortest notice for a split (activation at least this far in the future).
    uint64 public constant MIN_SPLIT_NOTICE = 1 days;

    uint256 private _multiplierX18 = 1e18;
    uint256 private _stagedX18;
    uint64 private _stagedAt;
    uint64 private _lastSplitAt;

    /// @notice The multiplier is zero.
    error StockSplitZeroMultiplier();
    /// @notice The activation is sooner than MIN_SPLIT_NOTICE from now.
    error StockSplitNoticeTooShort(uint64 activatesAt, uint256 earliest);
    /// @notice No split is staged (or it already activated).
    error StockSplitNothingStaged();

    /// @notice A multiplier change was staged.
    event SplitStaged(uint256 fromMultiplierX18, uint256 toMultiplierX18, uint64 activatesAt);
    /// @notice A staged multiplier change was cancelled before activation.
    event SplitCancelled(uint256 toMultiplierX18, uint64 activatesAt);

    /// @notice Stages a new multiplier (e.g. x2 for a 2:1 split), replacing any not yet active (admin).
    /// @param newMultiplierX18 Shares per token after activation, 18 decimals.
    /// @param activatesAt Activation time, at least MIN_SPLIT_NOTICE ahead.
    function stageSplit(uint256 newMultiplierX18, uint64 activatesAt) external onlyRole(Roles.ADMIN) {
        if (newMultiplierX18 == 0) revert StockSplitZeroMultiplier();
        if (activatesAt < block.timestamp + MIN_SPLIT_NOTICE) {
            revert StockSplitNoticeTooShort(activatesAt, block.timestamp + MIN_SPLIT_NOTICE);
        }
        _syncSplit();
        emit SplitStaged(_multiplierX18, newMultiplierX18, activatesAt);
        _stagedX18 = newMultiplierX18;
        _stagedAt = activatesAt;
    }

    /// @notice Cancels the staged split before it activates (admin).
    function cancelSplit() external onlyRole(Roles.ADMIN) {
        _syncSplit();
        if (_stagedAt == 0) revert StockSplitNothingStaged();
        emit SplitCancelled(_stagedX18, _stagedAt);
        _stagedX18 = 0;
        _stagedAt = 0;
    }

    /// @notice Shares per token now, 18 decimals.
    /// @return The multiplier in force at this block.
    function multiplierX18() public view returns (uint256) {
        return (_stagedAt != 0 && block.timestamp >= _stagedAt) ? _stagedX18 : _multiplierX18;
    }

    /// @notice When the multiplier in force last changed (0: never).
    /// @return The activation time of the latest activated split.
    function lastSplitAt() public view returns (uint64) {
        return (_stagedAt != 0 && block.timestamp >= _stagedAt) ? _stagedAt : _lastSplitAt;
    }

    /// @notice The staged change (zeros when none is pending).
    /// @return toMultiplierX18 The staged multiplier.
    /// @return activatesAt Its activation time.
    function stagedSplit() external view returns (uint256 toMultiplierX18, uint64 activatesAt) {
        if (_stagedAt != 0 && block.timestamp >= _stagedAt) return (0, 0);
        return (_stagedX18, _stagedAt);
    }

    /// @notice Price of one token given the price of one share, both 18 decimals (rounded down).
    /// @param pricePerShareX18 The share price from the feed.
    /// @return The token price.
    function pricePerToken(uint256 pricePerShareX18) external view returns (uint256) {
        return Math.mulDiv(pricePerShareX18, multiplierX18(), 1e18);
    }

    /// @dev Folds an activated staged split into the multiplier in force.
    function _syncSplit() internal {
        if (_stagedAt != 0 && block.timestamp >= _stagedAt) {
            _multiplierX18 = _stagedX18;
            _lastSplitAt = _stagedAt;
            _stagedX18 = 0;
            _stagedAt = 0;
        }
    }

    /// @dev The multiplier in force at `timestamp` (not before `lastSplitAt`; call after {_syncSplit}).
    function _multiplierAt(uint64 timestamp) internal view returns (uint256) {
        return (_stagedAt != 0 && timestamp >= _stagedAt) ? _stagedX18 : _multiplierX18;
    }
}
