"""In-memory EventStore with the same semantics as the DynamoDB adapter (unit tests, benchmarks)."""

from __future__ import annotations

import threading

from voicetrail.storage.ports import PutOutcome, StoredEvent, call_pk


class InMemoryEventStore:
    def __init__(self) -> None:
        self._items: dict[tuple[str, str], StoredEvent] = {}
        self._lock = threading.Lock()

    def put_event(self, event: StoredEvent, *, now: float) -> PutOutcome:
        key = (event.pk, event.sk)
        with self._lock:
            existing = self._items.get(key)
            if existing is not None and existing.expires_at > now:
                return PutOutcome.DUPLICATE
            self._items[key] = event
        return PutOutcome.STORED

    def call_events(self, call_id: str, *, now: float) -> list[StoredEvent]:
        pk = call_pk(call_id)
        with self._lock:
            found = [
                e
                for (p, sk), e in self._items.items()
                if p == pk and sk.startswith("EVT#") and e.expires_at > now
            ]
        return sorted(found, key=lambda e: e.sk)

    def get_event(self, call_id: str, sk: str) -> StoredEvent | None:
        with self._lock:
            return self._items.get((call_pk(call_id), sk))

    def all_events(self) -> list[StoredEvent]:
        with self._lock:
            return list(self._items.values())
