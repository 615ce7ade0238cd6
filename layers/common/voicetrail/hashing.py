"""Keyed hashes of caller identifiers (HMAC-SHA256 with a secret pepper).

The same caller always hashes to the same value, so calls can be linked for erasure and consent
lookups without the number ever being stored.
"""

from __future__ import annotations

import hashlib
import hmac

import phonenumbers

DEFAULT_REGION = "US"


def normalize_phone(value: str, region: str = DEFAULT_REGION) -> str:
    """E.164 when `phonenumbers` can parse it, else a canonical lower-case string (e.g. a SIP URI)."""
    text = value.strip()
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return text.lower()
    if phonenumbers.is_possible_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return text.lower()


class CallerHasher:
    PREFIX = "ph_"

    def __init__(self, pepper: str) -> None:
        if not pepper:
            raise ValueError("pepper must not be empty")
        self._key = pepper.encode("utf-8")

    def hash(self, identifier: str) -> str:
        normalized = normalize_phone(identifier)
        return self.PREFIX + hmac.new(self._key, normalized.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def hash_name_part(self, word: str) -> str:
        """Keyed hash of one word of a name, so a call can remember its caller's name without storing it."""
        digest = hmac.new(self._key, b"name:" + word.strip().lower().encode("utf-8"), hashlib.sha256)
        return "nm_" + digest.hexdigest()[:24]

    def is_hash(self, value: str) -> bool:
        return value.startswith(self.PREFIX) and len(value) == len(self.PREFIX) + 32
