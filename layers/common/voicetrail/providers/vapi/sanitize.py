"""Turn a raw Vapi message into what we are allowed to keep.

Applied to the whole message, recursively, before anything is stored or logged:
  * secrets and capabilities are dropped: credentials, auth tokens, Live Call Control / listen URLs,
    presigned URLs, server headers;
  * links to audio/logs (`*Url`) are replaced by a marker: they grant access to the caller's voice;
  * structured caller identifiers (`number`, `sipUri`, `from`/`to`, ...) become keyed hashes;
  * names and emails in `customer` become placeholders;
  * every other string goes through `redact()`, which catches PII in free text (transcripts, summaries,
    tool arguments, messages in any shape), except a short list of structural fields (ids, enums, times);
  * names learnt anywhere in the message (a caller saying "my name is ...", or `customer.name`) are then
    redacted everywhere else in it too: LLM summaries name the caller without any cue a pattern could use.

Consent follows the content, not the message type. Each value lies in one of three zones:
  * content: what the caller said or what was derived from it, wherever it appears in any message type:
    transcripts, summaries, `analysis`, conversation lists (`messages`, `messagesOpenAIFormatted`,
    `conversation`), model output, voice input/text, tool-call and handoff arguments, structured outputs,
    and every field of a message type we do not know that is not a common context field;
  * config: the operator's own configuration (`assistant`, overrides, squads, tool definitions);
  * meta: everything else (ids, statuses, costs, times, Vapi's consent evidence under `compliance`).
Without consent (`keep_content=False`) only content-zone text is withheld; config and meta text is kept
(redacted like everything else). `SanitizedMessage.content_kept` tells whether any caller content was
kept, which decides the retention class of the stored event.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from voicetrail.domain.callers import CallerHasher
from voicetrail.domain.tree import Branch, Leaf, rebuild
from voicetrail.errors import BadRequestError
from voicetrail.providers.vapi.messages import SPEC_TYPES
from voicetrail.redaction import DEFAULT_POLICY, RedactionPolicy, redact
from voicetrail.redaction.learnt_names import learnt_names_pattern
from voicetrail.transport import payload

if TYPE_CHECKING:
    from voicetrail.redaction import SecondPass as _SecondPass

# (text, deep) -> stored text; `deep` asks for the optional second pass as well.
TextRule = Callable[[str, bool], str]

DROPPED = "[removed]"
URL_MARKER = "[url]"

_DROP_KEYS = frozenset(
    {
        "controlurl",
        "listenurl",
        "twilioauthtoken",
        "twilioapisecret",
        "twilioapikey",
        "calltoken",
        "secret",
        "serverurlsecret",
        "token",
        "apikey",
        "password",
        "headers",
        "credentials",
        "secretkey",
        "clientsecret",
        "authenticationplan",
    }
)
_HASH_KEYS = frozenset({"number", "sipuri", "forwardedfrom", "callerid", "from", "to", "customernumber"})
_CUSTOMER_PLACEHOLDERS = {"name": "[NAME]", "email": "[EMAIL]"}
# Values of these keys are identifiers, enums or times chosen by Vapi, never caller speech.
# Inside tool-call arguments the key is the context a bare value lacks ({"date_of_birth": "03/14/1985"}).
# Keys are compared lower-case without "_", "-" and spaces.
_ARGUMENT_CONTAINERS = frozenset({"arguments", "parameters"})
_ARGUMENT_KEY_KINDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "name",
            "firstname",
            "lastname",
            "fullname",
            "middlename",
            "patientname",
            "callername",
            "customername",
            "membername",
            "surname",
            "givenname",
        ),
        "name",
    ),
    **dict.fromkeys(("dob", "dateofbirth", "birthdate", "birthday"), "dob"),
    **dict.fromkeys(
        ("ssn", "social", "socialsecurity", "socialsecuritynumber", "ssnlast4", "last4ssn", "ssnlastfour"),
        "ssn",
    ),
    **dict.fromkeys(
        (
            "memberid",
            "membernumber",
            "policynumber",
            "policyid",
            "insuranceid",
            "subscriberid",
            "groupnumber",
        ),
        "member_id",
    ),
    **dict.fromkeys(("mrn", "medicalrecordnumber"), "mrn"),
    **dict.fromkeys(("medicareid", "medicarenumber", "mbi"), "medicare"),
    **dict.fromkeys(("accountnumber", "accountno", "bankaccount", "iban"), "account"),
    **dict.fromkeys(("routingnumber", "aba"), "routing"),
    **dict.fromkeys(("driverslicense", "licensenumber", "dlnumber"), "license"),
    **dict.fromkeys(("passport", "passportnumber"), "passport"),
    **dict.fromkeys(
        ("phone", "phonenumber", "mobile", "cell", "cellphone", "callbacknumber", "telephone"), "phone"
    ),
    **dict.fromkeys(("email", "emailaddress"), "email"),
    **dict.fromkeys(("card", "cardnumber", "creditcard", "creditcardnumber", "pan"), "card"),
    **dict.fromkeys(("cvv", "cvc", "cvv2", "securitycode"), "cvv"),
    **dict.fromkeys(("expiry", "expiration", "expirationdate", "expirydate", "cardexpiry"), "expiry"),
    **dict.fromkeys(("address", "streetaddress", "street", "address1", "address2", "homeaddress"), "address"),
    **dict.fromkeys(("zip", "zipcode", "postalcode", "postcode"), "zip"),
}

# Free-text fields long enough to be worth a (slow, remote) second pass.
_SECOND_PASS_KEYS = frozenset({"transcript", "summary"})
# Kinds whose literal values are propagated through the rest of the message once learnt.
_PROPAGATED_KINDS = frozenset({"name"})
_NAME_PLACEHOLDER = "[NAME]"
_MIN_NAME_PART = 3

_STRUCTURAL_KEYS = frozenset(
    {
        "id",
        "orgid",
        "type",
        "status",
        "role",
        "transcripttype",
        "endedreason",
        "createdat",
        "updatedat",
        "startedat",
        "endedat",
        "provider",
        "model",
        "voiceid",
        "assistantid",
        "phonenumberid",
        "squadid",
        "workflowid",
        "toolcallid",
        "turnid",
        "phonecallprovider",
        "phonecallproviderid",
        "phonecalltransport",
        "language",
        "subtype",
        "analysistype",
        "confidencesource",
        "source",
        "presignedurlsexpiresat",
    }
)

# Keys (compared lower-case) whose values are caller content wherever they appear outside config.
_CONTENT_KEYS = frozenset(
    {
        "transcript",
        "originaltranscript",
        "summary",
        "analysis",
        "messages",
        "messagesopenaiformatted",
        "conversation",
        "output",
        "input",
        "text",
        "structuredoutputs",
        "structureddata",
        "structureddatamulti",
        "scorecards",
        "variablevalues",
    }
)
# Keys that hold the operator's configuration: nothing under them is caller content.
_CONFIG_KEYS = frozenset(
    {
        "assistant",
        "assistantoverrides",
        "squad",
        "squadoverrides",
        "workflow",
        "workflowoverrides",
        "toolwithtoolcalllist",
        "artifactplan",
        "compliance",
        "server",
    }
)
# A tool call inside config (`toolWithToolCallList[].toolCall`) is not config: its arguments are content.
_CALL_KEYS = frozenset({"toolcall", "toolcalllist", "functioncall"})
# Fields every message may carry (the spec's common fields plus chat/session): for a message type we do
# not know, any other top-level field is treated as caller content.
_COMMON_FIELDS = frozenset(
    {
        "type",
        "timestamp",
        "call",
        "assistant",
        "customer",
        "phonenumber",
        "artifact",
        "chat",
        "session",
        "assistantversion",
    }
)
# Message types whose fields the spec (or Vapi's legacy docs) describe: the key rules above apply. Type names
# are compared lower-cased (`assistant.speechStarted`, `transcript[transcriptType="final"]`).
_DESCRIBED_TYPES = frozenset(t.lower() for t in SPEC_TYPES | {"function-call", "assistant.started"})
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")

META, CONFIG, CONTENT = "meta", "config", "content"
# Inside caller content only the message structure is exempt: an LLM's structured data may use any key
# (`{"status": "...", "language": "..."}`) for what the caller said.
_CONTENT_STRUCTURAL_KEYS = frozenset({"id", "type", "role", "toolcallid", "turnid", "transcripttype"})


def _zone(key: str, parent_zone: str) -> str:
    """The zone of the value under `key` (lower-case) inside a value of `parent_zone`."""
    if parent_zone == CONTENT:
        return CONTENT
    if key in _CALL_KEYS:
        return META
    if parent_zone == CONFIG or key in _CONFIG_KEYS:
        return CONFIG
    if key in _CONTENT_KEYS or key in _ARGUMENT_CONTAINERS:
        return CONTENT
    return META


@dataclass
class SanitizedMessage:
    """A message made safe to store, with what was found in it."""

    body: dict[str, Any]
    findings: Counter[str] = field(default_factory=Counter)
    caller_hash: str | None = None
    # Keyed hashes of the name words learnt in this message, for the call's name memory.
    name_hashes: frozenset[str] = frozenset()
    # Whether any caller content (see the zones above) was kept: decides the retention class.
    content_kept: bool = False
    # The content policy's answer; None when the message carried no caller content (it was not asked).
    content_decision: bool | None = None


class MessageSanitizer:
    def __init__(
        self,
        hasher: CallerHasher,
        policy: RedactionPolicy | None = None,
        *,
        second_pass: _SecondPass | None = None,
    ) -> None:
        self._hasher = hasher
        self._policy = policy or DEFAULT_POLICY
        # Optional (Comprehend) pass for names/addresses, applied only to the long free-text fields.
        self._second_pass = second_pass

    @classmethod
    def for_event(
        cls, hasher: CallerHasher, policy: RedactionPolicy | None, second_pass: _SecondPass | None
    ) -> MessageSanitizer:
        """The pipeline's sanitizer factory (voicetrail.pipeline.event.SanitizerFactory)."""
        return cls(hasher, policy, second_pass=second_pass)

    def sanitize(
        self,
        raw: dict[str, Any],
        *,
        keep_content: bool | Callable[[], bool] = True,
        known_names: frozenset[str] | Callable[[], frozenset[str]] = frozenset(),
    ) -> SanitizedMessage:
        """`keep_content=False` withholds caller content entirely (no recording consent); the rest is kept.
        Given as a callable, it is asked only when the message carries caller content (it may cost a read).
        `known_names` are keyed hashes of name words learnt earlier in the call ("Thanks, Maria" later on);
        given as a callable, it is called only when the message kept caller content (it costs a read)."""
        findings: Counter[str] = Counter()
        learnt: set[str] = set()
        walk = _Walk(
            redact_rule=self._redact_text(findings, learnt),
            policy=keep_content if callable(keep_content) else (lambda: keep_content),
            findings=findings,
            learnt=learnt,
        )
        message_type = str(raw.get("type", "")).lower()
        described = message_type in _DESCRIBED_TYPES
        body: dict[str, Any] = {}
        for key, item in raw.items():
            lowered = str(key).lower()
            if _dropped(lowered):
                continue
            zone = _zone(lowered, META)
            if not described and lowered not in _COMMON_FIELDS:
                zone = CONTENT  # an unknown type's own fields: assume the caller said them
            body[key] = self._field(lowered, item, parent="", zone=zone, walk=walk)
        pattern = learnt_names_pattern(learnt) if learnt else None
        if pattern is not None:
            body = _propagate(body, pattern, findings)
        if walk.content_kept:
            known = known_names() if callable(known_names) else known_names
            if known:
                body = _KnownNames(self._hasher, known, findings).redact(body)
        hashes = frozenset(self._hasher.hash_name_part(part) for part in _name_parts(learnt))
        return SanitizedMessage(
            body=body,
            findings=findings,
            name_hashes=hashes,
            content_kept=walk.content_kept,
            content_decision=walk.decision,
        )

    def _redact_text(self, findings: Counter[str], learnt: set[str]) -> TextRule:
        def rule(text: str, deep: bool) -> str:
            second_pass = self._second_pass if deep else None
            result = redact(text, policy=self._policy, second_pass=second_pass)
            for finding in result.findings:
                findings[finding.kind] += 1
                if finding.kind in _PROPAGATED_KINDS:
                    learnt.add(text[finding.start : finding.end])
            return result.text

        return rule

    def _field(self, key: str, value: Any, *, parent: str, zone: str, walk: _Walk) -> Any:
        """The sanitised value of one field (`key` lower-cased) and everything under it, walked with an
        explicit stack (domain.tree.rebuild): no nesting exhausts Python's recursion limit."""

        def step(node: Any, ctx: _Place) -> Leaf | Branch[_Place]:
            return self._step(node, ctx, walk)

        return rebuild(value, _Place(key, parent, zone), step)

    def _step(self, value: Any, place: _Place, walk: _Walk) -> Leaf | Branch[_Place]:
        key, parent, zone = place
        if isinstance(value, str):
            if key is None:  # an array element
                return Leaf(walk.text(value, zone, deep=False))
            return Leaf(self._text_field(key, value, parent=parent, zone=zone, walk=walk))
        if key is not None and key in _ARGUMENT_CONTAINERS and isinstance(value, dict) and zone == CONTENT:
            value = self._mask_argument_keys(value, walk.findings, walk.learnt)
        # A container's entries are fields of their parent key: for an array, the key holding it.
        holder = key if key is not None else parent
        if isinstance(value, dict):
            entries = []
            for name, item in value.items():
                lowered = str(name).lower()
                if not _dropped(lowered):
                    entries.append((name, item, _Place(lowered, holder, _zone(lowered, zone))))
            return Branch({}, entries)
        if isinstance(value, list):
            return Branch([], [(i, item, _Place(None, holder, zone)) for i, item in enumerate(value)])
        return Leaf(value)

    def _text_field(self, key: str, value: str, *, parent: str, zone: str, walk: _Walk) -> str:
        if key.endswith("url"):
            return URL_MARKER if value else value
        if key in _HASH_KEYS:
            walk.findings["caller_id_hashed"] += 1
            return self._hasher.hash(value) if value else value
        if parent in ("customer", "contact") and key in _CUSTOMER_PLACEHOLDERS:
            if key == "name" and value.strip():
                walk.learnt.add(value.strip())
            return _CUSTOMER_PLACEHOLDERS[key] if value else value
        structural = _CONTENT_STRUCTURAL_KEYS if zone == CONTENT else _STRUCTURAL_KEYS
        if key in structural or (key.endswith("at") and _ISO_TIME.fullmatch(value)):
            return value
        if key in _ARGUMENT_CONTAINERS and value.lstrip().startswith("{"):
            return self._json_arguments(value, zone=zone, walk=walk)
        return walk.text(value, zone, deep=key in _SECOND_PASS_KEYS and self._second_pass is not None)

    def _mask_argument_keys(self, value: Any, findings: Counter[str], learnt: set[str]) -> Any:
        """Replace values whose key names a PII kind, at any depth of the arguments."""
        policy = self._policy

        def step(node: Any, _: None) -> Leaf | Branch[None]:
            if isinstance(node, list):
                return Branch([], [(i, item, None) for i, item in enumerate(node)])
            if not isinstance(node, dict):
                return Leaf(node)  # the placeholders put in below are kept as they are
            entries = []
            for name, item in node.items():
                kind = _ARGUMENT_KEY_KINDS.get(re.sub(r"[\s_-]", "", str(name).lower()))
                if kind in policy.kinds and isinstance(item, str | int | float) and item != "":
                    if kind == "name" and isinstance(item, str):
                        learnt.add(item.strip())
                    findings[str(kind)] += 1
                    item = policy.placeholders[str(kind)]
                entries.append((name, item, None))
            return Branch({}, entries)

        return rebuild(value, None, step)

    def _json_arguments(self, text: str, *, zone: str, walk: _Walk) -> str:
        """Arguments sent as a JSON string (the OpenAI shape): sanitise the object, keep it a string."""
        try:
            decoded = payload.loads(text)
        except BadRequestError:
            return walk.text(text, zone, deep=False)
        if not isinstance(decoded, dict):
            return walk.text(text, zone, deep=False)
        cleaned = self._field("arguments", decoded, parent="", zone=zone, walk=walk)
        return json.dumps(cleaned, separators=(",", ":"), ensure_ascii=False)


