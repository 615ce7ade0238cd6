"""ROI math of `voicetrail report` and its HTML page (structure; rendering is tested in tests/e2e)."""

from __future__ import annotations

import re
import time
from dataclasses import replace

import pytest

from voicetrail.domain.calls.state import CallSummary
from voicetrail_cli.failures import CliError
from voicetrail_cli.ops.report.render import render_html, render_table
from voicetrail_cli.ops.report.roi import compute, days_between, dedupe
from voicetrail_cli.timerange import parse_time as parse_since

pytestmark = pytest.mark.unit
DAY0 = 1_764_028_800.0  # 2025-11-25T00:00:00Z


def call(n: int, day: int, **kw: object) -> CallSummary:
    base: dict[str, object] = {
        "call_key": f"twilio:CA{n:032x}",
        "first_ts_ms": int((DAY0 + day * 86_400 + 3600 + n) * 1000),
        "expires_at": int(DAY0) + 90 * 86_400,
        "twilio_call_sid": f"CA{n:032x}",
    }
    base.update(kw)
    return CallSummary(**base)  # type: ignore[arg-type]


def sample() -> list[CallSummary]:
    return [
        call(
            1,
            0,
            status="completed",
            final_status="completed",
            answered=True,
            duration_s=120,
            cost_usd=0.20,
            consent="granted",
        ),
        call(
            2,
            0,
            status="completed",
            final_status="completed",
            answered=True,
            duration_s=60,
            cost_usd=0.10,
            escalated=True,
            consent="denied",
        ),
        call(3, 0, status="no-answer", final_status="no-answer"),
        call(
            4,
            1,
            status="completed",
            final_status="completed",
            answered=True,
            duration_s=300,
            cost_usd=0.45,
            consent="granted",
        ),
        call(5, 1, status="busy", final_status="busy"),
        # a web call: no Twilio leg
        CallSummary(
            call_key="web-1",
            first_ts_ms=int((DAY0 + 86_400 + 7200) * 1000),
            expires_at=int(DAY0) + 86_400 * 90,
            vapi_call_id="web-1",
            vapi_duration_s=30.0,
            vapi_ended=True,
            cost_usd=0.05,
        ),
        # outside the range
        call(6, 5, status="completed", final_status="completed", answered=True, duration_s=10),
    ]


def test_totals_and_rates() -> None:
    report = compute(sample(), since=DAY0, until=DAY0 + 2 * 86_400, human_cost_per_minute=0.60)
    t = report.total
    assert (t.calls, t.answered, t.completed, t.escalated) == (6, 4, 4, 1)
    assert t.answer_rate == pytest.approx(4 / 6)
    assert t.completion_rate == pytest.approx(4 / 6)
    assert t.escalation_rate == pytest.approx(1 / 4)
    assert t.consent_rate == pytest.approx(2 / 3)
    assert t.average_handle_time_s == pytest.approx((120 + 60 + 300 + 30) / 4)
    assert t.ai_cost == pytest.approx(0.80)
    assert t.cost_per_call == pytest.approx(0.80 / 4)
    # saving: minutes of answered, non-escalated calls x human rate - AI cost
    assert t.human_cost == pytest.approx((120 + 300 + 30) / 60 * 0.60)
    assert t.saving == pytest.approx((120 + 300 + 30) / 60 * 0.60 - 0.80)
    assert [(d.label, d.calls) for d in report.days] == [
        ("2025-11-25", 3),
        ("2025-11-26", 3),
        ("2025-11-27", 0),
    ]


def test_empty_range_has_no_rates() -> None:
    report = compute([], since=DAY0, until=DAY0 + 3600, human_cost_per_minute=1)
    assert report.total.answer_rate is None and report.total.cost_per_call is None
    assert "-" in render_table(report).columns[2]._cells


def test_dedupe_prefers_the_twilio_keyed_summary() -> None:
    joined = call(1, 0, vapi_call_id="v-1")
    stray = CallSummary(
        call_key="v-1", first_ts_ms=joined.first_ts_ms, expires_at=joined.expires_at, vapi_call_id="v-1"
    )
    assert dedupe([joined, stray]) == [joined]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", 1000.0 - 7 * 86_400),
        ("24h", 1000.0 - 86_400),
        ("2w", 1000.0 - 14 * 86_400),
        ("2025-11-25", DAY0),
    ],
)
def test_parse_since(text: str, expected: float) -> None:
    assert parse_since(text, 1000.0) == expected


def test_parse_since_rejects_garbage() -> None:
    with pytest.raises(CliError, match="is not a time"):
        parse_since("last tuesday", 1000.0)


def test_days_between() -> None:
    assert days_between(DAY0 + 5, DAY0 + 86_400) == ["2025-11-25", "2025-11-26"]


def test_html_is_self_contained_with_three_charts() -> None:
    page = render_html(compute(sample(), since=DAY0, until=DAY0 + 2 * 86_400, human_cost_per_minute=0.6))
    for chart in ("calls-per-day", "rates", "cost-per-call"):
        assert f'data-chart="{chart}"' in page
    assert page.count("<rect") >= 6 and "<polyline" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # no CDN, no remote asset
    assert "<script" not in page
    assert "67%" in page  # answer rate card


