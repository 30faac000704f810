"""Test the tests: apply deliberate bugs to the contracts one at a time and show the suite catches each.

Every mutant is a (file, exact original snippet, replacement) triple plus the test node ids that must
fail when it is applied (so each run is short). The runs happen in a throw-away copy of the ape
project under a temporary directory, so the repository is never modified. A snippet that is not
found exactly once fails the whole run loudly ("mutant X did not apply: contracts changed") instead
of being counted: re-target it in the MUTANTS table below.

Before the mutants, a baseline runs every targeted test on the unmodified copy; it must pass, or a
"kill" would mean nothing. A mutant is killed when pytest exits with 1 (tests failed); an exit code
other than 0/1 (collection or usage error), or a copy that no longer compiles, is an error, not a kill.

Prints one line per mutant and finally ``mutants killed=<k> total=<n>``; exits 0 only if k == n.
Run: ``make mutants`` or ``.venv/bin/python tools/mutants.py --help``.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOG = logging.getLogger("mutants")
# Copied into the throw-away project (tracked content only; node_modules is linked, .build copied
# so only the mutated file and its dependants recompile).
COPIED = ("ape-config.yaml", "pyproject.toml", "contracts", "tests", "offchain", "scripts", "tools")


@dataclass(frozen=True)
class Mutant:
    """One deliberate bug: replace ``original`` (exactly one occurrence) in ``path`` by ``replacement``."""

    name: str
    path: str
    original: str
    replacement: str
    tests: tuple[str, ...]


# ---------------------------------------------------------------------------------------------------
# The table. Settlement, PerpEngine/PerpLedger and LiquidationModule are being rewritten: at most three
# mutants live there (marked "re-target after the rewrite"); the rest target modules owned elsewhere.
# ---------------------------------------------------------------------------------------------------
MUTANTS: tuple[Mutant, ...] = (
    # --- re-target after the settlement / engine / liquidation rewrites ---------------------------
    Mutant(
        "settlement-repeated-batch-id",
        "contracts/settlement/Settlement.sol",
        "if (batchId != expectedId) revert SettlementBatchIdNotNext(batchId, expectedId);",
        "if (batchId > expectedId) revert SettlementBatchIdNotNext(batchId, expectedId);",
        ("tests/settlement/test_settlement.py::test_batch_ids_consecutive",),
    ),
    Mutant(
        "nonce-window-entering-bits-dropped",
        "contracts/settlement/SettlementOrders.sol",
        "uint256 entering = _readOverflow(trader, minNonce + WINDOW - moved) & movedMask;",
        "uint256 entering = 0;",
        (
            "tests/settlement/test_settlement_nonces.py::test_small_floor_raise_moves_bits_both_ways",
            "tests/settlement/test_settlement_nonce_machine.py::test_nonce_window_machine",
        ),
    ),
    Mutant(
        "nonce-window-leaving-high-part-dropped",
        "contracts/settlement/SettlementOrders.sol",
        "if (high != 0) _orderBits[trader][index + 1] |= high;",
        "if (high != 0) high = 0;",
        ("tests/settlement/test_settlement_nonces.py::test_floor_jump_beyond_the_window",),
    ),
    Mutant(
        "adl-no-fallback-tier",
        "contracts/liquidation/AdlRanking.sol",
        "if (pnl <= 0) return (Math.min(uint256(equity), PROFIT_TIER - 1), size, equity); // fallback tier",
        "if (pnl <= 0) return (0, size, equity);",
        (
            "tests/liquidation/test_adl_fallback.py::test_profit_tier_first_then_equity_then_cut_to_the_victims_equity",
            "tests/audit/test_protocol_machine.py::test_bankruptcy_when_no_opposite_leg_is_in_profit",
        ),
    ),
    Mutant(
        "adl-step-not-cut-to-victim-equity",
        "contracts/liquidation/AdlModule.sol",
        "if (loss <= usable) return closed;",
        "return closed;",
        ("tests/liquidation/test_adl_fallback.py::test_profit_tier_first_then_equity_then_cut_to_the_victims_equity",),
    ),
    Mutant(
        "engine-adl-victim-solvency-unchecked",
        "contracts/perp/PerpMargin.sol",
        "if (eq < 0) revert PerpEngineInsolvent(account, token, eq);",
        "eq;",
        ("tests/liquidation/test_adl_fallback.py::test_victim_must_stay_solvent_in_the_engine",),
    ),
    Mutant(
        "compliance-allow-rule-ignores-expiry",
        "contracts/core/ComplianceRegistry.sol",
        "return !enforced || uint64(word >> 8) > block.timestamp;",
        "return true;",
        (
            "tests/settlement/test_settlement_compliance.py::test_first_not_allowed_matches_is_allowed",
            "tests/core/test_compliance_registry.py::test_entry_lapses_exactly_at_expiry",
        ),
    ),
    Mutant(
        "liquidation-skip-grace",
        "contracts/liquidation/LiquidationModule.sol",
        "if (block.timestamp < at + GRACE_PERIOD) revert",
        "if (block.timestamp < at + GRACE_PERIOD - 1) revert",
        ("tests/liquidation/test_liquidation_module.py::test_grace_boundary",),
    ),
    Mutant(
        "ledger-maintenance-rounded-down",
        "contracts/perp/PerpLedger.sol",
        "s.maintenanceReq += PerpMath.mulRateUp(notional, c.mmrX18);",
        "s.maintenanceReq += PerpMath.mulRateDown(notional, c.mmrX18);",
        (
            "tests/perp/test_perp_engine_margin.py::test_maintenance_boundary_exact",
            "tests/perp/test_perp_engine_margin.py::test_maintenance_boundary_one_collateral_unit_below",
            "tests/audit/test_contract_edges.py::test_requirements_round_up_against_fractions",
        ),
    ),
    # --- libraries ------------------------------------------------------------------------------------
    Mutant(
        "perpmath-notional-rounded-down",
        "contracts/libraries/PerpMath.sol",
        "return _valueMagnitude(inverse, absSize, priceX18, true);",
        "return _valueMagnitude(inverse, absSize, priceX18, false);",
        ("tests/audit/test_contract_edges.py::test_requirements_round_up_against_fractions",),
    ),
    Mutant(
        "merkle-no-leaf-prefix",
        "contracts/libraries/MerkleRFC9162.sol",
        "return keccak256(abi.encodePacked(bytes1(0x00), data));",
        "return keccak256(data);",
        ("tests/settlement/test_merkle.py::test_roots_match_for_1_to_130_leaves",),
    ),
    Mutant(
        "oracle-outlier-filter-off",
        "contracts/libraries/OracleMedianLib.sol",
        "return diff * ONE_X18 > maxDeviationX18 * referenceX18;",
        "return diff * ONE_X18 > type(uint128).max * referenceX18;",
        (
            "tests/oracle/test_median_oracle.py::test_isolation_boundary",
            "tests/oracle/test_median_oracle.py::test_one_source_twenty_percent_off_is_isolated_and_readmitted",
        ),
    ),
    # --- oracle ---------------------------------------------------------------------------------------
    Mutant(
        "oracle-quorum-ignored",
        "contracts/oracle/MedianOracle.sol",
        "if (agreeing < cfg.quorum) {",
        "if (agreeing == 0) {",
        ("tests/oracle/test_median_oracle.py::test_three_of_five_silent_pauses_the_market",),
    ),
    Mutant(
        "oracle-stale-price-served",
        "contracts/oracle/MedianOracle.sol",
        "if (age > cfg.maxAge) revert MedianOracleStalePrice(asset, age, cfg.maxAge);",
        "if (age > 2 * cfg.maxAge) revert MedianOracleStalePrice(asset, age, cfg.maxAge);",
        ("tests/oracle/test_median_oracle.py::test_stale_price_boundary",),
    ),
    # --- bridge ---------------------------------------------------------------------------------------
    Mutant(
        "bridge-release-twice",
        "contracts/bridge/Bridge.sol",
        "if (r.status == Status.Executed) revert BridgeAlreadyExecuted(id);",
        "",
        ("tests/bridge/test_bridge_release.py::test_message_executes_once",),
    ),
    Mutant(
        "bridge-quorum-skipped",
        "contracts/bridge/BridgeValidatorSet.sol",
        "if (signatures.length < needed) revert BridgeValidatorSetInsufficientSignatures(signatures.length, needed);",
        "if (signatures.length == 0) revert BridgeValidatorSetInsufficientSignatures(signatures.length, needed);",
        ("tests/bridge/test_bridge_release.py::test_too_few_signatures",),
    ),
    Mutant(
        "bridge-duplicate-signers",
        "contracts/bridge/BridgeValidatorSet.sol",
        "if (signer <= previous) revert BridgeValidatorSetSignerOrder(previous, signer);",
        "if (signer < previous) revert BridgeValidatorSetSignerOrder(previous, signer);",
        ("tests/bridge/test_bridge_release.py::test_duplicate_signer_fails",),
    ),
    Mutant(
        "bridge-timelock-skipped",
        "contracts/bridge/Bridge.sol",
        "if (block.timestamp < r.readyAt || block.number < r.readyBlock) {",
        "if (block.timestamp < r.readyAt && block.number < r.readyBlock) {",
        ("tests/bridge/test_bridge_timelock.py::test_finalize_needs_seconds_and_blocks",),
    ),
    Mutant(
        "bridge-rate-limit-off",
        "contracts/bridge/BridgeRateLimit.sol",
        "if (used > capacity || amount > capacity - used) return false;",
        "if (amount > capacity) return false;",
        ("tests/bridge/test_bridge_ratelimit.py::test_window_capacity_is_enforced_and_resets",),
    ),
    # --- core: vault, compliance ------------------------------------------------------------------
    Mutant(
        "vault-withdraw-without-margin-check",
        "contracts/core/Vault.sol",
        "if (address(guard) != address(0) && !guard.isWithdrawalAllowed(account, token, balanceAfter)) {",
        "if (address(guard) == address(1) && !guard.isWithdrawalAllowed(account, token, balanceAfter)) {",
        ("tests/core/test_vault.py::test_withdrawal_guard_gates_withdrawals",),
    ),
    Mutant(
        "vault-credits-requested-not-received",
        "contracts/core/Vault.sol",
        "if (afterBalance <= before) revert VaultNothingReceived(token);",
        "if (afterBalance <= before) revert VaultNothingReceived(token);\n        afterBalance = before + amount;",
        ("tests/core/test_vault.py::test_fee_on_transfer_token_credits_what_arrived",),
    ),
    Mutant(
        "compliance-blocklist-ignored",
        "contracts/core/ComplianceRegistry.sol",
        "if (account == address(0) || (word >> 72) & 0xff != 0) return false;",
        "if (account == address(0)) return false;",
        (
            "tests/core/test_compliance_registry.py::test_blocklist_wins_over_allowlist",
            "tests/settlement/test_settlement_compliance.py::test_first_not_allowed_matches_is_allowed",
        ),
    ),
    # --- rwa ------------------------------------------------------------------------------------------
    Mutant(
        "stock-mint-above-attestation",
        "contracts/rwa/StockToken.sol",
        "if (newSupply > covered) revert StockTokenExceedsReserve(newSupply, covered);",
        "if (newSupply > 2 * covered) revert StockTokenExceedsReserve(newSupply, covered);",
        ("tests/rwa/test_stock_token.py::test_mint_within_reserve_up_to_exact_boundary",),
    ),
    Mutant(
        "stock-attestation-replay",
        "contracts/rwa/StockToken.sol",
        "if (attestationNonce <= last.nonce) revert StockTokenAttestationReplayed(attestationNonce, last.nonce);",
        "if (attestationNonce < last.nonce) revert StockTokenAttestationReplayed(attestationNonce, last.nonce);",
        ("tests/rwa/test_stock_token.py::test_replayed_attestation_refused",),
    ),
    # --- funding, fees, markets -------------------------------------------------------------------
    Mutant(
        "funding-cap-ignored",
        "contracts/funding/FundingMath.sol",
        "int256 cap = maxRateX18.toInt256();",
        "int256 cap = type(int128).max;",
        ("tests/funding/test_funding_module.py::test_caps_ramp_by_max_change_then_hold_at_max",),
    ),
    Mutant(
        "fee-above-max-accepted",
        "contracts/perp/FeeSchedule.sol",
        "if (t.takerRateX18 > MAX_TAKER_RATE_X18) revert FeeScheduleRateTooHigh(t.takerRateX18, MAX_TAKER_RATE_X18);",
        "",
        ("tests/perp/test_fee_schedule.py::test_tier_validation",),
    ),
    Mutant(
        "registry-maintenance-above-initial-accepted",
        "contracts/perp/MarketRegistry.sol",
        "|| risk.mmrMaxX18 > risk.imrX18\n",
        "\n",
        ("tests/perp/test_market_registry.py::test_invalid_risk_params_revert",),
    ),
)


def check_applies(root: Path, mutants: tuple[Mutant, ...]) -> list[str]:
    """Problems: every snippet must occur exactly once in its file under ``root``."""
    problems = []
    for m in mutants:
        path = root / m.path
        count = path.read_text().count(m.original) if path.is_file() else 0
        if count != 1:
            problems.append(f"mutant {m.name} did not apply: contracts changed ({m.path}: snippet found {count} times)")
    return problems


def make_copy(dest: Path) -> None:
    """A throw-away ape project at ``dest`` sharing node_modules and reusing the compile cache."""
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
        else:
            shutil.copy2(src, dest / name)
    (dest / "node_modules").symlink_to(REPO / "node_modules")
    if (REPO / ".build").is_dir():
        shutil.copytree(REPO / ".build", dest / ".build")


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root)
    env["PATH"] = f"{REPO / '.venv' / 'bin'}:{REPO / 'node_modules' / '.bin'}:{env.get('PATH', '')}"
    env.setdefault("HYPOTHESIS_PROFILE", "ci")
    return env


IMPORT = re.compile(r'^\s*import\s+[^;]*?["\']([^"\']+)["\']\s*;', re.MULTILINE)


def dependants(root: Path, path: str) -> list[str]:
    """``path`` and every contract file that imports it, directly or transitively (repo-relative)."""
    contracts = root / "contracts"
    imports: dict[str, set[str]] = {}
    for sol in contracts.rglob("*.sol"):
        rel = str(sol.relative_to(root))
        for target in IMPORT.findall(sol.read_text()):
            if target.startswith("."):
                imports.setdefault(str((sol.parent / target).resolve().relative_to(root.resolve())), set()).add(rel)
    found = {path}
    frontier = [path]
    while frontier:
        for user in imports.get(frontier.pop(), set()):
            if user not in found:
                found.add(user)
                frontier.append(user)
    return sorted(found)


def compile_copy(root: Path, files: list[str] | None = None) -> bool:
    """Compile the copy (``files`` only, forced: libraries are inlined, so dependants must be rebuilt)."""
    proc = subprocess.run(
        [str(REPO / ".venv" / "bin" / "ape"), "compile", *(files or []), "-f"],
        cwd=root,
        env=_env(root),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        LOG.error("compile failed:\n%s", (proc.stdout + proc.stderr)[-3000:])
    return proc.returncode == 0


def run_tests(root: Path, tests: tuple[str, ...]) -> tuple[int, str]:
    """pytest's exit code and output tail for ``tests`` in the copy (stop at the first failure)."""
    cmd = [str(REPO / ".venv" / "bin" / "ape"), "test", *tests, "-x", "-q", "-p", "no:cacheprovider"]
    proc = subprocess.run(cmd, cwd=root, env=_env(root), capture_output=True, text=True)
    LOG.debug("%s\n%s", " ".join(cmd), proc.stdout[-2000:])
    if proc.returncode not in (0, 1):
        LOG.error("pytest exit %d:\n%s", proc.returncode, (proc.stdout + proc.stderr)[-3000:])
    return proc.returncode, (proc.stdout + proc.stderr)[-4000:]


