"""One parser for every `--since` / `--until` of the operator commands, and one rule for a range.

A time is one of:
  7d, 24h, 2w, 90m     relative: that long before now
  2026-11-01           a UTC date: its midnight
  2026-11-01T09:30     a timestamp (ISO 8601; `Z` or an offset such as +02:00; no zone: UTC)
  1764028800           epoch seconds (9 or more digits, so `7` alone is never taken for 1970)
A range is refused when its start is not before its end (`--since 1d --until 3d` is a typo, not an empty
report).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from voicetrail_cli.failures import CliError

FORMS = "7d, 24h, 2w, 2026-11-01, 2026-11-01T09:30Z or epoch seconds"
HELP_SINCE = f"Range start: {FORMS} (UTC)."
HELP_UNTIL = "Range end (same forms; default: now)."
MAX_TEXT = 64  # longer than any form: refused before any parsing
_RELATIVE = re.compile(r"^(\d{1,6})([mhdw])$")
_EPOCH = re.compile(r"^\d{9,12}(\.\d{1,6})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UNITS = {"m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def parse_time(text: str, now: float, *, option: str = "--since") -> float:
    """Epoch seconds of one of the forms above; a CliError naming the option otherwise."""
    value = text.strip().lower()
    if len(value) <= MAX_TEXT:
        relative = _RELATIVE.match(value)
        if relative:
            return now - int(relative.group(1)) * _UNITS[relative.group(2)]
        if _EPOCH.match(value):
            return float(value)
        parsed = _absolute(value)
        if parsed is not None:
            return parsed
    # Echo what was typed when it is short and printable; never a wall of control characters.
    shown = repr(text) if len(text) <= MAX_TEXT and text.isprintable() else "value"
    raise CliError(f"{option} {shown} is not a time: use e.g. {FORMS}")


def _absolute(value: str) -> float | None:
    if _DATE.match(value):
        try:
            return float(datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
        except ValueError:  # 2026-02-30
            return None
    if "t" not in value and " " not in value:
        return None
    try:
        moment = datetime.fromisoformat(value.upper().replace(" ", "T"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def time_range(since: str, until: str | None, now: float) -> tuple[float, float]:
    """(start, end) in epoch seconds; `until` None is now. Refuses a range that does not go forward."""
    start = parse_time(since, now, option="--since")
    end = parse_time(until, now, option="--until") if until else now
    if start >= end:
        raise CliError(
            f"--since ({iso(start)}) is not before --until ({iso(end)}): swap them, or give a later --until"
        )
    return start, end


def iso(epoch_s: float) -> str:
    """`2026-11-01T09:30Z`: how a range is shown back."""
    return time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(epoch_s))
