"""Shared pieces of the HMAC-SHA256 webhook verifiers (Retell, ElevenLabs).

Both verifiers parse their own header form; this module holds what they share: a bounded, case-tolerant
header lookup that never raises, and a constant-time check of one or more received digests against the
digest under every active key (rotation). The check never short-circuits, so its timing says neither
which key matched nor whether any did.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence

# No genuine signature header of either scheme is longer than ~200 characters; anything far longer is
# refused before it is split or matched.
MAX_HEADER_CHARS = 1024


def header_value(headers: Mapping[str, object], name: str) -> str | None:
    """The header `name` (lower case), matched case-insensitively; None if absent or not text."""
    value = headers.get(name)
    if value is None:
        # API Gateway HTTP APIs deliver lower-case names; other callers (tests, the local API) may not.
        for key, candidate in headers.items():
            if isinstance(key, str) and key.lower() == name:
                value = candidate
                break
    return value if isinstance(value, str) else None


def digest_matches(received: Sequence[bytes], message: bytes, keys: Sequence[str]) -> bool:
    """True when any received digest equals HMAC-SHA256(key, message) for any active key."""
    expected = [hmac.new(key.encode("utf-8"), message, hashlib.sha256).digest() for key in keys]
    matched = False
    for candidate in received:
        for value in expected:
            matched |= hmac.compare_digest(candidate, value)
    return matched
