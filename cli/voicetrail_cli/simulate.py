"""`voicetrail simulate`: N concurrent calls of realistic Vapi streams + their Twilio callbacks, with
retries, concurrent duplicates, out-of-order delivery and forgeries, then a read-back of what was stored.

Three layers, so the logic is testable without a network:

* `plan_simulation(config)`  pure: synthetic caller identities (spoken and numeric PII), every call's
  deliveries (Vapi messages and Twilio form callbacks, unsigned) with the injected faults, and the
  `ExpectedState` (distinct events per call partition and type; forgery markers).
* `HttpDriver`              thin: httpx + a thread pool, one sender per call (Vapi sends a call's messages
  in order); signs every attempt (fresh HMAC timestamp) and retries 5xx/429/connection errors with
  exponential backoff like a sender.
* `evaluate(...)`           pure: what was stored (items read back from DynamoDB) and logged against the
  expected state -> lost events, duplicate records, forged events stored, PII hits.

Every count in `SimReport.failures()` must be 0.
"""

from __future__ import annotations

import copy
import gzip
import json
import random
import secrets
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from voicetrail_cli.failures import CliError
from voicetrail_cli.output import show
from voicetrail_cli.scenario import (
    end_of_call_report,
    function_tool_calls,
    performance_metrics,
    presigned_urls,
)

if TYPE_CHECKING:
    import httpx

    from voicetrail.providers.vapi.auth import VapiAuthConfig

VAPI_PATH = "/vapi/webhook"
TWILIO_STATUS_PATH = "/twilio/status"
TWILIO_RECORDING_PATH = "/twilio/recording"
FORGED_MARKER = "FORGED DELIVERY"
FORGED_SEQUENCE = "97"
OUR_NUMBER = "+14155550100"
DeliveryKind = Literal["original", "retry", "duplicate", "forged"]
VAPI_FORGERIES = ("wrong-secret", "tampered", "missing-credential")
TWILIO_FORGERIES = ("twilio-wrong-token", "twilio-tampered")

# ---- synthetic identities ---------------------------------------------------------------------------

