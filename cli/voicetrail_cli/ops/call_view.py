"""One call as plain data: `load_call` reads its partitions (the Vapi call's and, for phone calls, the
Twilio call's: one query each) and `build_call_view` turns the raw items into a `CallView`. Renderers
(`voicetrail_cli.ops.calls`, `voicetrail_cli.ops.evidence`) read the view; they never read items.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from voicetrail_cli.failures import CliError
from voicetrail_cli.ops.latency_view import latency_view
from voicetrail_cli.target import (
    Deployment,
)

_CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")


def _iso(ms: float | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# ---- the per-call view (data) -----------------------------------------------------------------------


@dataclass
class TimelineEntry:
    at_ms: int | None
    source: str  # vapi | twilio | audit | live
    kind: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": _iso(self.at_ms),
            "at_ms": self.at_ms,
            "source": self.source,
            "kind": self.kind,
            "detail": self.detail,
        }


@dataclass
class CallView:
    call_id: str
    vapi_call_id: str | None = None
    twilio_call_sid: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    timeline: list[TimelineEntry] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    consent: list[dict[str, Any]] = field(default_factory=list)
    escalations: list[dict[str, Any]] = field(default_factory=list)
    transfers: list[dict[str, Any]] = field(default_factory=list)
    twilio_states: list[dict[str, Any]] = field(default_factory=list)
    cost: dict[str, Any] = field(default_factory=dict)
    recordings: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # every stored event, as stored (redacted)
    audit: list[dict[str, Any]] = field(default_factory=list)  # the call's chain, export form
    rule_snapshots: list[dict[str, Any]] = field(default_factory=list)
    # Messages of this call kept in quarantine (voicetrail.domain.quarantine): `voicetrail quarantine`.
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    latency: dict[str, Any] | None = None  # voicetrail_cli.ops.latency_view.latency_view: figures and turns
    dynamodb_requests: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "vapi_call_id": self.vapi_call_id,
            "twilio_call_sid": self.twilio_call_sid,
            "summary": self.summary,
            "timeline": [t.as_dict() for t in self.timeline],
            "transcript": self.transcript,
            "consent": self.consent,
            "escalations": self.escalations,
            "transfers": self.transfers,
            "twilio_states": self.twilio_states,
            "cost": self.cost,
            "recordings": self.recordings,
            "quarantined": self.quarantined,
            "latency": self.latency,
            "dynamodb_requests": self.dynamodb_requests,
        }


def _event_detail(event: Any) -> str:
    body = event.body
    attrs = event.attributes
    if event.source == "twilio":
        return str(attrs.get("status", ""))
    parts = [f"{k}={attrs[k]}" for k in ("status", "role", "transcript_type", "ended_reason") if k in attrs]
    if event.redactions:
        parts.append("redacted " + ", ".join(f"{k} x{v}" for k, v in sorted(event.redactions.items())))
    if event.event_type.startswith("transcript") and isinstance(body.get("transcript"), str):
        parts.append(repr(body["transcript"][:60]))
    return " ".join(parts)


def _recording(item: dict[str, Any]) -> dict[str, Any]:
    """A recording pointer as a row: Twilio's (its RecordingSid and status), audio kept here (ElevenLabs'
    post_call_audio in S3: its object key, size and digest) or Vapi's (the call's audio)."""
    audio = _kept_audio(item)
    if audio is not None:
        return {
            "provider": item.get("source", {}).get("S", "-"),
            "recording": audio.get("key", "-"),
            "status": "kept in S3",
            "bytes": audio.get("bytes"),
            "sha256": audio.get("sha256"),
            "content_type": audio.get("content_type"),
        }
    if "recording_sid" in item:
        return {
            "provider": "twilio",
            "recording": item["recording_sid"]["S"],
            "status": item.get("rec_status", {}).get("S", "-"),
        }
    return {"provider": "vapi", "recording": "the call's audio at Vapi", "status": "stored at Vapi"}


def _kept_audio(item: dict[str, Any]) -> dict[str, Any] | None:
    from voicetrail.domain.calls.ports import is_kept_audio

    if not is_kept_audio(item["sk"]["S"]) or "body" not in item:
        return None
    try:
        audio = json.loads(item["body"]["S"]).get("audio")
    except (ValueError, AttributeError):
        return None
    return audio if isinstance(audio, dict) else None


def _platform_messages(events: Sequence[Any]) -> list[dict[str, Any]] | None:
    """An ElevenLabs conversation's turns for the latency view (it has no end-of-call report)."""
    from voicetrail.providers.elevenlabs.latency import timeline_messages

    for e in events:
        if e.source == "elevenlabs" and e.event_type == "post_call_transcription":
            data = e.body.get("data")
            transcript = data.get("transcript") if isinstance(data, dict) else None
            return timeline_messages(transcript if isinstance(transcript, list) else [])
    return None


def _role(value: Any) -> str:
    return "assistant" if value == "bot" else str(value or "?")


