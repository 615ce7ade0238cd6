"""Tables fit the terminal: at 80 and 120 columns the least important columns are left out (named in the
caption), nothing is cut with an ellipsis, identifiers and money stay whole; --wide and pipes keep all."""

from __future__ import annotations

import pytest
from rich.console import Console

from voicetrail.domain.calls.state import CallSummary
from voicetrail_cli.ops.calls import LIST_COLUMNS
from voicetrail_cli.ops.report.render import render_table
from voicetrail_cli.ops.report.roi import compute
from voicetrail_cli.output import Column, fit_columns, fitted_table

pytestmark = pytest.mark.unit
CALL = "07f68bd0-179e-4b37-b012-89d1ed146325"
SID = "CA8b531be0b6854386b520e27a2a0b070a"
ROW = [
    CALL,
    "2026-12-06 00:18",
    "completed",
    "189 s",
    "$0.139",
    "escalated, transferred",
    "granted",
    "vapi",
    SID,
]
DAY0 = 1_764_028_800.0


def rendered(table: object, width: int) -> list[str]:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(table)
    return console.export_text().splitlines()


@pytest.mark.parametrize(
    ("width", "kept"),
    [
        (80, ["call", "started (UTC)", "status", "cost"]),
        (120, ["call", "started (UTC)", "status", "duration", "cost", "outcomes"]),
        (200, [c.name for c in LIST_COLUMNS]),
    ],
)
def test_calls_list_at_80_and_120_columns(width: int, kept: list[str]) -> None:
    indexes, dropped = fit_columns(LIST_COLUMNS, [ROW], width)
    assert [LIST_COLUMNS[n].name for n in indexes] == kept
    assert set(dropped) == {c.name for c in LIST_COLUMNS} - set(kept)
    lines = rendered(fitted_table("calls", LIST_COLUMNS, [ROW], width=width), width)
    assert all(len(line) <= width for line in lines)
    text = "\n".join(lines)
    assert "…" not in text and CALL in text and "2026-12-06 00:18" in text
    assert ("left out to fit" in text) == bool(dropped)


def test_wide_and_piped_keep_every_column() -> None:
    for table in (
        fitted_table("calls", LIST_COLUMNS, [ROW], width=80, wide=True),
        fitted_table("calls", LIST_COLUMNS, [ROW], width=None),
    ):
        text = "\n".join(rendered(table, 250))
        assert SID in text and "granted" in text and "left out" not in text


def test_priority_one_columns_stay_even_when_nothing_fits() -> None:
    columns = [Column("a", 1), Column("b", 2), Column("c", 1)]
    kept, dropped = fit_columns(columns, [["x" * 50, "y", "z" * 50]], 40)
    assert kept == [0, 2] and dropped == ["b"]


def test_a_wrapping_column_is_counted_narrow() -> None:
    columns = [Column("id", 1), Column("notes", 2, wrap=True)]
    kept, _ = fit_columns(columns, [["x" * 30, "word " * 40]], 70)
    assert kept == [0, 1]


def summaries() -> list[CallSummary]:
    return [
        CallSummary(
            call_key=f"twilio:CA{n:032x}",
            first_ts_ms=int((DAY0 + n * 3600) * 1000),
            expires_at=0,
            status="completed",
            final_status="completed",
            answered=True,
            duration_s=1234,
            cost_usd=1234.5678,
        )
        for n in range(30)
    ]


@pytest.mark.parametrize("width", [80, 120])
def test_the_report_fits_without_cutting_money_or_dates(width: int) -> None:
    report = compute(summaries(), since=DAY0, until=DAY0 + 2 * 86_400, human_cost_per_minute=0.6)
    text = "\n".join(rendered(render_table(report, width=width), width))
    assert "…" not in text and "2025-11-25" in text and "$37,037.03" in text  # the total AI cost, whole
    assert all(len(line) <= width for line in text.splitlines())
    wide = "\n".join(rendered(render_table(report, width=width, wide=True), 300))
    assert "interrupts/call" in wide and "left out" not in wide
