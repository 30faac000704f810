// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IFeeSchedule
/// @notice Maker/taker fee tiers by trailing 30-day volume, the API-order discount and the fee split.
interface IFeeSchedule {
    /// @notice One fill to charge in {chargeFills}.
    struct FeeRequest {
        address maker;
        address taker;
        uint256 notionalX18;
        uint256 volumeUsdX18;
        bool takerApi;
    }

    /// @notice Charges one fill: returns the taker's fee and the maker's rebate at the accounts'
    /// current tiers, then records `volumeUsdX18` for both accounts. Ledger modules only.
    /// @param maker The maker account.
    /// @param taker The taker account.
    /// @param notionalX18 The fill's notional in collateral units (fees are charged on it).
    /// @param volumeUsdX18 The fill's notional in USD (volume tracking).
    /// @param takerApi True when the taker's order was flagged as an API order.
    /// @return takerFeeX18 Fee the taker pays, rounded up.
    /// @return makerRebateX18 Rebate the maker receives, rounded down; never above the taker fee.
    function chargeFill(address maker, address taker, uint256 notionalX18, uint256 volumeUsdX18, bool takerApi)
        external
        returns (uint256 takerFeeX18, uint256 makerRebateX18);

    /// @notice Charges fills in order, like {chargeFill} for each (a fill's tiers include the volume of the
    /// fills before it), emitting one `VolumesRecorded` event for all of them. Ledger modules only.
    /// @param fills Packed {FeeRequest}s, 105 bytes each (layout: {FillCodec}: maker, taker, takerApi byte
    /// 0 or 1, uint256 notional, uint256 USD volume); `FillCodecMalformed` unless whole, valid records.
    /// @return results Per fill, 64 bytes: uint256 taker fee (rounded up), uint256 maker rebate (rounded
    /// down; never above the taker fee).
    function chargeFills(bytes calldata fills) external returns (bytes memory results);

    /// @notice The fees {chargeFill} would charge now, without recording volume.
    function quoteFill(address maker, address taker, uint256 notionalX18, bool takerApi)
        external
        view
        returns (uint256 takerFeeX18, uint256 makerRebateX18);

    /// @notice Share of collected fees that goes to the insurance fund (18 decimals); the rest to treasury.
    function insuranceShareX18() external view returns (uint256);

    /// @notice The account that receives the treasury share of fees.
    function treasury() external view returns (address);

    /// @notice The insurance fund account (receives its fee share and the funding rounding surplus).
    function insuranceFund() external view returns (address);
}
