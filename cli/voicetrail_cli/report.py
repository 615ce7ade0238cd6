"""`voicetrail report`: ROI for a time range and per day, from the call ledger (one summary per call).

Reads the day index (`CALLS#<day>`) for the range and batch-gets the call summaries: no Scan.
Definitions (also in docs/operations/dashboards.md):
  calls             calls whose first event falls in the range (Twilio and Vapi views joined)
  answer rate       answered / calls (Twilio in-progress or completed; web calls: the assistant talked)
  completion rate   completed / calls (Twilio final status `completed`; web calls: answered and ended)
  escalation rate   escalated / answered (transfer to a human, or Vapi `assistant-forwarded-call`)
  consent rate      granted / calls with a consent decision (granted + denied + unclear)
  AHT               mean handle time of answered calls (Twilio CallDuration, else Vapi durationSeconds)
  AI cost           sum of Vapi end-of-call-report `cost`; per call = total / calls with a cost
  saving            human cost per minute x minutes of answered, non-escalated calls - AI cost
  turn p95          95th percentile of every turn latency of the period's calls (Vapi performanceMetrics)
  slow calls        calls whose own turn-latency p95 is above --slow-turn-ms (default 1500 ms)
  interrupts/call   caller barge-ins + assistant talk-overs, averaged over calls that report them
  Twilio statuses   of the Twilio-carried calls Vapi reported ended, those with a Twilio status callback:
                    below 100% the number's status callback is missing (or was reset), and the rates fall
                    back to Vapi's view for those calls
"""

from __future__ import annotations

import calendar
import csv
import html
import math
import platform
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from voicetrail.domain.calls.state import CallSummary, utc_day
from voicetrail.domain.latency import SLOW_TURN_MS, LatencyAggregate
from voicetrail.domain.retention.classes import DAY, RetentionPolicy
from voicetrail.storage.ledger import DynamoCallLedger
from voicetrail_cli.failures import CliError
from voicetrail_cli.output import emit_json, show
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

_SINCE = re.compile(r"^(\d+)([hdw])$")
_UNITS = {"h": 3600, "d": DAY, "w": 7 * DAY}


def parse_since(text: str, now: float) -> float:
    """`7d`, `24h`, `2w` (relative) or `YYYY-MM-DD` (UTC midnight) -> epoch seconds."""
    value = text.strip().lower()
    match = _SINCE.match(value)
    if match:
        return now - int(match.group(1)) * _UNITS[match.group(2)]
    try:
        return float(calendar.timegm(time.strptime(value, "%Y-%m-%d")))
    except ValueError:
        raise CliError(f"{text!r} is not a time: use e.g. 7d, 24h, 2w or 2026-11-01") from None


def days_between(since: float, until: float) -> list[str]:
    days: list[str] = []
    t = int(since) - int(since) % DAY
    while t <= until:
        days.append(utc_day(t * 1000))
        t += DAY
    return days