def _transcript(events: Sequence[Any]) -> list[dict[str, Any]]:
    """The end-of-call report's messages once it has arrived (the whole call, in order, with the words);
    before, the final transcripts so far. Both as stored: redacted. Lines without words are left out."""
    for e in events:
        if e.event_type == "end-of-call-report":
            messages = (e.body.get("artifact") or {}).get("messages") or []
            lines = [
                {"at_ms": m.get("time"), "role": _role(m.get("role")), "text": str(m.get("message") or "")}
                for m in messages
                if isinstance(m, dict) and m.get("role") in ("user", "bot", "assistant")
            ]
            if lines:
                return [line for line in lines if str(line["text"]).strip()]
    return [
        {
            "at_ms": e.event_ts_ms,
            "role": _role(e.body.get("role", e.attributes.get("role"))),
            "text": e.body["transcript"],
        }
        for e in events
        if e.event_type.startswith("transcript")
        and e.attributes.get("transcript_type", "final") == "final"
        and isinstance(e.body.get("transcript"), str)
        and e.body["transcript"].strip()
    ] or _platform_transcript(events)


def _platform_transcript(events: Sequence[Any]) -> list[dict[str, Any]]:
    """Retell's and ElevenLabs' transcript: the fullest one the call's events carry (stored redacted)."""
    best: list[dict[str, Any]] = []
    for e in events:
        turns: list[dict[str, Any]] = []
        if e.source == "retell":
            call = e.body.get("call") or e.body.get("data") or {}
            for turn in call.get("transcript_object") or [] if isinstance(call, dict) else []:
                if isinstance(turn, dict) and turn.get("role") in ("agent", "user", "transfer_target"):
                    turns.append(
                        {"at_ms": None, "role": str(turn["role"]), "text": str(turn.get("content", ""))}
                    )
        elif e.source == "elevenlabs" and e.event_type == "post_call_transcription":
            data = e.body.get("data") or {}
            for turn in data.get("transcript") or [] if isinstance(data, dict) else []:
                if isinstance(turn, dict) and turn.get("role") in ("agent", "user"):
                    at = turn.get("time_in_call_secs")  # whole seconds from the start of the call
                    turns.append(
                        {
                            "at_ms": int(at * 1000) if isinstance(at, int | float) and at >= 0 else None,
                            "role": str(turn["role"]),
                            "text": str(turn.get("message") or ""),
                        }
                    )
        if len(turns) > len(best):
            best = turns
    return [turn for turn in best if turn["text"].strip()]


