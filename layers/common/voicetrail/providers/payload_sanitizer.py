"""Turn a provider's raw event into what we are allowed to keep, from a table of that provider's keys.

The Retell and ElevenLabs adapters describe their payloads with a `PayloadSpec` (which keys hold caller
content, operator configuration, identifiers, phone numbers, links, secrets); `PayloadSanitizer` walks any
event with it and applies the same rules as the Vapi sanitizer (voicetrail.providers.vapi.sanitize):

  * secrets and capabilities are dropped (tokens, headers, SIP headers), and so is audio (`full_audio`):
    audio never reaches the table;
  * links (`*url`) become a marker: they grant access to the caller's voice and the call's logs;
  * phone numbers and SIP addresses under the spec's number keys become keyed hashes;
  * every other string goes through `redact()`, in written and spoken forms, except identifiers, enums and
    times (`structural` keys); caller content is redacted inside JSON-in-a-string too (tool arguments and
    results), and values whose argument key names a kind (`{"date_of_birth": ...}`) are replaced whole;
  * names learnt anywhere in the event, and names learnt earlier in the call (keyed hashes), are then
    redacted everywhere else in it.

Consent follows the content: without it (`keep_content=False`) caller-content text is withheld and the rest
kept, redacted. `SanitizedMessage.content_kept` says whether caller content was kept (the retention class).

The walk is iterative (an explicit stack): an event's nesting never costs Python recursion, and a JSON
string is decoded once (JSON inside decoded JSON stays text, redacted as text).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from voicetrail.providers.vapi.sanitize import (
    _ARGUMENT_KEY_KINDS,
    CONTENT,
    META,
    URL_MARKER,
    SanitizedMessage,
    _name_parts,
    _Walk,  # the same zone rules as Vapi's: one state of one sanitisation
)
from voicetrail.redaction import DEFAULT_POLICY, RedactionPolicy, redact
from voicetrail.redaction.learnt_names import learnt_names_pattern

if TYPE_CHECKING:
    from voicetrail.domain.callers import CallerHasher
    from voicetrail.redaction import SecondPass

CONFIG = "config"
# Epoch numbers as text and ISO-8601 times are times, never caller speech.
_TIME_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_PROPAGATED_KINDS = frozenset({"name"})
_NAME_PLACEHOLDER = "[NAME]"
# Argument keys (normalised) naming a kind, beyond the Vapi table: patient identifiers are medical records.
_ARGUMENT_KINDS = {**_ARGUMENT_KEY_KINDS, "patientid": "mrn", "patientnumber": "mrn"}
_WORD = re.compile(r"(?<![\w\[])[A-Za-z][A-Za-z'-]{2,}(?![\w\]])")


def _norm(key: object) -> str:
    """Keys are compared lower-case without `_`, `-` and spaces (`from_number` == `fromNumber`)."""
    return re.sub(r"[\s_-]", "", str(key).lower())


@dataclass(frozen=True)
class PayloadSpec:
    """What the keys of one provider's payload mean. Keys are written normalised (see `_norm`)."""

    type_field: str  # the top-level field naming the event type ("event", "type")
    described_types: frozenset[str]  # types whose fields the spec describes
    common_fields: frozenset[str]  # top-level fields of every type (an unknown type's others are content)
    content: frozenset[str]  # values under these keys are caller content
    config: frozenset[str]  # the operator's configuration (prompts, overrides): never caller content
    meta_inside_content: frozenset[str]  # under content, these are the operator's again (e.g. overrides)
    structural: frozenset[str]  # identifiers, enums and times: kept as they are outside content
    content_structural: frozenset[str]  # the same, inside content (message structure only)
    numbers: frozenset[str]  # phone numbers, SIP addresses, user ids: caller identifiers, as keyed hashes
    dropped: frozenset[str]  # secrets, capabilities, audio, caller location: never stored
    json_text: frozenset[str]  # strings that hold JSON (tool arguments and results): walked decoded
    arguments: frozenset[str]  # containers whose values are masked by their key's PII kind
    second_pass: frozenset[str]  # long free text worth the optional remote second pass


