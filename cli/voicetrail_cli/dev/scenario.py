"""Realistic Vapi call streams (shapes from real captured payloads), for the demo, tests and the simulator."""

from __future__ import annotations

import copy
import json
import random
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery: what is sent, and what we expect voicetrail to answer."""

    label: str
    body: bytes
    expect_status: int
    forged: bool = False
    duplicate_of: str | None = None


def _call_object(call_id: str, customer_number: str, provider_call_id: str) -> dict[str, Any]:
    return {
        "id": call_id,
        "orgId": "aeccb59a-73ea-4033-baae-51833f9ed571",
        "type": "inboundPhoneCall",
        "status": "queued",
        "phoneCallProvider": "twilio",
        "phoneCallProviderId": provider_call_id,
        "phoneCallTransport": "pstn",
        "assistantId": "054ea7e1-a5fc-4b9c-8c7c-9c6e80d21921",
        "phoneNumberId": "5f1b8a8e-7a2c-4b8e-9a51-1f7c2c1d9e10",
        "customer": {"number": customer_number},
        "monitor": {
            "listenUrl": f"wss://phone-call-websocket.aws-us-west-2-backend-production2.vapi.ai/{call_id}/listen",
            "controlUrl": f"https://phone-call-websocket.aws-us-west-2-backend-production2.vapi.ai/{call_id}/control",
        },
        "createdAt": "2026-11-25T14:00:00.000Z",
        "updatedAt": "2026-11-25T14:00:00.000Z",
    }


def presigned_urls(call_id: str, token: str | None = None) -> dict[str, str]:
    token = token or secrets.token_hex(8)  # regenerated per delivery, as Vapi does
    return {
        "presignedMonoUrl": f"https://storage.vapi.ai/{call_id}-mono.wav?X-Amz-Signature={token}",
        "presignedStereoUrl": f"https://storage.vapi.ai/{call_id}-stereo.wav?X-Amz-Signature={token}",
        "presignedUrlsExpiresAt": "2026-11-25T15:00:00.000Z",
    }


def function_tool_calls(call_id: str, number: int, name: str, arguments: Any) -> dict[str, Any]:
    """A tool-calls message with one function call; arguments as Vapi sends them (JSON string or object)."""
    return {
        "type": "tool-calls",
        "toolCallList": [
            {
                "id": f"call_{call_id[:8]}_{number}",
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            }
        ],
    }


def performance_metrics(
    rng: random.Random, turns: int, *, slow_turns: frozenset[int] = frozenset(), interruptions: int = 0
) -> dict[str, Any]:
    """Vapi's `artifact.performanceMetrics` for a call of `turns` turns (milliseconds, Vapi's shape).

    Ordinary turns take 700-1,300 ms; the 0-based turns in `slow_turns` take 2,400-4,000 ms (a slow model
    response), so tests and benchmarks can inject slow turns and check what the report flags.
    """
    rows = []
    for turn in range(turns):
        model = rng.uniform(1700, 3200) if turn in slow_turns else rng.uniform(250, 650)
        voice, transcriber, endpointing = rng.uniform(150, 300), rng.uniform(100, 200), rng.uniform(200, 350)
        rows.append(
            {
                "modelLatency": round(model),
                "voiceLatency": round(voice),
                "transcriberLatency": round(transcriber),
                "endpointingLatency": round(endpointing),
                "turnLatency": round(model + voice + transcriber + endpointing),
            }
        )

    def average(key: str) -> float:
        return round(sum(r[key] for r in rows) / len(rows), 1) if rows else 0.0

    barge_ins = interruptions // 2 + interruptions % 2
    return {
        "turnLatencies": rows,
        "modelLatencyAverage": average("modelLatency"),
        "voiceLatencyAverage": average("voiceLatency"),
        "transcriberLatencyAverage": average("transcriberLatency"),
        "endpointingLatencyAverage": average("endpointingLatency"),
        "turnLatencyAverage": average("turnLatency"),
        "numUserInterrupted": interruptions - barge_ins,
        "numAssistantInterrupted": barge_ins,
    }


def end_of_call_report(
    call_id: str,
    conversation: list[dict[str, Any]],
    summary: str,
    *,
    presigned: dict[str, str],
    stereo: bool = False,
    performance: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The end-of-call-report of a 189 s call: transcript and messages from the conversation."""
    transcript = "\n".join(f"{'AI' if m['role'] == 'bot' else 'User'}: {m['message']}" for m in conversation)
    recordings = {"recordingUrl": f"https://storage.vapi.ai/{call_id}-mono.wav"}
    if stereo:
        recordings["stereoRecordingUrl"] = f"https://storage.vapi.ai/{call_id}-stereo.wav"
    return {
        "type": "end-of-call-report",
        "endedReason": "customer-ended-call",
        "startedAt": "2026-11-25T14:00:01.000Z",
        "endedAt": "2026-11-25T14:03:10.000Z",
        "cost": 0.1394,
        "durationSeconds": 189.0,
        "analysis": {"summary": summary, "successEvaluation": "true"},
        "artifact": {
            "transcript": transcript,
            "messages": conversation,
            **recordings,
            **presigned,
            **({"performanceMetrics": performance} if performance is not None else {}),
        },
    }


