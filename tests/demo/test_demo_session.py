"""The `make demo` session in-process on the test chain (bridge act skipped: it starts two more anvils and
is covered by tests/bridge): every check passes and each act left its mark in the figures."""

from __future__ import annotations

from offchain.demo.report import Report
from offchain.demo.session import run


def test_demo_session_passes_every_check(project, chain, accounts, tmp_path):
    lines: list[str] = []
    report = Report(echo=lines.append)
    figures, demo = run(project, chain, accounts, report, n_traders=0, bridge_locks=0, workdir=tmp_path)
    assert report.failed == [], "\n".join(lines)
    names = {name for name, _, _ in report.checks}
    for expected in (
        "misbehaving source isolated",
        "early execution refused",
        "funding active after the delay",
        "on-chain batch roots == submitter roots",
        "funding applied to every market",
        "gateway order filled",
        "gateway fill settled on chain",
        "gateway /account reads the on-chain position",
        "gateway refuses a forged signature with a 4xx",
        "bankrupt account hit the insurance fund",
        "ADL when the fund could not absorb",
        "mint above the attested reserve refused",
        "USDC ledger total == sum of balances",
        "ETH-USD: long OI == short OI",
        "AAPL-USD: positions sum to zero",
        "ETH-USD-INVERSE: positions sum to zero",
    ):
        assert expected in names, f"{expected!r} not checked:\n" + "\n".join(lines)
    assert figures["fills settled"] >= 8
    assert figures["batches settled"] >= 1
    assert figures["ADL steps"] >= 1
    assert figures["liquidations (forced closes)"] >= 1
    assert int(figures["gas per fill (settleBatch, whole tx)"].replace(",", "")) > 0
    # the deployer handed everything to the timelock before the session ran
    from offchain import roles

    assert not any(demo.deployment.acl.hasRole(r, accounts[0]) for r in roles.ALL.values())
    summary = report.summary(figures)
    assert "checks: " in summary and " 0 failed" in summary
