"""A call's memory of its caller's name, as keyed hashes only.

A caller says "my name is Maria Gonzalez" once; the assistant says "Thanks, Maria" in a later message,
with no cue a pattern could use. Each name word learnt is remembered as HMAC(pepper, word) on the call
(item `CALL#<id>` / `NAMES`, retention class content), and later messages of the call redact the words
whose hash matches. The name itself is never stored.

The port is `voicetrail.domain.calls.ports.NameMemory`; its adapters are `voicetrail.storage.names` (DynamoDB)
and `tests.support.memory.InMemoryNameMemory`.
"""

from __future__ import annotations

from voicetrail.domain.calls.ports import NameMemory as NameMemory
