"""Assertion helpers shared by the test modules."""

from __future__ import annotations

from typing import Any

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