@dataclass
class _Node:
    """One value still to walk, and where its sanitised copy goes."""

    value: Any
    key: str  # normalised key the value sits under
    zone: str
    in_arguments: bool
    decoded: bool  # inside JSON decoded from a string: no further decoding
    target: dict[Any, Any] | list[Any]
    slot: Any


class PayloadSanitizer:
    """Sanitises one event of a provider described by `spec` (the pipeline's `Sanitizer`)."""

    def __init__(
        self,
        spec: PayloadSpec,
        hasher: CallerHasher,
        policy: RedactionPolicy | None = None,
        *,
        second_pass: SecondPass | None = None,
    ) -> None:
        self._spec = spec
        self._hasher = hasher
        self._policy = policy or DEFAULT_POLICY
        self._second_pass = second_pass

    def sanitize(
        self,
        raw: dict[str, Any],
        *,
        keep_content: bool | Callable[[], bool] = True,
        known_names: frozenset[str] | Callable[[], frozenset[str]] = frozenset(),
    ) -> SanitizedMessage:
        findings: Counter[str] = Counter()
        learnt: set[str] = set()
        walk = _Walk(
            redact_rule=self._redact_text(findings, learnt),
            policy=keep_content if callable(keep_content) else (lambda: keep_content),
            findings=findings,
            learnt=learnt,
        )
        described = str(raw.get(self._spec.type_field, "")) in self._spec.described_types
        body: dict[str, Any] = {}
        stack: list[_Node] = []
        for key, item in raw.items():
            lowered = _norm(key)
            if lowered in self._spec.dropped:
                continue
            zone = self._zone(lowered, META)
            if not described and lowered not in self._spec.common_fields:
                zone = CONTENT  # an unknown type's own fields: assume the caller said them
            body[key] = None
            stack.append(_Node(item, lowered, zone, lowered in self._spec.arguments, False, body, key))
        self._run(stack, walk)
        pattern = learnt_names_pattern(learnt) if learnt else None
        if pattern is not None:
            body = self._names_everywhere(body, pattern, findings)
        if walk.content_kept:
            known = known_names() if callable(known_names) else known_names
            if known:
                body = self._known_names(body, known, findings)
        return SanitizedMessage(
            body=body,
            findings=findings,
            name_hashes=frozenset(self._hasher.hash_name_part(p) for p in _name_parts(learnt)),
            content_kept=walk.content_kept,
            content_decision=walk.decision,
        )

    # -- the walk -----------------------------------------------------------------------------------

    def _zone(self, key: str, parent: str) -> str:
        spec = self._spec
        if parent == CONTENT:
            return CONFIG if key in spec.meta_inside_content else CONTENT
        if parent == CONFIG or key in spec.config:
            return CONFIG
        if key in spec.content or key in spec.arguments:
            return CONTENT
        return META

    def _run(self, stack: list[_Node], walk: _Walk) -> None:
        spec = self._spec
        while stack:
            node = stack.pop()
            value = node.value
            if isinstance(value, dict):
                out: dict[Any, Any] = {}
                for key, item in value.items():
                    lowered = _norm(key)
                    if lowered in spec.dropped:
                        continue
                    if node.in_arguments and self._masked(lowered, item, walk):
                        out[key] = self._policy.placeholders[_ARGUMENT_KINDS[lowered]]
                        continue
                    out[key] = None
                    in_arguments = node.in_arguments or lowered in spec.arguments
                    zone = self._zone(lowered, node.zone)
                    stack.append(_Node(item, lowered, zone, in_arguments, node.decoded, out, key))
                node.target[node.slot] = out
            elif isinstance(value, list):
                items: list[Any] = [None] * len(value)
                for index, item in enumerate(value):
                    stack.append(
                        _Node(item, node.key, node.zone, node.in_arguments, node.decoded, items, index)
                    )
                node.target[node.slot] = items
            elif isinstance(value, str):
                node.target[node.slot] = self._string(node, walk, stack)
            else:
                node.target[node.slot] = value

    def _masked(self, key: str, item: Any, walk: _Walk) -> bool:
        """A value whose argument key names a PII kind in the policy is replaced whole."""
        kind = _ARGUMENT_KINDS.get(key)
        if kind is None or kind not in self._policy.kinds or isinstance(item, bool):
            return False
        if not isinstance(item, str | int | float) or item == "":
            return False
        if kind == "name" and isinstance(item, str) and item.strip():
            walk.learnt.add(item.strip())
        walk.findings[kind] += 1
        return True

    def _string(self, node: _Node, walk: _Walk, stack: list[_Node]) -> str | None:
        spec, key, zone = self._spec, node.key, node.zone
        value: str = node.value
        if key.endswith("url"):
            return URL_MARKER if value else value
        if key in spec.numbers:
            walk.findings["caller_id_hashed"] += 1
            return self._hasher.hash(value) if value else value
        structural = spec.content_structural if zone == CONTENT else spec.structural
        if key in structural or _TIME_TEXT.match(value):
            return value
        if key in spec.json_text and not node.decoded and value.lstrip()[:1] in ("{", "["):
            decoded = self._decode(value)
            if decoded is not None:
                # Walked now (its own stack), so the re-encoded text can be written in place.
                holder: list[Any] = [None]
                self._run([_Node(decoded, key, zone, True, True, holder, 0)], walk)
                return json.dumps(holder[0], separators=(",", ":"), ensure_ascii=False)
        deep = key in spec.second_pass and self._second_pass is not None
        return walk.text(value, zone, deep=deep)

    # -- names learnt in this event, and earlier in the call ------------------------------------------

    def _names_everywhere(
        self, body: dict[str, Any], pattern: re.Pattern[str], findings: Counter[str]
    ) -> dict[str, Any]:
        """A name learnt anywhere (an argument, a detected span) is redacted in every other string."""

        def replace(key: str, text: str) -> str:
            replaced, count = pattern.subn(_NAME_PLACEHOLDER, text)
            findings["name"] += count
            return replaced

        return _map_strings(body, replace)

    def _known_names(
        self, body: dict[str, Any], known: frozenset[str], findings: Counter[str]
    ) -> dict[str, Any]:
        """Words whose keyed hash is a name this call learnt earlier ("Thanks, Maria" in a later turn)."""
        seen: dict[str, bool] = {}
        skip = self._spec.structural | self._spec.numbers

        def is_known(word: str) -> bool:
            lowered = word.lower()
            if lowered not in seen:
                seen[lowered] = self._hasher.hash_name_part(lowered) in known
            return seen[lowered]

        def replace(key: str, text: str) -> str:
            if key in skip or key.endswith("url"):
                return text

            def one(match: re.Match[str]) -> str:
                if is_known(match.group(0)):
                    findings["name"] += 1
                    return _NAME_PLACEHOLDER
                return match.group(0)

            return _WORD.sub(one, text)

        return _map_strings(body, replace)

    @staticmethod
    def _decode(text: str) -> Any:
        try:
            decoded = json.loads(text)
        except (ValueError, RecursionError):
            return None
        return decoded if isinstance(decoded, dict | list) else None

    def _redact_text(self, findings: Counter[str], learnt: set[str]) -> Callable[[str, bool], str]:
        def rule(text: str, deep: bool) -> str:
            result = redact(text, policy=self._policy, second_pass=self._second_pass if deep else None)
            for finding in result.findings:
                findings[finding.kind] += 1
                if finding.kind in _PROPAGATED_KINDS:
                    learnt.add(text[finding.start : finding.end])
            return result.text

        return rule


def _map_strings(body: dict[str, Any], fn: Callable[[str, str], str]) -> dict[str, Any]:
    """A copy of `body` with every string replaced by fn(normalised key, string), walked iteratively."""
    root: list[Any] = [None]
    stack: list[tuple[Any, str, dict[Any, Any] | list[Any], Any]] = [(body, "", root, 0)]
    while stack:
        value, key, target, slot = stack.pop()
        if isinstance(value, dict):
            out: dict[Any, Any] = dict.fromkeys(value)
            stack.extend((item, _norm(name), out, name) for name, item in value.items())
            target[slot] = out
        elif isinstance(value, list):
            items: list[Any] = [None] * len(value)
            stack.extend((item, key, items, index) for index, item in enumerate(value))
            target[slot] = items
        elif isinstance(value, str):
            target[slot] = fn(key, value)
        else:
            target[slot] = value
    result: dict[str, Any] = root[0]
    return result