def build_call_view(call_id: str, items: Iterable[dict[str, Any]]) -> CallView:
    """The view of one call from the raw items of its partitions (pure: no I/O)."""
    from voicetrail.storage.audit import from_audit_item
    from voicetrail.storage.dynamo import from_item
    from voicetrail.storage.ledger import summary_from_item
    from voicetrail.storage.table import (
        AUDIT_SK_PREFIX,
        CONSENT_SK,
        EVENT_SK_PREFIX,
        QUARANTINE_PREFIX,
        RECORDING_SK_PREFIX,
        RULE_SK_PREFIX,
        SUMMARY_SK,
        call_pk,
    )

    view = CallView(call_id=call_id)
    call_latency = None
    events = []
    audit = []
    for item in items:
        sk = item["sk"]["S"]
        if sk.startswith(EVENT_SK_PREFIX):
            events.append(from_item(item))
        elif sk.startswith(AUDIT_SK_PREFIX):
            audit.append(from_audit_item(item))
        elif sk == SUMMARY_SK:
            summary = summary_from_item(item)
            call_latency = summary.latency  # its own section, next to the transcript
            view.summary = {
                k: v for k, v in summary.__dict__.items() if v not in (None, (), False) and k != "latency"
            }
            view.vapi_call_id = view.vapi_call_id or summary.vapi_call_id
            view.twilio_call_sid = view.twilio_call_sid or summary.twilio_call_sid
        elif sk.startswith(RECORDING_SK_PREFIX):
            view.recordings.append(_recording(item))
        elif sk.startswith(RULE_SK_PREFIX):
            view.rule_snapshots.append(
                {
                    "code": sk.removeprefix(RULE_SK_PREFIX),
                    "config_key": item.get("config_key", {}).get("S"),
                    "rule": int(item.get("rule", {}).get("N", "-1")),
                    "keyword": item.get("keyword", {}).get("S"),
                    "fired_at_ms": int(item.get("fired_at_ms", {}).get("N", "0")),
                    "config": json.loads(item.get("config", {}).get("S", "{}")),
                    "config_json": item.get("config", {}).get("S", "{}"),  # the exact text the hash covers
                }
            )
        elif sk.startswith(QUARANTINE_PREFIX):
            entry = {
                "id": sk.removeprefix(QUARANTINE_PREFIX),
                "day": item.get("quarantine_day", {}).get("S"),
                "reason": item.get("reason", {}).get("S"),
                "at_ms": int(item.get("received_at_ms", {}).get("N", "0")),
            }
            view.quarantined.append(entry)
            view.timeline.append(
                TimelineEntry(entry["at_ms"], "quarantine", str(entry["reason"]), entry["id"])
            )
        elif sk == CONSENT_SK:
            view.consent.append(
                {
                    "source": "live state",
                    "state": item.get("state", {}).get("S"),
                    "asks": int(item.get("asks", {}).get("N", "0")),
                }
            )
    events.sort(key=lambda e: (e.received_at_ms, e.event_ts_ms or 0, e.sk))
    audit.sort(key=lambda r: (r.pk, r.seq))
    view.events = [
        {
            "pk": call_pk(e.call_id),
            "sk": e.sk,
            "source": e.source,
            "type": e.event_type,
            "at_ms": e.event_ts_ms,
            "received_at_ms": e.received_at_ms,
            "retention_class": e.retention_class.value,
            "redactions": e.redactions,
            "attributes": e.attributes,
            "body": e.body,
        }
        for e in events
    ]
    view.audit = [r.as_dict() for r in audit]
    for e in events:
        # One clock for the whole timeline: when voicetrail received it (the audit trail's clock too);
        # the provider's own timestamp is kept in the events.
        view.timeline.append(TimelineEntry(e.received_at_ms, e.source, e.event_type, _event_detail(e)))
        if e.source == "vapi" and not view.vapi_call_id and not e.call_id.startswith("twilio:"):
            view.vapi_call_id = e.call_id
        if e.source == "twilio":
            view.twilio_states.append(
                {
                    "at_ms": e.event_ts_ms,
                    "kind": e.event_type,
                    "status": e.attributes.get("status"),
                    "sequence": e.body.get("SequenceNumber"),
                }
            )
        if e.event_type == "end-of-call-report":
            view.cost = {
                "cost_usd": e.body.get("cost"),
                "breakdown": e.body.get("costBreakdown") or {},
                "duration_s": e.body.get("durationSeconds"),
            }
        if e.event_type.startswith("transfer"):
            view.transfers.append({"at_ms": e.event_ts_ms, "source": "vapi", "kind": e.event_type})
    snapshots = {s["code"]: s for s in view.rule_snapshots}
    for record in audit:
        view.timeline.append(
            TimelineEntry(
                record.at_ms,
                "audit",
                record.kind,
                " ".join(f"{k}={v}" for k, v in sorted(record.details.items())),
            )
        )
        if record.kind.startswith("consent_"):
            view.consent.append(
                {"at_ms": record.at_ms, "source": "audit", "state": record.kind, **record.details}
            )
        elif record.kind == "escalation":
            snapshot = snapshots.get(str(record.details.get("config", "")))
            view.escalations.append({"at_ms": record.at_ms, **record.details, "rule_as_configured": snapshot})
        elif record.kind == "transfer":
            view.transfers.append({"at_ms": record.at_ms, "source": "audit", **record.details})
    view.timeline.sort(key=lambda t: t.at_ms or 0)
    view.transcript = _transcript(events)
    report = next((e.body for e in events if e.event_type == "end-of-call-report"), None)
    if call_latency is not None or report is not None:
        view.latency = latency_view(call_latency, report, messages=_platform_messages(events))
    if not view.cost and view.summary.get("cost_usd") is not None:
        view.cost = {"cost_usd": view.summary["cost_usd"]}
    return view


def _partition_keys(call_id: str) -> tuple[str, bool]:
    """The first partition to read and whether the id names a Twilio call."""
    from voicetrail.domain.calls.state import twilio_call_key
    from voicetrail.storage.table import call_pk

    if call_id.startswith("twilio:"):
        return call_pk(call_id), True
    if _CALL_SID.fullmatch(call_id):
        return call_pk(twilio_call_key(call_id)), True
    return call_pk(call_id), False


def load_call(target: Deployment, call_id: str, *, now: float) -> CallView:
    """Read a call: its partition, and the other side's (Twilio <-> Vapi) when the first one names it."""
    from voicetrail.domain.calls.state import twilio_call_key
    from voicetrail.storage.call_view import RequestCounter, partition_items
    from voicetrail.storage.table import call_pk

    client = RequestCounter(target.dynamodb())
    first_pk, is_twilio = _partition_keys(call_id)
    items = partition_items(client, target.table, first_pk)
    if not items and not is_twilio and ":" not in call_id:
        # A Retell call id or ElevenLabs conversation id given bare: their calls are `<platform>:<id>`.
        from voicetrail.domain.identity import OBSERVED_PLATFORMS, platform_call_key

        for platform in OBSERVED_PLATFORMS:
            first_pk = call_pk(platform_call_key(platform, call_id))
            items = partition_items(client, target.table, first_pk)
            if items:
                break
    if not items:
        raise CliError(f"no call {call_id!r} in {target.table}: check the id (calls list shows them)")
    view = build_call_view(call_id, items)
    other: str | None = None
    if is_twilio and view.vapi_call_id:
        other = call_pk(view.vapi_call_id)
    elif not is_twilio:
        provider = next(
            (
                e["attributes"].get("provider_call_id")
                for e in view.events
                if e["attributes"].get("provider_call_id")
            ),
            None,
        )
        if isinstance(provider, str) and _CALL_SID.fullmatch(provider):
            other = call_pk(twilio_call_key(provider))
    if other and other != first_pk:
        items += partition_items(client, target.table, other)
        view = build_call_view(call_id, items)
    view.dynamodb_requests = client.total
    return view
