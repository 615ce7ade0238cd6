"""Voice-grade PII/PHI redaction for call transcripts.

    r = redact("my ssn is one two three, four five, six seven eight nine")
    r.text       # "my ssn is [SSN]"
    r.findings   # (Finding(kind="ssn", start=10, end=...),)  offsets into the original text
    r.counts()   # {"ssn": 1}

`redact_turns` redacts a conversation, so a number spoken across consecutive user turns and a value
answering the assistant's question ("What's your date of birth?") are both caught.
See docs/concepts/redaction.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from voicetrail.redaction.comprehend import ComprehendPiiPass
from voicetrail.redaction.detection.pipeline import detect, merge
from voicetrail.redaction.detection.tokens import Span
from voicetrail.redaction.logs import keep_machine_tokens
from voicetrail.redaction.types import (
    DEFAULT_KINDS,
    DEFAULT_PLACEHOLDERS,
    DEFAULT_POLICY,
    KIND_GROUPS,
    KINDS,
    Finding,
    Redaction,
    RedactionPolicy,
    Turn,
)

__all__ = [
    "DEFAULT_KINDS",
    "DEFAULT_PLACEHOLDERS",
    "DEFAULT_POLICY",
    "FAILSAFE_PLACEHOLDER",
    "KINDS",
    "KIND_GROUPS",
    "ComprehendPiiPass",
    "Finding",
    "Redaction",
    "RedactionPolicy",
    "Turn",
    "redact",
    "redact_log_value",
    "redact_turns",
]

# If detection itself ever fails, the whole text is withheld (fail closed) under this kind/placeholder.
FAILSAFE_KIND = "unprocessed"
FAILSAFE_PLACEHOLDER = "[REDACTED]"


TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~3 ms of cold start; only the type checker needs it
    from typing import Protocol

    class SecondPass(Protocol):
        """An extra detector run on the already-redacted text (e.g. Amazon Comprehend for names and
        addresses). Returns (kind, start, end) in that text's offsets."""

        def detect(self, text: str) -> list[tuple[str, int, int]]: ...


def _render(text: str, spans: Sequence[Span], policy: RedactionPolicy) -> str:
    out: list[str] = []
    pos = 0
    for start, end, kind, _ in spans:
        out.append(text[pos:start])
        out.append(policy.placeholder(kind))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _to_original(spans: Sequence[Span], rendered_pos: int, policy: RedactionPolicy, *, is_end: bool) -> int:
    """Map an offset in the rendered text back to the original text."""
    shift = 0
    for start, end, kind, _ in spans:
        r_start = start + shift
        r_end = r_start + len(policy.placeholder(kind))
        if rendered_pos < r_start or (rendered_pos == r_start and not is_end):
            break
        if rendered_pos <= r_end:
            return end if is_end else start
        shift += len(policy.placeholder(kind)) - (end - start)
    return rendered_pos - shift


def _apply_second_pass(
    text: str, spans: list[Span], policy: RedactionPolicy, second_pass: SecondPass
) -> list[Span]:
    rendered = _render(text, spans, policy)
    try:
        extra = second_pass.detect(rendered)
    except Exception:  # a throttled or failing service must not fail the webhook: keep the local pass
        return spans
    added: list[Span] = list(spans)
    for kind, r_start, r_end in extra:
        if kind not in policy.kinds or not 0 <= r_start < r_end <= len(rendered):
            continue
        start = _to_original(spans, r_start, policy, is_end=False)
        end = _to_original(spans, r_end, policy, is_end=True)
        if start < end:
            added.append((start, end, kind, 50))
    return merge(added)


def _spans(text: str, policy: RedactionPolicy, hard_breaks: Sequence[int] = ()) -> list[Span]:
    return merge([s for s in detect(text, hard_breaks) if s[2] in policy.kinds])


def redact(
    text: str, policy: RedactionPolicy = DEFAULT_POLICY, *, second_pass: SecondPass | None = None
) -> Redaction:
    """Redact one text. Never raises: on an internal error the whole text is withheld."""
    return _redact(text, policy, second_pass, log=False)


