"""FeeSchedule: tiers, API discount, rebate coverage, 30-day volume buckets, fee split, access."""

from __future__ import annotations

import ape
import pytest
from helpers import isolated

from offchain import roles
from offchain.perp.deploy import DEFAULT_TIERS
from offchain.perp.math import ONE, mul_rate_down, mul_rate_up

BPS = ONE // 10_000
DAY = 86400


@pytest.fixture
def ledger_fees(fees, acl, admin, ledger):
    acl.grantRole(roles.LEDGER, ledger, sender=admin)
    return fees


def warp(chain, seconds):
    chain.pending_timestamp += seconds
    chain.mine()


def test_default_tiers_follow_the_seed(fees):
    for i, (vol, taker, maker) in enumerate(DEFAULT_TIERS):
        t = fees.tier(i)
        assert (t.minVolumeUsdX18, t.takerRateX18, t.makerRebateRateX18) == (vol, taker, maker)
    assert fees.tier(5).takerRateX18 * 10 == fees.tier(0).takerRateX18 * 4  # top tier 60% off
    assert fees.apiDiscountX18() == ONE // 10
    with ape.reverts(fees.FeeScheduleInvalidTier, index=6):
        fees.tier(6)


def test_charge_records_volume_and_upgrades_tiers(ledger_fees, ledger, alice, bob, chain):
    fees = ledger_fees
    notional = 600_000 * ONE
    tx = fees.chargeFill(alice, bob, notional, notional, False, sender=ledger)
    assert [(e.account, e.volumeUsdX18, e.trailingX18) for e in tx.events.filter(fees.VolumeRecorded)] == [
        (alice, notional, notional),
        (bob, notional, notional),
    ]
    assert fees.tierOf(bob) == 0
    fees.chargeFill(alice, bob, notional, notional, False, sender=ledger)
    assert fees.trailingVolume(bob) == 2 * notional
    assert fees.tierOf(bob) == 1  # 1.2m >= 1m
    taker, rebate = fees.quoteFill(alice, bob, 10_000 * ONE + 1, False)
    assert taker == mul_rate_up(10_000 * ONE + 1, 17 * BPS)
    assert rebate == mul_rate_down(10_000 * ONE + 1, 25 * BPS // 10)
    api_taker, _ = fees.quoteFill(alice, bob, 10_000 * ONE + 1, True)
    assert api_taker == mul_rate_up(10_000 * ONE + 1, mul_rate_up(17 * BPS, ONE - ONE // 10))
    assert api_taker < taker


def test_volume_window_rolls_over_thirty_days(ledger_fees, ledger, alice, bob, chain):
    fees = ledger_fees
    fees.chargeFill(alice, bob, ONE, 700_000 * ONE, False, sender=ledger)
    warp(chain, 10 * DAY)
    fees.chargeFill(alice, bob, ONE, 500_000 * ONE, False, sender=ledger)
    assert fees.trailingVolume(bob) == 1_200_000 * ONE and fees.tierOf(bob) == 1
    warp(chain, 20 * DAY)  # the first day has left the window
    assert fees.trailingVolume(bob) == 500_000 * ONE and fees.tierOf(bob) == 0
    fees.chargeFill(alice, bob, ONE, 100_000 * ONE, False, sender=ledger)
    assert fees.trailingVolume(bob) == 600_000 * ONE
    warp(chain, 60 * DAY)
    assert fees.trailingVolume(bob) == 0
    fees.chargeFill(alice, bob, ONE, 5 * ONE, False, sender=ledger)
    assert fees.trailingVolume(bob) == 5 * ONE


def test_only_ledger_charges(fees, stranger, alice, bob):
    with ape.reverts(fees.AccessControlUnauthorizedAccount, account=stranger, role=roles.LEDGER):
        fees.chargeFill(alice, bob, ONE, ONE, False, sender=stranger)


def test_only_admin_governs(fees, stranger):
    with ape.reverts(fees.AccessControlUnauthorizedAccount, account=stranger, role=roles.ADMIN):
        fees.setApiDiscount(0, sender=stranger)
    with ape.reverts(fees.AccessControlUnauthorizedAccount, account=stranger, role=roles.ADMIN):
        fees.setFeeSplit(stranger, stranger, 0, sender=stranger)
    with ape.reverts(fees.AccessControlUnauthorizedAccount, account=stranger, role=roles.ADMIN):
        fees.setTiers([[i, 0, 0] for i in range(6)], sender=stranger)


def test_tier_validation(fees, admin):
    base = [list(t) for t in DEFAULT_TIERS]
    bad = [row[:] for row in base]
    bad[0][0] = 1
    with ape.reverts(fees.FeeScheduleThresholdsNotIncreasing, index=0, minVolumeUsdX18=1):
        fees.setTiers(bad, sender=admin)
    bad = [row[:] for row in base]
    bad[3][0] = bad[2][0]
    with ape.reverts(fees.FeeScheduleThresholdsNotIncreasing, index=3, minVolumeUsdX18=bad[3][0]):
        fees.setTiers(bad, sender=admin)
    bad = [row[:] for row in base]
    bad[1][1] = 101 * BPS
    with ape.reverts(fees.FeeScheduleRateTooHigh, rateX18=101 * BPS, maxX18=100 * BPS):
        fees.setTiers(bad, sender=admin)
    # a 8 bps rebate would exceed the top tier's API taker fee (8 bps * 0.9 = 7.2 bps)
    bad = [row[:] for row in base]
    bad[5][2] = 8 * BPS
    with ape.reverts(fees.FeeScheduleRebateAboveTakerFee, maxRebateRateX18=8 * BPS, minTakerRateX18=72 * BPS // 10):
        fees.setTiers(bad, sender=admin)
    with ape.reverts(fees.FeeScheduleRebateAboveTakerFee):
        fees.setApiDiscount(ONE // 2, sender=admin)
    with ape.reverts(fees.FeeScheduleRateTooHigh, rateX18=ONE + 1, maxX18=ONE):
        fees.setApiDiscount(ONE + 1, sender=admin)
    tx = fees.setApiDiscount(ONE // 5, sender=admin)
    assert [e.discountX18 for e in tx.events.filter(fees.ApiDiscountSet)] == [ONE // 5]
    tx = fees.setTiers(base, sender=admin)
    assert len(list(tx.events.filter(fees.TierSet))) == 6


def test_fee_split(fees, admin, alice, bob):
    tx = fees.setFeeSplit(alice, bob, ONE // 2, sender=admin)
    [ev] = tx.events.filter(fees.FeeSplitSet)
    assert (ev.treasury, ev.insuranceFund, ev.insuranceShareX18) == (alice, bob, ONE // 2)
    with ape.reverts(fees.FeeScheduleZeroAddress):
        fees.setFeeSplit("0x" + "00" * 20, bob, 0, sender=admin)
    with ape.reverts(fees.FeeScheduleRateTooHigh, rateX18=ONE + 1, maxX18=ONE):
        fees.setFeeSplit(alice, bob, ONE + 1, sender=admin)


def pack(reqs) -> bytes:
    """FillCodec fee requests: maker, taker, takerApi byte, uint256 notional, uint256 USD volume."""
    out = b""
    for maker, taker, notional, volume, api in reqs:
        out += bytes.fromhex(maker.address[2:]) + bytes.fromhex(taker.address[2:]) + bytes([int(api)])
        out += notional.to_bytes(32, "big") + volume.to_bytes(32, "big")
    return out


def unpack_results(data) -> tuple[list[int], list[int]]:
    """FillCodec fee results: per fill uint256 taker fee, uint256 maker rebate."""
    data = bytes(data)
    words = [int.from_bytes(data[o : o + 32], "big") for o in range(0, len(data), 32)]
    return words[0::2], words[1::2]


def test_charge_fills_rejects_malformed_records(ledger_fees, ledger, alice, bob):
    """A partial record or a takerApi byte above 1 reverts FillCodecMalformed (no silent decoding)."""
    data = pack([(alice, bob, ONE, ONE, False), (bob, alice, ONE, ONE, True)])
    assert len(data) == 2 * 105 and unpack_results(ledger_fees.chargeFills.call(data, sender=ledger))[0][0] > 0
    with ape.reverts(ledger_fees.FillCodecMalformed, length=209, index=1):
        ledger_fees.chargeFills(data[:-1], sender=ledger)
    bad = data[:145] + bytes([2]) + data[146:]  # record 1's takerApi byte
    with ape.reverts(ledger_fees.FillCodecMalformed, length=210, index=1):
        ledger_fees.chargeFills(bad, sender=ledger)


def _one_call_per_fill(fees, ledger, chain, reqs):
    """The reference for chargeFills, on a throwaway copy of the chain: each request quoted then charged by
    chargeFill in order; returns the (fee, rebate) quotes and the (maker, taker) trailing volumes after each."""
    expected, trailing = [], []
    with isolated(chain):
        for maker, taker, notional, volume, api in reqs:
            expected.append(tuple(fees.quoteFill(maker, taker, notional, api)))
            fees.chargeFill(maker, taker, notional, volume, api, sender=ledger)
            trailing.append((fees.trailingVolume(maker), fees.trailingVolume(taker)))
    return expected, trailing


def test_charge_fills_equals_one_call_per_fill(ledger_fees, ledger, alice, bob, carol, chain, stranger):
    """A batch charges exactly what one chargeFill per fill would, tier changes mid-batch included."""
    fees = ledger_fees
    big = 600_000 * ONE  # the second fill takes alice and bob past the 1m tier threshold
    reqs = [(alice, bob, big, big, False), (bob, alice, big, big, True), (carol, alice, 10_000 * ONE + 1, 10**22, True),
            (alice, carol, 7 * ONE + 3, 7 * ONE + 3, False)]  # fmt: skip
    expected, trailing = _one_call_per_fill(fees, ledger, chain, reqs)
    tier1_api = mul_rate_up(fees.tier(1).takerRateX18, ONE - fees.apiDiscountX18())
    assert expected[2][0] == mul_rate_up(10_000 * ONE + 1, tier1_api)  # alice reached tier 1 mid-batch
    taker_fees, rebates = unpack_results(fees.chargeFills.call(pack(reqs), sender=ledger))
    assert list(zip(taker_fees, rebates, strict=True)) == expected
    tx = fees.chargeFills(pack(reqs), sender=ledger)
    [ev] = tx.events.filter(fees.VolumesRecorded)
    data = bytes(ev.records)
    assert ev.day == chain.blocks[-1].timestamp // DAY and len(data) == 88 * len(reqs)
    for k, (maker, taker, _, volume, _) in enumerate(reqs):
        r = data[88 * k : 88 * (k + 1)]
        assert (r[:20], r[20:40]) == (bytes.fromhex(maker.address[2:]), bytes.fromhex(taker.address[2:]))
        got = [int.from_bytes(r[o : o + 16], "big") for o in (40, 56, 72)]
        assert got == [volume, *trailing[k]]
    with ape.reverts(fees.AccessControlUnauthorizedAccount, account=stranger, role=roles.LEDGER):
        fees.chargeFills(pack(reqs), sender=stranger)


def test_charge_fills_rolls_days_like_one_call_per_fill(ledger_fees, ledger, alice, bob, carol, chain):
    """After days pass (inside and beyond the window), a batch sees the same tiers and trailing volumes
    as one chargeFill per fill: the day rollover of the batch path closes buckets the same way."""
    fees = ledger_fees
    fees.chargeFills(pack([(alice, bob, ONE, 700_000 * ONE, False)]), sender=ledger)
    warp(chain, 10 * DAY)
    fees.chargeFills(pack([(alice, bob, ONE, 400_000 * ONE, False)]), sender=ledger)
    reqs = [(carol, bob, 10_000 * ONE + 7, 10_000 * ONE, False), (bob, alice, 10_000 * ONE + 1, 10_000 * ONE, True)]
    for gap in (DAY, 25 * DAY, 40 * DAY):  # still in the window, the first day leaves it, everything leaves
        warp(chain, gap)
        expected, trailing = _one_call_per_fill(fees, ledger, chain, reqs)
        taker_fees, rebates = unpack_results(fees.chargeFills.call(pack(reqs), sender=ledger))
        assert list(zip(taker_fees, rebates, strict=True)) == expected
        tx = fees.chargeFills(pack(reqs), sender=ledger)
        [ev] = tx.events.filter(fees.VolumesRecorded)
        data = bytes(ev.records)
        got = [tuple(int.from_bytes(data[88 * k + o : 88 * k + o + 16], "big") for o in (56, 72)) for k in range(2)]
        assert got == trailing
        assert [fees.trailingVolume(a) for a in (alice, bob, carol)] == [trailing[1][1], trailing[1][0], trailing[0][0]]
