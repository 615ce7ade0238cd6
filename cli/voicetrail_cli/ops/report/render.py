"""The ROI report rendered: terminal tables, and the self-contained HTML page with inline SVG charts."""

from __future__ import annotations

import html
import math
import platform
import time
from collections.abc import Sequence

from rich.table import Table

from voicetrail_cli.ops.report.roi import (
    RoiReport,
    RoiRow,
    SlowCall,
)
from voicetrail_cli.output import Column, fitted_table

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


# In the order shown; on a narrow terminal the highest priority numbers are left out first.
REPORT_COLUMNS = (
    Column("period", 1),
    Column("calls", 1, "right"),
    Column("answer", 2, "right"),
    Column("completion", 5, "right"),
    Column("escalation", 3, "right"),
    Column("consent", 6, "right"),
    Column("AHT", 4, "right"),
    Column("AI cost", 2, "right"),
    Column("AI cost/call", 7, "right"),
    Column("human cost", 8, "right"),
    Column("saving", 3, "right"),
    Column("turn p95", 5, "right"),
    Column("slow calls", 9, "right"),
    Column("interrupts/call", 10, "right"),
)
COLUMNS = tuple(column.name for column in REPORT_COLUMNS)


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


def render_table(report: RoiReport, *, width: int | None = None, wide: bool = False) -> Table:
    """Per day and the total; fitted to `width` columns (least important columns left out, named in the
    caption) unless `wide`. Money and dates are never cut."""
    since = time.strftime("%Y-%m-%d %H:%M", time.gmtime(report.since))
    until = time.strftime("%Y-%m-%d %H:%M", time.gmtime(report.until))
    return fitted_table(
        f"voicetrail ROI {since} - {until} UTC (human agent ${report.human_cost_per_minute:.2f}/min)",
        REPORT_COLUMNS,
        [row_cells(day) for day in report.days],
        width=width,
        wide=wide,
        total=row_cells(report.total),
        # Several voice platforms in the range: the same figures per platform, under the total.
        after_total=[row_cells(p) for p in report.platforms] if len(report.platforms) > 1 else (),
    )


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
DOT_RADIUS = 6  # the first series' dots; each next series' are 1 smaller
DOT_SPREAD = 5  # horizontal distance between series' dots of one day (SVG units)
LATENCY_FLOOR_MS = (
    500.0  # the latency axis reaches at least this: an empty one reads 0..800 ms, not "1, 1, 0"
)


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
    floor: float = 0.0,
) -> str:
    """`counts`: the axis has whole-number ticks only (a count of calls is never 2.5); `floor`: the axis
    reaches at least this far, so an empty or tiny series still gets distinct, sensible ticks."""
    top = max([max(values, default=0) for _, values in series] + [floor])
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
    for s, (name, values) in enumerate(series):
        color = PALETTE.get(name, "#64748b")
        # Rates often coincide (100 % answered and completed): each series' dots sit a little apart and
        # get smaller, with a white ring, so a dot on top never hides the one below.
        dx = (s - (len(series) - 1) / 2) * DOT_SPREAD
        radius = DOT_RADIUS - s
        points = [(x + dx, _y(v, top), v) for x, v in zip(xs, values, strict=True) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            body.append(
                f'<polyline class="line" points="{path}" fill="none" stroke="{color}" stroke-width="3"/>'
            )
        for x, y, v in points:
            body.append(
                f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{color}">'
                f"<title>{html.escape(name)} {v:.0%}</title></circle>"
            )
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
    "@media (max-width:600px){body{margin:12px}.card{min-width:0;flex:1 1 40%}"
    # A chart is drawn 640 units wide and shrinks with the screen: its labels grow to stay readable.
    ".ylab,.xlab{font-size:20px}.legend{font-size:14px}}"
    "figcaption{font-weight:600;margin-bottom:6px}"
    ".grid{stroke:#e2e8f0}"
    ".dot{stroke:#fff;stroke-width:1.5}"
    ".empty{border:1px solid #fde68a;background:#fffbeb;border-radius:10px;padding:10px 14px;"
    "margin:0 0 18px}"
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
            counts=True,
            floor=LATENCY_FLOOR_MS,
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
    empty = (
        '<p class="empty">No calls in this range: the cards, charts and table below are empty. Check the '
        "range (--since, --until) and the table, or run <code>voicetrail calls list</code>.</p>"
        if not t.calls
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
        f'{empty}<div class="cards">{card_html}</div><div class="charts">{"".join(charts)}</div>'
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
