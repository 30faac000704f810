"""Keep ape-foundry from building and printing a call trace for every expected revert.

On every reverted transaction ape-foundry 0.8.12 (``FoundryProvider._handle_execution_reverted``)
fetches the transaction's call trace from anvil, decodes every frame and prints the tree. The
custom-error decoding that ``ape.reverts(...)`` relies on does not need it (it works from the revert
data), but the trace (and the Solidity source traceback built from it) costs ~1 s for a shallow
revert and tens of seconds for a deep one (liquidation, ADL) on a loaded 2-core machine. The suite
asserts thousands of reverts, so tests install this replacement, which does exactly what the
original does except ``trace.show()``, and skip the source traceback. Set
``PERPX_REVERT_TRACES=1`` to get both back when debugging a failure.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

from ape.exceptions import ContractLogicError, TransactionError

ENV = "PERPX_REVERT_TRACES"


def _quiet_handle_execution_reverted(self: Any, exception: Exception, revert_message: str | None = None, **kwargs):
    if revert_message == "0x":
        revert_message = TransactionError.DEFAULT_MESSAGE
    else:
        revert_message = revert_message or TransactionError.DEFAULT_MESSAGE
    if revert_message.startswith("revert: "):
        revert_message = revert_message[8:]
    error = ContractLogicError(base_err=exception, revert_message=revert_message, **kwargs)
    return self.compiler_manager.enrich_error(error)


def install() -> bool:
    """Replace the handler unless ``PERPX_REVERT_TRACES`` is set; returns whether it was replaced.

    Refuses (raises) if ape-foundry's handler no longer has the shape this replacement mirrors, so an
    upgrade cannot silently change what the suite checks.
    """
    if os.environ.get(ENV):
        return False
    from ape_foundry.provider import FoundryProvider

    original = FoundryProvider.__dict__.get("_handle_execution_reverted")
    if original is _quiet_handle_execution_reverted:
        return True
    source = inspect.getsource(original) if original is not None else ""
    if "ContractLogicError(base_err=exception, revert_message=revert_message, **kwargs)" not in source:
        raise RuntimeError(
            f"ape-foundry's _handle_execution_reverted changed shape; update tests/revert_traces.py or run with {ENV}=1"
        )
    FoundryProvider._handle_execution_reverted = _quiet_handle_execution_reverted
    # The Solidity source traceback ape attaches to a ContractLogicError is built from the same call trace
    # (lazily, but pytest's failure reporting and ape.reverts touch it): skip it as well.
    import ape.exceptions

    ape.exceptions._get_ape_traceback_from_tx = _no_source_traceback
    return True


def _no_source_traceback(txn: Any) -> None:
    return None
