"""MedianOracle.update: every way a report or bundle is refused, and subset submissions."""

from __future__ import annotations

import dataclasses

from oracle_helpers import BTC, ETH, reverts

from offchain.oracle.signing import ReportSigner

P = 100 * 10**18
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def test_unregistered_signer(driver, oracle):
    ts = driver.next_time()
    reports = [*driver.reports({0: P, 1: P}, ts), driver.sign(5, P, ts)]
    with reverts(oracle.MedianOracleUnknownSource, asset=ETH, signer=driver.signers[5].address):
        driver.submit_reports(reports)


def test_duplicate_signer(driver, oracle):
    ts = driver.next_time()
    reports = [*driver.reports({0: P, 1: P, 2: P}, ts), driver.sign(1, P + 1, ts)]
    with reverts(oracle.MedianOracleDuplicateSource, asset=ETH, source=driver.sources[1]):
        driver.submit_reports(reports)


def test_replayed_and_older_reports(driver, oracle):
    ts = driver.next_time()
    reports = driver.reports({0: P, 1: P, 2: P}, ts)
    driver.submit_reports(reports)
    driver.next_time()
    with reverts(oracle.MedianOracleReportNotNewer, asset=ETH, source=driver.sources[0], lastTimestamp=ts):
        driver.submit_reports(reports)
    older = driver.sign(0, P, ts - 1)
    with reverts(oracle.MedianOracleReportNotNewer, timestamp=ts - 1, lastTimestamp=ts):
        driver.submit_reports([older])


def test_report_for_another_chain_or_oracle(driver, oracle, chain, source_keys):
    ts = driver.next_time()
    for signer in (
        ReportSigner(source_keys[0], chain.chain_id + 1, oracle.address),
        ReportSigner(source_keys[0], chain.chain_id, "0x" + "12" * 20),
    ):
        report = signer.sign(ETH, P, ts)
        assert report.source == driver.sources[0]  # the same key...
        with reverts(oracle.MedianOracleUnknownSource):  # ...recovers to a stranger in this domain
            driver.submit_reports([report])


def test_report_for_another_asset_or_price_does_not_verify(driver, oracle):
    ts = driver.next_time()
    signed_for_btc = driver.sign(0, P, ts, BTC)
    with reverts(oracle.MedianOracleUnknownSource):
        driver.submit_reports([dataclasses.replace(signed_for_btc, asset=ETH)])
    tampered = dataclasses.replace(driver.sign(0, P, ts), price_x18=2 * P)
    with reverts(oracle.MedianOracleUnknownSource):
        driver.submit_reports([tampered])


def test_high_s_signature_is_rejected(driver, oracle):
    ts = driver.next_time()
    good = driver.sign(0, P, ts)
    s = int.from_bytes(good.s, "big")
    malleated = dataclasses.replace(good, s=(SECP256K1_N - s).to_bytes(32, "big"), v=55 - good.v)
    with reverts(oracle.MedianOracleInvalidSignature, asset=ETH, index=0, reason=3):  # InvalidSignatureS
        driver.submit_reports([malleated])
    driver.submit_reports([good])  # the canonical one is fine


def test_zero_signer_is_rejected(driver, oracle):
    ts = driver.next_time()
    good = driver.sign(0, P, ts)
    for bad in (dataclasses.replace(good, v=29), dataclasses.replace(good, r=b"\x00" * 32)):
        with reverts(oracle.MedianOracleInvalidSignature, asset=ETH, index=0, reason=1):  # InvalidSignature
            driver.submit_reports([bad])


def test_timestamp_window(driver, oracle, chain):
    driver.warp(1000)
    ts = driver.next_time()
    with reverts(oracle.MedianOracleReportFromFuture, timestamp=ts + 1, blockTimestamp=ts):
        driver.submit_reports([driver.sign(0, P, ts + 1)])
    ts = driver.next_time()
    with reverts(oracle.MedianOracleReportTooOld, source=driver.sources[0], timestamp=ts - 61, maxAge=60):
        driver.submit_reports([driver.sign(0, P, ts - 61)])
    ts = driver.next_time()
    receipt = driver.submit_reports([driver.sign(0, P, ts - 60)])  # exactly max age: accepted
    assert len(list(receipt.decode_logs(oracle.PriceReported))) == 1


def test_invalid_prices(driver, oracle):
    ts = driver.next_time()
    for price in (0, 2**128):
        with reverts(oracle.MedianOracleInvalidPrice, source=driver.sources[0], priceX18=price):
            driver.submit_reports([driver.sign(0, price, ts)] if price else [_zero_price(driver, ts)])
    driver.submit_reports([driver.sign(0, 2**128 - 1, ts)])  # the largest storable price


def _zero_price(driver, ts):
    """The signer refuses price 0, so sign the digest of a zero-price report directly."""
    from eth_account import Account

    from offchain.oracle.signing import typed_message

    signer = driver.signers[0]
    msg = typed_message(ETH, 0, ts, signer.chain_id, signer.oracle)
    signed = Account.from_key(signer._account.key).sign_message(msg)
    base = driver.sign(0, 1, ts)
    return dataclasses.replace(
        base, price_x18=0, v=signed.v, r=signed.r.to_bytes(32, "big"), s=signed.s.to_bytes(32, "big")
    )


def test_bundle_shape_errors(driver, oracle, stranger):
    with reverts(oracle.MedianOracleEmptyBundle):
        oracle.update([], sender=stranger)
    with reverts(oracle.MedianOracleEmptyReports, asset=ETH):
        oracle.update([(ETH, [])], sender=stranger)
    ts = driver.next_time()
    a = driver.sign(0, P, ts).as_tuple()
    b = driver.sign(1, P, ts).as_tuple()
    with reverts(oracle.MedianOracleDuplicateAsset, asset=ETH):
        oracle.update([(ETH, [a]), (ETH, [b])], sender=stranger)
    unknown = b"\x07" * 32
    with reverts(oracle.MedianOracleUnknownAsset, asset=unknown):
        oracle.update([(unknown, [a])], sender=stranger)


def test_subset_submission_cannot_drop_fresh_sources(driver, oracle):
    """Front-running with a subset of the reports does not reduce the quorum: stored fresh reports count."""
    driver.submit([P] * 5)
    receipt = driver.submit({0: P * 120 // 100})
    [updated] = list(receipt.decode_logs(oracle.IndexUpdated))
    assert (updated.priceX18, updated.agreeingSources) == (P, 4)
    assert oracle.isHealthy(ETH)


def test_removed_source_stops_counting_and_cannot_replay(driver, oracle, admin):
    ts = driver.next_time()
    reports = driver.reports({0: P, 1: P, 2: P, 3: P * 104 // 100}, ts)
    driver.submit_reports(reports)
    oracle.removeSource(ETH, driver.sources[3], sender=admin)
    receipt = driver.submit({0: P, 1: P})
    [updated] = list(receipt.decode_logs(oracle.IndexUpdated))
    assert updated.agreeingSources == 3
    with reverts(oracle.MedianOracleUnknownSource, signer=driver.sources[3]):
        driver.submit_reports([driver.sign(3, P, ts + 1)])
    oracle.addSource(ETH, driver.sources[3], sender=admin)
    with reverts(oracle.MedianOracleReportNotNewer, source=driver.sources[3], lastTimestamp=ts):
        driver.submit_reports([reports[3]])
    assert oracle.sourceReport(ETH, driver.sources[3]).priceX18 == 0
