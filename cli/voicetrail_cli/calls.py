"""`voicetrail calls list|show`: find calls and look at one.

`load_call` reads a call (one query per partition: the Vapi call's and, for phone calls, the Twilio
call's) and `build_call_view` turns the raw items into a `CallView`, plain data; `render_call` and
`CallView.as_dict` are two renderers of it, so another section (latency, for instance) is one more
field and one more block in the renderer.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from voicetrail_cli.failures import CliError
from voicetrail_cli.latency_view import latency_view, render_latency
from voicetrail_cli.output import emit_json, show
from voicetrail_cli.target import (
    Deployment,
    EndpointOpt,
    JsonOpt,
    NowOpt,
    RegionOpt,
    SinceOpt,
    StackOpt,
    TableOpt,
    UntilOpt,
    resolve,
    secret_resolver,
)

calls_app = typer.Typer(help="List calls and show one call's whole story.", no_args_is_help=True)

_CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
OUTCOMES = ("escalated", "consent-denied", "transferred", "failed")
FAILED_STATUSES = frozenset({"failed", "busy", "no-answer", "canceled"})
TRANSFER_REASONS = frozenset({"assistant-forwarded-call", "call.forwarded"})


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
    latency: dict[str, Any] | None = None  # voicetrail_cli.latency_view.latency_view: figures and turns
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


def _transcript(events: Sequence[Any]) -> list[dict[str, Any]]:
    """Final transcripts in order; else the end-of-call report's messages (both stored redacted)."""
    finals = [
        e
        for e in events
        if e.event_type.startswith("transcript")
        and e.attributes.get("transcript_type", "final") == "final"
        and isinstance(e.body.get("transcript"), str)
    ]
    if finals:
        return [
            {
                "at_ms": e.event_ts_ms,
                "role": str(e.body.get("role", e.attributes.get("role", "?"))),
                "text": e.body["transcript"],
            }
            for e in finals
        ]
    for e in events:
        if e.event_type == "end-of-call-report":
            messages = (e.body.get("artifact") or {}).get("messages") or []
            return [
                {"at_ms": m.get("time"), "role": str(m.get("role", "?")), "text": str(m.get("message", ""))}
                for m in messages
                if isinstance(m, dict) and m.get("role") in ("user", "bot", "assistant")
            ]
    return []


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
            view.recordings.append(
                {k: next(iter(v.values())) for k, v in item.items() if k in ("recording_sid", "rec_status")}
            )
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
        view.latency = latency_view(call_latency, report)
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


# ---- renderers --------------------------------------------------------------------------------------


def render_call(view: CallView) -> list[Any]:
    """The rich renderables of a call, section by section."""
    head = Table(title=f"call {view.call_id}", show_header=False)
    head.add_column("")
    head.add_column("")
    for key in ("vapi_call_id", "twilio_call_sid"):
        head.add_row(key, str(getattr(view, key) or "-"))
    for key, value in sorted(view.summary.items()):
        if key not in ("vapi_call_id", "twilio_call_sid", "call_key"):
            head.add_row(key, str(value))
    cost = view.cost.get("cost_usd")
    head.add_row("cost", f"${cost:.4f}" if isinstance(cost, int | float) else "-")
    for name, value in sorted((view.cost.get("breakdown") or {}).items()):
        if isinstance(value, int | float):
            head.add_row(f"  {name}", f"{value:.4f}")
    out: list[Any] = [head]

    timeline = Table(title=f"timeline ({len(view.timeline)} entries)")
    for column in ("at (UTC)", "source", "kind", "detail"):
        timeline.add_column(column)
    for t in view.timeline:
        timeline.add_row(_iso(t.at_ms)[11:], t.source, t.kind, t.detail)
    out.append(timeline)

    if view.transcript:
        transcript = Table(title="transcript (as stored: redacted)")
        transcript.add_column("role")
        transcript.add_column("text", overflow="fold")
        for line in view.transcript:
            transcript.add_row(line["role"], line["text"])
        out.append(transcript)

    if view.latency is not None:
        out.append(render_latency(view.latency))

    for title, rows in (
        ("consent", view.consent),
        ("escalation (rule as configured when it fired)", view.escalations),
        ("transfers", view.transfers),
        ("Twilio states", view.twilio_states),
        ("recordings", view.recordings),
        ("quarantined (voicetrail quarantine list --day <day>; replay --id <id>)", view.quarantined),
    ):
        if not rows:
            continue
        section = Table(title=title)
        columns = list(dict.fromkeys(k for row in rows for k in row))
        for column in columns:
            section.add_column(column, overflow="fold")
        for row in rows:
            section.add_row(*(_cell(column, row.get(column)) for column in columns))
        out.append(section)
    out.append(
        f"{len(view.events)} events, {len(view.audit)} audit records; "
        f"{view.dynamodb_requests} DynamoDB requests"
    )
    return out


def _cell(column: str, value: Any) -> str:
    if value is None:
        return "-"
    if column == "at_ms" and isinstance(value, int | float):
        return _iso(value)[11:]
    if column == "rule_as_configured" and isinstance(value, dict):
        config = value.get("config", {})
        return (
            f"keyword {value.get('keyword')!r} (rule {value.get('rule')}) from {value.get('config_key')}; "
            f"min confidence {config.get('escalation_min_confidence')}, debounce "
            f"{config.get('escalation_debounce_ms')} ms, keywords {config.get('escalation_keywords')}"
        )
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


# ---- commands ---------------------------------------------------------------------------------------


