"""`voicetrail report`: load the ROI for a range (`roi`), print it or write it (`render`, --json, --csv)."""

from __future__ import annotations

import csv
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from voicetrail.domain.latency import SLOW_TURN_MS
from voicetrail_cli.failures import CliError
from voicetrail_cli.ops.report.render import (
    render_html,
    render_slow_calls,
    render_table,
    twilio_coverage_note,
)
from voicetrail_cli.ops.report.roi import (
    RoiReport,
    load_report,
)
from voicetrail_cli.output import WideOpt, emit_json, show, target_width
from voicetrail_cli.target import (
    EndpointOpt,
    JsonOpt,
    RegionOpt,
    SinceOpt,
    StackOpt,
    TableOpt,
    UntilOpt,
    resolve,
)
from voicetrail_cli.timerange import time_range


def print_report(
    console: Console,
    client: Any,
    table: str,
    *,
    since: float,
    until: float | None = None,
    human_cost_per_minute: float = 0.5,
    html_path: Path | None = None,
    slow_turn_ms: float = SLOW_TURN_MS,
) -> RoiReport:
    """Load, print and optionally write the HTML page. Also used by `voicetrail demo`."""
    now = time.time()
    report = load_report(
        client,
        table,
        since=since,
        until=until if until is not None else now,
        human_cost_per_minute=human_cost_per_minute,
        now=now,
        slow_turn_ms=slow_turn_ms,
    )
    slow = [render_slow_calls(report)] if report.slow_calls else []
    show(render_table(report, width=target_width(console)), *slow, *twilio_coverage_note(report), out=console)
    if html_path is not None:
        html_path.write_text(render_html(report, generated_at=now, origin=f"table {table}"), encoding="utf-8")
        console.print(f"HTML report: [bold]{html_path}[/]")
    return report


# ---- command -------------------------------------------------------------------------------------


def report_rows(report: RoiReport) -> list[dict[str, Any]]:
    """One record per day and one for the total: the --json and --csv form."""
    out = []
    for row in [*report.days, report.total]:
        out.append(
            {
                "period": row.label,
                "calls": row.calls,
                "answered": row.answered,
                "answer_rate": row.answer_rate,
                "completion_rate": row.completion_rate,
                "escalation_rate": row.escalation_rate,
                "consent_rate": row.consent_rate,
                "average_handle_time_s": row.average_handle_time_s,
                "ai_cost_usd": row.ai_cost,
                "ai_cost_per_call_usd": row.cost_per_call,
                "human_cost_usd": row.human_cost,
                "saving_usd": row.saving,
                "turn_p95_ms": row.latency.turn_p95_ms,
                "slow_calls": row.latency.slow_calls,
                "interruptions_per_call": row.latency.interruptions_per_call,
                "twilio_calls_ended": row.twilio_ended,
                "twilio_status_coverage": row.twilio_status_coverage,
            }
        )
    return out


def report(
    since: SinceOpt = "7d",
    until: UntilOpt = None,
    html_file: Annotated[
        Path | None, typer.Option("--html", help="Also write a self-contained HTML page with charts.")
    ] = None,
    human_cost_per_minute: Annotated[
        float, typer.Option(help="Loaded cost of a human agent per minute (USD), for the saving.", min=0)
    ] = 0.5,
    table: TableOpt = None,
    stack: StackOpt = None,
    dynamodb_endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
    wide: WideOpt = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print CSV (one row per day, then the total).")
    ] = False,
    slow_turn_ms: Annotated[
        float, typer.Option(help="A call is slow when its turn-latency p95 is above this (ms).", min=0)
    ] = SLOW_TURN_MS,
) -> None:
    """ROI for a range and per day: calls, answer/completion/escalation/consent rates, AHT, cost, saving."""
    if as_json and as_csv:
        raise CliError("--json or --csv, not both")
    now = time.time()
    start, end = time_range(since, until, now)  # a bad range is refused before any AWS access
    target = resolve(table=table, dynamodb_endpoint=dynamodb_endpoint, stack=stack, region=region)
    loaded = load_report(
        target.dynamodb(),
        target.table,
        since=start,
        until=end,
        human_cost_per_minute=human_cost_per_minute,
        now=now,
        slow_turn_ms=slow_turn_ms,
    )
    origin = f"stack {target.stack}" if target.stack else f"table {target.table}"
    if html_file is not None:
        html_file.write_text(render_html(loaded, generated_at=now, origin=origin), encoding="utf-8")
    if as_json:
        emit_json({"since": start, "until": end, "human_cost_per_minute": human_cost_per_minute,
                   "rows": report_rows(loaded), "slow_turn_ms": loaded.slow_turn_ms,
                   "slow_calls": [asdict(call) for call in loaded.slow_calls],
                   "platforms": {p.label: p.calls for p in loaded.platforms}})  # fmt: skip
    elif as_csv:
        rows = report_rows(loaded)
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        slow = [render_slow_calls(loaded)] if loaded.slow_calls else []
        html_line = [f"HTML report: {html_file}"] if html_file else []
        fitted = render_table(loaded, width=target_width(), wide=wide)
        show(fitted, *slow, *twilio_coverage_note(loaded), *html_line)
