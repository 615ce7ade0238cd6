"""Everything about the DynamoDB table: its data model (`model`: item types, keys, indexes, retention),
the ports the domain depends on (`ports`), one DynamoDB adapter per aggregate (`dynamo` for events,
`ledger`, `live`, `names`, `audit`, `purge`, `erasure`, with `batch` and `expressions` shared), and their
in-memory twins (`memory`). Only this package talks to DynamoDB."""

from voicetrail.storage.ports import EventStore, PutOutcome, StoredEvent

__all__ = ["EventStore", "PutOutcome", "StoredEvent"]
