"""Assertion helpers shared by the test modules."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ape import networks
from ape.exceptions import ContractLogicError, CustomError
from hexbytes import HexBytes
from web3.exceptions import ContractCustomError as Web3ContractCustomError

MAX_UINT = 2**256 - 1


def event_args(receipt: Any, event_type: Any) -> list[dict[str, Any]]:
    """Decoded arguments of every ``event_type`` log in ``receipt``."""
    return [dict(log.event_arguments) for log in receipt.decode_logs(event_type)]


def assert_event(receipt: Any, event_type: Any, **expected: Any) -> dict[str, Any]:
    """Assert ``receipt`` emitted exactly one ``event_type`` whose arguments include ``expected``."""
    logs = event_args(receipt, event_type)
    assert len(logs) == 1, f"expected one {event_type.name} event, got {len(logs)}: {logs}"
    args = logs[0]
    for key, value in expected.items():
        assert args[key] == value, f"{event_type.name}.{key}: got {args[key]!r}, expected {value!r}"
    return args


def assert_no_event(receipt: Any, event_type: Any) -> None:
    """Assert ``receipt`` emitted no ``event_type`` event."""
    assert event_args(receipt, event_type) == []


@contextmanager
def reverts(error: type, **inputs: Any) -> Iterator[None]:
    """Strict ``ape.reverts(error, **inputs)``.

    ape does not always decode custom errors (anvil: ``eth_call`` reverts of views; EthTester: revert data
    holding a quote character); it then raises a plain ``ContractLogicError`` and ``ape.reverts`` accepts
    any error with any inputs. This helper decodes what it can and fails on an undecoded revert (wrap
    views in :func:`call_view`), another error name, a missing input name or a different value.
    """
    try:
        yield
    except ContractLogicError as exc:
        decoded = exc if isinstance(exc, CustomError) else _decode_literal(exc, error)
        assert decoded is not None, f"expected {error.__name__}, got an undecoded revert {exc!r} (views: call_view)"
        assert type(decoded).__name__ == error.__name__, f"expected {error.__name__}, got {type(decoded).__name__}"
        for name, expected in inputs.items():
            assert name in decoded.inputs, f"{error.__name__} has no input {name!r}: {decoded.inputs}"
            actual = decoded.inputs[name]
            assert actual == expected, f"{error.__name__}.{name}: expected {expected!r}, got {actual!r}"
    else:
        raise AssertionError(f"expected revert {error.__name__}, but the call succeeded")


def _decode_literal(exc: ContractLogicError, error: type) -> CustomError | None:
    """EthTester sometimes leaves a revert as the text of a bytes literal (when the data holds a quote)."""
    text = str(exc.revert_message or "")
    if not (text.startswith(("b'", 'b"')) and text.endswith(("'", '"'))):
        return None
    data = ast.literal_eval(text)
    address = error.contract.address  # type: ignore[attr-defined]
    return networks.provider.network.ecosystem.decode_custom_error(HexBytes(data), address)


def call_view(contract: Any, method: str, *args: Any) -> Any:
    """Call a view so that a revert surfaces as ape's decoded custom error, on anvil and on EthTester.

    Use inside :func:`reverts` for views. EthTester reverts come back decoded; anvil's ``eth_call`` error
    reaches ape with the revert data flattened into a string, so it is re-run through web3, which keeps
    the raw data, and decoded here.
    """
    try:
        return getattr(contract, method)(*args)
    except CustomError:
        raise
    except ContractLogicError:
        data = getattr(contract, method).encode_input(*args)
        try:
            networks.provider.web3.eth.call({"to": contract.address, "data": data})
        except Web3ContractCustomError as err:
            decoded = networks.provider.network.ecosystem.decode_custom_error(HexBytes(err.data), contract.address)
            if decoded is None:
                raise AssertionError(
                    f"revert data {err.data} is not an error of {contract.contract_type.name}"
                ) from err
            raise decoded from None
        raise


def static_revert_error(
    contract: Any, method: str, *args: Any, sender: Any, also: tuple = (), block: str = "latest"
) -> CustomError | str | None:
    """``eth_call`` a state-changing ``method`` as ``sender`` at ``block`` and return the custom error it
    would revert with, decoded against ``contract`` then ``also`` (``"undecoded 0x..."`` if none declares
    it); None if it would succeed. A reverting *transaction* makes ape walk the whole call trace to decode
    an error raised in a nested contract (seconds to tens of seconds per revert). ``block="pending"``
    simulates at the next block's timestamp (as pinned with ``chain.pending_timestamp = t``)."""
    data = getattr(contract, method).encode_input(*args)
    try:
        networks.provider.web3.eth.call({"from": str(sender), "to": str(contract.address), "data": data}, block)
    except Web3ContractCustomError as err:
        for c in (contract, *also):
            decoded = networks.provider.network.ecosystem.decode_custom_error(HexBytes(err.data), c.address)
            if decoded is not None:
                return decoded
        return f"undecoded {err.data}"
    return None


