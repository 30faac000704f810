"""Event-bus seam: the matcher consumes input events and produces outputs through :class:`EventBus`.

The default is :class:`InProcessBus` (two deques). Sharding by market across processes needs no
engine change: run one :class:`~offchain.matcher.engine.Matcher` per market group, each reading its
own input topic (e.g. a NATS JetStream subject or Kafka topic ``orders.<marketId>``, partitioned by
market so per-market order is total) and publishing to ``fills.<marketId>`` / ``depth.<marketId>``;
an adapter implementing :class:`EventBus` over the client library is all that changes. The stream's
own sequence number goes into ``source_seq`` so a restarted shard resumes after
``Matcher.source_seq``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from offchain.matcher.engine import Matcher, Output
from offchain.orders.order import SignedOrder


@dataclass(frozen=True)
class SubmitOrder:
    """A signed order arriving at time ``now`` (unix seconds, from the gateway, not the matcher clock)."""

    signed: SignedOrder
    now: int
    source_seq: int = 0


@dataclass(frozen=True)
class CancelOrder:
    """Cancel one order by hash, on behalf of an authenticated ``trader``."""

    order_hash: bytes
    trader: str
    now: int
    source_seq: int = 0


@dataclass(frozen=True)
class CancelAll:
    """Cancel every order of ``trader`` (in ``market_id``, or everywhere when ``None``)."""

    trader: str
    now: int
    market_id: int | None = None
    source_seq: int = 0


@dataclass(frozen=True)
class Expire:
    """Clock tick: cancel resting orders with ``expiry <= now``."""

    now: int
    source_seq: int = 0


InputEvent = SubmitOrder | CancelOrder | CancelAll | Expire


class EventBus(Protocol):
    """What the engine loop needs from a transport."""

    def next_input(self) -> InputEvent | None:
        """The next input event, or ``None`` when the stream is (for now) exhausted."""
        ...

    def publish(self, outputs: list[Output]) -> None:
        """Hand the outputs of one input event onward (fills to the submitter, depth to market data)."""
        ...


class InProcessBus:
    """Default transport: an input deque and an output deque in the same process."""

    def __init__(self) -> None:
        self.inputs: deque[InputEvent] = deque()
        self.outputs: deque[Output] = deque()

    def put(self, event: InputEvent) -> None:
        """Enqueue one input event."""
        self.inputs.append(event)

    def next_input(self) -> InputEvent | None:
        return self.inputs.popleft() if self.inputs else None

    def publish(self, outputs: list[Output]) -> None:
        self.outputs.extend(outputs)


def dispatch(matcher: Matcher, event: InputEvent) -> list[Output]:
    """Apply one input event to ``matcher``."""
    if isinstance(event, SubmitOrder):
        return matcher.submit(event.signed, event.now, event.source_seq)
    if isinstance(event, CancelOrder):
        return matcher.cancel(event.order_hash, event.trader, event.now, event.source_seq)
    if isinstance(event, CancelAll):
        return matcher.cancel_all(event.trader, event.now, event.market_id, event.source_seq)
    if isinstance(event, Expire):
        return matcher.expire(event.now, event.source_seq)
    raise TypeError(f"unknown input event {event!r}")


def run(matcher: Matcher, bus: EventBus, stop: Callable[[], bool] = lambda: False) -> int:
    """Drain ``bus`` through ``matcher`` until the input is exhausted or ``stop()``; returns events handled."""
    handled = 0
    while not stop():
        event = bus.next_input()
        if event is None:
            break
        bus.publish(dispatch(matcher, event))
        handled += 1
    return handled
