"""The HTML report reads right when there is nothing to show, when values coincide and on a phone."""

from __future__ import annotations

import re

import pytest

from voicetrail.domain.calls.state import CallSummary
from voicetrail_cli.ops.report.render import render_html
from voicetrail_cli.ops.report.roi import compute

pytestmark = pytest.mark.unit
DAY0 = 1_764_028_800.0


def chart(page: str, name: str) -> str:
    return page.split(f'data-chart="{name}"')[1].split("</svg>")[0]


def y_labels(svg: str) -> list[str]:
    return re.findall(r'class="ylab">([^<]*)<', svg)


def full_days() -> list[CallSummary]:
    """Two days on which every call was answered and completed: the answer and completion rates are both
    100 % every day."""
    return [
        CallSummary(
            call_key=f"twilio:CA{n:032x}",
            first_ts_ms=int((DAY0 + (n % 2) * 86_400 + 60) * 1000),
            expires_at=0,
            status="completed",
            final_status="completed",
            answered=True,
            duration_s=60,
        )
        for n in range(6)
    ]


def test_an_empty_range_says_so_and_its_axes_are_sane() -> None:
    page = render_html(compute([], since=DAY0, until=DAY0 + 3 * 86_400, human_cost_per_minute=0.5))
    assert 'class="empty"' in page and "No calls in this range" in page
    latency = y_labels(chart(page, "turn-latency-p95"))
    assert latency == ["0", "200", "400", "600", "800"]  # not "0, 0, 0, 1, 1"
    for name in ("calls-per-day", "cost-per-call", "rates"):
        labels = y_labels(chart(page, name))
        assert len(set(labels)) == len(labels), (name, labels)


def test_a_page_with_calls_has_no_empty_note() -> None:
    page = render_html(compute(full_days(), since=DAY0, until=DAY0 + 2 * 86_400, human_cost_per_minute=0.5))
    assert 'class="empty"' not in page


def test_coinciding_rates_stay_visible() -> None:
    page = render_html(compute(full_days(), since=DAY0, until=DAY0 + 2 * 86_400, human_cost_per_minute=0.5))
    dots = re.findall(r'<circle class="dot" cx="([\d.]+)" cy="([\d.]+)" r="(\d+)"', chart(page, "rates"))
    at_100 = [d for d in dots if float(d[1]) == min(float(y) for _, y, _ in dots)]
    assert len(at_100) >= 4  # answer and completion, two days
    assert len({(cx, r) for cx, _, r in at_100}) == len(at_100)  # none drawn exactly over another
    assert ".dot{stroke:#fff" in page


def test_axis_labels_grow_on_a_phone() -> None:
    page = render_html(compute([], since=DAY0, until=DAY0 + 86_400, human_cost_per_minute=0.5))
    phone = page.split("@media (max-width:600px)")[1].split("}}")[0]
    size = int(re.search(r"\.ylab,\.xlab\{font-size:(\d+)px", phone).group(1))  # type: ignore[union-attr]
    # A 640-unit chart on a 360 px screen is drawn at ~0.5: labels of 20 units stay ~10 px.
    assert size * 330 / 640 >= 9