_FIRST = ("Priya", "Maria", "Jamal", "Olena", "Kenji", "Aoife", "Tomasz", "Ngozi", "Ingrid", "Rafael")
_LAST = ("Raman", "Gonzalez", "Whitaker", "Kovalenko", "Watanabe", "Byrne", "Nowak", "Okafor", "Lindqvist")
_STREETS = ("Elm Street", "Maple Avenue", "Cedar Lane", "Harbor Road", "Willow Drive")
_MONTHS = ("January", "March", "April", "June", "August", "October", "November")
_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _luhn_complete(prefix: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(prefix)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return prefix + str((10 - total % 10) % 10)


def spoken_digits(digits: str) -> str:
    return " ".join(_DIGIT_WORDS[int(d)] for d in digits if d.isdigit())


@dataclass(frozen=True)
class Identity:
    """A synthetic caller. `needles()` are the forms that must never be found in storage or logs."""

    first: str
    last: str
    ssn: str  # 123-45-6789
    card: str  # 16 digits, Luhn-valid
    phone: str  # E.164
    dob: str  # March 3, 1984
    dob_numeric: str  # 03/03/1984
    street: str  # 1234 Elm Street
    member_id: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def email(self) -> str:
        return f"{self.first}.{self.last}@example.com".lower()

    @property
    def card_grouped(self) -> str:
        return " ".join(self.card[i : i + 4] for i in range(0, 16, 4))

    @property
    def phone_national(self) -> str:
        d = self.phone[2:]
        return f"{d[:3]} {d[3:6]} {d[6:]}"

    def needles(self) -> dict[str, str]:
        ssn_digits = self.ssn.replace("-", "")
        return {
            "name": self.name,
            "last_name": self.last,
            "ssn": self.ssn,
            "ssn_digits": ssn_digits,
            "ssn_spoken": spoken_digits(ssn_digits),
            "card": self.card,
            "card_grouped": self.card_grouped,
            "card_spoken": spoken_digits(self.card[:8]),
            "phone_e164": self.phone,
            "phone_digits": self.phone[2:],
            "phone_national": self.phone_national,
            "email": self.email,
            "email_spoken": f"{self.first} dot {self.last} at example".lower(),
            "dob": self.dob,
            "dob_numeric": self.dob_numeric,
            "street": self.street,
            "member_id": self.member_id,
        }

    def user_lines(self) -> list[str]:
        ssn_digits = self.ssn.replace("-", "")
        card_spoken = ", ".join(spoken_digits(self.card[i : i + 4]) for i in range(0, 16, 4))
        return [
            "Yes, that's fine, go ahead.",
            f"Hi, my name is {self.name} and I'm calling about my bill.",
            f"My social is {self.ssn}.",
            f"The card is {card_spoken}.",
            f"You can email me at {self.first.lower()} dot {self.last.lower()} at example dot com "
            f"or call {self.phone_national}.",
            f"My date of birth is {self.dob} and I live at {self.street}.",
            f"The card number again is {self.card_grouped}.",
            f"And my social security number is {spoken_digits(ssn_digits)}.",
            f"My member id is {self.member_id}.",
        ]


def synthetic_identity(rng: random.Random) -> Identity:
    area = rng.choice([a for a in range(101, 665) if a != 666])
    ssn = f"{area:03d}-{rng.randint(10, 99):02d}-{rng.randint(1000, 9999):04d}"
    card = _luhn_complete("4" + "".join(str(rng.randint(0, 9)) for _ in range(14)))
    month_index = rng.randrange(len(_MONTHS))
    day, year = rng.randint(10, 28), rng.randint(1950, 1999)
    month_number = (1, 3, 4, 6, 8, 10, 11)[month_index]
    return Identity(
        first=rng.choice(_FIRST),
        last=rng.choice(_LAST),
        ssn=ssn,
        card=card,
        phone=f"+1415555{rng.randint(110, 199):04d}",
        dob=f"{_MONTHS[month_index]} {day}, {year}",
        dob_numeric=f"{month_number:02d}/{day:02d}/{year}",
        street=f"{rng.randint(1200, 9800)} {rng.choice(_STREETS)}",
        member_id=f"MB{rng.randint(10_000_000, 99_999_999)}",
    )


# ---- deliveries ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimDelivery:
    """One request to send (unsigned). Retries/duplicates share `event_id` with their original."""

    call: int
    route: str
    label: str
    kind: DeliveryKind
    event_id: str | None
    payload: dict[str, Any] | None = None  # Vapi JSON
    form: tuple[tuple[str, str], ...] | None = None  # Twilio form fields
    forgery: str | None = None

    @property
    def source(self) -> str:
        return "vapi" if self.route == VAPI_PATH else "twilio"

    def body(self) -> bytes:
        if self.payload is not None:
            return json.dumps(self.payload, separators=(",", ":")).encode()
        from urllib.parse import urlencode

        return urlencode(list(self.form or ())).encode()

    @property
    def expect_status(self) -> tuple[int, ...]:
        if self.kind == "forged":
            return (401,)
        return (200,) if self.route == VAPI_PATH else (200, 204)


@dataclass
class CallPlan:
    index: int
    call_id: str
    call_sid: str
    identity: Identity
    steps: list[list[SimDelivery]]  # each step's deliveries go out concurrently

    def deliveries(self) -> Iterator[SimDelivery]:
        for step in self.steps:
            yield from step


@dataclass
class ExpectedState:
    """Distinct events per (partition key, event type); what must not be stored; who the callers are."""

    buckets: Counter[tuple[str, str]] = field(default_factory=Counter)
    identities: list[Identity] = field(default_factory=list)

    @property
    def partitions(self) -> set[str]:
        return {pk for pk, _ in self.buckets}

    @property
    def total(self) -> int:
        return sum(self.buckets.values())


@dataclass(frozen=True)
class SimConfig:
    calls: int = 10
    turns: int = 5
    partials: int = 3
    retry_rate: float = 0.03
    duplicate_rate: float = 0.03
    out_of_order_rate: float = 0.05
    forged_rate: float = 0.01
    twilio: bool = True
    assistant_request: bool = True
    seed: int | None = None
    start_ms: int | None = None
    # Extra message types (e.g. a type Vapi adds tomorrow) appended to every call: stored, never rejected.
    extra_types: tuple[str, ...] = ("user-interrupted", "hang")
    # Include PII shapes the canary first caught leaking (docs/proof/index.md): tool-call arguments
    # as an object with a name, a numeric date of birth and a member id; the assistant addressing the caller
    # by first name in a later message (names are learnt per message).
    known_gaps: bool = False
    # Forgeries to inject: body tampering is only detectable under HMAC (the other schemes sign no body).
    vapi_forgeries: tuple[str, ...] = ("wrong-secret", "missing-credential")


@dataclass
class SimulationPlan:
    config: SimConfig
    calls: list[CallPlan]
    expected: ExpectedState

    def deliveries(self) -> Iterator[SimDelivery]:
        for call in self.calls:
            yield from call.deliveries()

    def counts(self) -> Counter[str]:
        return Counter(d.kind for d in self.deliveries())


def _presigned(call_id: str, rng: random.Random) -> dict[str, str]:
    return presigned_urls(call_id, f"{rng.getrandbits(64):016x}")  # seeded: a simulation replays exactly


class _CallBuilder:
    """The messages Vapi sends during one call (shapes from real captured payloads)."""

    def __init__(
        self, index: int, identity: Identity, rng: random.Random, start_ms: int, config: SimConfig
    ) -> None:
        self.index = index
        self.identity = identity
        self.rng = rng
        self.config = config
        self.call_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.call_sid = f"CA{rng.getrandbits(128):032x}"
        self.start_ms = start_ms
        self.t = 0
        self.out: list[tuple[str, str, dict[str, Any]]] = []  # (label, event type, message)

    def call_object(self) -> dict[str, Any]:
        cid = self.call_id
        return {
            "id": cid,
            "orgId": "aeccb59a-73ea-4033-baae-51833f9ed571",
            "type": "inboundPhoneCall",
            "status": "in-progress",
            "phoneCallProvider": "twilio",
            "phoneCallProviderId": self.call_sid,
            "phoneCallTransport": "pstn",
            "assistantId": "054ea7e1-a5fc-4b9c-8c7c-9c6e80d21921",
            "phoneNumberId": "5f1b8a8e-7a2c-4b8e-9a51-1f7c2c1d9e10",
            "customer": {"number": self.identity.phone},
            "monitor": {
                "listenUrl": f"wss://phone-call-websocket.aws-us-west-2-backend-production2.vapi.ai/{cid}/listen",
                "controlUrl": f"https://phone-call-websocket.aws-us-west-2-backend-production2.vapi.ai/{cid}/control",
            },
            "createdAt": "2026-11-25T14:00:00.000Z",
        }

    def add(self, label: str, message: dict[str, Any], step_ms: int = 400) -> None:
        self.t += step_ms
        envelope = {
            "message": {
                "timestamp": self.start_ms + self.t,
                "call": self.call_object(),
                "customer": {"number": self.identity.phone},
                **message,
            }
        }
        self.out.append((label, str(message["type"]), envelope))

    def transcript(self, role: str, text: str, turn: int) -> None:
        words = text.split()
        limit = len(words)
        speaker = "assistant" if role == "assistant" else "user"
        self.add(f"{speaker} speech started #{turn}", self._speech(role, "started", turn))
        cuts = sorted(
            {
                max(1, min(limit, len(words) * (k + 1) // (self.config.partials + 1)))
                for k in range(self.config.partials)
            }
        )
        for n, cut in enumerate(cuts):
            self.add(
                f"{speaker} partial #{turn}.{n}",
                {
                    "type": "transcript",
                    "role": role,
                    "transcriptType": "partial",
                    "transcript": " ".join(words[:cut]),
                },
                step_ms=150,
            )
        self.add(
            f"{speaker} final #{turn}",
            {
                "type": "transcript",
                "role": role,
                "transcriptType": "final",
                "transcript": text,
                "confidence": 0.93,
            },
        )
        self.add(f"{speaker} speech stopped #{turn}", self._speech(role, "stopped", turn), step_ms=100)

    @staticmethod
    def _speech(role: str, status: str, turn: int) -> dict[str, Any]:
        return {"type": "speech-update", "status": status, "role": role, "turn": turn}

    def conversation_update(self, conversation: list[dict[str, Any]], turn: int) -> None:
        self.add(
            f"conversation-update #{turn}",
            {
                "type": "conversation-update",
                "messages": [
                    {"role": m["role"], "message": m["message"], "time": self.start_ms + 400 * i}
                    for i, m in enumerate(conversation)
                ],
                "messagesOpenAIFormatted": [
                    {"role": "assistant" if m["role"] == "bot" else "user", "content": m["message"]}
                    for m in conversation
                ],
            },
            step_ms=50,
        )

    def build(self) -> list[tuple[str, str, dict[str, Any]]]:
        ident = self.identity
        if self.config.assistant_request:
            self.add("assistant-request", {"type": "assistant-request"})
        self.add("status ringing", {"type": "status-update", "status": "ringing"})
        self.add("status in-progress", {"type": "status-update", "status": "in-progress"})
        disclosure = "Hi, this call is recorded for quality and compliance. Do you consent to being recorded?"
        self.transcript("assistant", disclosure, 0)
        conversation: list[dict[str, Any]] = [{"role": "bot", "message": disclosure}]
        lines = ident.user_lines()
        for turn in range(1, self.config.turns + 1):
            line = lines[(turn - 1) % len(lines)]
            self.transcript("user", line, turn)
            conversation.append({"role": "user", "message": line})
            reply = f"Thank you, I have noted that. Anything else? ({turn})"
            if self.config.known_gaps and turn > 2:
                reply = f"Thanks, {ident.first}. I have noted that. ({turn})"
            self.conversation_update(conversation, turn)
            self.transcript("assistant", reply, turn)
            conversation.append({"role": "bot", "message": reply})
            self.conversation_update(conversation, turn * 100)
        lookup = json.dumps({"ssn_last4": ident.ssn[-4:], "zip": "94107"})
        self.add("tool-calls lookup_account", function_tool_calls(self.call_id, 1, "lookup_account", lookup))
        verify = (
            {"full_name": ident.name, "date_of_birth": ident.dob_numeric, "member_id": ident.member_id}
            if self.config.known_gaps
            else {"account_type": "billing", "verified_by": "date_of_birth"}
        )
        verify_call = function_tool_calls(self.call_id, 2, "verify_identity", verify)
        self.add("tool-calls verify_identity", verify_call)
        for extra in self.config.extra_types:
            self.add(extra, {"type": extra})
        self.add(
            "status ended", {"type": "status-update", "status": "ended", "endedReason": "customer-ended-call"}
        )
        summary = f"{ident.name} called about a bill and gave card {ident.card_grouped}."
        report = end_of_call_report(
            self.call_id,
            conversation,
            summary,
            presigned=_presigned(self.call_id, self.rng),
            stereo=True,
            # Its own stream (seeded by the call id), so the rest of the call's draws stay as they were.
            performance=performance_metrics(random.Random(self.call_id), self.config.turns),  # noqa: S311
        )
        self.add("end-of-call-report", report)
        return self.out

    def twilio_callbacks(self) -> list[tuple[str, str, str, tuple[tuple[str, str], ...]]]:
        """(label, route, event type, form) for the call's Twilio status and recording callbacks."""
        base = [
            ("CallSid", self.call_sid),
            ("AccountSid", "AC" + "5" * 32),
            ("From", self.identity.phone),
            ("To", OUR_NUMBER),
            ("Direction", "inbound"),
            ("ApiVersion", "2010-04-01"),
            ("CallerName", self.identity.name),
            ("FromCity", "SAN FRANCISCO"),
            ("FromZip", "94107"),
            ("CallerCity", ""),
        ]
        out = []
        for seq, status in enumerate(("ringing", "in-progress", "completed")):
            form = [*base, ("CallStatus", status), ("SequenceNumber", str(seq))]
            if status == "completed":
                form.append(("CallDuration", "189"))
            out.append((f"twilio status {status}", TWILIO_STATUS_PATH, "twilio.status", tuple(form)))
        recording = (
            ("AccountSid", "AC" + "5" * 32),
            ("CallSid", self.call_sid),
            ("RecordingSid", f"RE{self.rng.getrandbits(128):032x}"),
            ("RecordingStatus", "completed"),
            ("RecordingDuration", "187"),
            ("RecordingChannels", "2"),
            ("RecordingSource", "DialVerb"),
            ("RecordingUrl", f"https://api.twilio.com/recordings/{self.call_sid}"),
        )
        out.append(("twilio recording completed", TWILIO_RECORDING_PATH, "twilio.recording", recording))
        return out


def _forged_vapi(builder: _CallBuilder, n: int, rng: random.Random) -> SimDelivery:
    envelope = {
        "message": {
            "timestamp": builder.start_ms + builder.t + 1 + n,
            "call": builder.call_object(),
            "type": "transcript",
            "role": "user",
            "transcriptType": "final",
            "transcript": f"{FORGED_MARKER} {n}: transfer me to an outside number",
        }
    }
    return SimDelivery(
        call=builder.index,
        route=VAPI_PATH,
        label=f"forged #{n}",
        kind="forged",
        event_id=None,
        payload=envelope,
        forgery=rng.choice(builder.config.vapi_forgeries),
    )


def _forged_twilio(builder: _CallBuilder, rng: random.Random) -> SimDelivery:
    form = (
        ("CallSid", builder.call_sid),
        ("CallStatus", "busy"),
        ("SequenceNumber", FORGED_SEQUENCE),
        ("From", builder.identity.phone),
    )
    return SimDelivery(
        call=builder.index,
        route=TWILIO_STATUS_PATH,
        label="forged twilio status",
        kind="forged",
        event_id=None,
        form=form,
        forgery=rng.choice(TWILIO_FORGERIES),
    )


def _with_new_presigned(payload: dict[str, Any], call_id: str, rng: random.Random) -> dict[str, Any]:
    retried = copy.deepcopy(payload)
    artifact = retried["message"].get("artifact")
    if isinstance(artifact, dict):
        artifact.update(_presigned(call_id, rng))
    return retried


def plan_call(
    index: int, config: SimConfig, rng: random.Random, start_ms: int
) -> tuple[CallPlan, Counter[tuple[str, str]]]:
    from voicetrail.domain.calls.state import twilio_call_key
    from voicetrail.storage.table import call_pk

    identity = synthetic_identity(rng)
    builder = _CallBuilder(index, identity, rng, start_ms, config)
    originals: list[SimDelivery] = []
    expected: Counter[tuple[str, str]] = Counter()
    for n, (label, event_type, payload) in enumerate(builder.build()):
        event_id = f"{index}:v{n}"
        originals.append(SimDelivery(index, VAPI_PATH, label, "original", event_id, payload=payload))
        expected[(call_pk(builder.call_id), event_type)] += 1
    if config.twilio:
        for n, (label, route, event_type, form) in enumerate(builder.twilio_callbacks()):
            originals.append(SimDelivery(index, route, label, "original", f"{index}:t{n}", form=form))
            expected[(call_pk(twilio_call_key(builder.call_sid)), event_type)] += 1
        # Twilio callbacks arrive interleaved with Vapi's stream: spread them over the call.
        twilio_part = [d for d in originals if d.route != VAPI_PATH]
        vapi_part = [d for d in originals if d.route == VAPI_PATH]
        positions = sorted(rng.sample(range(len(vapi_part) + 1), len(twilio_part)))
        merged: list[SimDelivery] = []
        cursor = 0
        for pos, delivery in zip(positions, twilio_part, strict=True):
            merged.extend(vapi_part[cursor:pos])
            merged.append(delivery)
            cursor = pos
        merged.extend(vapi_part[cursor:])
        originals = merged

    # Out of order: swap a delivery with one 1-3 places later.
    order = list(originals)
    for i in range(len(order)):
        if rng.random() < config.out_of_order_rate:
            j = min(len(order) - 1, i + rng.randint(1, 3))
            order[i], order[j] = order[j], order[i]

    steps: list[list[SimDelivery]] = []
    late: dict[int, list[SimDelivery]] = {}
    forged = 0
    for i, delivery in enumerate(order):
        step = [delivery]
        if rng.random() < config.duplicate_rate:  # delivered twice at the same moment
            step.append(_copy_as(delivery, "duplicate", builder, rng))
        steps.append(step)
        if rng.random() < config.retry_rate:  # the sender timed out and retries a little later
            late.setdefault(i + rng.randint(1, 5), []).append(_copy_as(delivery, "retry", builder, rng))
        for retried in late.pop(i, []):
            steps.append([retried])
        if rng.random() < config.forged_rate:
            forged += 1
            if config.twilio and rng.random() < 0.3:
                steps.append([_forged_twilio(builder, rng)])
            else:
                steps.append([_forged_vapi(builder, forged, rng)])
    for pending in late.values():
        steps.extend([r] for r in pending)
    return CallPlan(index, builder.call_id, builder.call_sid, identity, steps), expected


def _copy_as(
    delivery: SimDelivery, kind: DeliveryKind, builder: _CallBuilder, rng: random.Random
) -> SimDelivery:
    payload = delivery.payload
    if payload is not None:
        payload = _with_new_presigned(payload, builder.call_id, rng)  # Vapi regenerates them per delivery
    return SimDelivery(
        delivery.call,
        delivery.route,
        f"{kind} of {delivery.label}",
        kind,
        delivery.event_id,
        payload=payload,
        form=delivery.form,
    )


def plan_simulation(config: SimConfig) -> SimulationPlan:
    rng = random.Random(config.seed)  # noqa: S311 - simulation, not crypto
    start = config.start_ms if config.start_ms is not None else int(time.time() * 1000)
    calls: list[CallPlan] = []
    expected = ExpectedState()
    for index in range(config.calls):
        plan, buckets = plan_call(index, config, rng, start + index * 37)
        calls.append(plan)
        expected.buckets.update(buckets)
        expected.identities.append(plan.identity)
    return SimulationPlan(config, calls, expected)


# ---- signing --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """Signs a delivery like Vapi / Twilio would (or forges it, as the delivery asks)."""

    auth: VapiAuthConfig
    vapi_secret: str
    twilio_token: str
    twilio_base_url: str  # exactly what is configured in Twilio (the service's TWILIO_WEBHOOK_BASE_URL)

    def sign(self, delivery: SimDelivery, body: bytes) -> tuple[bytes, dict[str, str]]:
        if delivery.route == VAPI_PATH:
            return self._vapi(delivery, body)
        return self._twilio(delivery, body)

    def _vapi(self, delivery: SimDelivery, body: bytes) -> tuple[bytes, dict[str, str]]:
        from voicetrail.providers.vapi.auth import sign_request

        headers = {"content-type": "application/json"}
        forgery = delivery.forgery
        if forgery == "missing-credential":
            return body, headers
        secret = "not-the-secret-" + self.vapi_secret[::-1] if forgery == "wrong-secret" else self.vapi_secret
        headers.update(sign_request(self.auth, body, secret, timestamp=time.time()))
        if forgery == "tampered":
            body = body.replace(FORGED_MARKER.encode(), b"FORGED DELIVERX")
        return body, headers

    def _twilio(self, delivery: SimDelivery, body: bytes) -> tuple[bytes, dict[str, str]]:
        from twilio.request_validator import RequestValidator

        form = dict(delivery.form or ())
        token = (
            "wrong-" + self.twilio_token if delivery.forgery == "twilio-wrong-token" else self.twilio_token
        )
        signature = RequestValidator(token).compute_signature(self.twilio_base_url + delivery.route, form)
        if delivery.forgery == "twilio-tampered":
            body = body.replace(b"CallStatus=busy", b"CallStatus=completed")
        return body, {
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": str(signature),
            "i-twilio-idempotency-token": uuid.uuid4().hex,
        }


# ---- HTTP driver ------------------------------------------------------------------------------------------


@dataclass
class Attempt:
    status: int | None  # None: connection error / timeout
    seconds: float


@dataclass
class DeliveryResult:
    delivery: SimDelivery
    attempts: list[Attempt]
    error_bodies: list[str]

    @property
    def final(self) -> int | None:
        return self.attempts[-1].status if self.attempts else None


def _retryable(status: int | None) -> bool:
    return status is None or status == 429 or status >= 500


@dataclass
class HttpDriver:
    base_url: str
    signer: Signer
    concurrency: int = 16
    max_attempts: int = 8
    backoff_seconds: float = 0.05
    max_backoff_seconds: float = 2.0
    timeout_seconds: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    transport: Any = None
    _results: list[DeliveryResult] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _client(self) -> httpx.Client:
        import httpx

        limits = httpx.Limits(
            max_connections=self.concurrency * 2, max_keepalive_connections=self.concurrency * 2
        )
        return httpx.Client(
            base_url=self.base_url, timeout=self.timeout_seconds, limits=limits, transport=self.transport
        )

    def send(self, client: httpx.Client, delivery: SimDelivery, rng: random.Random) -> DeliveryResult:
        import httpx

        raw = delivery.body()
        result = DeliveryResult(delivery, [], [])
        for attempt in range(self.max_attempts):
            body, headers = self.signer.sign(delivery, raw)  # re-signed per attempt, like a sender
            start = time.perf_counter()
            status: int | None
            try:
                response = client.post(delivery.route, content=body, headers=headers)
                status = response.status_code
                if status >= 400:
                    result.error_bodies.append(response.text[:2000])
            except httpx.HTTPError:
                status = None
            result.attempts.append(Attempt(status, time.perf_counter() - start))
            if not _retryable(status) or (delivery.kind == "forged" and status is not None):
                break
            if attempt + 1 < self.max_attempts:
                delay = min(self.max_backoff_seconds, self.backoff_seconds * (2**attempt))
                self.sleep(delay * (0.5 + rng.random()))
        return result

    def _run_call(
        self, client: httpx.Client, call: CallPlan, side: ThreadPoolExecutor
    ) -> list[DeliveryResult]:
        rng = random.Random(call.call_id)  # noqa: S311
        out: list[DeliveryResult] = []
        for step in call.steps:
            if len(step) == 1:
                out.append(self.send(client, step[0], rng))
                continue
            futures = [
                side.submit(self.send, client, d, random.Random(d.label))  # noqa: S311
                for d in step[1:]
            ]
            out.append(self.send(client, step[0], rng))
            out.extend(f.result() for f in futures)
        return out

    def run(self, calls: Sequence[CallPlan], *, pace: Callable[[], None] | None = None) -> RunStats:
        start = time.perf_counter()
        results: list[DeliveryResult] = []
        with (
            self._client() as client,
            ThreadPoolExecutor(self.concurrency, thread_name_prefix="sim-call") as pool,
            ThreadPoolExecutor(max(2, self.concurrency // 4), thread_name_prefix="sim-dup") as side,
        ):
            futures = []
            for call in calls:
                if pace is not None:
                    pace()
                futures.append(pool.submit(self._run_call, client, call, side))
            for future in futures:
                results.extend(future.result())
        return RunStats.from_results(results, time.perf_counter() - start)


@dataclass
class RunStats:
    deliveries: int
    requests: int
    elapsed_s: float
    statuses: Counter[int | None]
    finals: Counter[int | None]
    latencies_s: list[float]
    forged_accepted: int
    genuine_failed: int  # genuine deliveries whose final status was not the expected one
    status_5xx: int
    status_500: int
    status_5xx_final: int
    connection_errors: int
    error_bodies: list[str]
    kinds: Counter[str]

    @classmethod
    def from_results(cls, results: Sequence[DeliveryResult], elapsed: float) -> RunStats:
        statuses: Counter[int | None] = Counter()
        finals: Counter[int | None] = Counter()
        latencies: list[float] = []
        bodies: list[str] = []
        forged_ok = genuine_failed = final_5xx = 0
        for r in results:
            for a in r.attempts:
                statuses[a.status] += 1
                latencies.append(a.seconds)
            finals[r.final] += 1
            bodies.extend(r.error_bodies)
            final = r.final
            if r.delivery.kind == "forged":
                forged_ok += final is not None and 200 <= final < 300
            elif final not in r.delivery.expect_status:
                genuine_failed += 1
            final_5xx += final is None or final >= 500
        return cls(
            deliveries=len(results),
            requests=sum(statuses.values()),
            elapsed_s=elapsed,
            statuses=statuses,
            finals=finals,
            latencies_s=latencies,
            forged_accepted=forged_ok,
            genuine_failed=genuine_failed,
            status_5xx=sum(n for s, n in statuses.items() if s is not None and s >= 500),
            status_500=statuses.get(500, 0),
            status_5xx_final=final_5xx,
            connection_errors=statuses.get(None, 0),
            error_bodies=bodies,
            kinds=Counter(r.delivery.kind for r in results),
        )

    def percentile_ms(self, pct: float) -> float:
        if not self.latencies_s:
            return float("nan")
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))] * 1000

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s else 0.0


# ---- read-back and evaluation ------------------------------------------------------------------------------


def item_text(item: Mapping[str, Any]) -> str:
    """An item as searchable text (gzip bodies decompressed)."""
    flat: dict[str, Any] = {}
    for name, value in item.items():
        if isinstance(value, dict) and "B" in value:
            raw = value["B"]
            try:
                flat[name] = gzip.decompress(raw).decode("utf-8", "replace")
            except (OSError, EOFError):
                flat[name] = repr(raw)
        else:
            flat[name] = value
    return json.dumps(flat, ensure_ascii=False, default=str)


def scan_items(client: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = client.scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def query_partitions(client: Any, table: str, partitions: Iterable[str]) -> list[dict[str, Any]]:
    from voicetrail.storage.batch import query_items

    items: list[dict[str, Any]] = []
    for pk in sorted(partitions):
        kwargs: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
        }
        items.extend(query_items(client, kwargs))
    return items


@dataclass(frozen=True)
class PiiHit:
    where: str  # storage | logs | responses
    kind: str  # needle kind (never the value)
    context: str  # the item key / log line number / response index

    def __str__(self) -> str:
        return f"{self.where}:{self.kind}@{self.context}"


@dataclass
class Evaluation:
    stored_events: int
    lost: int
    duplicates: int
    forged_stored: int
    missing_by_type: Counter[str]
    extra_by_type: Counter[str]


def evaluate_storage(expected: ExpectedState, items: Iterable[Mapping[str, Any]]) -> Evaluation:
    """Compare stored event items (sk EVT#...) with the expected distinct events per partition and type."""
    got: Counter[tuple[str, str]] = Counter()
    forged = 0
    partitions = expected.partitions
    for item in items:
        pk, sk = item["pk"]["S"], item["sk"]["S"]
        if pk not in partitions or not sk.startswith("EVT#"):
            continue
        text = item_text(item)
        if FORGED_MARKER[:-1] in text or f'"SequenceNumber":"{FORGED_SEQUENCE}"' in text.replace("\\", ""):
            forged += 1
            continue
        got[(pk, item.get("event_type", {}).get("S", "?"))] += 1
    lost = duplicates = 0
    missing: Counter[str] = Counter()
    extra: Counter[str] = Counter()
    for key in set(expected.buckets) | set(got):
        diff = got[key] - expected.buckets[key]
        if diff < 0:
            lost -= diff
            missing[key[1]] -= diff
        elif diff > 0:
            duplicates += diff
            extra[key[1]] += diff
    return Evaluation(sum(got.values()), lost, duplicates, forged, missing, extra)


def pii_needles(identities: Iterable[Identity]) -> dict[str, str]:
    """needle (lower case) -> kind."""
    out: dict[str, str] = {}
    for identity in identities:
        for kind, value in identity.needles().items():
            out[value.lower()] = kind
    return out


def find_pii(where: str, texts: Iterable[tuple[str, str]], needles: Mapping[str, str]) -> list[PiiHit]:
    hits: list[PiiHit] = []
    for context, text in texts:
        lowered = text.lower()
        hits.extend(PiiHit(where, kind, context) for needle, kind in needles.items() if needle in lowered)
    return hits


def log_lines(path: str) -> Iterator[tuple[str, str]]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        for n, line in enumerate(handle, 1):
            yield f"line {n}", line


# ---- the whole run -----------------------------------------------------------------------------------------


@dataclass
class SimReport:
    plan: SimulationPlan
    stats: RunStats
    evaluation: Evaluation | None
    pii: list[PiiHit]
    checked_logs: bool
    allow_retryable: bool = False  # a fault-injection run: 503s are expected, retried away

    def failures(self) -> dict[str, int]:
        ev = self.evaluation
        out = {
            "lost events": ev.lost if ev else 0,
            "duplicate records": ev.duplicates if ev else 0,
            "forged accepted": self.stats.forged_accepted + (ev.forged_stored if ev else 0),
            "genuine not acknowledged": self.stats.genuine_failed,
            "5xx responses": self.stats.status_5xx_final if self.allow_retryable else self.stats.status_5xx,
            "500 responses": self.stats.status_500,
            "PII found": len(self.pii),
        }
        return out

    @property
    def ok(self) -> bool:
        return self.evaluation is not None and not any(self.failures().values())

    def summary(self) -> dict[str, Any]:
        s = self.stats
        return {
            "calls": len(self.plan.calls),
            "deliveries": s.deliveries,
            "requests": s.requests,
            "kinds": dict(s.kinds),
            "expected_events": self.plan.expected.total,
            "stored_events": self.evaluation.stored_events if self.evaluation else None,
            **{k.replace(" ", "_"): v for k, v in self.failures().items()},
            "retryable_5xx_seen": s.status_5xx,
            "connection_errors": s.connection_errors,
            "statuses": {str(k): v for k, v in sorted(s.statuses.items(), key=lambda kv: str(kv[0]))},
            "elapsed_s": round(s.elapsed_s, 2),
            "requests_per_s": round(s.rps, 1),
            "p50_ms": round(s.percentile_ms(50), 2),
            "p99_ms": round(s.percentile_ms(99), 2),
            "max_ms": round(max(s.latencies_s, default=0) * 1000, 2),
            "storage_checked": self.evaluation is not None,
            "logs_checked": self.checked_logs,
            "pii_hits": [str(h) for h in self.pii[:20]],
        }


def run_simulation(
    plan: SimulationPlan,
    driver: HttpDriver,
    *,
    dynamodb: Any = None,
    table: str | None = None,
    log_path: str | None = None,
    scan_all: bool = True,
    allow_retryable: bool = False,
    pace: Callable[[], None] | None = None,
) -> SimReport:
    stats = driver.run(plan.calls, pace=pace)
    needles = pii_needles(plan.expected.identities)
    pii = find_pii("responses", ((f"response {n}", b) for n, b in enumerate(stats.error_bodies)), needles)
    evaluation = None
    if dynamodb is not None and table:
        items = (
            scan_items(dynamodb, table)
            if scan_all
            else query_partitions(dynamodb, table, plan.expected.partitions)
        )
        evaluation = evaluate_storage(plan.expected, items)
        pii += find_pii("storage", ((f"{i['pk']['S']}|{i['sk']['S']}", item_text(i)) for i in items), needles)
    if log_path:
        pii += find_pii("logs", log_lines(log_path), needles)
    return SimReport(
        plan, stats, evaluation, pii, checked_logs=bool(log_path), allow_retryable=allow_retryable
    )


def steady_pacer(calls_per_second: float) -> Callable[[], None]:
    """Releases one call every 1/rate seconds (soak runs)."""
    interval = 1.0 / calls_per_second
    state = {"next": time.monotonic()}

    def pace() -> None:
        now = time.monotonic()
        if state["next"] > now:
            time.sleep(state["next"] - now)
        state["next"] = max(now, state["next"]) + interval

    return pace


def new_seed() -> int:
    return secrets.randbits(32)


def latency_line(stats: RunStats) -> str:
    lat = stats.latencies_s
    mean = statistics.fmean(lat) * 1000 if lat else float("nan")
    return (
        f"{stats.requests} requests in {stats.elapsed_s:.1f}s = {stats.rps:.0f} req/s; latency "
        f"p50 {stats.percentile_ms(50):.1f} ms, p99 {stats.percentile_ms(99):.1f} ms, "
        f"max {max(lat, default=0) * 1000:.1f} ms, mean {mean:.1f} ms"
    )


# ---- before the run: is the target there, does it accept us, is the seed fresh? ---------------------------

EXIT_UNVERIFIED = 3  # the run went through, but storage could not be read back: nothing about it was checked


def preflight(plan: SimulationPlan, driver: HttpDriver) -> None:
    """One genuine delivery per source, sent once: fail in a second, not after minutes of retries."""
    import httpx

    firsts: dict[str, SimDelivery] = {}
    for delivery in plan.deliveries():
        if delivery.kind == "original":
            firsts.setdefault(delivery.source, delivery)
    with driver._client() as client:
        for source, delivery in sorted(firsts.items(), reverse=True):  # vapi first
            body, headers = driver.signer.sign(delivery, delivery.body())
            try:
                status = client.post(delivery.route, content=body, headers=headers, timeout=5).status_code
            except httpx.HTTPError as exc:
                raise CliError(
                    f"cannot reach {driver.base_url} ({type(exc).__name__}): is `voicetrail serve` running "
                    "there? check --base-url"
                ) from None
            if status in (401, 403) and source == "vapi":
                raise CliError(
                    f"every Vapi request got {status}: check --secret and --scheme (the target's auth)"
                )
            if status in (401, 403):
                raise CliError(
                    f"every Twilio callback got {status}: check --twilio-token and --twilio-base-url "
                    "(Twilio signs the URL it calls)"
                )
            if status == 404:
                raise CliError(
                    f"{driver.base_url}{delivery.route} answered 404: is --base-url the API's base URL?"
                )


def check_fresh_seed(plan: SimulationPlan, client: Any, table: str) -> None:
    """A seed replays the same call ids: against a table that already holds them, every count is wrong."""
    first = min(plan.expected.partitions)
    page = client.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": first}},
        Limit=1,
    )
    if page.get("Items"):
        raise CliError(
            f"seed {plan.config.seed} was already used against table {table} (its calls are stored): "
            "rerun with another --seed (0: a random one), or a fresh table"
        )


# ---- the `voicetrail simulate` command ----------------------------------------------------------------


def print_report(report: SimReport, console: Any) -> None:
    from rich.table import Table

    s = report.stats
    sent = Table(title=f"simulated {len(report.plan.calls)} calls", show_header=True)
    for column in ("what", "count"):
        sent.add_column(column)
    for kind in ("original", "retry", "duplicate", "forged"):
        sent.add_row(f"deliveries: {kind}", str(s.kinds.get(kind, 0)))
    sent.add_row("HTTP requests (with sender retries)", str(s.requests))
    sent.add_row(
        "statuses",
        ", ".join(
            f"{k or 'conn-error'}: {v}" for k, v in sorted(s.statuses.items(), key=lambda kv: str(kv[0]))
        ),
    )
    sent.add_row("distinct events expected", str(report.plan.expected.total))
    sent.add_row(
        "event items stored", str(report.evaluation.stored_events) if report.evaluation else "not read back"
    )
    show(sent, out=console)
    checks = Table(title="must be 0", show_header=True)
    checks.add_column("check")
    checks.add_column("count", justify="right")
    for name, value in report.failures().items():
        unchecked = report.evaluation is None and (
            name in ("lost events", "duplicate records") or (name == "PII found" and not report.checked_logs)
        )
        checks.add_row(
            name, "[yellow]not checked[/]" if unchecked else f"[{'green' if not value else 'red'}]{value}[/]"
        )
    show(checks, out=console)
    if report.evaluation is None:
        console.print(
            "[yellow]storage was NOT read back[/]: lost events, duplicates and PII in storage are unchecked. "
            "Pass --dynamodb-endpoint URL (a local stack) or --aws with --table to check them."
        )
    console.print(
        latency_line(s) + (f"; retryable 5xx seen (and retried): {s.status_5xx}" if s.status_5xx else "")
    )
    if report.pii:
        console.print("PII hits (kind@where, never the value): " + ", ".join(str(h) for h in report.pii[:10]))
    if not report.checked_logs:
        console.print("function logs not searched (pass --log-file with the stack's log)")


def simulate(
    calls: Annotated[int, typer.Option(min=1, help="Concurrent calls.")] = 10,
    turns: Annotated[
        int, typer.Option(help="Caller turns per call (each: speech, partials, final, replies, updates).")
    ] = 5,
    concurrency: Annotated[int, typer.Option(help="Calls in flight at once (0: all of them).")] = 0,
    retry_rate: Annotated[
        float, typer.Option(help="Share of deliveries retried later (new presigned URLs).")
    ] = 0.03,
    duplicate_rate: Annotated[
        float, typer.Option(help="Share of deliveries sent twice at the same moment.")
    ] = 0.03,
    out_of_order_rate: Annotated[
        float, typer.Option(help="Share of deliveries swapped with a later one.")
    ] = 0.05,
    forged_rate: Annotated[float, typer.Option(help="Forged requests per delivery.")] = 0.01,
    twilio: Annotated[
        bool, typer.Option(help="Send the calls' Twilio status and recording callbacks.")
    ] = True,
    base_url: Annotated[
        str,
        typer.Option(
            help="Target (e.g. a `voicetrail serve` or a deployed stage). Default: start a local stack."
        ),
    ] = "",
    twilio_base_url: Annotated[
        str, typer.Option(help="Base URL configured in Twilio (default: --base-url).")
    ] = "",
    workers: Annotated[
        int, typer.Option(help="Worker processes of the local stack started when no --base-url.")
    ] = 3,
    scheme: Annotated[str, typer.Option(help="shared-secret | bearer | hmac")] = "shared-secret",
    secret: Annotated[str, typer.Option(help="Vapi secret / token.")] = "local-vapi-secret",  # noqa: S107 - the local stack's documented secret
    twilio_token: Annotated[str, typer.Option(help="Twilio auth token.")] = "local-twilio-token",  # noqa: S107
    algorithm: Annotated[str, typer.Option(help="HMAC algorithm.")] = "sha256",
    signature_header: Annotated[str, typer.Option(help="HMAC signature header.")] = "x-signature",
    timestamp_header: Annotated[str, typer.Option(help="HMAC timestamp header.")] = "x-timestamp",
    payload_format: Annotated[str, typer.Option(help="HMAC payload format.")] = "{timestamp}.{body}",
    dynamodb_endpoint: Annotated[
        str, typer.Option(help="Read back from this DynamoDB endpoint (moto, DynamoDB Local).")
    ] = "",
    aws: Annotated[bool, typer.Option(help="Read back from real DynamoDB (your credentials).")] = False,
    table: Annotated[
        str | None,
        typer.Option(
            envvar="VOICETRAIL_TABLE", help="Table to read back (with --dynamodb-endpoint: voicetrail-local)."
        ),
    ] = None,
    log_file: Annotated[str, typer.Option(help="Function log file to search for PII.")] = "",
    known_gaps: Annotated[
        bool,
        typer.Option(
            help="Include the PII shapes the canary first caught leaking (docs: Proof and benchmarks)."
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Random seed (0: random).")] = 0,
    json_output: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Simulate N concurrent Vapi calls + Twilio callbacks with retries, duplicates, reordering and forgeries;
    read back what was stored and report lost events, duplicates, forgeries accepted, 5xx and PII (all 0)."""
    import logging
    import tempfile

    from rich.console import Console

    from voicetrail.providers.vapi.auth import VapiAuthConfig

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's request lines
    console = Console()
    auth = VapiAuthConfig.model_validate(
        {
            "scheme": scheme,
            "algorithm": algorithm,
            "signature_header": signature_header,
            "timestamp_header": timestamp_header,
            "payload_format": payload_format,
        }
    )
    forgeries = ("wrong-secret", "missing-credential") + (("tampered",) if scheme == "hmac" else ())
    config = SimConfig(
        calls=calls,
        turns=turns,
        retry_rate=retry_rate,
        duplicate_rate=duplicate_rate,
        out_of_order_rate=out_of_order_rate,
        forged_rate=forged_rate,
        twilio=twilio,
        seed=seed or new_seed(),
        known_gaps=known_gaps,
        vapi_forgeries=forgeries,
    )
    plan = plan_simulation(config)
    api = None
    try:
        if not base_url:
            from voicetrail_cli.local import LocalApi, LocalSecrets

            log_file = log_file or tempfile.mkstemp(prefix="voicetrail-sim-", suffix=".log")[1]
            extra = _scheme_env(auth) if scheme != "shared-secret" else {}
            with console.status("starting the local stack (moto DynamoDB + real handlers)..."):
                api = LocalApi(
                    workers=workers,
                    log_path=log_file,
                    local_secrets=LocalSecrets(vapi=secret, twilio=twilio_token),
                    extra_env=extra,
                ).start()
            base_url, dynamodb_endpoint, table = api.base_url, api.dynamodb_endpoint or "", api.table
        signer = Signer(auth, secret, twilio_token, (twilio_base_url or base_url).rstrip("/"))
        driver = HttpDriver(base_url.rstrip("/"), signer, concurrency=concurrency or calls)
        client = None
        if aws and not table:
            raise CliError(
                "--aws reads back from your deployment's table: pass --table (or VOICETRAIL_TABLE)"
            )
        table = table or "voicetrail-local"
        if dynamodb_endpoint or aws:
            from voicetrail_cli.local import dynamodb_admin_client

            client = dynamodb_admin_client(dynamodb_endpoint or None)
            check_fresh_seed(plan, client, table)
        preflight(plan, driver)
        with console.status(f"sending {sum(1 for _ in plan.deliveries())} deliveries for {calls} calls..."):
            report = run_simulation(
                plan, driver, dynamodb=client, table=table, log_path=log_file or None, scan_all=not aws
            )
    finally:
        if api is not None:
            api.stop()
    if json_output:
        print(json.dumps(report.summary()))
    else:
        print_report(report, console)
    if any(report.failures().values()):
        raise typer.Exit(1)
    if report.evaluation is None:
        raise typer.Exit(EXIT_UNVERIFIED)


def _scheme_env(auth: VapiAuthConfig) -> dict[str, str]:
    return {
        "VAPI_AUTH_SCHEME": auth.scheme.value,
        "VAPI_HMAC_ALGORITHM": auth.algorithm,
        "VAPI_SIGNATURE_HEADER": auth.signature_header,
        "VAPI_TIMESTAMP_HEADER": auth.timestamp_header,
        "VAPI_PAYLOAD_FORMAT": auth.payload_format,
    }