@dataclass
class RoiRow:
    label: str
    calls: int = 0
    answered: int = 0
    completed: int = 0
    escalated: int = 0
    consent_decided: int = 0
    consent_granted: int = 0
    handle_s: float = 0.0
    handled_calls: int = 0
    ai_cost: float = 0.0
    costed_calls: int = 0
    ai_only_minutes: float = 0.0
    human_cost_per_minute: float = 0.0
    latency: LatencyAggregate = field(default_factory=LatencyAggregate)
    twilio_ended: int = 0  # calls carried by Twilio (Vapi's phoneCallProviderId) that Vapi reported ended
    twilio_status_seen: int = 0  # of those, the ones a Twilio status callback reached

    def add(self, call: CallSummary) -> None:
        self.calls += 1
        if call.twilio_call_sid and call.vapi_ended:
            self.twilio_ended += 1
            self.twilio_status_seen += call.status is not None
        self.latency.add(call.latency)
        answered = call.was_answered
        if answered:
            self.answered += 1
            if call.escalated:
                self.escalated += 1
            if call.handle_time_s is not None:
                self.handle_s += call.handle_time_s
                self.handled_calls += 1
                if not call.escalated:
                    self.ai_only_minutes += call.handle_time_s / 60
        # Without Twilio status callbacks, Vapi's end of an answered call is its completion.
        if call.final_status == "completed" or (call.status is None and answered and call.vapi_ended):
            self.completed += 1
        if call.consent:
            self.consent_decided += 1
            self.consent_granted += call.consent == "granted"
        if call.cost_usd is not None:
            self.ai_cost += call.cost_usd
            self.costed_calls += 1

    @staticmethod
    def _ratio(num: float, den: float) -> float | None:
        return num / den if den else None

    @property
    def answer_rate(self) -> float | None:
        return self._ratio(self.answered, self.calls)

    @property
    def completion_rate(self) -> float | None:
        return self._ratio(self.completed, self.calls)

    @property
    def escalation_rate(self) -> float | None:
        return self._ratio(self.escalated, self.answered)

    @property
    def consent_rate(self) -> float | None:
        return self._ratio(self.consent_granted, self.consent_decided)

    @property
    def average_handle_time_s(self) -> float | None:
        return self._ratio(self.handle_s, self.handled_calls)

    @property
    def twilio_status_coverage(self) -> float | None:
        return self._ratio(self.twilio_status_seen, self.twilio_ended)

    @property
    def cost_per_call(self) -> float | None:
        return self._ratio(self.ai_cost, self.costed_calls)

    @property
    def human_cost(self) -> float:
        return self.ai_only_minutes * self.human_cost_per_minute

    @property
    def saving(self) -> float:
        return self.human_cost - self.ai_cost


@dataclass(frozen=True)
class SlowCall:
    """A call whose own turn-latency p95 is above the report's slow-turn line."""

    call_key: str
    first_ts_ms: int
    turn_p95_ms: float
    turn_max_ms: float
    slowest_turn: int  # 1-based
    turns: int


@dataclass
class RoiReport:
    since: float
    until: float
    human_cost_per_minute: float
    total: RoiRow
    days: list[RoiRow] = field(default_factory=list)
    slow_turn_ms: float = SLOW_TURN_MS
    slow_calls: list[SlowCall] = field(default_factory=list)


def dedupe(summaries: Iterable[CallSummary]) -> list[CallSummary]:
    """A Vapi-keyed summary whose call also has a Twilio-keyed summary is the same call: keep one."""
    items = list(summaries)
    joined = {s.vapi_call_id for s in items if s.twilio_call_sid and s.vapi_call_id}
    return [s for s in items if s.twilio_call_sid or s.vapi_call_id not in joined]


def compute(
    summaries: Iterable[CallSummary],
    *,
    since: float,
    until: float,
    human_cost_per_minute: float,
    slow_turn_ms: float = SLOW_TURN_MS,
) -> RoiReport:
    def row(label: str) -> RoiRow:
        return RoiRow(
            label,
            human_cost_per_minute=human_cost_per_minute,
            latency=LatencyAggregate(slow_turn_ms=slow_turn_ms),
        )

    total = row("total")
    per_day: dict[str, RoiRow] = {d: row(d) for d in days_between(since, until)}
    slow: list[SlowCall] = []
    for call in dedupe(summaries):
        if not since * 1000 <= call.first_ts_ms < until * 1000:
            continue
        total.add(call)
        day = utc_day(call.first_ts_ms)
        per_day.setdefault(day, row(day)).add(call)
        if call.latency is not None and call.latency.is_slow(slow_turn_ms):
            latencies = call.latency.turn_latencies_ms
            slowest = max(range(len(latencies)), key=latencies.__getitem__)
            slow.append(
                SlowCall(
                    call_key=call.call_key,
                    first_ts_ms=call.first_ts_ms,
                    turn_p95_ms=call.latency.turn_p95_ms or 0.0,
                    turn_max_ms=latencies[slowest],
                    slowest_turn=slowest + 1,
                    turns=len(latencies),
                )
            )
    return RoiReport(
        since=since,
        until=until,
        human_cost_per_minute=human_cost_per_minute,
        total=total,
        days=[per_day[d] for d in sorted(per_day)],
        slow_turn_ms=slow_turn_ms,
        slow_calls=sorted(slow, key=lambda c: -c.turn_p95_ms),
    )


