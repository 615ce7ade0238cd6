"""Owner or observer: does voicetrail run this call's assistant, or only watch it?

  owner     voicetrail answered the call's `assistant-request` with its own assistant (live features on):
            it disclosed the recording and runs the live consent flow.
  observer  the Server URL of an existing assistant, phone number or org points at voicetrail; Vapi sends
            no `assistant-request` for such calls. voicetrail never speaks into them and applies the
            number's observer policy instead of its own consent flow (voicetrail.domain.live.config).

The decision is recorded once per call (item `CALL#<id>` / `TOPOLOGY`, written before the
assistant-request is answered, so every later message of the call finds it) and copied to the call
record (voicetrail.domain.calls.state). A call without a record is an observer call. The port is
`voicetrail.domain.calls.ports.TopologyStore`; its adapters are `storage.topology` (DynamoDB) and
`tests.support.memory.InMemoryTopologyStore`.

Each container remembers a call's role for 5 minutes (one consistent read per call per container). That
an observer answer can be cached relies on Vapi's order: it sends nothing else for a call before its
`assistant-request` is answered (which messages to send is part of the assistant it asks for).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from voicetrail.domain.calls.ports import TopologyStore
from voicetrail.domain.live.cache import TtlCache

# A role never changes once the first message of a call has been seen, so a container may remember it.
ROLE_CACHE_SECONDS = 300.0


class CallRole(StrEnum):
    OWNER = "owner"
    OBSERVER = "observer"


class CallTopology:
    """Knows each call's role; one read per call per container (then cached)."""

    def __init__(
        self,
        store: TopologyStore,
        *,
        cache_seconds: float = ROLE_CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._cache: TtlCache[CallRole] = TtlCache(cache_seconds, max_entries=4096, clock=monotonic)

    def serve(self, call_id: str, *, now: float) -> CallRole:
        """We are answering this call's assistant-request with our assistant: we own the call."""
        self._store.mark_owner(call_id, now=now)
        self._cache.put(call_id, CallRole.OWNER)
        return CallRole.OWNER

    def role(self, call_id: str | None) -> CallRole:
        if not call_id:
            return CallRole.OBSERVER
        hit, cached = self._cache.get(call_id)
        if hit and cached is not None:
            return cached
        role = CallRole.OWNER if self._store.is_owner(call_id) else CallRole.OBSERVER
        self._cache.put(call_id, role)
        return role
