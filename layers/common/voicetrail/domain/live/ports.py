"""What the live call flow needs from storage: per-call live state, configs, and the do-not-call list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence


class ConfigSource(Protocol):
    """Where live-call configs are kept (the table, SSM, or memory)."""

    def fetch(self, key: str) -> str | None:
        """The raw JSON text stored under `key`, None when absent. Raises on I/O failure."""
        ...

    def fetch_many(self, keys: Sequence[str]) -> dict[str, str | None]:
        """`fetch` of several keys in one round trip where the store allows it. Raises on I/O failure."""
        ...


class DoNotCallList(Protocol):
    """The pre-dial gate's do-not-call list, as keyed hashes of numbers (providers.vapi.predial)."""

    def contains(self, number_hash: str) -> bool: ...

    def add(self, number_hash: str, *, now: float) -> bool:
        """True when the hash was not on the list before."""
        ...

    def remove(self, number_hash: str) -> bool:
        """True when the hash was on the list."""
        ...
