"""The one --since/--until parser: every form, every command, inverted ranges refused, garbage refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from voicetrail_cli.failures import CliError
from voicetrail_cli.main import app
from voicetrail_cli.timerange import MAX_TEXT, parse_time, time_range

pytestmark = pytest.mark.unit
NOW = 1_764_028_800.0 + 12 * 3600  # 2025-11-25T12:00:00Z
DAY0 = 1_764_028_800.0  # 2025-11-25T00:00:00Z


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - 7 * 86_400),
        ("24h", NOW - 86_400),
        ("2w", NOW - 14 * 86_400),
        ("90m", NOW - 5400),
        (" 7D ", NOW - 7 * 86_400),
        ("2025-11-25", DAY0),
        ("2025-11-25T09:30", DAY0 + 9.5 * 3600),
        ("2025-11-25T09:30Z", DAY0 + 9.5 * 3600),
        ("2025-11-25 09:30:15", DAY0 + 9.5 * 3600 + 15),
        ("2025-11-25T09:30+02:00", DAY0 + 7.5 * 3600),
        ("1764028800", DAY0),
        ("1764028800.5", DAY0 + 0.5),
    ],
)
def test_every_form(text: str, expected: float) -> None:
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize(
    "text",
    ["", "tuesday", "last tuesday", "7", "7y", "-7d", "2025-13-01", "2025-02-30", "2025-11-25T25:00", "1e9",
     "12345678", "9999999d", "x" * (MAX_TEXT + 1), "2025-11-25T09:30 UTC"],
)  # fmt: skip
def test_what_is_not_a_time_is_refused_naming_the_option(text: str) -> None:
    with pytest.raises(CliError, match=r"--until .* is not a time"):
        parse_time(text, NOW, option="--until")


@given(st.text(max_size=200))
def test_any_text_is_a_time_or_a_clear_refusal(text: str) -> None:
    try:
        value = parse_time(text, NOW)
    except CliError as exc:
        assert "is not a time" in str(exc) and len(str(exc)) < 200
    else:
        assert isinstance(value, float)


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)))
def test_a_printed_timestamp_parses_back(moment: datetime) -> None:
    moment = moment.replace(microsecond=0, tzinfo=UTC)
    assert parse_time(moment.strftime("%Y-%m-%dT%H:%M:%SZ"), NOW) == moment.timestamp()
    assert parse_time(moment.isoformat(), NOW) == moment.timestamp()


@given(st.integers(min_value=0, max_value=999_999), st.sampled_from("mhdw"))
def test_relative_times_are_before_now(amount: int, unit: str) -> None:
    seconds = {"m": 60, "h": 3600, "d": 86_400, "w": 604_800}[unit]
    assert parse_time(f"{amount}{unit}", NOW) == NOW - amount * seconds


@pytest.mark.parametrize(
    ("since", "until"),
    [("1d", "3d"), ("2025-11-25", "2025-11-24"), ("1h", "1h"), ("2025-11-25", "2025-11-25")],
)
def test_a_range_that_does_not_go_forward_is_refused(since: str, until: str) -> None:
    with pytest.raises(CliError, match="is not before --until"):
        time_range(since, until, NOW)


def test_a_range_ends_now_by_default() -> None:
    assert time_range("1d", None, NOW) == (NOW - 86_400, NOW)
    assert time_range("2025-11-24", "2025-11-25T06:00", NOW) == (DAY0 - 86_400, DAY0 + 6 * 3600)


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--since", "1d", "--until", "3d", "--table", "t"],
        ["calls", "list", "--since", "1d", "--until", "3d", "--table", "t"],
    ],
)
def test_commands_refuse_an_inverted_range_before_any_aws_access(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "is not before --until" in result.stderr, result.output


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--since", "soon", "--table", "t"],
        ["calls", "list", "--since", "soon", "--table", "t"],
        ["audit", "verify", "--since", "soon", "--table", "t", "--dynamodb-endpoint", "http://127.0.0.1:9"],
        ["audit", "export", "--since", "soon", "--table", "t", "--dynamodb-endpoint", "http://127.0.0.1:9"],
    ],
)
def test_every_command_speaks_the_same_forms(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "'soon' is not a time: use e.g. 7d, 24h" in result.stderr, result.output


def test_dates_and_relative_times_give_the_same_day() -> None:
    day = datetime.fromtimestamp(NOW, UTC) - timedelta(days=1)
    assert parse_time(day.strftime("%Y-%m-%d"), NOW) == DAY0 - 86_400
