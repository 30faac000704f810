"""offchain/bridge/gas.py runs and reports every figure `make gas` needs."""

from helpers import isolated

from offchain.bridge.gas import measure


def test_gas_figures(project, accounts, chain):
    with isolated(chain):
        figures = dict(measure(project, accounts))
    for label in (
        "bridge.lock",
        "bridge.release signers=3",
        "bridge.release signers=5",
        "bridge.finalizeRelease",
        "stock.postAttestation",
        "stock.mint",
    ):
        assert 20_000 < figures[label] < 500_000, (label, figures[label])
    # Each extra signature costs an ecrecover and a membership read.
    assert figures["bridge.release signers=5"] > figures["bridge.release signers=3"]
    print("\n".join(f"{k:45s} {v:>9,}" for k, v in figures.items()))
