"""Bundle signed reports by asset and submit them to MedianOracle."""

from __future__ import annotations

from collections.abc import Sequence

from offchain.oracle.signing import SignedReport

BundleEntry = tuple[bytes, list[tuple[int, int, int, bytes, bytes]]]


def build_bundle(reports: Sequence[SignedReport]) -> list[BundleEntry]:
    """Group reports by asset (first-seen order) into the ``AssetReports[]`` argument of ``update``."""
    grouped: dict[bytes, list[tuple[int, int, int, bytes, bytes]]] = {}
    for report in reports:
        grouped.setdefault(report.asset, []).append(report.as_tuple())
    return list(grouped.items())
