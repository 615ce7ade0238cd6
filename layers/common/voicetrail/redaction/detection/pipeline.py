"""The detection pipeline: every detector over one text, and the merge of overlapping findings.

Detectors see the detection view of the text (`view`: no invisible characters, ASCII digits, look-alikes
folded); findings are mapped back to the original. The text is tokenised once. Consecutive digit-bearing
tokens form *runs*; a run is classified by the nearest context cue before it, by what sits right next to
it, and finally by its shape. Emails, names, addresses and month-name dates have their own detectors.
Overlapping findings merge; the highest priority names the kind.
"""

from __future__ import annotations

import gc
import re
from bisect import bisect_right
from collections.abc import Sequence
from operator import itemgetter

from voicetrail.redaction.detection.addresses import detect_addresses, detect_zip_after_state
from voicetrail.redaction.detection.cues import Context
from voicetrail.redaction.detection.dates import detect_dates
from voicetrail.redaction.detection.emails import detect_email_prefixes, detect_emails
from voicetrail.redaction.detection.ibans import detect_ibans
from voicetrail.redaction.detection.locations import WEAK_LOCATION, detect_locations
from voicetrail.redaction.detection.names import detect_names, detect_names_learned, media_title
from voicetrail.redaction.detection.numbers import detect_phone_extensions, detect_runs
from voicetrail.redaction.detection.runs import build_runs
from voicetrail.redaction.detection.tokens import Span, Tokens, alt
from voicetrail.redaction.detection.view import build_view
from voicetrail.redaction.lexicon.numbers import QUICK_WORDS

_QUICK_RE = re.compile(r"[0-9@]|\b(?:" + alt(sorted(QUICK_WORDS)) + r")\b", re.IGNORECASE)


def detect(text: str, hard_breaks: Sequence[int] = ()) -> list[Span]:
    """All candidate findings in `text`, unmerged (the caller filters by policy, then merges), with offsets
    into `text`. `hard_breaks` are offsets no number may span (boundaries between turns of different
    speakers). The detectors run on the detection view (see `view`), and each finding is mapped back."""
    if not text:
        return []
    # Detection builds no reference cycles, only hundreds of thousands of small tuples on a long text, and
    # each of them counts towards the cycle collector's next run: its full runs then walk the token lists
    # again and again (a fifth of the time on 5 MB, growing faster than the text). Paused for the call,
    # restored after it; cycles made meanwhile elsewhere are found at the next collection.
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        view = build_view(text)
        if view.identity:
            return _detect(text, hard_breaks)
        breaks = [view.from_original(b) for b in hard_breaks]
        out: list[Span] = []
        for start, end, kind, priority in _detect(view.text, breaks):
            a, b = view.to_original(start, end)
            out.append((a, b, kind, priority))
        return out
    finally:
        if paused:
            gc.enable()


def _detect(text: str, hard_breaks: Sequence[int]) -> list[Span]:
    if not text:
        return []
    tk = Tokens(text)
    locations = detect_locations(text, tk)
    # a place the tagger took for a person ("Duluth, MN") is a place: location wins, unless the place rests
    # only on a capital after "from/in" ("request 40 from Omar"): location is off by default, so that
    # would leave the name in clear
    names = _not_inside(detect_names_learned(text, tk), [p for p in locations if p[3] > WEAK_LOCATION])
    if _QUICK_RE.search(text) is None:
        return names + locations
    ctx = Context(text, tk, hard_breaks)
    runs = build_runs(tk, hard_breaks)
    date_spans, dates = detect_dates(tk, ctx, runs)
    # "the first of April", "June 5th": a month inside a date is not a person
    spans: list[Span] = _not_inside(names, dates)
    spans += detect_emails(text)
    spans += detect_phone_extensions(text)
    spans += detect_email_prefixes(text)
    spans += date_spans
    spans += detect_runs(text, tk, ctx, runs, dates, hard_breaks)
    spans += detect_names(text, tk)
    spans = [sp for sp in spans if sp[2] != "name" or not media_title(tk, sp[0])]
    spans += detect_ibans(text, tk, runs)
    spans += detect_addresses(text, tk, runs)
    spans += detect_zip_after_state(tk, runs)
    spans += locations
    return spans


def _not_inside(spans: list[Span], outer: Sequence[tuple[int, int] | Span]) -> list[Span]:
    """The spans that no range of `outer` contains: a sort and a bisection, not a scan per span."""
    if not outer or not spans:
        return spans
    ranges = sorted((o[0], o[1]) for o in outer)
    starts = [r[0] for r in ranges]
    reach: list[int] = []  # the furthest end of any range starting at or before each range's start
    furthest = -1
    for _start, end in ranges:
        furthest = max(furthest, end)
        reach.append(furthest)
    kept: list[Span] = []
    for sp in spans:
        k = bisect_right(starts, sp[0]) - 1
        if k < 0 or reach[k] < sp[1]:
            kept.append(sp)
    return kept


def merge(spans: list[Span]) -> list[Span]:
    """Union overlapping spans; the kind of the highest-priority member wins."""
    if not spans:
        return []
    # by start, the longest first at one start: two stable sorts with C keys (end descending, then start)
    # give the order of one sort by (start, -end), equal spans in their original order, without a tuple
    # built per span
    spans.sort(key=itemgetter(1), reverse=True)
    spans.sort(key=itemgetter(0))
    out: list[Span] = [spans[0]]
    for s in spans[1:]:
        cur = out[-1]
        if s[0] < cur[1]:
            kind, prio = (s[2], s[3]) if s[3] > cur[3] else (cur[2], cur[3])
            out[-1] = (cur[0], max(cur[1], s[1]), kind, prio)
        else:
            out.append(s)
    return out
