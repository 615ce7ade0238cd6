"""Quarantine: an authenticated message that cannot be stored as sent is kept, never lost.

After authentication, a message can still fail: its body breaks a bound (voicetrail.transport.payload),
a field has the wrong shape, or the store refuses it for good (voicetrail.storage.failures). The sender
gets its 4xx (a retry would fail the same way), and the message is kept here:

  * redacted like any event (voicetrail.redaction over the whole body text), truncated past
    MAX_KEPT_CHARS, under the `metadata` retention class (the purge deletes it with the rest);
  * with its reason: the error code and fixed detail text (never request content);
  * counted (`MessageQuarantined`, dimension source: the QuarantinedMessagesAlarm);
  * under its call when one can be named (`voicetrail calls show <call id>` lists it), and under the
    UTC day it arrived (`voicetrail quarantine list --day`);
  * once per body: a resend is a duplicate (the key is the body's SHA-256).

`voicetrail quarantine replay` feeds a kept body back through the webhook's pipeline (authentication
skipped: it was authenticated when it arrived) once the cause is fixed, and marks the record replayed.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode

from voicetrail.domain.tree import Branch, Leaf, rebuild
from voicetrail.errors import BadRequestError, StoreRejectedError, StoreUnavailableError, VoicetrailError

MAX_KEPT_CHARS = 100_000


class Source(StrEnum):
    VAPI = "vapi"
    TWILIO_STATUS = "twilio.status"
    TWILIO_RECORDING = "twilio.recording"


@dataclass(frozen=True)
class QuarantineRecord:
    """One kept message. `body` is redacted text; `digest` the SHA-256 (hex) of the bytes received."""

    source: str
    digest: str
    reason: str  # the domain error's code: bad_request, unstorable, invalid_phone...
    detail: str  # the error's fixed detail text
    received_at_ms: int
    body: str
    truncated: bool
    content_type: str = ""
    call_id: str | None = None
    replayed_at_ms: int | None = None

    @property
    def record_id(self) -> str:
        """How the CLI names it: `<source>#<digest>` (unique within its day)."""
        return f"{self.source}#{self.digest}"


class QuarantineStore(Protocol):
    def keep(self, record: QuarantineRecord, *, expires_at: int) -> bool:
        """Store once (a second keep of the same day, source and digest is a no-op); True if new."""
        ...

    def list_day(self, day: str, *, now: float) -> list[QuarantineRecord]: ...

    def mark_replayed(self, day: str, record_id: str, *, at_ms: int) -> None: ...


class Metrics(Protocol):
    def count(self, name: str, value: float = 1, **dimensions: str) -> None: ...


def utc_day(epoch_ms: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch_ms // 1000))


# What is quarantined: a message the sender authenticated that fails for good. A transient failure
# (StoreUnavailableError, 503) is not: the sender's retry stores it.
QUARANTINED_ERRORS = (BadRequestError, StoreRejectedError)


class Quarantine:
    """Keeps what fails after authentication (see the module docstring)."""

    def __init__(
        self,
        store: QuarantineStore,
        *,
        redact_text: Callable[[str], str],
        expires_at: Callable[[float], int],
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._redact = redact_text
        self._expires_at = expires_at
        self._metrics = metrics
        self._clock = clock

    @contextmanager
    def guard(
        self, source: str, body: bytes, *, content_type: str = "", call_id: Callable[[], str | None]
    ) -> Iterator[None]:
        """Run the block; a quarantined error is kept (then re-raised, so the sender gets its 4xx)."""
        try:
            yield
        except QUARANTINED_ERRORS as exc:
            self.keep(source, body, exc, content_type=content_type, call_id=_safe(call_id))
            raise

    def keep(
        self,
        source: str,
        body: bytes,
        error: VoicetrailError,
        *,
        content_type: str = "",
        call_id: str | None = None,
    ) -> bool:
        now = self._clock()
        text = body.decode("utf-8", "replace")
        truncated = len(text) > MAX_KEPT_CHARS
        record = QuarantineRecord(
            source=source,
            digest=hashlib.sha256(body).hexdigest()[:32],
            reason=error.code,
            detail=str(error)[:200],
            received_at_ms=int(now * 1000),
            body=redact_body(text[:MAX_KEPT_CHARS], content_type, self._redact),
            truncated=truncated,
            content_type=content_type[:100],
            call_id=call_id,
        )
        try:
            new = self._store.keep(record, expires_at=self._expires_at(now))
        except StoreRejectedError:
            # Bounded by construction (truncated, gzipped): should never happen; the metric alarms.
            self._metrics.count("QuarantineFailed", source=source)
            return False
        except StoreUnavailableError:
            # The answer stays the 4xx the message earned: a retry would fail the same way.
            self._metrics.count("QuarantineFailed", source=source)
            return False
        if new:
            # One dimension (source): the QuarantinedMessagesAlarm sums the three; reasons are in the records.
            self._metrics.count("MessageQuarantined", source=source)
        return new


def redact_body(text: str, content_type: str, redact_text: Callable[[str], str]) -> str:
    """The kept text, redacted so that it can still be replayed: a JSON document keeps its structure (each
    string value redacted, walked without recursion), a form its fields (each value redacted); anything
    else is redacted as one text. A body too broken to parse is redacted as text."""
    if "form" in content_type.lower():
        try:
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=500)
        except ValueError:
            return redact_text(text)
        return urlencode([(name, redact_text(value)) for name, value in pairs])
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return redact_text(text)

    def step(node: Any, _: None) -> Leaf | Branch[None]:
        if isinstance(node, str):
            return Leaf(redact_text(node))
        if isinstance(node, dict):
            return Branch({}, [(k, v, None) for k, v in node.items()])
        if isinstance(node, list):
            return Branch([], [(i, v, None) for i, v in enumerate(node)])
        return Leaf(node)

    try:
        return json.dumps(rebuild(document, None, step), ensure_ascii=False)
    except (ValueError, RecursionError):  # NaN kept as parsed, or nesting past the encoder's limit
        return redact_text(text)


class _Request(Protocol):
    @property
    def body(self) -> bytes: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


def kept_if_refused(
    quarantine: Quarantine | None,
    source: str,
    request: _Request,
    call_id: Callable[[bytes], str | None],
) -> AbstractContextManager[None]:
    """The webhooks' one line: `with kept_if_refused(...)` around what follows authentication."""
    if quarantine is None:
        return nullcontext()
    return quarantine.guard(
        source,
        request.body,
        content_type=request.headers.get("content-type", ""),
        call_id=lambda: call_id(request.body),
    )


def _safe(call_id: Callable[[], str | None]) -> str | None:
    try:
        return call_id()
    except Exception:
        return None
