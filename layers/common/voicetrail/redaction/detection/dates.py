"""Dates: typed numeric shapes (3/14/85, 2024-03-14, 04/27) and month-name dates ("March 3rd, 1985",
"the 3rd of March"), labelled by their cue (date of birth, expiry) or kept.
"""

from __future__ import annotations

import re

from voicetrail.redaction.detection.cues import Context
from voicetrail.redaction.detection.runs import Run
from voicetrail.redaction.detection.tokens import ORDINAL_RE, Span, Tokens
from voicetrail.redaction.lexicon.dates import MONTHS
from voicetrail.redaction.lexicon.numbers import ORD_UNIT_WORDS, ORD_WORDS

_DATE_OPENERS = frozenset(MONTHS) | frozenset(ORD_WORDS) | {"twenty", "thirty"}
_NUMERIC_DATE_SHAPE = re.compile(
    r"(?P<a>\d{1,2})\s*[/.-]\s*(?P<b>\d{1,2})\s*[/.-]\s*(?P<y>\d{2}|\d{4})|(?P<iso>\d{4}-\d{1,2}-\d{1,2})"
)
_MONTH_YEAR_SHAPE = re.compile(r"(?P<m>\d{1,2})\s*[/-]\s*(?P<y>\d{2}|\d{4})")


def is_date_shape(raw: str) -> tuple[bool, bool]:
    """(looks like a date, has a day) for typed dates like 3/14/85, 2024-03-14 or 04/27."""
    m = _NUMERIC_DATE_SHAPE.fullmatch(raw)
    if m:
        if m.group("iso"):
            return True, True
        a, b = int(m.group("a")), int(m.group("b"))
        if (1 <= a <= 12 and 1 <= b <= 31) or (1 <= b <= 12 and 1 <= a <= 31):
            return True, True
    m = _MONTH_YEAR_SHAPE.fullmatch(raw)
    if m and 1 <= int(m.group("m")) <= 12 and "/" in raw:
        return True, False
    return False, False


def classify_date(ctx: Context, start: int, end: int, has_day: bool) -> str | None:
    for cue_end, _cue_start, kind in ctx.before(start):
        if kind == "keep":
            if ctx.same_sentence(cue_end, start):
                return None
            continue
        if kind == "dob":
            return "dob"
        if kind == "expiry":
            return "expiry"
        if kind in ("card", "cvv") and not has_day:
            return "expiry"
    for _cue_end, _cue_start, kind in ctx.after(end):
        if kind == "dob":
            return "dob"
    return None


def _day_end(tk: Tokens, j: int) -> int | None:
    """End index of an ordinal day at token j ("14th", "fourteenth", "twenty-first"), else None."""
    if j >= tk.n:
        return None
    low = tk.lows[j]
    if tk.types[j] == "A" and ORDINAL_RE.fullmatch(low):
        return j + 1 if 1 <= int(low[:-2]) <= 31 else None
    if low in ("twenty", "thirty"):
        k = j + 1 + (j + 1 < tk.n and tk.lows[j + 1] == "-")
        if k < tk.n and tk.lows[k] in ORD_UNIT_WORDS:
            return k + 1
    return j + 1 if low in ORD_WORDS else None


def _year_run(run: Run | None) -> bool:
    if run is None or run.letters:
        return False
    v = run.value
    return len(v) == 2 or (len(v) == 4 and v[:2] in ("19", "20"))


def detect_dates(tk: Tokens, ctx: Context, runs: list[Run]) -> tuple[list[Span], list[tuple[int, int]]]:
    """Month-name dates: "March 3rd, 1985", "march fourteenth nineteen eighty five", "the 3rd of March",
    "april twenty twenty seven". Numeric ones (3/14/85) are runs with a date shape."""
    spans: list[Span] = []
    seen: list[tuple[int, int]] = []
    run_first = {r.first: r for r in runs}

    def year_after(k: int) -> int | None:
        if k < tk.n and tk.lows[k] == ",":
            k += 1
        if k < tk.n and tk.lows[k] == "of":
            k += 1
        run = run_first.get(k)
        return run.last + 1 if _year_run(run) and run is not None else None

    # only months and ordinal days can open a date: visit those tokens, not all of them
    for i in sorted(set(tk.positions(_DATE_OPENERS)) | {k for k in tk.numeric if tk.types[k] == "A"}):
        low = tk.lows[i]
        first = i
        end: int | None = None
        has_day = False
        if low in MONTHS and tk.types[i] == "W":
            j = i + 1
            if j < tk.n and tk.lows[j] == ".":
                j += 1
            if j < tk.n and tk.lows[j] == "the":
                j += 1
            day = _day_end(tk, j)
            run = run_first.get(j)
            if day is not None:
                has_day = True
                end = year_after(day) or day
            elif run is not None and not run.letters:
                v = run.value
                if len(v) <= 2 and 1 <= int(v) <= 31:
                    has_day = True
                    end = year_after(run.last + 1) or run.last + 1
                elif len(v) == 4 and v[:2] in ("19", "20"):
                    end = run.last + 1
                elif 3 <= len(v) <= 8:
                    has_day = True
                    end = run.last + 1
        elif (
            (day := _day_end(tk, i)) is not None
            and day + 1 < tk.n
            and tk.lows[day] == "of"
            and tk.lows[day + 1] in MONTHS
        ):
            has_day = True
            end = year_after(day + 2) or day + 2
            if i > 0 and tk.lows[i - 1] == "the":
                first = i - 1
        if end is None:
            continue
        start, stop = tk.starts[first], tk.ends[end - 1]
        seen.append((start, stop))
        kind = classify_date(ctx, start, stop, has_day)
        if kind is not None:
            spans.append((start, stop, kind, 65))
    return spans, seen