@calls_app.command("show")
def calls_show(
    call_id: Annotated[str, typer.Argument(help="Vapi call id, Twilio CallSid, or twilio:<CallSid>.")],
    table: TableOpt = None,
    stack: StackOpt = None,
    dynamodb_endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One call: timeline of every stored event, redacted transcript, each turn's latency, consent,
    escalation (with the rule as configured when it fired), transfers, Twilio states, recordings and cost."""
    target = resolve(table=table, dynamodb_endpoint=dynamodb_endpoint, stack=stack, region=region)
    view = load_call(target, call_id, now=now if now is not None else time.time())
    if as_json:
        emit_json(view.as_dict())
    else:
        show(*render_call(view))


def _outcomes(summary: Any) -> set[str]:
    found = set()
    if summary.escalated:
        found.add("escalated")
    if summary.consent == "denied":
        found.add("consent-denied")
    if summary.ended_reason in TRANSFER_REASONS:
        found.add("transferred")
    if (summary.final_status or summary.status) in FAILED_STATUSES or (
        summary.ended_reason and ("error" in summary.ended_reason or "failed" in summary.ended_reason)
    ):
        found.add("failed")
    return found


@calls_app.command("list")
def calls_list(
    since: SinceOpt = "7d",
    until: UntilOpt = None,
    caller: Annotated[
        str | None, typer.Option(help="Only this caller's calls (hashed here with the pepper, never stored).")
    ] = None,
    pepper_ref: Annotated[
        str | None,
        typer.Option(envvar="HASH_PEPPER_REF", help="Pepper ref for --caller (HashPepperSecretArn)."),
    ] = None,
    outcome: Annotated[
        list[str] | None, typer.Option(help=f"Only calls with this outcome: {' | '.join(OUTCOMES)}.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many rows.")] = 200,
    table: TableOpt = None,
    stack: StackOpt = None,
    dynamodb_endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Calls in a time range, optionally of one caller and with given outcomes."""
    from voicetrail.domain.retention.classes import RetentionPolicy
    from voicetrail.storage.ledger import DynamoCallLedger
    from voicetrail_cli.report import days_between, parse_since

    bad = [o for o in outcome or [] if o not in OUTCOMES]
    if bad:
        raise CliError(f"--outcome {bad[0]!r}: use one of {', '.join(OUTCOMES)}")
    current = now if now is not None else time.time()
    start = parse_since(since, current)
    end = parse_since(until, current) if until else current
    target = resolve(table=table, dynamodb_endpoint=dynamodb_endpoint, stack=stack, region=region)
    client = target.dynamodb()
    ledger = DynamoCallLedger(client, target.table, RetentionPolicy())
    summaries = [
        s
        for s in ledger.summaries_for_days(days_between(start, end), now=current)
        if start * 1000 <= s.first_ts_ms <= end * 1000
    ]
    if caller:
        summaries = _of_caller(target, client, caller, pepper_ref, summaries)
    if outcome:
        summaries = [s for s in summaries if _outcomes(s) & set(outcome)]
    rows: list[dict[str, Any]] = [
        {
            "call": s.vapi_call_id or s.call_key,
            "twilio_call_sid": s.twilio_call_sid,
            "started": _iso(s.first_ts_ms),
            "status": s.final_status or s.status or ("ended" if s.vapi_ended else None),
            "duration_s": s.handle_time_s,
            "outcomes": sorted(_outcomes(s)),
            "consent": s.consent,
            "cost_usd": s.cost_usd,
        }
        for s in summaries[:limit]
    ]
    if as_json:
        emit_json({"calls": rows, "total": len(summaries), "shown": len(rows)})
        return
    view = Table(title=f"calls {_iso(start * 1000)[:16]} .. {_iso(end * 1000)[:16]} ({len(summaries)})")
    for column in (
        "call",
        "Twilio CallSid",
        "started (UTC)",
        "status",
        "duration",
        "outcomes",
        "consent",
        "cost",
    ):
        view.add_column(column, no_wrap=column in ("call", "Twilio CallSid"))
    for r in rows:
        view.add_row(
            r["call"],
            r["twilio_call_sid"] or "-",
            r["started"][:19],
            r["status"] or "-",
            f"{r['duration_s']:.0f} s" if r["duration_s"] is not None else "-",
            ", ".join(r["outcomes"]) or "-",
            r["consent"] or "-",
            f"${r['cost_usd']:.3f}" if r["cost_usd"] is not None else "-",
        )
    show(view)


def _of_caller(
    target: Deployment, client: Any, caller: str, pepper_ref: str | None, summaries: list[Any]
) -> list[Any]:
    from voicetrail.domain.callers import CallerHasher, caller_id
    from voicetrail.storage.call_view import caller_partitions
    from voicetrail.storage.pepper import DynamoPepperFingerprints

    canonical = caller_id(caller)
    ref = pepper_ref or target.secret_ref("HashPepperSecretArn")
    if not ref:
        raise CliError(
            "--caller needs the pepper: pass --pepper-ref (stack output HashPepperSecretArn) or --stack"
        )
    hasher = CallerHasher(secret_resolver(ref).values()[0])
    if hasher.fingerprint() not in DynamoPepperFingerprints(client, target.table).known():
        raise CliError(
            "the pepper does not match the one this table's caller hashes were made with: check --pepper-ref"
        )
    pks = {pk.removeprefix("CALL#") for pk in caller_partitions(client, target.table, hasher.hash(canonical))}
    return [s for s in summaries if s.call_key in pks or (s.vapi_call_id or "") in pks]
