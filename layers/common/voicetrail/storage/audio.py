"""A call's audio kept in S3 (port `AudioStore`), and the deletes that must take its object along.

When a deployment keeps ElevenLabs' `post_call_audio` (ElevenLabsKeepAudio), the decoded audio is an
object of the large-events bucket and the table holds only its pointer record:

  object   recording/<sha256(pk#sk)>.mp3     SSE-KMS, no call id or caller data in the key
  item     CALL#elevenlabs:<id> / REC#elevenlabs#audio, class `recording`, body
           {"audio": {"key", "bytes", "sha256", "content_type"}}

Order: the pointer is looked up first (a resend finds it and uploads nothing), then the object is put, then
the pointer is written conditionally. A crash between the two leaves an object without a pointer: the
sender's retry writes the same key again, and the bucket's `recording/` lifecycle rule removes it after
the recording retention whatever happens. The purge and erasure delete the object before the item
(`HeldObjectsDeleter`, `storage.erasure`): the key follows from (pk, sk), so no read is needed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace

from voicetrail.domain.calls.ports import EventStore, PutOutcome, StoredEvent, is_kept_audio
from voicetrail.domain.items import BatchOutcome, ItemDeleter, ItemKey
from voicetrail.errors import StoreRejectedError, StoreUnavailableError
from voicetrail.storage.large_bodies import S3BodyStore, audio_object_key


class S3AudioStore:
    def __init__(self, bodies: S3BodyStore, events: EventStore) -> None:
        self._bodies = bodies
        self._events = events

    def keep(self, pointer: StoredEvent, audio: bytes, *, content_type: str, now: float) -> PutOutcome:
        if not is_kept_audio(pointer.sk):
            raise ValueError("not a kept-audio pointer")
        if self._events.get_event(pointer.call_id, pointer.sk) is not None:
            return PutOutcome.DUPLICATE  # a resend: the object is already there, nothing is uploaded
        key = audio_object_key(pointer.pk, pointer.sk)
        self._bodies.put(key, audio, content_type=content_type, encoding=None)
        body = {
            **pointer.body,
            "audio": {
                "key": key,
                "bytes": len(audio),
                "sha256": hashlib.sha256(audio).hexdigest(),
                "content_type": content_type,
            },
        }
        return self._events.put_event(replace(pointer, body=body), now=now)


def held_objects(keys: Sequence[ItemKey]) -> list[str]:
    """The S3 objects that go with these items (kept audio), derived from their keys."""
    return [audio_object_key(k.pk, k.sk) for k in keys if is_kept_audio(k.sk)]


class HeldObjectsDeleter:
    """An item deleter that deletes the items' S3 objects first (the purge's, over BatchDeleter).

    When the objects cannot be deleted, their items are kept (reported failed), so a later run tries both
    again; the other items of the batch are deleted as usual."""

    def __init__(self, inner: ItemDeleter, bodies: S3BodyStore) -> None:
        self._inner = inner
        self._bodies = bodies

    def delete(self, keys: Sequence[ItemKey]) -> BatchOutcome:
        holding = [k for k in keys if is_kept_audio(k.sk)]
        if not holding:
            return self._inner.delete(keys)
        try:
            self._bodies.delete(held_objects(holding))
        except (StoreUnavailableError, StoreRejectedError):
            rest = [k for k in keys if not is_kept_audio(k.sk)]
            outcome = self._inner.delete(rest) if rest else BatchOutcome()
            outcome.failed.extend(holding)
            return outcome
        return self._inner.delete(keys)
