"""A cache of a bounded number of entries, so that endless distinct keys cost bounded memory.

The middleware keeps answers by request header values, which a client
chooses: a cache holds at most :data:`MAX_ENTRIES` values, forgets the oldest
first when full, and never keeps a key longer than :data:`MAX_KEY_BYTES`.
An :class:`AnswerCache` also forgets every answer when the origin matcher in
force changes, since its answers were given under the previous one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

MAX_ENTRIES = 1024
"""How many values a cache keeps; the oldest goes first when it is full."""

MAX_KEY_BYTES = 1024
"""A value whose key is longer is computed each time, never kept."""

Key = TypeVar("Key")
Value = TypeVar("Value")


class BoundedCache(Mapping[Key, Value], Generic[Key, Value]):
    """Values by key: at most ``max_entries``, none whose key measures more than ``max_key_bytes``.

    ``key_bytes`` measures a key. Read it as a mapping; only :meth:`keep`
    adds to it, and :meth:`clear` empties it.
    """

    def __init__(
        self, key_bytes: Callable[[Key], int], max_entries: int = MAX_ENTRIES, max_key_bytes: int = MAX_KEY_BYTES
    ) -> None:
        self.key_bytes = key_bytes
        self.max_entries = max_entries
        self.max_key_bytes = max_key_bytes
        self._values: dict[Key, Value] = {}

    def __getitem__(self, key: Key) -> Value:
        return self._values[key]

    def __iter__(self) -> Iterator[Key]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def value(self, key: Key) -> Value | None:
        """The value kept for ``key``, or None (one dictionary lookup: this is on every request's path)."""
        return self._values.get(key)

    def keep(self, key: Key, value: Value) -> None:
        """Keep ``value`` for ``key``, forgetting the oldest value when full; a too long key is not kept."""
        if self.key_bytes(key) > self.max_key_bytes:
            return
        if len(self._values) >= self.max_entries:
            del self._values[next(iter(self._values))]
        self._values[key] = value

    def clear(self) -> None:
        self._values.clear()


class AnswerCache(BoundedCache[Key, Value]):
    """Answers given under one origin matcher, all forgotten when another matcher is in force."""

    def __init__(self, key_bytes: Callable[[Key], int], matcher: object) -> None:
        super().__init__(key_bytes)
        self.answered_under = matcher
        """The matcher in force when the kept answers were given (compared by identity)."""

    def answer(self, key: Key, matcher: object) -> Value | None:
        """The answer kept for ``key`` under ``matcher``, the matcher in force now; None if none is kept."""
        if matcher is not self.answered_under:
            self.clear()
            self.answered_under = matcher
        return self.value(key)