class _Place(NamedTuple):
    """Where a value sits: its field name (lower-cased; None for an array element), the field holding
    it, and its zone."""

    key: str | None
    parent: str
    zone: str


def _dropped(key: str) -> bool:
    return key in _DROP_KEYS or (key.startswith("presigned") and key != "presignedurlsexpiresat")


@dataclass
class _Walk:
    """The state of one sanitisation: how text of each zone is treated, and what was found."""

    redact_rule: TextRule
    policy: Callable[[], bool]
    findings: Counter[str]
    learnt: set[str]
    content_kept: bool = False
    decision: bool | None = None  # the policy's answer, once asked (None: the message had no content)

    def text(self, value: str, zone: str, *, deep: bool) -> str:
        if zone != CONTENT:
            return self.redact_rule(value, False)
        if not value.strip():
            return value
        if self.decision is None:
            self.decision = bool(self.policy())
        if not self.decision:
            return _blank_text(value)
        self.content_kept = True
        return self.redact_rule(value, deep)


def _name_parts(names: set[str]) -> set[str]:
    return {p for name in names for p in re.split(r"[\s,.]+", name) if len(p) >= _MIN_NAME_PART}


_WORD = re.compile(rf"(?<![\w\[])[A-Za-z][A-Za-z'-]{{{_MIN_NAME_PART - 1},}}(?![\w\]])")


