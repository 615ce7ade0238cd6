"""Authentication of ElevenLabs webhooks: `ElevenLabs-Signature: t=<unix s>,v0=<hex>`.

The scheme, as the official SDK implements it (elevenlabs 2.78.0, `elevenlabs/webhooks_custom.py`,
`construct_event`) and the docs describe it (elevenlabs.io/docs, post-call webhooks, HMAC authentication):

* the key is the shared secret shown when the webhook was created in the workspace settings;
* `v0` is HMAC-SHA256(key, "<t>.<raw body>"), lower-case hex; `t` is the signing time in Unix seconds;
* the SDK refuses a `t` older than 30 minutes and does NOT refuse one in the future. We do, beyond a
  clock-skew allowance (FUTURE_SKEW_SECONDS): otherwise a captured request signed with a far-future `t`
  would stay replayable for as long as the attacker likes.

Differences from the SDK, all stricter, never looser except where noted (the SDK is this module's test
oracle, tests/unit/test_observed_signatures.py):
* `t` must be 1-12 ASCII digits (the SDK's `int()` also takes signs, spaces, underscores and other
  scripts' digits, and raises ValueError on anything else: an exception a handler would turn into a 500);
* exactly one `t`; each `v0` must be 64 lower-case hex digits. Several `v0` values are accepted and any
  valid one authenticates (the SDK checks only the last): the form Stripe-style senders use during their
  own secret rotation. Unknown parts (a future `v1=`) are ignored, as the SDK ignores them;
* the header's outer whitespace is ignored, as HTTP does.

Several keys may be active at once here too (our rotation). Every header shape fails closed with
AuthenticationError (a 401), never another exception.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence

from voicetrail.errors import AuthenticationError, AuthFailure
from voicetrail.providers.webhook_hmac import MAX_HEADER_CHARS, digest_matches, header_value

SIGNATURE_HEADER = "elevenlabs-signature"
MAX_AGE_SECONDS = 30 * 60
# NTP-synchronised clocks differ by far less; five minutes is the allowance Retell's SDK gives both ways.
FUTURE_SKEW_SECONDS = 5 * 60
MAX_PARTS = 8
_TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)
_DIGEST = re.compile(r"[0-9a-f]{64}", re.ASCII)


def signing_message(body: bytes, timestamp: str) -> bytes:
    """What ElevenLabs signs: the timestamp as sent, a dot, the raw body."""
    return timestamp.encode("ascii") + b"." + body


def verify(headers: Mapping[str, object], body: bytes, keys: Sequence[str], *, now: float) -> None:
    """Return quietly if the request is ElevenLabs', else raise AuthenticationError. `now` is Unix seconds."""
    if not keys:
        raise AuthenticationError(AuthFailure.INVALID)
    raw = header_value(headers, SIGNATURE_HEADER)
    if raw is None or not raw.strip():
        raise AuthenticationError(AuthFailure.MISSING)
    text = raw.strip()
    parts = text.split(",", MAX_PARTS) if len(text) <= MAX_HEADER_CHARS else []
    if not parts or len(parts) > MAX_PARTS:
        raise AuthenticationError(AuthFailure.MALFORMED)
    stamps = [part[2:] for part in parts if part.startswith("t=")]
    digests = [part[3:] for part in parts if part.startswith("v0=")]
    if len(stamps) != 1 or not digests or not _TIMESTAMP.fullmatch(stamps[0]):
        raise AuthenticationError(AuthFailure.MALFORMED)
    if not all(_DIGEST.fullmatch(value) for value in digests):
        raise AuthenticationError(AuthFailure.MALFORMED)
    stamp = stamps[0]
    # Compared in milliseconds, exactly as the SDK does (`int(t) * 1000 < now_ms - 30 min` is stale).
    stamp_ms, now_ms = int(stamp) * 1000, int(now * 1000)
    if stamp_ms < now_ms - MAX_AGE_SECONDS * 1000:
        raise AuthenticationError(AuthFailure.STALE)
    if stamp_ms > now_ms + FUTURE_SKEW_SECONDS * 1000:
        raise AuthenticationError(AuthFailure.FUTURE)
    received = [bytes.fromhex(value) for value in digests]
    if not digest_matches(received, signing_message(body, stamp), keys):
        raise AuthenticationError(AuthFailure.INVALID)


def sign(body: bytes, key: str, *, timestamp: int) -> dict[str, str]:
    """The header a genuine ElevenLabs delivery carries (for tests, `voicetrail sign` and the demo)."""
    stamp = str(timestamp)
    digest = hmac.new(key.encode("utf-8"), signing_message(body, stamp), hashlib.sha256).hexdigest()
    return {SIGNATURE_HEADER: f"t={stamp},v0={digest}"}
