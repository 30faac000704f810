// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IPerpEngine
/// @notice What settlement, funding and liquidation call on the perpetual engine.
interface IPerpEngine {
    /// @notice One matched fill. The taker trades `sizeX18` at the maker's `priceX18`.
    /// @dev Flags per side: bit 0 API order (taker fee discount), bit 1 reduce-only, bit 2 short leg
    /// (hedge-mode accounts only: the fill applies to the short leg, else to the long leg), bit 3 long
    /// leg (declared by settled orders, see {applySettledFills}).
    struct Fill {
        uint256 marketId;
        address maker;
        address taker;
        bool takerIsBuy;
        uint256 sizeX18;
        uint256 priceX18;
        uint8 makerFlags;
        uint8 takerFlags;
    }

    /// @notice Applies `fills` in order (dYdX P1Trade shape), then checks the end state of every
    /// touched (account, token) once: initial margin if its risk increased, else maintenance.
    /// Reverts as a whole if any fill or check fails. Settler role only.
    function applyFills(Fill[] calldata fills) external;

    /// @notice {applyFills} for fills of signed orders (Settlement), packed: 87-byte big-endian records
    /// (layout: {FillCodec}; uint32 marketId, maker, taker, uint128 size and price, uint64 taker max fee
    /// rate, isBuy byte, maker and taker flag bytes; `FillCodecMalformed` unless whole records with isBuy
    /// 0 or 1). Each side's flags declare its leg (bit 3 long, bit 2 short, neither for one-way), which
    /// must match the account's hedge mode in the market (`PerpEngineHedgeLegMismatch`), and fill i's
    /// taker fee must not exceed `ceil(notional * maxFeeRate_i / 1e18)` (`PerpEngineTakerFeeAboveMax`).
    /// Settler role only.
    /// @param fills The packed fills.
    function applySettledFills(bytes calldata fills) external;

    /// @notice Adds `rateX18 * indexPrice` (linear) or `rateX18 / indexPrice` (inverse) to the
    /// market's cumulative funding index; longs pay when positive. Funding role only.
    function accrueFunding(uint256 marketId, int256 rateX18) external;

    /// @notice The markets where `account` has an open leg settled in `token`.
    function openMarketsOf(address account, address token) external view returns (uint256[] memory);

    /// @notice Equity of `account` in `token`: Vault balance + unsettled ledger + unrealised PnL at
    /// the index - funding owed, rounded down.
    function equity(address account, address token) external view returns (int256);

    /// @notice Initial margin requirement of `account` in `token`, rounded up.
    function initialMargin(address account, address token) external view returns (uint256);

    /// @notice Maintenance margin requirement of `account` in `token` (dynamic rate), rounded up.
    function maintenanceMargin(address account, address token) external view returns (uint256);

    /// @notice True when equity is below the maintenance requirement.
    function isLiquidatable(address account, address token) external view returns (bool);

    /// @notice Moves `account`'s unsettled ledger balance of `token` into its Vault balance (losses
    /// pulled, profits paid while the engine's pool holds enough). Returns the signed amount credited.
    function settle(address account, address token) external returns (int256 movedX18);

    /// @notice Settles the pending funding of every leg of `account` in `marketId` into its ledger.
    function settleFunding(address account, uint256 marketId) external;

    /// @notice The seed's margin ratio M = Equity / InitialMargin, 18 decimals.
    function marginRatio(address account, address token) external view returns (int256 ratioX18);

    /// @notice Re-evaluates the account's negative-equity flag (withdrawal gate).
    function pokeNegativeEquity(address account, address token) external returns (bool negative);
}