class _KnownNames:
    """Redacts words whose keyed hash matches a name learnt earlier in the call (never stored in clear)."""

    def __init__(self, hasher: CallerHasher, known: frozenset[str], findings: Counter[str]) -> None:
        self._hasher = hasher
        self._known = known
        self._findings = findings
        self._seen: dict[str, bool] = {}

    def _is_known(self, word: str) -> bool:
        lowered = word.lower()
        hit = self._seen.get(lowered)
        if hit is None:
            hit = self._seen[lowered] = self._hasher.hash_name_part(lowered) in self._known
        return hit

    def _text(self, text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            if self._is_known(match.group(0)):
                self._findings["name"] += 1
                return _NAME_PLACEHOLDER
            return match.group(0)

        return _WORD.sub(replace, text)

    def redact(self, value: Any, key: str = "") -> Any:
        def step(node: Any, name: str) -> Leaf | Branch[str]:
            if isinstance(node, str):
                skip = name in _STRUCTURAL_KEYS or name in _HASH_KEYS or name.endswith("url")
                return Leaf(node if skip else self._text(node))
            if isinstance(node, dict):
                return Branch({}, [(k, v, str(k).lower()) for k, v in node.items()])
            if isinstance(node, list):
                return Branch([], [(i, v, name) for i, v in enumerate(node)])
            return Leaf(node)

        return rebuild(value, key, step)


def _propagate(value: Any, pattern: re.Pattern[str], findings: Counter[str]) -> Any:
    def step(node: Any, _: None) -> Leaf | Branch[None]:
        if isinstance(node, str):
            replaced, count = pattern.subn(_NAME_PLACEHOLDER, node)
            if count:
                findings["name"] += count
            return Leaf(replaced)
        if isinstance(node, dict):
            return Branch({}, [(k, v, None) for k, v in node.items()])
        if isinstance(node, list):
            return Branch([], [(i, v, None) for i, v in enumerate(node)])
        return Leaf(node)

    return rebuild(value, None, step)


def _blank_text(text: str, deep: bool = False) -> str:
    return "[withheld: no consent]" if text else text
