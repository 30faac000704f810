"""offchain/perp/gas.py: the figures `make gas` reports exist, are positive and bounded."""

from __future__ import annotations

from offchain.perp.gas import measure


def test_measure_reports_apply_trade_for_two_existing_accounts(project, accounts):
    results = dict(measure(project, accounts))
    for label, gas in results.items():
        print(f"{label:50s} {gas}")
    assert "engine.apply_trade accounts=2" in results
    # a trade between two accounts that already hold positions: fees, funding settle, two margin checks
    assert 50_000 < results["engine.apply_trade accounts=2"] < 400_000
    assert results["engine.apply_fills fills=10 accounts=2"] < 10 * results["engine.apply_trade accounts=2"]
