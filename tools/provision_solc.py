"""Make the pinned Solidity compiler available to py-solc-x (and so to ape-solidity).

One code path for every machine:

1. If py-solc-x's folder already holds a working ``solc-v<version>``, keep it.
2. Otherwise try py-solc-x's normal download of native solc.
3. If that fails (no internet), register ``tools/solc/solc`` -- a native-CLI
   compatible wrapper over the npm ``solc`` package -- as ``solc-v<version>``.

The version is read from ape-config.yaml (``solidity.version``) so it is pinned
in exactly one place. Nothing here downloads anything but step 2, which fails
fast offline. Run ``python tools/provision_solc.py --help`` for options.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WRAPPER = REPO / "tools" / "solc" / "solc"
MARKER = "# perpx solcjs wrapper"
VERSION_RE = re.compile(r"Version: (\d+\.\d+\.\d+)\+commit\.([0-9a-f]{8})")


class ProvisionError(RuntimeError):
    """The compiler could not be made available."""


def pinned_version(config: Path = REPO / "ape-config.yaml") -> str:
    """Return ``solidity.version`` from ape-config.yaml."""
    match = re.search(r"^solidity:\s*$(?:\n[ \t]+.*)*?\n[ \t]+version:\s*['\"]?([\d.]+)", config.read_text(), re.M)
    if not match:
        raise ProvisionError(f"no solidity.version in {config}")
    return match.group(1)


def solcx_dir() -> Path:
    """py-solc-x's binary folder (``$SOLCX_BINARY_PATH`` or ``~/.solcx``)."""
    return Path(os.environ.get("SOLCX_BINARY_PATH") or Path.home() / ".solcx")


def reported_version(executable: Path) -> str | None:
    """The ``x.y.z`` an executable reports with ``--version``, or None if it does not run."""
    try:
        out = subprocess.run([str(executable), "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = VERSION_RE.search(out)
    return match.group(1) if match else None


def is_wrapper(executable: Path) -> bool:
    """True when the file is a launcher this script wrote (not a native binary)."""
    try:
        return MARKER in executable.read_text(errors="ignore")[:512]
    except OSError:
        return False


def try_native(version: str) -> bool:
    """Ask py-solc-x to download native solc; False when that is not possible here."""
    if os.environ.get("PERPX_SOLC") == "wasm":
        return False
    try:
        import solcx

        solcx.install_solc(version, show_progress=False)
        return True
    except Exception as exc:  # any failure means "no native solc on this machine"
        print(f"provision_solc: native solc {version} not downloadable ({type(exc).__name__}); using npm solc")
        return False


def register_wrapper(version: str, target: Path) -> None:
    """Write a launcher at ``target`` that runs this repository's wrapper."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(f'#!/bin/sh\n{MARKER} (solc {version}), written by {Path(__file__).name}\nexec "{WRAPPER}" "$@"\n')
    tmp.chmod(0o755)
    tmp.replace(target)


def provision(version: str) -> Path:
    """Ensure ``solc-v<version>`` works in py-solc-x's folder; return its path."""
    target = solcx_dir() / f"solc-v{version}"
    if target.exists() and not is_wrapper(target) and reported_version(target) == version:
        print(f"provision_solc: native solc {version} already at {target}")
        return target
    if not target.exists() and try_native(version) and reported_version(target) == version:
        print(f"provision_solc: native solc {version} installed at {target}")
        return target
    npm_version = reported_version(WRAPPER)
    if npm_version != version:
        raise ProvisionError(
            f"npm solc reports {npm_version!r}, ape-config pins {version!r}: run `npm ci` and keep package.json in step"
        )
    register_wrapper(version, target)
    if reported_version(target) != version:
        raise ProvisionError(f"registered {target} but it does not report solc {version}")
    print(f"provision_solc: npm solc {version} registered at {target}")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", dest="version", help="solc version (default: ape-config.yaml solidity.version)")
    args = parser.parse_args(argv)
    try:
        provision(args.version or pinned_version())
    except ProvisionError as exc:
        print(f"provision_solc: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