def test_html_escapes_labels() -> None:
    report = compute(sample(), since=DAY0, until=DAY0 + 86_400, human_cost_per_minute=0.6)
    report.days[0].label = "<b>x</b>"
    assert "<b>x</b>" not in render_html(report)


@pytest.mark.parametrize(("top", "axis"), [(0, 4), (3, 4), (5, 8), (9, 20), (23, 40), (150, 200), (401, 800)])
def test_count_axes_have_whole_number_ticks(top: int, axis: float) -> None:
    from voicetrail_cli.ops.report.render import TICKS, _nice_count

    assert _nice_count(top) == axis and axis >= top and (axis / TICKS).is_integer()


def test_the_page_states_totals_and_when_and_where_it_was_generated() -> None:
    report = compute(sample(), since=DAY0, until=DAY0 + 2 * 86_400, human_cost_per_minute=0.6)
    page = render_html(report, generated_at=DAY0 + 3600, origin="stack voicetrail-prod")
    assert f"(total {report.total.calls}, answered {report.total.answered})" in page
    assert "from stack voicetrail-prod" in page and time.strftime("%Y-%m-%d", time.gmtime(DAY0)) in page
    ticks = re.findall(
        r'class="ylab">([^<]+)<', page.split('data-chart="calls-per-day"')[1].split("</svg>")[0]
    )
    assert ticks and all(t.isdigit() for t in ticks), ticks


def test_a_piped_table_keeps_its_columns() -> None:
    """Piped (`make demo | tail`), rich guesses 80 columns; the table is printed at its own width."""
    import io

    from rich.console import Console

    from voicetrail_cli.output import show

    buffer = io.StringIO()
    piped = Console(file=buffer, width=80)  # not a terminal, 80 columns
    report = compute(sample(), since=DAY0, until=DAY0 + 2 * 86_400, human_cost_per_minute=0.6)
    show(render_table(report), out=piped)
    text = buffer.getvalue()
    assert "…" not in text and "AI cost/call" in text and "completion" in text
    assert max(len(line) for line in text.splitlines()) > 80 and piped.width == 80


@pytest.mark.parametrize(
    ("statuses", "coverage", "note"),
    [
        (["completed", "busy"], 1.0, None),  # every ended Twilio call had its callback: no line
        (["completed", None], 0.5, "1 of 2 ended Twilio calls (50%). 1 had none"),  # a callback went missing
        ([None, None], 0.0, "none for 2 ended Twilio calls. Expected for Vapi numbers"),  # never registered
        ([], None, None),  # no Twilio calls (web calls only)
    ],
)
def test_twilio_status_coverage_says_when_callbacks_are_missing(
    statuses: list[str | None], coverage: float | None, note: str | None
) -> None:
    from voicetrail_cli.ops.report.command import report_rows
    from voicetrail_cli.ops.report.render import twilio_coverage_note

    calls = [call(n, 0, status=s, vapi_ended=True, answered=True) for n, s in enumerate(statuses)]
    calls.append(call(9, 0, status=None, vapi_ended=False))  # still in progress: not counted
    web = CallSummary(call_key="web-1", first_ts_ms=calls[-1].first_ts_ms, expires_at=calls[-1].expires_at)
    calls.append(replace(web, vapi_call_id="web-1", vapi_ended=True))  # a web call: no Twilio leg
    report = compute(calls, since=DAY0, until=DAY0 + 86_400, human_cost_per_minute=0.5)
    assert report.total.twilio_status_coverage == coverage
    assert report_rows(report)[-1]["twilio_status_coverage"] == coverage
    lines = twilio_coverage_note(report)
    if note is None:
        assert lines == []
    else:
        assert len(lines) == 1 and note in lines[0]


def test_calls_of_several_voice_platforms_get_a_row_each_under_the_total() -> None:
    from voicetrail.domain.calls.state import CallSummary
    from voicetrail_cli.ops.report.render import render_table
    from voicetrail_cli.ops.report.roi import compute

    start = 1_764_979_200
    calls = [
        CallSummary(
            call_key="v1", first_ts_ms=start * 1000 + 1, expires_at=0, vapi_call_id="v1", vapi_ended=True
        ),
        CallSummary(
            call_key="r1", first_ts_ms=start * 1000 + 2, expires_at=0, vapi_call_id="r1", platform="retell"
        ),
        CallSummary(
            call_key="e1",
            first_ts_ms=start * 1000 + 3,
            expires_at=0,
            vapi_call_id="e1",
            platform="elevenlabs",
        ),
        CallSummary(call_key="e2", first_ts_ms=start * 1000 + 4, expires_at=0, platform="elevenlabs"),
    ]
    report = compute(calls, since=start, until=start + 3600, human_cost_per_minute=0.5)
    assert {p.label: p.calls for p in report.platforms} == {"elevenlabs": 2, "retell": 1, "vapi": 1}
    assert report.total.calls == 4
    assert render_table(report).row_count == len(report.days) + 1 + 3
    single = compute(calls[:1], since=start, until=start + 3600, human_cost_per_minute=0.5)
    assert render_table(single).row_count == len(single.days) + 1  # one platform: no extra rows