@dataclass
class CallScript:
    """A whole call: the ordered messages Vapi would send, with PII spoken the way callers speak."""

    call_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    customer_number: str = "+14155550123"
    provider_call_id: str = field(default_factory=lambda: "CA" + uuid.uuid4().hex)
    start_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    user_lines: tuple[str, ...] = (
        "Yes, that's fine, go ahead.",
        "Hi, my name is Maria Gonzalez and I'm calling about my bill.",
        "My social is 123-45-6789.",
        "The card is four one one one, one one one one, one one one one, one one one one.",
        "You can email me at maria dot gonzalez at gmail dot com or call 415 555 0199.",
    )

    def _envelope(self, message: dict[str, Any], offset_ms: int) -> dict[str, Any]:
        return {
            "message": {
                "timestamp": self.start_ms + offset_ms,
                "call": _call_object(self.call_id, self.customer_number, self.provider_call_id),
                "customer": {"number": self.customer_number},
                **message,
            }
        }

    def messages(self) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        t = 0

        def add(label: str, message: dict[str, Any]) -> None:
            nonlocal t
            t += 700
            out.append((label, self._envelope(message, t)))

        add("status ringing", {"type": "status-update", "status": "ringing"})
        add("status in-progress", {"type": "status-update", "status": "in-progress"})
        disclosure = "Hi, this call is recorded for quality and compliance. Do you consent to being recorded?"
        add(
            "assistant disclosure",
            {"type": "transcript", "role": "assistant", "transcriptType": "final", "transcript": disclosure},
        )
        conversation: list[dict[str, Any]] = [{"role": "bot", "message": disclosure}]
        for turn, line in enumerate(self.user_lines):
            add(
                f"speech user started #{turn}",
                {"type": "speech-update", "status": "started", "role": "user", "turn": turn},
            )
            add(
                f"user partial #{turn}",
                {
                    "type": "transcript",
                    "role": "user",
                    "transcriptType": "partial",
                    "transcript": line[: max(8, len(line) // 2)],
                },
            )
            add(
                f"user final #{turn}",
                {
                    "type": "transcript",
                    "role": "user",
                    "transcriptType": "final",
                    "transcript": line,
                    "confidence": 0.93,
                },
            )
            conversation.append({"role": "user", "message": line})
            reply = "Thank you, I have noted that."
            conversation.append({"role": "bot", "message": reply})
        lookup = json.dumps({"ssn_last4": "6789", "zip": "94107"})
        add("tool call lookup_account", function_tool_calls(self.call_id, 1, "lookup_account", lookup))
        add(
            "status ended", {"type": "status-update", "status": "ended", "endedReason": "customer-ended-call"}
        )
        summary = "Maria Gonzalez called about her bill and gave her card 4111 1111 1111 1111."
        add(
            "end-of-call-report",
            end_of_call_report(self.call_id, conversation, summary, presigned=presigned_urls(self.call_id)),
        )
        return out


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def demo_deliveries(script: CallScript) -> list[Delivery]:
    """The call, plus a Vapi retry of the end-of-call-report (new presigned URLs) and one forgery."""
    messages = script.messages()
    deliveries = [Delivery(label, encode(payload), 200) for label, payload in messages]
    report = next(payload for label, payload in messages if label == "end-of-call-report")
    retried = copy.deepcopy(report)
    retried["message"]["artifact"].update(presigned_urls(script.call_id))
    deliveries.append(
        Delivery("retry of end-of-call-report", encode(retried), 200, duplicate_of="end-of-call-report")
    )
    forged = copy.deepcopy(messages[1][1])
    forged["message"]["status"] = "forwarding"
    deliveries.append(Delivery("forged status-update", encode(forged), 401, forged=True))
    return deliveries


@dataclass(frozen=True)
class LatencyCall:
    """One simulated call's end-of-call-report, with what was injected into it."""

    report: dict[str, Any]  # the webhook body ({"message": ...})
    call_key: str
    turn_latencies_ms: tuple[int, ...]
    slow_injected: bool


def latency_day(
    *, seed: int, calls: int, day_start_ms: int, turns: int = 12, slow_share: float = 0.1
) -> list[LatencyCall]:
    """A day of end-of-call-reports with performance metrics; `slow_share` of calls get 3 slow turns.

    Deterministic for a seed. The reports carry no caller content beyond a short greeting exchange, so
    they exercise the latency path, not redaction.
    """
    rng = random.Random(seed)  # noqa: S311 - simulation, not crypto
    out: list[LatencyCall] = []
    for n in range(calls):
        slow = rng.random() < slow_share
        slow_turns = frozenset(rng.sample(range(turns), 3)) if slow else frozenset()
        performance = performance_metrics(rng, turns, slow_turns=slow_turns, interruptions=rng.randint(0, 5))
        conversation: list[dict[str, Any]] = [{"role": "bot", "message": "Hi, how can I help?"}]
        for turn in range(turns):
            conversation.append({"role": "user", "message": f"Question {turn + 1}."})
            conversation.append({"role": "bot", "message": f"Answer {turn + 1}."})
        call_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        script = CallScript(
            call_id=call_id,
            provider_call_id="CA" + call_id.replace("-", ""),
            start_ms=day_start_ms + int(n * 86_000_000 / max(calls, 1)),
        )
        report = end_of_call_report(
            call_id, conversation, "A short call.", presigned={}, performance=performance
        )
        out.append(
            LatencyCall(
                report=script._envelope(report, 189_000),
                call_key=f"twilio:{script.provider_call_id}",
                turn_latencies_ms=tuple(r["turnLatency"] for r in performance["turnLatencies"]),
                slow_injected=slow,
            )
        )
    return out
