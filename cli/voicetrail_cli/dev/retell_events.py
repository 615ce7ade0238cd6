"""Realistic Retell AI webhook events, one generator per event type, for the tests, the demo and `sign`.

Shapes follow Retell's webhook docs and the official SDK's call object (tests/fixtures/retell/PROVENANCE.md).
A `RetellCallScript` is one synthetic call: ids, a synthetic caller (`simulate.identities.Identity`,
whose personal data is planted in every place Retell carries caller content: transcript text and turns,
word lists, tool-call arguments and results, the analysis summary and custom data, dynamic variables,
metadata) and a clock. Each generator returns the payload Retell would POST for that event at that point
of the call; `call_stream()` returns a whole call in delivery order.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from voicetrail_cli.dev.simulate.identities import Identity, synthetic_identity

OUR_NUMBER = "+14155550142"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _id(rng: random.Random, length: int = 32) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(length))


@dataclass(frozen=True)
class RetellCallScript:
    """One synthetic Retell phone call: who called, what was said, when."""

    call_id: str
    agent_id: str
    identity: Identity
    start_ms: int
    direction: str = "inbound"
    turns: tuple[tuple[str, str], ...] = ()
    tool_call_id: str = "tool_call_5d3c1e"
    transfer_to: str = "+14155550188"
    recording_token: str = field(default="a1b2c3", compare=False)

    @property
    def caller(self) -> str:
        return self.identity.phone

    def turn_ms(self, index: int) -> int:
        return self.start_ms + 2_500 * (index + 1)


def script(rng: random.Random, *, start_ms: int = 1_764_979_200_000) -> RetellCallScript:
    identity = synthetic_identity(rng)
    lines = identity.user_lines()
    turns: list[tuple[str, str]] = [("agent", "Thanks for calling Harbor Health, how can I help you today?")]
    for line in lines[1:6]:
        turns.append(("user", line))
        turns.append(("agent", "Thank you, I have noted that."))
    return RetellCallScript(
        call_id=_id(rng),
        agent_id="agent_" + _id(rng, 24),
        identity=identity,
        start_ms=start_ms,
        turns=tuple(turns),
        recording_token=_id(rng, 12),
    )


def _words(text: str, start: float) -> list[dict[str, Any]]:
    return [
        {"word": word, "start": round(start + 0.3 * i, 3), "end": round(start + 0.3 * i + 0.25, 3)}
        for i, word in enumerate(text.split())
    ]


def _transcript_object(s: RetellCallScript, upto: int) -> list[dict[str, Any]]:
    return [
        {"role": role, "content": text, "words": _words(text, 2.5 * i)}
        for i, (role, text) in enumerate(s.turns[:upto])
    ]


def _tool_arguments(s: RetellCallScript) -> str:
    who = s.identity
    return json.dumps(
        {
            "customer_name": who.name,
            "callback_number": who.phone,
            "date_of_birth": who.dob_numeric,
            "card_number": who.card,
        }
    )


def _with_tool_calls(s: RetellCallScript, upto: int) -> list[dict[str, Any]]:
    utterances = _transcript_object(s, upto)
    if upto >= 4:
        utterances[3:3] = [
            {
                "role": "tool_call_invocation",
                "tool_call_id": s.tool_call_id,
                "name": "lookup_account",
                "arguments": _tool_arguments(s),
            },
            {
                "role": "tool_call_result",
                "tool_call_id": s.tool_call_id,
                "content": json.dumps({"found": True, "member_id": s.identity.member_id}),
                "successful": True,
            },
        ]
    return utterances


def _call(s: RetellCallScript, status: str, upto: int, *, ended: bool) -> dict[str, Any]:
    far, near = (s.caller, OUR_NUMBER) if s.direction == "inbound" else (OUR_NUMBER, s.caller)
    call: dict[str, Any] = {
        "call_type": "phone_call",
        "call_id": s.call_id,
        "agent_id": s.agent_id,
        "agent_version": 3,
        "agent_name": "Harbor Health intake",
        "call_status": status,
        "direction": s.direction,
        "from_number": far,
        "to_number": near,
        "start_timestamp": s.start_ms,
        "metadata": {"crm_contact": s.identity.email},
        "retell_llm_dynamic_variables": {"customer_name": s.identity.first},
        "telephony_identifier": {"twilio_call_sid": "CA" + s.call_id.lower()[:32].ljust(32, "0")},
        "data_storage_setting": "everything",
        "opt_in_signed_url": False,
    }
    if upto:
        text = "\n".join(f"{'Agent' if r == 'agent' else 'User'}: {t}" for r, t in s.turns[:upto])
        call["transcript"] = text
        call["transcript_object"] = _transcript_object(s, upto)
        call["transcript_with_tool_calls"] = _with_tool_calls(s, upto)
    if ended:
        end_ms = s.turn_ms(len(s.turns))
        call.update(
            {
                "end_timestamp": end_ms,
                "duration_ms": end_ms - s.start_ms,
                "disconnection_reason": "user_hangup",
                # Short-lived links (10 minutes, Retell's docs): regenerated on every delivery.
                "recording_url": f"https://dxc03zgurdly9.cloudfront.net/{s.call_id}/recording.wav?t={s.recording_token}",
                "public_log_url": f"https://dxc03zgurdly9.cloudfront.net/{s.call_id}/public.log?t={s.recording_token}",
                "collected_dynamic_variables": {"customer_name": s.identity.first},
                "call_cost": {
                    "product_costs": [{"product": "retell_platform", "unit_price": 0.1, "cost": 7.0}],
                    "total_duration_seconds": (end_ms - s.start_ms) // 1000,
                    "total_duration_unit_price": 0.1,
                    "combined_cost": 7.0,
                },
                "latency": _latency(len(s.turns) // 2),
            }
        )
    return call


def _latency(turns: int) -> dict[str, Any]:
    """Retell's `latency` object: percentiles and every value of the call, per part (ms)."""
    e2e = [640.0 + 90 * (i % 5) for i in range(turns)]

    def block(values: list[float]) -> dict[str, Any]:
        ordered = sorted(values)
        middle = ordered[len(ordered) // 2]
        return {"p50": middle, "max": ordered[-1], "min": ordered[0], "num": len(values), "values": values}

    return {"e2e": block(e2e), "llm": block([v * 0.45 for v in e2e]), "tts": block([v * 0.25 for v in e2e])}


def call_started(s: RetellCallScript) -> dict[str, Any]:
    return {"event": "call_started", "call": _call(s, "ongoing", 0, ended=False)}


def transcript_updated(s: RetellCallScript, upto: int | None = None) -> dict[str, Any]:
    """The update after `upto` turns (default: all of them, the final update at the end of the call)."""
    count = len(s.turns) if upto is None else upto
    return {"event": "transcript_updated", "call": _call(s, "ongoing", count, ended=False)}


def call_ended(s: RetellCallScript) -> dict[str, Any]:
    return {"event": "call_ended", "call": _call(s, "ended", len(s.turns), ended=True)}


def call_analyzed(s: RetellCallScript) -> dict[str, Any]:
    call = _call(s, "ended", len(s.turns), ended=True)
    who = s.identity
    call["call_analysis"] = {
        "call_summary": (
            f"{who.name} called about a bill for member {who.member_id} and gave card {who.card_grouped}."
        ),
        "in_voicemail": False,
        "user_sentiment": "Neutral",
        "call_successful": True,
        "custom_analysis_data": {"callback_email": who.email, "date_of_birth": who.dob},
    }
    return {"event": "call_analyzed", "call": call}


def _transfer(s: RetellCallScript, event: str, upto: int) -> dict[str, Any]:
    payload: dict[str, Any] = {"event": event, "call": _call(s, "ongoing", upto, ended=False)}
    payload["transfer_destination"] = {"number": s.transfer_to}
    payload["transfer_option"] = {"type": "cold_transfer", "show_transferee_as_caller": False}
    return payload


def transfer_started(s: RetellCallScript, upto: int = 6) -> dict[str, Any]:
    return _transfer(s, "transfer_started", upto)


def transfer_bridged(s: RetellCallScript, upto: int = 6) -> dict[str, Any]:
    return _transfer(s, "transfer_bridged", upto)


def transfer_cancelled(s: RetellCallScript, upto: int = 6) -> dict[str, Any]:
    return _transfer(s, "transfer_cancelled", upto)


def transfer_ended(s: RetellCallScript, upto: int = 6) -> dict[str, Any]:
    call = _call(s, "ongoing", upto, ended=False)
    call["transfer_destination"] = s.transfer_to
    call["transfer_end_timestamp"] = s.turn_ms(upto) + 30_000
    return {"event": "transfer_ended", "call": call}


GENERATORS: dict[str, Callable[[RetellCallScript], dict[str, Any]]] = {
    "call_started": call_started,
    "transcript_updated": transcript_updated,
    "transfer_started": transfer_started,
    "transfer_bridged": transfer_bridged,
    "transfer_cancelled": transfer_cancelled,
    "transfer_ended": transfer_ended,
    "call_ended": call_ended,
    "call_analyzed": call_analyzed,
}


def call_stream(s: RetellCallScript, *, transfer: bool = False) -> list[dict[str, Any]]:
    """Every event of one call in delivery order: distinct events, each to be stored exactly once."""
    events = [call_started(s)]
    events += [transcript_updated(s, n) for n in range(2, len(s.turns) + 1, 2)]
    if transfer:
        # A first transfer that fails, a second that bridges: two transfers to one number in one call.
        events += [transfer_started(s, 6), transfer_cancelled(s, 6)]
        events += [transfer_started(s, 8), transfer_bridged(s, 8), transfer_ended(s, 8)]
    events += [transcript_updated(s), call_ended(s), call_analyzed(s)]
    return events


def resend(payload: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A retry of `payload` as Retell might send it: refreshed links and re-ordered keys, same event."""
    copied = json.loads(json.dumps(payload))
    call = copied.get("call", {})
    token = _id(rng, 12)
    for key in ("recording_url", "public_log_url"):
        if key in call:
            call[key] = call[key].rsplit("?t=", 1)[0] + f"?t={token}"
    return dict(reversed(list(copied.items())))
