"""`voicetrail calls list|show`: find calls and look at one.

The call is read and built by `voicetrail_cli.ops.call_view` (`load_call`, `CallView`, plain data);
`render_call` here and `CallView.as_dict` are two renderers of it, so another section (latency, for
instance) is one more field and one more block in the renderer.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from rich.table import Table

from voicetrail_cli.failures import CliError
from voicetrail_cli.ops.call_view import CallView as CallView
from voicetrail_cli.ops.call_view import _iso
from voicetrail_cli.ops.call_view import load_call as load_call  # where the evidence command finds it
from voicetrail_cli.ops.latency_view import render_latency
from voicetrail_cli.output import Column, WideOpt, emit_json, fitted_table, show, target_width
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

OUTCOMES = ("escalated", "consent-denied", "transferred", "failed")
FAILED_STATUSES = frozenset({"failed", "busy", "no-answer", "canceled"})
TRANSFER_REASONS = frozenset({"assistant-forwarded-call", "call.forwarded"})

# ---- renderers --------------------------------------------------------------------------------------


def render_call(view: CallView) -> list[Any]:
    """The rich renderables of a call, section by section."""
    head = Table(title=f"call {view.call_id}", show_header=False)
    head.add_column("field")
    head.add_column("value", overflow="fold")
    for label, value in summary_rows(view):
        head.add_row(label, value)
    out: list[Any] = [head]

    timeline = Table(title=f"timeline ({len(view.timeline)} entries)")
    for column in ("received (UTC)", "source", "kind", "detail"):
        timeline.add_column(column, overflow="fold", no_wrap=column != "detail")
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
            section.add_column(_TIME_COLUMNS.get(column, column.replace("_", " ")), overflow="fold")
        for row in rows:
            section.add_row(*(_cell(column, row.get(column)) for column in columns))
        out.append(section)
    out.append(
        f"{len(view.events)} events, {len(view.audit)} audit records; "
        f"{view.dynamodb_requests} DynamoDB requests"
    )
    return out


# The summary's fields as an operator reads them: (label, how to show the value); the rest is in --json.
_SUMMARY_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("first_ts_ms", "started (UTC)", "time"),
    ("status", "Twilio status", "text"),
    ("final_status", "final status", "text"),
    ("vapi_ended", "ended (Vapi)", "bool"),
    ("ended_reason", "ended because", "text"),
    ("direction", "direction", "text"),
    ("answered_by", "answered by", "text"),
    ("duration_s", "duration (Twilio)", "seconds"),
    ("vapi_duration_s", "duration (Vapi)", "seconds"),
    ("answered", "answered", "bool"),
    ("consent", "consent", "text"),
    ("escalated", "escalated", "bool"),
    ("topology", "topology", "text"),
    ("recordings", "recordings", "list"),
    ("days", "days (UTC)", "list"),
    ("expires_at", "kept until (UTC)", "date"),
)


def summary_rows(view: CallView) -> list[tuple[str, str]]:
    """The head of `calls show`: ids, the summary's fields in words, the cost once (with its parts)."""
    rows = [("Vapi call", view.vapi_call_id or "-"), ("Twilio CallSid", view.twilio_call_sid or "-")]
    for key, label, kind in _SUMMARY_FIELDS:
        value = view.summary.get(key)
        if value is None or value == ():
            continue
        if kind == "time":
            shown = _iso(float(value))[:19].replace("T", " ")
        elif kind == "date":
            shown = _iso(float(value) * 1000)[:10]
        elif kind == "bool":
            shown = "yes" if value else "no"
        elif kind == "seconds":
            shown = f"{float(value):.0f} s"
        elif kind == "list":
            shown = ", ".join(str(v) for v in value)
        else:
            shown = str(value)
        rows.append((label, shown))
    cost = view.cost.get("cost_usd", view.summary.get("cost_usd"))
    rows.append(("cost", f"${cost:.4f}" if isinstance(cost, int | float) else "-"))
    for name, value in sorted((view.cost.get("breakdown") or {}).items()):
        if isinstance(value, int | float) and name != "total":
            rows.append((f"  {name}", f"${value:.4f}"))
    return rows


_TIME_COLUMNS = {"at_ms": "at (UTC)"}


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
    wide: WideOpt = False,
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
    from voicetrail_cli.ops.report.roi import days_between
    from voicetrail_cli.timerange import time_range

    bad = [o for o in outcome or [] if o not in OUTCOMES]
    if bad:
        raise CliError(f"--outcome {bad[0]!r}: use one of {', '.join(OUTCOMES)}")
    current = now if now is not None else time.time()
    start, end = time_range(since, until, current)
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
            "platform": s.voice_platform,
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
    title = f"calls {_iso(start * 1000)[:16]} .. {_iso(end * 1000)[:16]} ({len(summaries)})"
    cells = [
        [
            r["call"],
            r["started"][:16].replace("T", " "),
            r["status"] or "-",
            f"{r['duration_s']:.0f} s" if r["duration_s"] is not None else "-",
            f"${r['cost_usd']:.3f}" if r["cost_usd"] is not None else "-",
            ", ".join(r["outcomes"]) or "-",
            r["consent"] or "-",
            r["platform"] or "-",
            r["twilio_call_sid"] or "-",
        ]
        for r in rows
    ]
    show(fitted_table(title, LIST_COLUMNS, cells, width=target_width(), wide=wide))


# In the order shown; on a narrow terminal the highest priority numbers are left out first (the caption
# says which). The call id and its start are never left out: with them, `calls show` finds the rest.
LIST_COLUMNS = (
    Column("call", 1),
    Column("started (UTC)", 1),
    Column("status", 2),
    Column("duration", 4, "right"),
    Column("cost", 3, "right"),
    Column("outcomes", 5, wrap=True),
    Column("consent", 6),
    Column("platform", 6),
    Column("Twilio CallSid", 7),
)


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