@contextmanager
def isolated(chain: Any) -> Iterator[None]:
    """Snapshot, run, restore: like ``chain.isolate()`` but lets exceptions (failed asserts) through.

    ape 0.8.51's ``chain.isolate()`` swallows every exception raised inside it, so a hypothesis example
    wrapped in it can never fail. Use this instead, always.
    """
    snapshot = chain.snapshot()
    pending = chain.pending_timestamp
    try:
        yield
    finally:
        chain.restore(snapshot)
        chain.pending_timestamp = pending  # as chain.isolate() does: the next block keeps its time


def assert_deploy_reverts(container: Any, error_signature: str, *args: Any, sender: Any) -> None:
    """Assert deploying ``container`` reverts with the custom error ``error_signature`` (e.g. ``"Foo()"``).

    ape's decoding of a constructor revert can break once other contracts' errors are cached (seen
    late in the full suite: "Invalid pointer in tuple"), so this checks the raw selector or the decoded
    name anywhere in the exception chain.
    """
    from eth_utils import keccak

    selector = "0x" + keccak(text=error_signature)[:4].hex()
    name = error_signature.split("(")[0]
    try:
        container.deploy(*args, sender=sender)
    except Exception as exc:  # any revert surface: ape, web3 or eth_abi
        texts, seen = [], exc
        while seen is not None and len(texts) < 10:
            texts.append(f"{type(seen).__name__} {seen!r} {getattr(seen, 'data', '')}")
            seen = seen.__cause__ or seen.__context__
        assert any(selector in t or name in t for t in texts), f"expected {error_signature}, got {texts}"
        return
    raise AssertionError(f"deployment did not revert (expected {error_signature})")


def machine_settings(ci: tuple[int, int], nightly: tuple[int, int]) -> Any:
    """Hypothesis settings of an on-chain state machine: ``(examples, steps)`` for the default ``ci`` profile
    and for ``HYPOTHESIS_PROFILE=nightly`` (each step sends transactions, so a machine's nightly size is set
    here per machine rather than by the profile's global 200 x 50, which would take hours)."""
    import os

    from hypothesis import settings

    examples, steps = nightly if os.environ.get("HYPOTHESIS_PROFILE") == "nightly" else ci
    return settings(max_examples=examples, stateful_step_count=steps)


def make_order(trader: Any, *, buy: bool, size: int, price: int, nonce: int = 1, **fields: Any) -> Any:
    """An unsigned one-way order on market 1 at 10x, 1% fee cap, far expiry; ``fields`` override any field."""
    from offchain.orders.order import Order

    values: dict[str, Any] = {
        "trader": str(trader),
        "marketId": 1,
        "isBuy": buy,
        "leg": 0,
        "flags": 0,
        "leverage": 10,
        "size": size,
        "limitPrice": price,
        "maxFeeRate": 10**16,
        "nonce": nonce,
        "expiry": 2**40,
    }
    values.update(fields)
    return Order(**values)
