"""The simulator's plan (pure): every call's deliveries (Vapi messages and Twilio form callbacks,
unsigned) with the injected faults (retries, concurrent duplicates, reordering, forgeries), and the
`ExpectedState` the read-back is judged against."""

from __future__ import annotations

import copy
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from voicetrail_cli.dev.scenario import (
    end_of_call_report,
    function_tool_calls,
    performance_metrics,
    presigned_urls,
)
from voicetrail_cli.dev.simulate.identities import (
    Identity,
    synthetic_identity,
)

if TYPE_CHECKING:
    pass


VAPI_PATH = "/vapi/webhook"
TWILIO_STATUS_PATH = "/twilio/status"
TWILIO_RECORDING_PATH = "/twilio/recording"
FORGED_MARKER = "FORGED DELIVERY"
FORGED_SEQUENCE = "97"
OUR_NUMBER = "+14155550100"
DeliveryKind = Literal["original", "retry", "duplicate", "forged"]
VAPI_FORGERIES = ("wrong-secret", "tampered", "missing-credential")
TWILIO_FORGERIES = ("twilio-wrong-token", "twilio-tampered")


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
