"""Fan-out of market data and private updates to WebSocket subscribers (one asyncio loop).

Each subscriber owns a bounded queue. A subscriber that falls ``max_queue`` messages behind is dropped
(its queue gets a final ``None`` and the socket is closed with 1013 "try again later"): one slow client
never holds up the matcher or the other clients.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, Any]


@dataclass(eq=False)
class Subscriber:
    topic: str
    queue: asyncio.Queue[Message | None]
    dropped: bool = False


@dataclass
class Hub:
    """Topics (``depth:<market>``, ``trades:<market>``, ``private:<account>``) -> subscribers."""

    max_queue: int = 1000
    topics: dict[str, set[Subscriber]] = field(default_factory=lambda: defaultdict(set))

    def subscribe(self, topic: str) -> Subscriber:
        sub = Subscriber(topic, asyncio.Queue(self.max_queue + 1))
        self.topics[topic].add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        subs = self.topics.get(sub.topic)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self.topics[sub.topic]

    def has_subscribers(self, topic: str) -> bool:
        return bool(self.topics.get(topic))

    def publish(self, topic: str, message: Message) -> None:
        for sub in list(self.topics.get(topic, ())):
            if sub.queue.qsize() >= self.max_queue:
                sub.dropped = True
                sub.queue.put_nowait(None)  # the extra slot: wakes the writer, which closes the socket
                self.unsubscribe(sub)
            else:
                sub.queue.put_nowait(message)

    def count(self, prefix: str = "") -> int:
        return sum(len(s) for t, s in self.topics.items() if t.startswith(prefix))
