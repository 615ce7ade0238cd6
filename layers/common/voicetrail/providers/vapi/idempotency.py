"""Semantic idempotency keys for Vapi messages.

Vapi sends no message id, and a retried delivery is not byte-identical (presigned URLs are regenerated
per delivery). So the key is built from what identifies the event, per type, within its call. Every key
ends in a `<when>` part wherever a type can occur more than once in a call:

  when = t<epoch ms>         the message's own timestamp (epoch s, epoch ms and ISO-8601 are all read
                             as ms: voicetrail.providers.vapi.messages.timestamp_ms)
       | c<digest>           no timestamp: a digest of the live artifact's conversation so far
                             (`artifact.messages`, else `messagesOpenAIFormatted`, else `transcript`).
                             Two distinct events of one call differ in it (the conversation moved on);
                             the retries of one event carry the same artifact.
       | -                   neither: the content digest alone tells events apart

  assistant-request             assistant-request                                  one per call
  end-of-call-report            end-of-call-report                                 one per call
  status-update                 status-update#<status>                             one per status per call
  status-update, forwarding     status-update#forwarding#<when>                    one per transfer
  tool-calls                    tool-calls#<toolCall ids, in order>                ids are Vapi's
  transcript (partial/final)    transcript#<role>#<transcriptType>#<when>#<digest(text)>
  speech-update                 speech-update#<role>#<status>#<turn>#<when>
  user-interrupted              user-interrupted#<turnId>  (no turnId: user-interrupted#<when>)
  campaign.predial              campaign.predial#<campaignId>#<contact id>#<when>
  anything else (hang, function-call, conversation-update, model-output, unknown types...)
                                <type>#<when>#<digest(content)>

The content digest is over the message without its context snapshots (call, assistant, customer,
phoneNumber, artifact, timestamp) and without volatile parts (presigned URLs and their expiry). A missing
part is written `-`: no key ever contains `None`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from voicetrail.domain.identity import key_part
from voicetrail.domain.tree import Branch, Leaf, rebuild
from voicetrail.providers.vapi.messages import (
    FINAL_TRANSCRIPT_TYPE,
    CampaignPredial,
    ParsedMessage,
    SpeechUpdate,
    StatusUpdate,
    ToolCalls,
    Transcript,
    UserInterrupted,
)

_VOLATILE_PREFIXES = ("presigned",)
_MAX_PART_BYTES = 128
# The call/assistant objects are snapshots that may be refreshed between deliveries; they are not the event.
_CONTEXT_KEYS = frozenset({"call", "assistant", "phoneNumber", "customer", "artifact", "timestamp"})
# Where the live artifact keeps the conversation so far, in order of preference.
_CONVERSATION_KEYS = ("messages", "messagesOpenAIFormatted", "transcript")
# Statuses that happen once per call; others (forwarding) may repeat and get a `when`.
_REPEATABLE_STATUSES = frozenset({"forwarding"})


def _stable(value: Any) -> Any:
    """The value without its volatile parts, walked without recursion (domain.tree.rebuild)."""

    def step(node: Any, _: None) -> Leaf | Branch[None]:
        if isinstance(node, dict):
            kept = (k for k in node if not str(k).lower().startswith(_VOLATILE_PREFIXES))
            return Branch({}, [(k, node[k], None) for k in kept])
        if isinstance(node, list):
            return Branch([], [(i, v, None) for i, v in enumerate(node)])
        return Leaf(node)

    return rebuild(value, None, step)


def digest(value: Any) -> str:
    canonical = json.dumps(_stable(value), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def _part(value: object) -> str:
    """One key part: `-` for a missing value, never the text `None`; over 128 bytes, its digest
    (voicetrail.transport.payload.key_part), so a 2,000-character role still makes a key DynamoDB accepts."""
    if value is None or value == "":
        return "-"
    return key_part(str(value).replace("#", "_"), _MAX_PART_BYTES)


def _conversation(raw: dict[str, Any]) -> Any:
    artifact = raw.get("artifact")
    if not isinstance(artifact, dict):
        return None
    for key in _CONVERSATION_KEYS:
        if artifact.get(key):
            return artifact[key]
    return None


def when(parsed: ParsedMessage) -> str:
    """The event's position in its call: its timestamp, else the conversation so far, else `-`."""
    if parsed.message.timestamp is not None:
        return f"t{parsed.message.timestamp}"
    conversation = _conversation(parsed.raw)
    return f"c{digest(conversation)}" if conversation else "-"


def semantic_key(parsed: ParsedMessage) -> str:
    message = parsed.message
    kind = message.type
    if kind in ("assistant-request", "end-of-call-report"):
        return kind
    if isinstance(message, StatusUpdate) and message.status:
        if message.status in _REPEATABLE_STATUSES:
            return f"status-update#{_part(message.status)}#{when(parsed)}"
        return f"status-update#{_part(message.status)}"
    if isinstance(message, ToolCalls):
        ids = [c.id for c in message.toolCallList if c.id]
        if ids:
            # Hundreds of ids would overflow the sort key: past the bound the list is named by its digest.
            return "tool-calls#" + key_part(",".join(_part(i) for i in ids), _MAX_PART_BYTES * 3)
    if isinstance(message, Transcript):
        transcript_type = message.transcriptType or ("final" if kind == FINAL_TRANSCRIPT_TYPE else None)
        return (
            f"transcript#{_part(message.role)}#{_part(transcript_type)}#{when(parsed)}"
            f"#{digest(message.transcript or '')}"
        )
    if isinstance(message, SpeechUpdate):
        role, status, turn = _part(message.role), _part(message.status), _part(message.turn)
        return f"speech-update#{role}#{status}#{turn}#{when(parsed)}"
    if isinstance(message, UserInterrupted):
        turn_id = message.turnId
        return f"user-interrupted#{_part(turn_id)}" if turn_id else f"user-interrupted#{when(parsed)}"
    if isinstance(message, CampaignPredial):
        contact = message.contact.id if message.contact else None
        return f"campaign.predial#{_part(message.campaignId)}#{_part(contact)}#{when(parsed)}"
    content = {k: v for k, v in parsed.raw.items() if k not in _CONTEXT_KEYS}
    return f"{_part(kind)}#{when(parsed)}#{digest(content)}"
