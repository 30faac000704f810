"""Step lines and checks for the demo, readable by a person and greppable by a machine."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Report:
    """Prints numbered steps and records pass/fail checks; ``failed`` decides the exit code."""

    echo: Callable[[str], None] = print
    started: float = field(default_factory=time.monotonic)
    steps: int = 0
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    def step(self, text: str) -> None:
        self.steps += 1
        self.echo(f"[{time.monotonic() - self.started:6.1f}s] {self.steps:>2}. {text}")

    def info(self, text: str) -> None:
        self.echo(f"{'':>13}{text}")

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append((name, ok, detail))
        self.echo(f"{'':>13}check {name}: {'ok' if ok else 'FAILED'}{f' ({detail})' if detail else ''}")
        return ok

    @property
    def failed(self) -> list[str]:
        return [name for name, ok, _ in self.checks if not ok]

    def summary(self, figures: dict[str, str]) -> str:
        width = max(len(k) for k in figures) if figures else 0
        lines = ["", "=== summary ==="]
        lines += [f"{key.ljust(width)}  {value}" for key, value in figures.items()]
        passed = len(self.checks) - len(self.failed)
        lines.append(f"checks: {passed} passed, {len(self.failed)} failed")
        lines.append(f"wall time: {time.monotonic() - self.started:.1f}s")
        return "\n".join(lines)