def run(mutants: tuple[Mutant, ...], baseline: bool, keep: bool) -> int:
    """Apply each mutant in a temp copy, run its tests, print the tally; exit code 0 iff all killed."""
    problems = check_applies(REPO, mutants)
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="perpx-mutants-"))
    root = tmp / "project"
    root.mkdir()
    try:
        make_copy(root)
        if not (REPO / ".build").is_dir() and not compile_copy(root):
            print("the unmodified copy does not compile", file=sys.stderr)
            return 2
        pristine_build = tmp / "build-pristine"
        shutil.copytree(root / ".build", pristine_build)
        if baseline:
            groups: dict[str, list[str]] = {}
            for t in dict.fromkeys(t for m in mutants for t in m.tests):
                groups.setdefault(t.split("::")[0].rsplit("/", 1)[0], []).append(t)
            for group, tests in groups.items():  # one session per test directory, as the suite runs them
                LOG.info("baseline: %d targeted tests in %s on the unmodified contracts", len(tests), group)
                code, output = run_tests(root, tuple(tests))
                if code != 0:
                    print(output, file=sys.stderr)
                    print(f"baseline failed in {group} (pytest exit {code}): fix the suite first", file=sys.stderr)
                    return 2
        killed = 0
        errors = 0
        for m in mutants:
            path = root / m.path
            pristine = path.read_text()
            started = time.monotonic()
            try:
                path.write_text(pristine.replace(m.original, m.replacement, 1))
                if not compile_copy(root, dependants(root, m.path)):
                    status, errors = "ERROR (does not compile)", errors + 1
                else:
                    code, _ = run_tests(root, m.tests)
                    if code == 1:
                        status, killed = "killed", killed + 1
                    elif code == 0:
                        status = "SURVIVED"
                    else:
                        status, errors = f"ERROR (pytest exit {code})", errors + 1
            finally:
                path.write_text(pristine)  # source and artifacts back to the unmodified state
                shutil.rmtree(root / ".build")
                shutil.copytree(pristine_build, root / ".build")
            print(f"mutant {m.name:<40} {status:<10} {time.monotonic() - started:6.1f}s  {m.path}", flush=True)
        print(f"mutants killed={killed} total={len(mutants)}" + (f" errors={errors}" if errors else ""))
        return 0 if killed == len(mutants) else 1
    finally:
        if keep:
            LOG.info("kept %s", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Apply deliberate contract bugs one at a time; the tests must fail.")
    parser.add_argument("--only", nargs="*", default=None, help="run only the named mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants and their tests, then exit")
    parser.add_argument("--check", action="store_true", help="only check that every mutant still applies")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmodified baseline run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary project copy")
    parser.add_argument("-v", "--verbose", action="store_true", help="log pytest output")
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(message)s")
    mutants = MUTANTS
    if args.only:
        unknown = set(args.only) - {m.name for m in MUTANTS}
        if unknown:
            parser.error(f"unknown mutants: {sorted(unknown)}")
        mutants = tuple(m for m in MUTANTS if m.name in args.only)
    if args.list:
        for m in mutants:
            print(f"{m.name:<40} {m.path}  ->  {', '.join(m.tests)}")
        return 0
    if args.check:
        problems = check_applies(REPO, mutants)
        for p in problems:
            print(p, file=sys.stderr)
        print(f"{len(mutants) - len(problems)}/{len(mutants)} mutants apply")
        return 1 if problems else 0
    return run(mutants, baseline=not args.no_baseline, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
