"""Semantic idempotency keys for Vapi messages.

Vapi sends no message id, and a retried delivery is not byte-identical (presigned URLs are regenerated
per delivery). So the key is built from what identifies the event, per type, within its call:

  assistant-request             assistant-request                       one per call
  end-of-call-report            end-of-call-report                      one per call
  status-update                 status-update#<status>                  one per status per call
  tool-calls                    tool-calls#<toolCall ids, in order>     ids are Vapi's
  transcript (partial/final)    transcript#<role>#<transcriptType>#<timestamp>#<digest(text)>
  speech-update                 speech-update#<role>#<status>#<turn>#<timestamp>
  anything else                 <type>#<timestamp>#<digest(content)>

`timestamp` is the message's own epoch-ms timestamp. The digest is over the message with the volatile
parts removed (presigned URLs and their expiry), so two distinct events never share a key while a retry
of the same event always does.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from voicetrail.vapi.models import (
    FINAL_TRANSCRIPT_TYPE,
    ParsedMessage,
    SpeechUpdate,
    StatusUpdate,
    ToolCalls,
    Transcript,
)

_VOLATILE_PREFIXES = ("presigned",)
# The call/assistant objects are snapshots that may be refreshed between deliveries; they are not the event.
_CONTEXT_KEYS = frozenset({"call", "assistant", "phoneNumber", "customer", "artifact", "timestamp"})


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if not str(k).lower().startswith(_VOLATILE_PREFIXES)}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def digest(value: Any) -> str:
    canonical = json.dumps(_stable(value), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def _ts(value: float | None) -> str:
    if value is None:
        return "-"
    return str(int(value)) if float(value).is_integer() else repr(value)


def semantic_key(parsed: ParsedMessage) -> str:
    message = parsed.message
    kind = message.type
    if kind in ("assistant-request", "end-of-call-report"):
        return kind
    if isinstance(message, StatusUpdate) and message.status:
        return f"status-update#{message.status}"
    if isinstance(message, ToolCalls):
        ids = [c.id for c in message.toolCallList if c.id]
        if ids:
            return "tool-calls#" + ",".join(ids)
    if isinstance(message, Transcript):
        transcript_type = message.transcriptType or ("final" if kind == FINAL_TRANSCRIPT_TYPE else "-")
        return (
            f"transcript#{message.role or '-'}#{transcript_type}#{_ts(message.timestamp)}"
            f"#{digest(message.transcript or '')}"
        )
    if isinstance(message, SpeechUpdate):
        role, status = message.role or "-", message.status or "-"
        return f"speech-update#{role}#{status}#{message.turn}#{_ts(message.timestamp)}"
    content = {k: v for k, v in parsed.raw.items() if k not in _CONTEXT_KEYS}
    return f"{kind}#{_ts(message.timestamp)}#{digest(content)}"
