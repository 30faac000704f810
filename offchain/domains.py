"""Optional per-domain modules (gas measurements, benchmarks) that registries import when present."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from types import ModuleType


def present_modules(names: Iterable[str]) -> Iterator[tuple[str, ModuleType]]:
    """Yield ``(domain, module)`` for each dotted module name that exists; a missing one is skipped.

    ``offchain.<domain>.<kind>``: only the module (or its package) being absent is skipped; an import
    error inside an existing module propagates.
    """
    for name in names:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # domain not built yet
            raise
        yield name.rsplit(".", 2)[1], module
