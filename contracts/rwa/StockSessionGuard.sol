// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {AccessControlled} from "../access/AccessControlled.sol";
import {Roles} from "../access/Roles.sol";

/// @title StockSessionGuard
/// @notice Market-session state of each tokenised stock and the closed-session price guard
/// (SECURITY R3): while the stock's home market is closed, a price update may move at most
/// `maxClosedMoveBps` from the last accepted price, and its perp market is reduce-only.
/// @dev The oracle asks {boundPrice} before accepting a stock price and the engine asks
/// {isReduceOnly} before risk-increasing trades. The market-calendar keeper opens and closes
/// sessions; governance sets the cap. Bounds round towards the last price (tighter).
contract StockSessionGuard is AccessControlled {
    /// @notice Basis-point denominator.
    uint256 public constant BPS = 10_000;

    /// @notice Session state of one stock.
    /// @param open Whether the home market is trading.
    /// @param maxClosedMoveBps Largest move per update while closed, in basis points.
    struct Session {
        bool open;
        uint16 maxClosedMoveBps;
    }

    /// @notice Sessions by stock token.
    mapping(address stock => Session) public sessions;

    /// @notice The cap exceeds 100%.
    error StockSessionGuardCapTooLarge(uint256 maxClosedMoveBps);

    /// @notice The session of `stock` opened or closed.
    event SessionSet(address indexed stock, bool open);
    /// @notice The closed-session cap of `stock` changed.
    event ClosedMoveCapSet(address indexed stock, uint16 maxClosedMoveBps);

    /// @param acl_ The deployment's {ProtocolAccess}.
    constructor(IAccessControl acl_) AccessControlled(acl_) {}

    /// @notice Opens or closes the session of `stock` (market-calendar keeper).
    /// @param stock The stock token.
    /// @param open True when the home market trades.
    function setSession(address stock, bool open) external onlyRole(Roles.KEEPER) {
        sessions[stock].open = open;
        emit SessionSet(stock, open);
    }

    /// @notice Sets the closed-session move cap of `stock` (admin).
    /// @param stock The stock token.
    /// @param maxClosedMoveBps Cap in basis points, at most 10 000.
    function setClosedMoveCap(address stock, uint16 maxClosedMoveBps) external onlyRole(Roles.ADMIN) {
        if (maxClosedMoveBps > BPS) revert StockSessionGuardCapTooLarge(maxClosedMoveBps);
        sessions[stock].maxClosedMoveBps = maxClosedMoveBps;
        emit ClosedMoveCapSet(stock, maxClosedMoveBps);
    }

    /// @notice The price to accept for `stock`: `proposedX18` while open; while closed, clamped to
    /// within the cap of `lastX18` (a first price, `lastX18 == 0`, is never clamped).
    /// @param stock The stock token.
    /// @param lastX18 The last accepted price.
    /// @param proposedX18 The new observation.
    /// @return priceX18 The price to accept.
    /// @return clamped Whether the observation was clamped.
    function boundPrice(address stock, uint256 lastX18, uint256 proposedX18)
        external
        view
        returns (uint256 priceX18, bool clamped)
    {
        Session memory s = sessions[stock];
        if (s.open || lastX18 == 0) return (proposedX18, false);
        uint256 upper = Math.mulDiv(lastX18, BPS + s.maxClosedMoveBps, BPS);
        uint256 lower = Math.mulDiv(lastX18, BPS - s.maxClosedMoveBps, BPS, Math.Rounding.Ceil);
        if (proposedX18 > upper) return (upper, true);
        if (proposedX18 < lower) return (lower, true);
        return (proposedX18, false);
    }

    /// @notice Whether risk-increasing trades in `stock`'s market are refused (session closed).
    /// @param stock The stock token.
    /// @return True while the session is closed.
    function isReduceOnly(address stock) external view returns (bool) {
        return !sessions[stock].open;
    }
}
