"""Event storage: the port (`EventStore`) and its adapters (DynamoDB, in-memory for tests)."""

from voicetrail.storage.ports import EventStore, PutOutcome, StoredEvent

__all__ = ["EventStore", "PutOutcome", "StoredEvent"]
