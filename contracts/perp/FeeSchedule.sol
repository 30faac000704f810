// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {AccessControlled} from "../access/AccessControlled.sol";
import {Roles} from "../access/Roles.sol";
import {IFeeSchedule} from "../interfaces/IFeeSchedule.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FillCodec} from "../libraries/FillCodec.sol";
import {PerpMath} from "../libraries/PerpMath.sol";

/// @title FeeSchedule
/// @notice Six maker/taker fee tiers by trailing 30-day traded volume (seed 000 section 3), a
/// further discount on API-flagged taker orders, and the treasury / insurance fee split.
/// @dev Volume is tracked per account in 30 daily buckets (UTC days, the current day included) with a
/// running sum. The current day's volume lives in the account's header slot next to the day and the
/// running sum, and moves to its bucket on the account's first record of a later day: a fill costs one
/// storage write per side (plus one bucket write and one clear per elapsed day, at most 30). Tiers are checked so that every tier's maker rebate is at most the lowest effective taker fee:
/// the fee pool never pays out more than it takes on any single fill.
contract FeeSchedule is IFeeSchedule, AccessControlled {
    using SafeCast for uint256;

    /// @notice Number of fee tiers.
    uint256 public constant TIER_COUNT = 6;
    /// @notice Volume window in days.
    uint256 public constant WINDOW_DAYS = 30;
    /// @notice Highest taker fee rate a tier may charge (1%).
    uint256 public constant MAX_TAKER_RATE_X18 = 1e16;

    /// @notice One fee tier.
    struct Tier {
        uint128 minVolumeUsdX18;
        uint64 takerRateX18;
        uint64 makerRebateRateX18;
    }

    /// @dev `header` packs the account's last trading day (bits 0-31), that day's volume (bits 32-143) and
    /// the running sum over the window (bits 144-255): one slot read and written whole per record.
    struct VolumeBook {
        uint256 header;
        uint256[WINDOW_DAYS] buckets;
    }

    /// @dev What {chargeFills} reads once per call: the tiers, the API fee factor, the UTC day, and the
    /// {VolumesRecorded} records being written.
    struct Batch {
        Tier[TIER_COUNT] tiers;
        uint256 apiFactorX18;
        uint256 today;
        bytes records;
    }

    Tier[TIER_COUNT] private _tiers;
    mapping(address account => VolumeBook) private _volumes;

    /// @notice Discount on API-flagged taker fees (18 decimals, 1e17 = 10%).
    uint256 public apiDiscountX18;
    /// @inheritdoc IFeeSchedule
    uint256 public insuranceShareX18;
    /// @inheritdoc IFeeSchedule
    address public treasury;
    /// @inheritdoc IFeeSchedule
    address public insuranceFund;

    /// @notice A required address is zero.
    error FeeScheduleZeroAddress();
    /// @notice The tier index is out of range.
    error FeeScheduleInvalidTier(uint256 index);
    /// @notice Tier thresholds must start at 0 and strictly increase.
    error FeeScheduleThresholdsNotIncreasing(uint256 index, uint256 minVolumeUsdX18);
    /// @notice A rate is above its bound.
    error FeeScheduleRateTooHigh(uint256 rateX18, uint256 maxX18);
    /// @notice Some maker rebate exceeds the lowest effective taker fee (the fee pool could go negative).
    error FeeScheduleRebateAboveTakerFee(uint256 maxRebateRateX18, uint256 minTakerRateX18);

    /// @notice A tier changed.
    event TierSet(uint256 indexed index, uint256 minVolumeUsdX18, uint256 takerRateX18, uint256 makerRebateRateX18);
    /// @notice The API discount changed.
    event ApiDiscountSet(uint256 discountX18);
    /// @notice The fee split changed.
    event FeeSplitSet(address treasury, address insuranceFund, uint256 insuranceShareX18);
    /// @notice Volume was recorded for an account.
    event VolumeRecorded(address indexed account, uint256 day, uint256 volumeUsdX18, uint256 trailingX18);
    /// @notice {chargeFills} recorded volume on UTC day `day`: per fill, in order, 88 bytes
    /// `abi.encodePacked(address maker, address taker, uint128 volumeUsdX18, uint128 makerTrailingX18,
    /// uint128 takerTrailingX18)` (both sides record the fill's volume; trailing = after the record).
    event VolumesRecorded(uint256 day, bytes records);

    /// @param acl_ The deployment's ProtocolAccess.
    /// @param treasury_ Receives the treasury share of fees.
    /// @param insuranceFund_ The insurance fund account.
    /// @param insuranceShareX18_ Share of fees for the insurance fund.
    constructor(IAccessControl acl_, address treasury_, address insuranceFund_, uint256 insuranceShareX18_)
        AccessControlled(acl_)
    {
        _setSplit(treasury_, insuranceFund_, insuranceShareX18_);
    }

    // ---------------------------------------------------------------- governance

    /// @notice Replaces all six tiers at once (thresholds must start at 0 and strictly increase).
    /// @param tiers The new tiers, lowest first.
    function setTiers(Tier[TIER_COUNT] calldata tiers) external onlyRole(Roles.ADMIN) {
        for (uint256 i; i < TIER_COUNT; ++i) {
            Tier calldata t = tiers[i];
            if ((i == 0 && t.minVolumeUsdX18 != 0) || (i > 0 && t.minVolumeUsdX18 <= tiers[i - 1].minVolumeUsdX18)) {
                revert FeeScheduleThresholdsNotIncreasing(i, t.minVolumeUsdX18);
            }
            if (t.takerRateX18 > MAX_TAKER_RATE_X18) revert FeeScheduleRateTooHigh(t.takerRateX18, MAX_TAKER_RATE_X18);
            _tiers[i] = t;
            emit TierSet(i, t.minVolumeUsdX18, t.takerRateX18, t.makerRebateRateX18);
        }
        _checkRebatesCovered();
    }

    /// @notice Sets the API-order discount on taker fees.
    /// @param discountX18 The discount, at most 100%.
    function setApiDiscount(uint256 discountX18) external onlyRole(Roles.ADMIN) {
        if (discountX18 > 1e18) revert FeeScheduleRateTooHigh(discountX18, 1e18);
        apiDiscountX18 = discountX18;
        emit ApiDiscountSet(discountX18);
        _checkRebatesCovered();
    }

    /// @notice Sets the treasury, the insurance fund and the insurance share of fees.
    /// @param treasury_ Treasury account.
    /// @param insuranceFund_ Insurance fund account.
    /// @param insuranceShareX18_ Insurance share, at most 100%.
    function setFeeSplit(address treasury_, address insuranceFund_, uint256 insuranceShareX18_)
        external
        onlyRole(Roles.ADMIN)
    {
        _setSplit(treasury_, insuranceFund_, insuranceShareX18_);
    }

    // ---------------------------------------------------------------- ledger

    /// @inheritdoc IFeeSchedule
    function chargeFill(address maker, address taker, uint256 notionalX18, uint256 volumeUsdX18, bool takerApi)
        external
        onlyRole(Roles.LEDGER)
        returns (uint256 takerFeeX18, uint256 makerRebateX18)
    {
        (takerFeeX18, makerRebateX18) = _quote(maker, taker, notionalX18, takerApi);
        uint256 today = block.timestamp / 1 days;
        (, uint256 makerTrailing) = _record(maker, volumeUsdX18, today);
        (, uint256 takerTrailing) = _record(taker, volumeUsdX18, today);
        emit VolumeRecorded(maker, today, volumeUsdX18, makerTrailing);
        emit VolumeRecorded(taker, today, volumeUsdX18, takerTrailing);
    }

    /// @inheritdoc IFeeSchedule
    function chargeFills(bytes calldata fills) external onlyRole(Roles.LEDGER) returns (bytes memory results) {
        uint256 n = FillCodec.feeRequestCount(fills);
        results = new bytes(n * FillCodec.FEE_RESULT_BYTES);
        FeeRequest memory r;
        Batch memory b;
        b.tiers = _tiers; // read once for the whole batch
        b.apiFactorX18 = 1e18 - apiDiscountX18;
        b.today = block.timestamp / 1 days;
        b.records = new bytes(n * 88 + 32);
        for (uint256 i; i < n; ++i) {
            FillCodec.readFeeRequest(fills, i, r);
            (uint256 fee, uint256 rebate) = _chargeOne(r, b, i);
            FillCodec.writeFeeResult(results, i, fee, rebate);
        }
        bytes memory records = b.records;
        assembly ("memory-safe") {
            mstore(records, mul(n, 88))
        }
        emit VolumesRecorded(b.today, records);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IFeeSchedule
    function quoteFill(address maker, address taker, uint256 notionalX18, bool takerApi)
        external
        view
        returns (uint256 takerFeeX18, uint256 makerRebateX18)
    {
        return _quote(maker, taker, notionalX18, takerApi);
    }

    /// @notice The tier at `index`.
    /// @param index 0..5.
    /// @return tier The tier.
    function tier(uint256 index) external view returns (Tier memory) {
        if (index >= TIER_COUNT) revert FeeScheduleInvalidTier(index);
        return _tiers[index];
    }

    /// @notice The account's traded volume over the current day and the 29 before it (USD, 18 decimals).
    /// @param account The account.
    /// @return volumeX18 Trailing volume.
    function trailingVolume(address account) public view returns (uint256 volumeX18) {
        VolumeBook storage book = _volumes[account];
        uint256 today = block.timestamp / 1 days;
        (uint256 last,, uint256 rolling) = _unpack(book.header);
        if (today >= last + WINDOW_DAYS) return 0;
        volumeX18 = rolling;
        for (uint256 d = last + 1; d <= today && volumeX18 != 0; ++d) {
            volumeX18 -= book.buckets[d % WINDOW_DAYS];
        }
    }

    /// @notice The account's current fee tier index (0..5).
    /// @param account The account.
    /// @return index The highest tier whose threshold the trailing volume reaches.
    function tierOf(address account) public view returns (uint256 index) {
        return _tierIndex(trailingVolume(account), _tiers);
    }

    // ---------------------------------------------------------------- internals

    /// @dev Fee and rebate of one fill of {chargeFills}; records both sides' volume (each side's tier is
    /// that of its trailing volume before this fill, as one call per fill) and writes the fill's 88-byte
    /// record at index `i` of `records`.
    function _chargeOne(FeeRequest memory r, Batch memory b, uint256 i)
        private
        returns (uint256 takerFee, uint256 makerRebate)
    {
        uint256 volume = r.volumeUsdX18.toUint128();
        (uint256 takerBefore, uint256 takerTrailing) = _record(r.taker, volume, b.today);
        (uint256 makerBefore, uint256 makerTrailing) = _record(r.maker, volume, b.today);
        _putRecord(b.records, i, r, volume, makerTrailing, takerTrailing);
        uint256 takerRate = b.tiers[_tierIndex(takerBefore, b.tiers)].takerRateX18;
        if (r.takerApi) takerRate = _mulUp(takerRate, b.apiFactorX18);
        uint256 notional = r.notionalX18;
        takerFee = _mulUp(notional, takerRate);
        makerRebate = notional * b.tiers[_tierIndex(makerBefore, b.tiers)].makerRebateRateX18 / 1e18;
    }

    /// @dev `a * rateX18 / 1e18` rounded up: PerpMath.mulRateUp's result with a checked product (rates are at
    /// most 1e18 and notionals far below 2^196, so the product never overflows; if it did, it reverts).
    function _mulUp(uint256 a, uint256 rateX18) private pure returns (uint256) {
        uint256 p = a * rateX18;
        return p / 1e18 + (p % 1e18 == 0 ? 0 : 1);
    }

    /// @dev Writes record `i` of {VolumesRecorded}: maker, taker, uint128 volume and both trailing volumes.
    function _putRecord(
        bytes memory records,
        uint256 i,
        FeeRequest memory r,
        uint256 volume,
        uint256 makerTrailing,
        uint256 takerTrailing
    ) private pure {
        (address maker, address taker) = (r.maker, r.taker);
        assembly ("memory-safe") {
            // increasing addresses, whole-word stores; the spare word absorbs the last spill
            let p := add(add(records, 0x20), mul(i, 88))
            mstore(p, shl(96, maker))
            mstore(add(p, 20), shl(96, taker))
            mstore(add(p, 40), or(shl(128, volume), makerTrailing))
            mstore(add(p, 72), shl(128, takerTrailing))
        }
    }

    function _quote(address maker, address taker, uint256 notionalX18, bool takerApi)
        private
        view
        returns (uint256 takerFeeX18, uint256 makerRebateX18)
    {
        uint256 takerRate = _tiers[tierOf(taker)].takerRateX18;
        if (takerApi) takerRate = PerpMath.mulRateUp(takerRate, 1e18 - apiDiscountX18);
        takerFeeX18 = PerpMath.mulRateUp(notionalX18, takerRate);
        makerRebateX18 = PerpMath.mulRateDown(notionalX18, _tiers[tierOf(maker)].makerRebateRateX18);
    }

    /// @dev The highest tier whose threshold `volume` reaches (thresholds strictly increase, so volume below
    /// tier 1's threshold, most accounts, is tier 0 without scanning the others).
    function _tierIndex(uint256 volume, Tier[TIER_COUNT] memory tiers) private pure returns (uint256 index) {
        if (volume < tiers[1].minVolumeUsdX18) return 0;
        for (index = TIER_COUNT - 1; index > 1; --index) {
            if (volume >= tiers[index].minVolumeUsdX18) return index;
        }
    }

    /// @dev Adds the volume to the account's current day (`today`); returns its trailing volume before and
    /// after that. One read and one write of the header slot; bucket slots only on a new day.
    function _record(address account, uint256 volumeUsdX18, uint256 today)
        private
        returns (uint256 before, uint256 trailing)
    {
        VolumeBook storage book = _volumes[account];
        (uint256 last, uint256 current, uint256 rolling) = _unpack(book.header);
        if (today != last) (current, rolling) = (0, _closeDays(book, last, current, rolling, today));
        before = rolling;
        trailing = rolling + volumeUsdX18;
        book.header = uint256(today.toUint32()) | (uint256((current + volumeUsdX18).toUint112()) << 32)
            | (uint256(trailing.toUint112()) << 144);
    }

    /// @dev Splits a {VolumeBook} header into its last day, that day's volume and the rolling sum.
    function _unpack(uint256 header) private pure returns (uint256 last, uint256 current, uint256 rolling) {
        return (uint32(header), uint112(header >> 32), header >> 144);
    }

    /// @dev Day `last` is over: its volume (`current`) goes to its bucket; then the buckets of days that
    /// left the window by `today` are cleared and taken off `rolling` (rolling == sum(buckets) + current:
    /// with nothing in the window, nothing to clear). Returns the rolling sum after that.
    function _closeDays(VolumeBook storage book, uint256 last, uint256 current, uint256 rolling, uint256 today)
        private
        returns (uint256)
    {
        if (current != 0) book.buckets[last % WINDOW_DAYS] = current;
        uint256 end = today < last + WINDOW_DAYS ? today : last + WINDOW_DAYS;
        for (uint256 d = last + 1; d <= end && rolling != 0; ++d) {
            uint256 slot = d % WINDOW_DAYS;
            uint256 expired = book.buckets[slot];
            if (expired != 0) {
                rolling -= expired;
                book.buckets[slot] = 0;
            }
        }
        return rolling;
    }

    function _checkRebatesCovered() private view {
        uint256 minTaker = type(uint256).max;
        uint256 maxRebate;
        for (uint256 i; i < TIER_COUNT; ++i) {
            if (_tiers[i].takerRateX18 < minTaker) minTaker = _tiers[i].takerRateX18;
            if (_tiers[i].makerRebateRateX18 > maxRebate) maxRebate = _tiers[i].makerRebateRateX18;
        }
        uint256 minEffective = PerpMath.mulRateDown(minTaker, 1e18 - apiDiscountX18);
        if (maxRebate > minEffective) revert FeeScheduleRebateAboveTakerFee(maxRebate, minEffective);
    }

    function _setSplit(address treasury_, address insuranceFund_, uint256 insuranceShareX18_) private {
        if (treasury_ == address(0) || insuranceFund_ == address(0)) revert FeeScheduleZeroAddress();
        if (insuranceShareX18_ > 1e18) revert FeeScheduleRateTooHigh(insuranceShareX18_, 1e18);
        treasury = treasury_;
        insuranceFund = insuranceFund_;
        insuranceShareX18 = insuranceShareX18_;
        emit FeeSplitSet(treasury_, insuranceFund_, insuranceShareX18_);
    }
}
