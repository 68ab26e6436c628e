"""Warnings about refused requests, rate-limited so that a flood cannot fill the disk.

A client decides how many refusals it provokes, so each refusal cannot cost a
log line. :class:`RefusalLog` writes at most ``per_second`` lines a second on
average (a token bucket that holds ``burst`` lines), counts the lines it drops,
and when it writes again it first writes one line saying how many it dropped.
It asks for a refusal's line only when it writes one, so a dropped line costs
no work. Callers write each refusal as :func:`structured_line`: one short line
of ``key="value"`` pairs, each value :func:`cut` when long.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

DEFAULT_PER_SECOND = 5.0
DEFAULT_BURST = 5

VALUE_LIMIT = 200
"""Longer request values are cut in a log line or an explanation, so a hostile client cannot flood either."""


def cut(value: str) -> str:
    """``value``, cut after :data:`VALUE_LIMIT` characters when longer."""
    return value if len(value) <= VALUE_LIMIT else value[:VALUE_LIMIT] + "...(cut)"


def structured_line(event: str, fields: Mapping[str, str]) -> str:
    """``key="value"`` pairs; values are JSON-quoted and cut, so the line stays one short line."""
    pairs = (f"{key}={json.dumps(cut(value))}" for key, value in fields.items())
    return f"{event}: " + " ".join(pairs)


class Refusal(Protocol):
    """A refusal as the log writes it: its line, and the fields attached to the record."""

    def log_line(self) -> str: ...

    def fields(self) -> Mapping[str, str]: ...


class RefusalLog:
    """Rate-limited warnings, one limit per instance: share one instance per kind of refusal.

    ``warning(refusal)`` writes the refusal's line at WARNING level with its
    fields attached to the record as the attribute named ``extra_key`` (for
    structured log handlers), unless the limit is reached. ``refusal`` is a
    callable, called only for a line written: during a flood, working out
    what a dropped line would have said costs nothing.
    """

    def __init__(
        self,
        logger: logging.Logger,
        extra_key: str,
        *,
        per_second: float = DEFAULT_PER_SECOND,
        burst: int = DEFAULT_BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.extra_key = extra_key
        self.per_second = per_second
        self.burst = burst
        self.clock = clock
        self.suppressed = 0
        """Lines dropped since the last line written."""
        self._tokens = float(burst)
        self._filled_at = clock()
        self._lock = threading.Lock()

    def warning(self, refusal: Callable[[], Refusal]) -> bool:
        """Write ``refusal()``'s line unless over the limit; return whether it was written."""
        with self._lock:
            now = self.clock()
            elapsed = max(0.0, now - self._filled_at)
            self._tokens = min(self.burst, self._tokens + elapsed * self.per_second)
            self._filled_at = now
            if self._tokens < 1:
                self.suppressed += 1
                return False
            self._tokens -= 1
            suppressed, self.suppressed = self.suppressed, 0
        written = refusal()
        if suppressed:
            count = {"suppressed": str(suppressed)}
            self.logger.warning(
                "suppressed %d refusal log line(s) since the last one written (at most %g a second)",
                suppressed,
                self.per_second,
                extra={self.extra_key: count},
                stacklevel=2,
            )
        self.logger.warning("%s", written.log_line(), extra={self.extra_key: dict(written.fields())}, stacklevel=2)
        return True