def _redact(text: str, policy: RedactionPolicy, second_pass: SecondPass | None, *, log: bool) -> Redaction:
    try:
        spans = _spans(text, policy)
        if log:
            spans = keep_machine_tokens(text, spans)
        if second_pass is not None:
            spans = _apply_second_pass(text, spans, policy, second_pass)
        if not spans:
            return Redaction(text, ())
        return Redaction(_render(text, spans, policy), tuple(Finding(k, s, e) for s, e, k, _ in spans))
    except Exception:
        return _failsafe(text)


def _failsafe(text: str) -> Redaction:
    if not text:
        return Redaction("", ())
    return Redaction(FAILSAFE_PLACEHOLDER, (Finding(FAILSAFE_KIND, 0, len(text)),))


def redact_turns(
    turns: Sequence[Turn], policy: RedactionPolicy = DEFAULT_POLICY, *, second_pass: SecondPass | None = None
) -> list[Redaction]:
    """Redact a conversation turn by turn, with the whole conversation as context.

    A number may continue from one turn into the next turn of the same speaker ("my card is four one one
    one" / "one one one one ..."); a question in an earlier turn labels the answer in a later one.
    Findings that span turns are split, so every turn gets its own placeholder and offsets into its text.
    """
    if not turns:
        return []
    try:
        texts = [t.text for t in turns]
        offsets: list[int] = []
        hard_breaks: list[int] = []
        pos = 0
        for i, t in enumerate(texts):
            if i and turns[i].role != turns[i - 1].role:
                hard_breaks.append(pos - 1)
            offsets.append(pos)
            pos += len(t) + 1
        joined = "\n".join(texts)
        spans = _spans(joined, policy, hard_breaks)
        if second_pass is not None:
            spans = _apply_second_pass(joined, spans, policy, second_pass)
        return [_slice(texts[i], offsets[i], spans, policy) for i in range(len(texts))]
    except Exception:
        return [_failsafe(t.text) for t in turns]


def _slice(text: str, offset: int, spans: Sequence[Span], policy: RedactionPolicy) -> Redaction:
    end_of_turn = offset + len(text)
    local: list[Span] = []
    for start, end, kind, prio in spans:
        if end <= offset or start >= end_of_turn:
            continue
        s, e = max(start, offset) - offset, min(end, end_of_turn) - offset
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            local.append((s, e, kind, prio))
    if not local:
        return Redaction(text, ())
    return Redaction(_render(text, local, policy), tuple(Finding(k, s, e) for s, e, k, _ in local))


# Log fields whose values come from closed sets our code chooses (message types, outcomes, the logger's
# own fields). A short lower-case identifier there is never caller data, and running the name tagger on it
# turns a message type like "hang" (also a surname) into "[NAME]".
_STRUCTURAL_LOG_KEYS = frozenset({"message_type", "outcome", "level", "location", "service"})
_IDENTIFIER = re.compile(r"[a-z0-9][a-z0-9._:-]{0,63}")


def redact_log_value(value: object, policy: RedactionPolicy = DEFAULT_POLICY) -> object:
    """Redact every string inside dicts/lists/tuples (log records, metric payloads, error bodies).

    Keys are kept; strings too short to hold PII skip detection entirely, and so do lower-case identifiers
    under the structural keys above. Error codes, exception classes, AWS operation names, ARNs and code
    identifiers inside a value stay readable (see `voicetrail.redaction.logs`); caller content does not.
    """
    if isinstance(value, str):
        return _redact(value, policy, None, log=True).text if len(value) >= 3 else value
    if isinstance(value, dict):
        return {
            k: v
            if k in _STRUCTURAL_LOG_KEYS and isinstance(v, str) and _IDENTIFIER.fullmatch(v)
            else redact_log_value(v, policy)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_log_value(v, policy) for v in value]
    if isinstance(value, tuple):
        return tuple(redact_log_value(v, policy) for v in value)
    return value
