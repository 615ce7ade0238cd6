"""Authentication of Retell AI webhooks: `X-Retell-Signature: v=<unix ms>,d=<hex>`.

The scheme, as the official SDK implements it (retell-sdk 6.2.13, `retell/lib/webhook_auth.py`) and the
docs describe it (docs.retellai.com/features/secure-webhook):

* the key is a Retell API key, the one that carries the "webhook" badge in the dashboard;
* `d` is HMAC-SHA256(key, raw body followed by the timestamp as a decimal string), lower-case hex;
* `v` is the signing time in Unix milliseconds; the SDK refuses one more than 5 minutes away from now,
  in either direction.

This verifier accepts a strict subset of what the SDK accepts (tests/unit/test_observed_signatures.py uses the
SDK as an oracle): ASCII digits only (the SDK's `\\d` also matches other scripts' digits), at most 16 of
them, and the header's outer whitespace ignored as HTTP does. Several keys may be active at once (a key
rotation); each is compared in constant time. Older integrations signed the body alone, with no
timestamp: that form cannot be bounded in time (a captured request replays forever) and is refused.

Every shape of header fails closed with AuthenticationError (a 401), never another exception.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence

from voicetrail.errors import AuthenticationError, AuthFailure
from voicetrail.providers.webhook_hmac import MAX_HEADER_CHARS, digest_matches, header_value

SIGNATURE_HEADER = "x-retell-signature"
REPLAY_WINDOW_MS = 5 * 60 * 1000
_FORM = re.compile(r"v=([0-9]{1,16}),d=([0-9a-f]{64})", re.ASCII)


def signing_message(body: bytes, timestamp_ms: int) -> bytes:
    """What Retell signs: the raw body, then the millisecond timestamp in decimal."""
    return body + str(timestamp_ms).encode("ascii")


def verify(headers: Mapping[str, object], body: bytes, keys: Sequence[str], *, now: float) -> None:
    """Return quietly if the request is Retell's, else raise AuthenticationError. `now` is Unix seconds."""
    if not keys:
        raise AuthenticationError(AuthFailure.INVALID)
    raw = header_value(headers, SIGNATURE_HEADER)
    if raw is None or not raw.strip():
        raise AuthenticationError(AuthFailure.MISSING)
    text = raw.strip()
    match = _FORM.fullmatch(text) if len(text) <= MAX_HEADER_CHARS else None
    if match is None:
        raise AuthenticationError(AuthFailure.MALFORMED)
    timestamp_ms = int(match.group(1))
    now_ms = int(now * 1000)
    if timestamp_ms < now_ms - REPLAY_WINDOW_MS:
        raise AuthenticationError(AuthFailure.STALE)
    if timestamp_ms > now_ms + REPLAY_WINDOW_MS:
        raise AuthenticationError(AuthFailure.FUTURE)
    received = bytes.fromhex(match.group(2))
    if not digest_matches([received], signing_message(body, timestamp_ms), keys):
        raise AuthenticationError(AuthFailure.INVALID)


def sign(body: bytes, key: str, *, timestamp_ms: int) -> dict[str, str]:
    """The header a genuine Retell delivery carries (for tests, `voicetrail sign` and the demo)."""
    digest = hmac.new(key.encode("utf-8"), signing_message(body, timestamp_ms), hashlib.sha256).hexdigest()
    return {SIGNATURE_HEADER: f"v={timestamp_ms},d={digest}"}
