"""A transport adapter for keepers: every transaction is first simulated with ``eth_call``.

A keeper tries actions that may legitimately fail (the liquidation keeper force-closes first and turns to
ADL when the insurance fund cannot take the position). Through ape on a node that traces (anvil, dev
nodes) every revert is followed by a full call trace that ape builds and prints, tens of seconds for a
deep revert on a loaded machine. The adapter raises ape's ``ContractLogicError`` from a plain ``eth_call``
instead (with the raw revert data), so the keeper's own error handling runs unchanged and nothing is
sent that would revert; calls that simulate fine are sent through ape as usual. Used by the liquidation
keeper's command line and the demo.
"""

from __future__ import annotations

from typing import Any

from ape.contracts.base import ContractTransactionHandler
from ape.exceptions import ContractLogicError
from web3.exceptions import ContractCustomError
from web3.exceptions import ContractLogicError as Web3LogicError


class Simulated:
    """Wraps an ape contract instance; views, events and attributes pass through untouched."""

    def __init__(self, contract: Any, web3: Any):
        self._contract = contract
        self._web3 = web3

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._contract, name)
        if not isinstance(attr, ContractTransactionHandler):
            return attr

        def send(*args: Any, sender: Any, **kwargs: Any) -> Any:
            call = {"from": str(sender.address), "to": str(self._contract.address), "data": attr.encode_input(*args)}
            try:
                self._web3.eth.call(call)
            except (ContractCustomError, Web3LogicError) as err:
                data = err.data if isinstance(err.data, str) else str(err)
                raise ContractLogicError(f"{name} would revert: {data}", set_ape_traceback=False) from None
            return attr(*args, sender=sender, **kwargs)

        return send

    @property
    def address(self) -> Any:
        return self._contract.address
