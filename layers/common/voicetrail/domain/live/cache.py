"""A tiny in-Lambda TTL cache (monotonic clock), bounded in size."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")
_MISSING = object()


class TtlCache(Generic[V]):
    def __init__(
        self, ttl_seconds: float, *, max_entries: int = 512, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bool, V | None]:
        """(hit, value). A hit may carry None when None was cached (a negative lookup)."""
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                return False, None
            stored_at, value = entry
            if self._clock() - stored_at >= self._ttl:
                return False, None
            return True, value

    def get_stale(self, key: str) -> tuple[bool, V | None]:
        """The last value even if expired (used when the source is down)."""
        with self._lock:
            entry = self._items.get(key)
            return (False, None) if entry is None else (True, entry[1])

    def put(self, key: str, value: V) -> None:
        if self._ttl <= 0:
            return
        with self._lock:
            self._items[key] = (self._clock(), value)
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def discard(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
