"""How the domain names what outlives a request: a call, a caller, a system job, a live-call config.

These names are written into every audit record's hash and into erasure receipts, so they never change;
the table partitions by them (storage.table builds its keys from them, never the other way round).
"""

from __future__ import annotations

import hashlib
import re

CALL_PREFIX = "CALL#"
TWILIO_CALL_PREFIX = "CALL#twilio:"
CALLER_PREFIX = "CALLER#"
SYSTEM_PREFIX = "SYS#"


# A name part a sender chose (a call id, a config's phone number id) is bounded: past MAX_KEY_PART_BYTES of
# UTF-8 it is named by its digest, `h~<32 hex of its SHA-256>`, so every key built from it stays under
# DynamoDB's limits (partition key 2,048 bytes; sort key and every index range key 1,024) and the same input
# always gets the same name (a resend is still a duplicate; `calls show <long id>` finds it).
MAX_KEY_PART_BYTES = 256
HASHED_PREFIX = "h~"
# A semantic key's bound: with a bounded call key, the longest ExpiryIndex range key is
# 13 + 261 + 1 + 9 + 512 = 796 bytes, under DynamoDB's 1,024 (tests/unit/test_payload_bounds.py).
MAX_EVENT_KEY_BYTES = 512
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def key_part(text: str, limit: int = MAX_KEY_PART_BYTES) -> str:
    """`text` when it fits `limit` UTF-8 bytes (and any encoder can write it), else its digest."""
    if len(text) * 4 <= limit and not _LONE_SURROGATE.search(text):
        return text  # fast path: even all 4-byte characters would fit
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= limit and not _LONE_SURROGATE.search(text):
        return text
    return HASHED_PREFIX + hashlib.sha256(encoded).hexdigest()[:32]


def call_pk(call_key: str) -> str:
    """The name of one call: its events, summary, recordings, live state, names and audit chain.
    A call key over MAX_KEY_PART_BYTES is named by its digest (key_part), the same for every reader."""
    return f"{CALL_PREFIX}{key_part(call_key)}"


def call_key_of_pk(pk: str) -> str:
    return pk.removeprefix(CALL_PREFIX)


def is_twilio_call_pk(pk: str) -> bool:
    return pk.startswith(TWILIO_CALL_PREFIX)


# Calls of the platforms voicetrail observes are named `<platform>:<the platform's id>`, as Twilio's are:
# their partitions can never be mistaken for a Vapi call (erasure asks each provider for its own calls).
OBSERVED_PLATFORMS = ("retell", "elevenlabs")


def platform_call_key(platform: str, call_id: str) -> str:
    """`retell:<call_id>`, `elevenlabs:<conversation_id>`."""
    return f"{platform}:{call_id}"


def platform_call_of_pk(pk: str, platform: str) -> str | None:
    """The platform's own call id when `pk` names one of its calls, else None."""
    prefix = f"{CALL_PREFIX}{platform}:"
    return pk[len(prefix) :] if pk.startswith(prefix) and len(pk) > len(prefix) else None


def system_pk(name: str) -> str:
    """A system job's name (`SYS#purge`, `SYS#erasure`): its audit chain and its state."""
    return f"{SYSTEM_PREFIX}{name}"


# A live-call config is named by its scope: `CONFIG#phone#<phoneNumberId>`,
# `CONFIG#assistant#<assistantId>`, or
# the default. Every source keys by these names (the table's partition, SSM's parameter path).
CONFIG_NAME_PREFIX = "CONFIG#"
DEFAULT_CONFIG_PK = "CONFIG#default"


def config_pk(scope: str, ident: str) -> str:
    """`CONFIG#phone#<phoneNumberId>` or `CONFIG#assistant#<assistantId>` (the default: `CONFIG#default`)."""
    return f"{CONFIG_NAME_PREFIX}{scope}#{key_part(ident)}"
