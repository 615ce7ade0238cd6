"""Bounds shared by the provider event models: identifiers that become storage keys, list lengths.

The request body is already bounded (MAX_BODY_BYTES); these bounds keep what is derived from it small
and safe as a key part (no `#`, no control characters, no path separators), whatever the sender wrote.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

# Call and conversation ids, agent ids: Retell's are 32 alphanumerics, ElevenLabs' `conv_<26 base32>`.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_\-.:]{0,127}$"
ProviderId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
# Event type names: lower-case words and underscores in both schemes; unknown future names are kept.
EVENT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
EventName = Annotated[str, StringConstraints(pattern=EVENT_NAME_PATTERN)]
ShortText = Annotated[str, StringConstraints(max_length=256)]
# A one-hour call has a few hundred turns; ten thousand leaves room and still bounds every walk.
MAX_TURNS = 10_000
# Epoch values at or above this are not timestamps (the year 5138 in milliseconds).
MAX_EPOCH_MS = 100_000_000_000_000
