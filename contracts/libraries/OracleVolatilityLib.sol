// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title OracleVolatilityLib
/// @notice Realised volatility of an index from a ring buffer of squared, time-normalised returns.
/// @dev Model (mirrored by `offchain/oracle/reference.py`):
/// - A sample is taken when the index is updated at least `interval` seconds after the previous
///   sample. The first sample only records the price.
/// - Each later sample records the simple return `r = (p - p_prev) / p_prev` and stores its square
///   normalised to one interval: `r^2 * interval / elapsed` (a variance per interval, so a gap of
///   several intervals does not inflate the estimate).
/// - The last `WINDOW` normalised squares are kept with their running sum;
///   `volatility = sqrt(sum / count)`, a per-interval (not annualised) volatility, 1e18 = 100%.
/// - A return's magnitude is capped at `MAX_RETURN_X18` (10000%) before squaring, so no price path
///   can overflow the arithmetic and block oracle updates.
/// - Every step rounds up: the estimate feeds maintenance margin, so erring high is the protocol's
///   side.
library OracleVolatilityLib {
    /// @notice Number of returns the window keeps.
    uint256 internal constant WINDOW = 24;
    /// @notice 1.0 in 18-decimal fixed point.
    uint256 internal constant ONE_X18 = 1e18;
    /// @notice Largest return magnitude recorded (100x = 10000%).
    uint256 internal constant MAX_RETURN_X18 = 100e18;

    /// @notice Sampling state and ring buffer of one asset.
    struct Window {
        uint128 lastPriceX18;
        uint64 lastSampleAt;
        uint8 head;
        uint8 count;
        uint256 sumSquaresX18;
        uint256[WINDOW] squaresX18;
    }

    /// @notice Records a sample of `priceX18` at `timestamp` if `interval` seconds have passed since
    /// the previous one.
    /// @return sampled Whether a sample was taken.
    /// @return returnX18 The signed simple return since the previous sample (0 for the first one).
    function trySample(Window storage w, uint256 priceX18, uint256 timestamp, uint256 interval)
        internal
        returns (bool sampled, int256 returnX18)
    {
        uint256 last = w.lastPriceX18;
        if (last != 0 && timestamp < uint256(w.lastSampleAt) + interval) return (false, 0);
        if (last != 0) {
            uint256 elapsed = timestamp - w.lastSampleAt;
            uint256 diff = priceX18 > last ? priceX18 - last : last - priceX18;
            uint256 absReturn = Math.min(Math.mulDiv(diff, ONE_X18, last, Math.Rounding.Ceil), MAX_RETURN_X18);
            uint256 square = Math.mulDiv(absReturn, absReturn, ONE_X18, Math.Rounding.Ceil);
            uint256 normalised = Math.mulDiv(square, interval, elapsed, Math.Rounding.Ceil);
            _push(w, normalised);
            returnX18 = priceX18 >= last ? SafeCast.toInt256(absReturn) : -SafeCast.toInt256(absReturn);
        }
        w.lastPriceX18 = SafeCast.toUint128(priceX18);
        w.lastSampleAt = SafeCast.toUint64(timestamp);
        return (true, returnX18);
    }

    /// @notice Realised volatility per sampling interval (1e18 = 100%), rounded up; 0 before the
    /// first return is recorded.
    function volatility(Window storage w) internal view returns (uint256) {
        uint256 count = w.count;
        if (count == 0) return 0;
        uint256 variance = Math.ceilDiv(w.sumSquaresX18, count);
        return Math.sqrt(variance * ONE_X18, Math.Rounding.Ceil);
    }

    function _push(Window storage w, uint256 valueX18) private {
        uint256 head = w.head;
        uint256 count = w.count;
        if (count == WINDOW) {
            w.sumSquaresX18 -= w.squaresX18[head];
        } else {
            w.count = uint8(count + 1);
        }
        w.squaresX18[head] = valueX18;
        w.sumSquaresX18 += valueX18;
        w.head = uint8((head + 1) % WINDOW);
    }
}
