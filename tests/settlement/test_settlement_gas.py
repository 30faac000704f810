"""The gas scenario of `make gas` runs (small, on the default provider) and its lines have the exact format."""

from __future__ import annotations

import re

from offchain.settlement import gas


def test_gas_scenario_small(project, accounts, chain):
    s = gas.setup(project, accounts, chain, makers=2, takers=3)
    rows = gas.run(s, chain, batches=(1, 3))
    assert [b for b, _, _ in rows] == [1, 3]
    for _, per_fill, calldata in rows:
        assert per_fill > 0 and calldata > 0
    assert rows[1][1] < rows[0][1]  # batching amortises the base cost
    for line in gas.format_lines(rows):
        assert re.fullmatch(r"settle_gas_per_fill batch=\d+ gas=\d+ calldata_bytes=\d+", line)
