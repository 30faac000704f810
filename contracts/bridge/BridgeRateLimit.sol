// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title BridgeRateLimit
/// @notice Fixed-window rate limit: at most `capacity` token units leave the bridge in any window
/// `[k * window, (k + 1) * window)` of block time (SECURITY B9).
/// @dev A fixed window is chosen over a token bucket because its invariant is exact and checkable by
/// a monitor from events alone: the sum of releases whose timestamps fall in one window never exceeds
/// the capacity in force. Worst case across a window boundary is `2 * capacity` in `window` seconds,
/// which the capacity must be sized for.
library BridgeRateLimit {
    /// @notice Usage of one token's limit.
    /// @param windowId The index `block.timestamp / window` of the window `used` refers to.
    /// @param used Amount released in window `windowId`.
    struct State {
        uint64 windowId;
        uint192 used;
    }

    /// @notice The amount released in the current window, given the window length.
    /// @param state The token's usage.
    /// @param window The window length in seconds (non-zero).
    /// @return used Amount already released in the window containing `block.timestamp`.
    function usedNow(State storage state, uint256 window) internal view returns (uint256 used) {
        return state.windowId == block.timestamp / window ? state.used : 0;
    }

    /// @notice The amount still releasable in the current window.
    /// @param state The token's usage.
    /// @param capacity The per-window capacity.
    /// @param window The window length in seconds (non-zero).
    /// @return available `capacity - used`, or 0 when the capacity was lowered below the usage.
    function available(State storage state, uint256 capacity, uint256 window) internal view returns (uint256) {
        uint256 used = usedNow(state, window);
        return used >= capacity ? 0 : capacity - used;
    }

    /// @notice Consumes `amount` of the current window's capacity.
    /// @dev Returns false (and changes nothing) when `amount` exceeds what is available, so the caller
    /// reverts with its own error carrying the values.
    /// @param state The token's usage.
    /// @param capacity The per-window capacity.
    /// @param window The window length in seconds (non-zero).
    /// @param amount The amount to release.
    /// @return ok Whether the amount fitted.
    function tryConsume(State storage state, uint256 capacity, uint256 window, uint256 amount)
        internal
        returns (bool ok)
    {
        uint256 id = block.timestamp / window;
        uint256 used = state.windowId == id ? state.used : 0;
        if (used > capacity || amount > capacity - used) return false;
        state.windowId = SafeCast.toUint64(id);
        state.used = SafeCast.toUint192(used + amount);
        return true;
    }
}