def load_report(
    client: Any,
    table: str,
    *,
    since: float,
    until: float,
    human_cost_per_minute: float,
    now: float,
    slow_turn_ms: float = SLOW_TURN_MS,
) -> RoiReport:
    ledger = DynamoCallLedger(client, table, RetentionPolicy())
    summaries = ledger.summaries_for_days(days_between(since, until), now=now)
    return compute(
        summaries,
        since=since,
        until=until,
        human_cost_per_minute=human_cost_per_minute,
        slow_turn_ms=slow_turn_ms,
    )


# ---- text ----------------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _secs(value: float | None) -> str:
    if value is None:
        return "-"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes}:{seconds:02d}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def _per(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _usd(value: float | None) -> str:
    if value is None:
        return "-"
    return f"${value:,.2f}" if abs(value) >= 1 or value == 0 else f"${value:.4f}"


COLUMNS = (
    "period",
    "calls",
    "answer",
    "completion",
    "escalation",
    "consent",
    "AHT",
    "AI cost",
    "AI cost/call",
    "human cost",
    "saving",
    "turn p95",
    "slow calls",
    "interrupts/call",
)


def row_cells(row: RoiRow) -> list[str]:
    return [
        row.label,
        str(row.calls),
        _pct(row.answer_rate),
        _pct(row.completion_rate),
        _pct(row.escalation_rate),
        _pct(row.consent_rate),
        _secs(row.average_handle_time_s),
        _usd(row.ai_cost),
        _usd(row.cost_per_call),
        _usd(row.human_cost),
        _usd(row.saving),
        _ms(row.latency.turn_p95_ms),
        str(row.latency.slow_calls) if row.latency.calls else "-",
        _per(row.latency.interruptions_per_call),
    ]


def render_table(report: RoiReport) -> Table:
    since = time.strftime("%Y-%m-%d %H:%M", time.gmtime(report.since))
    until = time.strftime("%Y-%m-%d %H:%M", time.gmtime(report.until))
    table = Table(
        title=f"voicetrail ROI {since} - {until} UTC (human agent ${report.human_cost_per_minute:.2f}/min)",
        show_lines=False,
    )
    for n, column in enumerate(COLUMNS):
        table.add_column(column, justify="left" if n == 0 else "right")
    for day in report.days:
        table.add_row(*row_cells(day))
    table.add_section()
    table.add_row(*row_cells(report.total), style="bold")
    return table


def twilio_coverage_note(report: RoiReport) -> list[str]:
    """A line when Twilio-carried calls ended without a Twilio status callback, else nothing."""
    total = report.total
    missing = total.twilio_ended - total.twilio_status_seen
    if not missing:
        return []
    if not total.twilio_status_seen:
        # Expected for Vapi's own numbers (nothing to register); for an imported number, not registered.
        return [
            f"Twilio status callbacks: none for {total.twilio_ended} ended Twilio calls. Expected for Vapi "
            "numbers; for a Twilio number of yours, register its status callback (docs: Deploy > "
            "Registering the webhooks). Rates use Vapi's view."
        ]
    return [
        f"Twilio status callbacks: {total.twilio_status_seen} of {total.twilio_ended} ended Twilio calls "
        f"({_pct(total.twilio_status_coverage)}). {missing} had none: check those numbers' status callback "
        "(docs: Deploy > Registering the webhooks); their rates use Vapi's view."
    ]


SLOW_COLUMNS = ("call", "started (UTC)", "turn p95", "slowest turn", "turns")


def slow_call_cells(call: SlowCall) -> list[str]:
    return [
        call.call_key,
        time.strftime("%Y-%m-%d %H:%M", time.gmtime(call.first_ts_ms / 1000)),
        _ms(call.turn_p95_ms),
        f"#{call.slowest_turn} ({_ms(call.turn_max_ms)})",
        str(call.turns),
    ]


def render_slow_calls(report: RoiReport) -> Table:
    table = Table(
        title=f"Slow calls: turn p95 above {report.slow_turn_ms:,.0f} ms (voicetrail calls show CALL)"
    )
    for n, column in enumerate(SLOW_COLUMNS):
        table.add_column(column, justify="left" if n < 2 else "right")
    for call in report.slow_calls:
        table.add_row(*slow_call_cells(call))
    return table


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
    show(render_table(report), *slow, *twilio_coverage_note(report), out=console)
    if html_path is not None:
        html_path.write_text(render_html(report, generated_at=now, origin=f"table {table}"), encoding="utf-8")
        console.print(f"HTML report: [bold]{html_path}[/]")
    return report


# ---- HTML with inline SVG charts -------------------------------------------------------------------

PALETTE = {
    "calls": "#2563eb",
    "answered": "#16a34a",
    "answer": "#16a34a",
    "completion": "#2563eb",
    "escalation": "#dc2626",
    "consent": "#9333ea",
    "cost": "#ea580c",
    "turn p95": "#0891b2",
}
W, H, PAD_L, PAD_R, PAD_T, PAD_B = 640, 260, 52, 16, 20, 44


def _x_positions(n: int) -> list[float]:
    inner = W - PAD_L - PAD_R
    step = inner / max(n, 1)
    return [PAD_L + step * (i + 0.5) for i in range(n)]


def _y(value: float, top: float) -> float:
    inner = H - PAD_T - PAD_B
    return PAD_T + inner * (1 - (value / top if top else 0))


TICKS = 4


def _axes(labels: Sequence[str], top: float, fmt: str) -> list[str]:
    parts = []
    for k in range(TICKS + 1):
        v = top * k / TICKS
        y = _y(v, top)
        parts.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(
            f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" class="ylab">{html.escape(fmt.format(v))}</text>'
        )
    xs = _x_positions(len(labels))
    every = max(1, len(labels) // 10)
    for i, (x, label) in enumerate(zip(xs, labels, strict=True)):
        if i % every == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{H - PAD_B + 18}" class="xlab">{html.escape(label[5:])}</text>'
            )
    return parts


def _svg(chart: str, title: str, body: list[str], legend: Sequence[tuple[str, str]]) -> str:
    items = "".join(
        f'<span class="key"><i style="background:{color}"></i>{html.escape(name)}</span>'
        for name, color in legend
    )
    return (
        f"<figure><figcaption>{html.escape(title)}</figcaption>"
        f'<svg data-chart="{chart}" viewBox="0 0 {W} {H}" preserveAspectRatio="xMidYMid meet" role="img" '
        f'aria-label="{html.escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{html.escape(title)}</title>'
        + "".join(body)
        + f'</svg><div class="legend">{items}</div></figure>'
    )


def bar_chart(
    chart: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    fmt: str,
    *,
    counts: bool = False,
) -> str:
    """`counts`: the axis has whole-number ticks only (a count of calls is never 2.5)."""
    top = max([max(values, default=0) for _, values in series] + [0])
    top = _nice_count(top) if counts else _nice(top)
    body = _axes(labels, top, fmt)
    xs = _x_positions(len(labels))
    slot = (W - PAD_L - PAD_R) / max(len(labels), 1)
    width = max(2.0, slot * 0.8 / max(len(series), 1))
    for s, (name, values) in enumerate(series):
        color = PALETTE.get(name, "#64748b")
        for x, v in zip(xs, values, strict=True):
            y = _y(v, top)
            left = x - slot * 0.4 + s * width
            body.append(
                f'<rect class="bar" x="{left:.1f}" y="{y:.1f}" width="{width:.1f}" '
                f'height="{max(0.0, H - PAD_B - y):.1f}" fill="{color}"><title>{html.escape(name)} '
                f"{html.escape(fmt.format(v))}</title></rect>"
            )
    return _svg(chart, title, body, [(n, PALETTE.get(n, "#64748b")) for n, _ in series])


def line_chart(
    chart: str, title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]]
) -> str:
    top = 1.0
    body = _axes(labels, top, "{:.0%}")
    xs = _x_positions(len(labels))
    for name, values in series:
        color = PALETTE.get(name, "#64748b")
        points = [(x, _y(v, top)) for x, v in zip(xs, values, strict=True) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(
                f'<polyline class="line" points="{path}" fill="none" stroke="{color}" stroke-width="3"/>'
            )
        for x, y in points:
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{color}"/>')
    return _svg(chart, title, body, [(f"{n} rate", PALETTE.get(n, "#64748b")) for n, _ in series])


def _nice_count(value: float) -> float:
    """A top for a count axis whose TICKS ticks are all whole numbers: TICKS x (1, 2 or 5 x 10^k)."""
    magnitude = 1
    while True:
        for base in (1, 2, 5):
            if base * magnitude * TICKS >= value:
                return float(base * magnitude * TICKS)
        magnitude *= 10


def _nice(value: float) -> float:
    """The smallest 1/2/2.5/5 x 10^k at or above `value` (the chart's top)."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    return next(step * magnitude for step in (1, 2, 2.5, 5, 10) if step * magnitude >= value)


CSS = (
    "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;"
    "color:#0f172a;background:#fff}"
    "h1{font-size:22px;margin:0 0 4px}"
    ".sub{color:#475569;margin:0 0 18px}"
    ".cards{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:20px}"
    ".card{border:1px solid #e2e8f0;border-radius:10px;padding:10px 14px;min-width:120px;"
    "background:#f8fafc}"
    ".card b{display:block;font-size:22px}"
    ".card span{color:#475569;font-size:12px}"
    ".charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,420px),1fr));gap:18px}"
    "figure{margin:0;border:1px solid #e2e8f0;border-radius:10px;padding:10px;min-width:0}"
    "figure svg{display:block;width:100%;height:auto}"
    ".tablewrap{overflow-x:auto}"
    "@media (max-width:600px){body{margin:12px}.card{min-width:0;flex:1 1 40%}}"
    "figcaption{font-weight:600;margin-bottom:6px}"
    ".grid{stroke:#e2e8f0}"
    ".ylab{font-size:11px;text-anchor:end;fill:#475569}"
    ".xlab{font-size:11px;text-anchor:middle;fill:#475569}"
    ".legend{font-size:12px;color:#334155}"
    ".key{margin-right:12px}"
    ".key i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}"
    "table{border-collapse:collapse;margin-top:20px;font-size:13px}"
    "th,td{padding:4px 10px;border-bottom:1px solid #e2e8f0;text-align:right}"
    "th:first-child,td:first-child{text-align:left}"
    "tr.total td{font-weight:700;border-top:2px solid #0f172a}"
    ".note{color:#64748b;font-size:12px;margin-top:14px;max-width:900px}"
)


def render_html(report: RoiReport, *, generated_at: float | None = None, origin: str | None = None) -> str:
    """A self-contained page: cards, responsive charts (one column on a phone), the table with totals,
    and when and from where it was generated."""
    days = report.days
    labels = [d.label for d in days]
    t = report.total
    cards = [
        ("calls", str(t.calls)),
        ("answer rate", _pct(t.answer_rate)),
        ("completion rate", _pct(t.completion_rate)),
        ("escalation rate", _pct(t.escalation_rate)),
        ("consent rate", _pct(t.consent_rate)),
        ("avg handle time", _secs(t.average_handle_time_s)),
        ("AI cost / call", _usd(t.cost_per_call)),
        ("estimated saving", _usd(t.saving)),
        ("turn latency p95", _ms(t.latency.turn_p95_ms)),
        ("slow calls", str(t.latency.slow_calls)),
        ("interruptions / call", _per(t.latency.interruptions_per_call)),
    ]
    charts = [
        bar_chart(
            "calls-per-day",
            f"Calls per day (total {t.calls}, answered {t.answered})",
            labels,
            [("calls", [d.calls for d in days]), ("answered", [d.answered for d in days])],
            "{:.0f}",
            counts=True,
        ),
        line_chart(
            "rates",
            "Rates over time",
            labels,
            [
                ("answer", [d.answer_rate for d in days]),
                ("completion", [d.completion_rate for d in days]),
                ("escalation", [d.escalation_rate for d in days]),
                ("consent", [d.consent_rate for d in days]),
            ],
        ),
        bar_chart(
            "cost-per-call",
            f"AI cost per call (USD; total {_usd(t.ai_cost)}, {_usd(t.cost_per_call)} per call)",
            labels,
            [("cost", [d.cost_per_call or 0.0 for d in days])],
            "${:.2f}",
        ),
        bar_chart(
            "turn-latency-p95",
            "Turn latency p95 per day (ms)",
            labels,
            [("turn p95", [d.latency.turn_p95_ms or 0.0 for d in days])],
            "{:,.0f}",
        ),
    ]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row_cells(d)) + "</tr>" for d in days
    )
    rows += '<tr class="total">' + "".join(f"<td>{html.escape(c)}</td>" for c in row_cells(t)) + "</tr>"
    since = time.strftime("%Y-%m-%d %H:%M", time.gmtime(report.since))
    until = time.strftime("%Y-%m-%d %H:%M", time.gmtime(report.until))
    generated = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(generated_at if generated_at else time.time()))
    stamp = f"generated {generated} UTC by voicetrail report from {origin or 'a table'} on {platform.node()}"
    slow_rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in slow_call_cells(c)) + "</tr>"
        for c in report.slow_calls
    )
    slow_html = (
        f'<table class="slow"><caption>Slow calls: turn p95 above {report.slow_turn_ms:,.0f} ms</caption>'
        "<thead><tr>"
        + "".join(f"<th>{html.escape(c)}</th>" for c in SLOW_COLUMNS)
        + f"</tr></thead><tbody>{slow_rows}</tbody></table>"
        if report.slow_calls
        else ""
    )
    card_html = "".join(
        f'<div class="card"><b>{html.escape(v)}</b><span>{html.escape(k)}</span></div>' for k, v in cards
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>voicetrail ROI {since} - {until}</title><style>{CSS}</style></head><body>"
        f'<h1>voicetrail ROI</h1><p class="sub">{since} - {until} UTC &middot; human agent '
        f"${report.human_cost_per_minute:.2f}/min</p>"
        f'<div class="cards">{card_html}</div><div class="charts">{"".join(charts)}</div>'
        f'<div class="tablewrap"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'
        f'<div class="tablewrap">{slow_html}</div>'
        '<p class="note">Answer and completion rates are over all calls; escalation rate over '
        "answered calls; consent rate over calls with a consent decision. Saving = human cost per "
        "minute &times; minutes of answered calls the assistant handled without escalation "
        "&minus; AI cost (Vapi end-of-call <code>cost</code>). Turn latency p95 is over every turn of the "
        "period's calls (Vapi <code>performanceMetrics</code>); interruptions are caller barge-ins plus "
        "assistant talk-overs.</p>"
        f'<footer class="note">{html.escape(stamp)}</footer></body></html>'
    )


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
    target = resolve(table=table, dynamodb_endpoint=dynamodb_endpoint, stack=stack, region=region)
    now = time.time()
    start = parse_since(since, now)
    end = parse_since(until, now) if until else now
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
                   "slow_calls": [asdict(call) for call in loaded.slow_calls]})  # fmt: skip
    elif as_csv:
        rows = report_rows(loaded)
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        slow = [render_slow_calls(loaded)] if loaded.slow_calls else []
        html_line = [f"HTML report: {html_file}"] if html_file else []
        show(render_table(loaded), *slow, *twilio_coverage_note(loaded), *html_line)
