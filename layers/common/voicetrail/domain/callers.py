"""Keyed hashes of caller identifiers (HMAC-SHA256 with a secret pepper).

The same caller always hashes to the same value, so calls can be linked for erasure and consent
lookups without the number ever being stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from types import ModuleType
from typing import Protocol

from voicetrail.errors import InvalidCallerIdError

DEFAULT_REGION = "US"
_SIP = re.compile(
    r"sips?:[A-Za-z0-9_.!~*'()&=+$,;?/%-]{1,64}@[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?", re.IGNORECASE
)
_FINGERPRINT_MESSAGE = b"voicetrail:pepper-fingerprint:v1"
# A North American number already in E.164 (+1, area code and exchange not starting with 0 or 1). For
# these, phonenumbers' parse -> is_possible -> E.164 returns the text unchanged (a test proves it on
# generated numbers), so the common caller id needs no phonenumbers: its import costs ~15 ms of cold
# start, and it is loaded the first time any other number is seen.
_NANP_E164 = re.compile(r"\+1[2-9][0-9]{2}[2-9][0-9]{6}")  # ASCII digits: \d is any script's


class PepperFingerprints(Protocol):
    """Keyed fingerprints of the peppers caller hashes were made with (never a pepper)."""

    def record(self, fingerprint: str) -> None:
        """Remember that caller hashes are made with this pepper (idempotent, cheap after the first)."""
        ...

    def known(self) -> set[str]:
        """Fingerprints of every pepper hashes were made with."""
        ...


def _phonenumbers() -> ModuleType:
    import phonenumbers

    return phonenumbers


def caller_id(value: str, region: str = DEFAULT_REGION) -> str:
    """The canonical caller identifier (E.164, or a lower-case SIP URI) of a number someone typed.

    Refuses what cannot be a caller: "abc", a number too short, a national number that is not valid in
    `region` (a foreign number must be given in international form, +44...). Erasure relies on this: a
    number that can never match is refused, not "erased" with a zero count.
    """
    text = value.strip() if isinstance(value, str) else ""
    if _SIP.fullmatch(text):
        return text.lower()
    phonenumbers = _phonenumbers()
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidCallerIdError(
            "not a phone number: give it in E.164 form (+14155550123) or as sip:user@host"
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidCallerIdError(
            "not a valid phone number for its country: give it in E.164 form with the country code (+44...)"
        )
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def normalize_phone(value: str, region: str = DEFAULT_REGION) -> str:
    """E.164 when `phonenumbers` can parse it, else a canonical lower-case string (e.g. a SIP URI)."""
    text = value.strip()
    if _NANP_E164.fullmatch(text):
        return text
    phonenumbers = _phonenumbers()
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return text.lower()
    if phonenumbers.is_possible_number(parsed):
        return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
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

    def fingerprint(self) -> str:
        """A keyed fingerprint of the pepper itself: equal fingerprints mean the same pepper, and it
        reveals nothing about the pepper or any number. Erasure compares it before trusting a lookup."""
        return "pf_" + hmac.new(self._key, _FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()[:32]

    def is_hash(self, value: str) -> bool:
        return value.startswith(self.PREFIX) and len(value) == len(self.PREFIX) + 32


def record_pepper_fingerprint(store: PepperFingerprints | None, pepper: Sequence[str]) -> None:
    """Record the fingerprint of the active pepper, so that erasure can detect a wrong one (the store
    writes each fingerprint once per process)."""
    if store is not None:
        store.record(CallerHasher(pepper[0]).fingerprint())
