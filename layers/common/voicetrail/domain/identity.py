"""How the domain names what outlives a request: a call, a caller, a system job, a live-call config.

These names are written into every audit record's hash and into erasure receipts, so they never change;
the table partitions by them (storage.table builds its keys from them, never the other way round).
"""

from __future__ import annotations

CALL_PREFIX = "CALL#"
TWILIO_CALL_PREFIX = "CALL#twilio:"
CALLER_PREFIX = "CALLER#"
SYSTEM_PREFIX = "SYS#"


def call_pk(call_key: str) -> str:
    """The name of one call: its events, summary, recordings, live state, names and audit chain."""
    return f"{CALL_PREFIX}{call_key}"


def call_key_of_pk(pk: str) -> str:
    return pk.removeprefix(CALL_PREFIX)


def is_twilio_call_pk(pk: str) -> bool:
    return pk.startswith(TWILIO_CALL_PREFIX)


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
    return f"{CONFIG_NAME_PREFIX}{scope}#{ident}"
