"""Run slither over every contract under contracts/ (mocks excluded) through the repo's solc wrapper.

slither's command line only globs the top level of a directory in standard-JSON mode, and its
single-file mode cannot use the wrapper, so this builds the standard-JSON compilation itself and
runs slither's detectors on it.

Findings of high or medium impact fail the run unless their detector and contract are listed in
audit/slither-triage.json with a justification. Run: ``python tools/audit.py --help``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from crytic_compile import CryticCompile
from crytic_compile.platform.solc_standard_json import SolcStandardJson
from slither import Slither
from slither.__main__ import get_detectors_and_printers
from slither.detectors.abstract_detector import DetectorClassification

REPO = Path(__file__).resolve().parent.parent
SOLC = REPO / "tools" / "solc" / "solc"
REMAP = "@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"
FAILING = {DetectorClassification.HIGH, DetectorClassification.MEDIUM}
REPORTED = FAILING | {DetectorClassification.LOW}


def sources(root: Path) -> list[str]:
    """Every .sol file under ``root`` except mocks, relative to the repo."""
    return sorted(str(p.relative_to(REPO)) for p in root.rglob("*.sol") if "mocks" not in p.parts)


Triage = dict[tuple[str, str], list[tuple[list[str], str]]]


def load_triage(path: Path) -> Triage:
    """(detector, contract) -> [(matches, justification)].

    An entry with ``matches`` (a list of substrings such as ``"MedianOracle._recoverSigner("``) only
    covers findings whose description contains one of them, so a new finding of the same detector
    elsewhere in the contract is not silently accepted. Every entry needs a non-empty justification.
    """
    if not path.exists():
        return {}
    triage: Triage = {}
    for e in json.loads(path.read_text()):
        if not e.get("justification", "").strip():
            raise ValueError(f"triage entry without a justification: {e}")
        triage.setdefault((e["detector"], e["contract"]), []).append((list(e.get("matches", [])), e["justification"]))
    return triage


def _contracts_of(element: dict) -> set[str]:
    """Names of the contracts enclosing a finding element (walks parent -> parent, e.g. local -> function)."""
    found = {element["name"]} if element.get("type") == "contract" else set()
    node = element.get("type_specific_fields", {}).get("parent")
    while node:
        if node.get("type") == "contract":
            found.add(node["name"])
        node = node.get("type_specific_fields", {}).get("parent")
    return found


def justification_for(triage: Triage, check: str, contracts: set[str], description: str) -> str | None:
    """The justification accepting this finding, if any."""
    for contract in sorted(contracts):
        for matches, justification in triage.get((check, contract), []):
            if not matches or any(m in description for m in matches):
                return justification
    return None


def run(triage_path: Path) -> int:
    """Compile, run every detector, print findings; return the process exit code."""
    compilation_unit = SolcStandardJson()
    compilation_unit.add_source_files(sources(REPO / "contracts"))
    compilation = CryticCompile(
        compilation_unit,
        solc=str(SOLC),
        solc_remaps=REMAP,
        solc_args="--optimize --evm-version cancun",
        cwd=str(REPO),
    )
    slither = Slither(compilation, filter_paths=["node_modules", "contracts/mocks"])
    detectors, _ = get_detectors_and_printers()
    for detector in detectors:
        if detector.IMPACT in REPORTED:
            slither.register_detector(detector)
    triage = load_triage(triage_path)
    failing = 0
    findings = [r for results in slither.run_detectors() for r in results]
    for finding in findings:
        contracts = {name for e in finding["elements"] for name in _contracts_of(e)}
        justified = justification_for(triage, finding["check"], contracts, finding["description"])
        impact = finding["impact"]
        status = "triaged" if justified else ("FAIL" if impact in ("High", "Medium") else "note")
        print(f"[{status}] {impact} {finding['check']}: {finding['description'].strip()}")
        if justified:
            print(f"          justification: {justified}")
        elif status == "FAIL":
            failing += 1
    print(f"slither: {len(findings)} findings, {failing} unjustified high/medium")
    return 1 if failing else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run slither over contracts/ through the solc wrapper.")
    parser.add_argument(
        "--triage",
        type=Path,
        default=REPO / "audit" / "slither-triage.json",
        help="JSON list of {detector, contract, [matches], justification} accepted findings",
    )
    args = parser.parse_args(argv)
    return run(args.triage)


if __name__ == "__main__":
    sys.exit(main())
