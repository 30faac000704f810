// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";

/// @title PerpMath
/// @notice Pure fixed-point maths of the perpetual engine for linear and inverse contracts.
/// @dev Conventions (SPEC section 2):
/// - `size` is signed, 18 decimals (long > 0). Linear: base units. Inverse: USD contract units.
/// - Every amount of value is in collateral units, 18 decimals (`X18`).
/// - The *value* of a signed size at a price is `size * price` (linear, quote per base) or
///   `-size / price` (inverse, coin per USD: a long of N USD contracts is worth `-N / p` coin plus the
///   `+N / entry` paid in at entry, so PnL = N (1/entry - 1/exit)).
/// - Trade cash flows use {valueUp}: each side's value rounds toward +inf, so each side's cash rounds
///   down; the 0-1 atom residual of a fill goes to the engine's fee pool (zero-sum to the wei).
/// - Views that the protocol relies on round in its favour: {markValueFloor} (equity down),
///   {notionalUp} and {mulRateUp} (requirements up).
library PerpMath {
    using SafeCast for uint256;
    using SafeCast for int256;

    /// @notice One in 18-decimal fixed point.
    uint256 internal constant ONE = 1e18;

    /// @notice The value of `size` at `priceX18`, rounded toward positive infinity: the cash a trader
    /// books for a size change (`cash = -valueUp(delta)`), so every trader's cash rounds down.
    /// @dev `valueUp(x) + valueUp(-x)` is 0 or 1: the residual of a fill goes to the fee pool.
    /// @param inverse True for an inverse (coin-margined) market.
    /// @param size Signed size, 18 decimals.
    /// @param priceX18 Price, 18 decimals, non-zero.
    /// @return value Signed value in collateral units, 18 decimals.
    function valueUp(bool inverse, int256 size, uint256 priceX18) internal pure returns (int256 value) {
        return -markValueFloor(inverse, -size, priceX18);
    }

    /// @notice The value of `size` at `priceX18`, rounded toward negative infinity (equity rounds down).
    /// @param inverse True for an inverse market.
    /// @param size Signed size, 18 decimals.
    /// @param priceX18 Price, 18 decimals, non-zero.
    /// @return value Signed value in collateral units, 18 decimals.
    function markValueFloor(bool inverse, int256 size, uint256 priceX18) internal pure returns (int256 value) {
        bool negative = (size < 0) != inverse;
        if (size == 0) return 0;
        int256 v = _valueMagnitude(inverse, SignedMath.abs(size), priceX18, negative).toInt256();
        return negative ? -v : v;
    }

    /// @notice The absolute notional of `absSize` at `priceX18` in collateral units, rounded up.
    /// @param inverse True for an inverse market.
    /// @param absSize Unsigned size, 18 decimals.
    /// @param priceX18 Price, 18 decimals, non-zero.
    /// @return notionalX18 Notional in collateral units, 18 decimals.
    function notionalUp(bool inverse, uint256 absSize, uint256 priceX18) internal pure returns (uint256 notionalX18) {
        return _valueMagnitude(inverse, absSize, priceX18, true);
    }

    /// @notice `amountX18 * rateX18 / 1e18`, rounded up (what a trader pays or must hold).
    /// @param amountX18 The base amount.
    /// @param rateX18 The rate.
    /// @return result The product, rounded up.
    function mulRateUp(uint256 amountX18, uint256 rateX18) internal pure returns (uint256 result) {
        return _mulDiv(amountX18, rateX18, ONE, true);
    }

    /// @notice `amountX18 * rateX18 / 1e18`, rounded down (what a trader receives).
    /// @param amountX18 The base amount.
    /// @param rateX18 The rate.
    /// @return result The product, rounded down.
    function mulRateDown(uint256 amountX18, uint256 rateX18) internal pure returns (uint256 result) {
        return _mulDiv(amountX18, rateX18, ONE, false);
    }

    /// @notice Size-dependent rate `min(baseX18 + slopeX18 * notional / 1e18, 1e18)`, the slope term
    /// rounded up.
    /// @param baseX18 The rate at zero size.
    /// @param slopeX18 The rate added per unit of notional (collateral units).
    /// @param notionalX18 The notional.
    /// @return rateX18 The rate, at most 100%.
    function sizedRate(uint256 baseX18, uint256 slopeX18, uint256 notionalX18) internal pure returns (uint256) {
        if (slopeX18 == 0) return baseX18;
        return Math.min(baseX18 + mulRateUp(slopeX18, notionalX18), ONE);
    }

    /// @notice The share `part / whole` of a signed open value, rounded toward positive infinity.
    /// @dev Used for the cost basis removed on a partial close: rounding the removed basis up rounds
    /// the realised PnL (= closing value - removed basis) down.
    /// @param openValue The signed open value (cost basis) of the position.
    /// @param part The closed size (magnitude), at most `whole`.
    /// @param whole The position size (magnitude), non-zero.
    /// @return share The signed share of the basis.
    function basisShareUp(int256 openValue, uint256 part, uint256 whole) internal pure returns (int256 share) {
        if (part == whole) return openValue;
        uint256 abs = SignedMath.abs(openValue);
        if (openValue >= 0) return _mulDiv(abs, part, whole, true).toInt256();
        return -_mulDiv(abs, part, whole, false).toInt256();
    }

    /// @notice Funding a position of `size` owes for an index move of `indexDelta`: `size * delta / 1e18`,
    /// rounded toward positive infinity (a payer pays rounded up, a receiver receives rounded down).
    /// @param size Signed size, 18 decimals.
    /// @param indexDelta The change of the cumulative funding index since the position's snapshot.
    /// @return owed Positive when the position pays, negative when it receives.
    function fundingOwedUp(int256 size, int256 indexDelta) internal pure returns (int256 owed) {
        if (size == 0 || indexDelta == 0) return 0;
        bool negative = (size < 0) != (indexDelta < 0);
        int256 m = _mulDiv(SignedMath.abs(size), SignedMath.abs(indexDelta), ONE, !negative).toInt256();
        return negative ? -m : m;
    }

    /// @notice The per-unit funding amount for a rate at an index price, truncated toward zero.
    /// @dev Linear: `rate * price` (quote per base unit). Inverse: `rate / price` (coin per USD unit).
    /// @param inverse True for an inverse market.
    /// @param rateX18 The signed funding rate for the interval (longs pay when positive).
    /// @param priceX18 The index price.
    /// @return perUnitX18 The signed index increment.
    function fundingPerUnit(bool inverse, int256 rateX18, uint256 priceX18) internal pure returns (int256 perUnitX18) {
        uint256 abs = SignedMath.abs(rateX18);
        uint256 m = inverse ? _mulDiv(abs, ONE, priceX18, false) : _mulDiv(abs, priceX18, ONE, false);
        int256 v = m.toInt256();
        return rateX18 < 0 ? -v : v;
    }

    function _valueMagnitude(bool inverse, uint256 absSize, uint256 priceX18, bool up) private pure returns (uint256) {
        return inverse ? _mulDiv(absSize, ONE, priceX18, up) : _mulDiv(absSize, priceX18, ONE, up);
    }

    /// @dev `a * b / d` rounded down, or up when `up`: the same result (and the same panics) as
    /// `Math.mulDiv(a, b, d, up ? Ceil : Floor)` for EVERY input. When both factors are below 2^128 their
    /// product fits 256 bits, so one multiplication and one division are exact; the result is then at most
    /// `(2^128 - 1)^2 < 2^256 - 2^129`, so the rounding increment cannot overflow. Otherwise Math.mulDiv's
    /// 512-bit path. Sizes (int112), bases (int104), prices, rates and funding indices of real markets stay
    /// far below 2^128, so the settlement path takes the short branch.
    function _mulDiv(uint256 a, uint256 b, uint256 d, bool up) private pure returns (uint256 q) {
        if ((a | b) >> 128 != 0) return Math.mulDiv(a, b, d, up ? Math.Rounding.Ceil : Math.Rounding.Floor);
        uint256 p;
        unchecked {
            p = a * b; // exact: a, b < 2^128
        }
        q = p / d; // checked: d == 0 panics (0x12) as Math.mulDiv does
        if (up && p % d != 0) {
            unchecked {
                ++q; // q <= p < 2^256 - 2^129
            }
        }
    }
}
