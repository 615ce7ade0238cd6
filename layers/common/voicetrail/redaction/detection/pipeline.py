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
from voicetrail.redaction.detection.names import NameMemory, detect_names, media_title, mentions
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


# A long text is read in windows: cores of about _WINDOW characters cut at line ends, each read with up to
# _MARGIN characters of whole lines on either side, so that a value or a cue across a core's edge is seen
# whole (a cue labels a value at most 110 characters on). Each finding is taken from the window whose core
# it starts in, or runs into. The cost of a window is bounded, so
# time grows with the text and no faster, and a window's lists stay in the processor's caches: read whole,
# a megabyte's token lists outgrow them and every detector slows down. Names carry over between windows
# through one `NameMemory`, so a window gets the names it would get if the text were read whole.
_WINDOW = 48 * 1024
_MARGIN = 1024


def _detect(text: str, hard_breaks: Sequence[int]) -> list[Span]:
    if not text:
        return []
    quick = _QUICK_RE.search(text) is not None
    memory = NameMemory()
    windows = [_Window(text, core, hard_breaks, memory, quick) for core in _cores(text)]
    spans: list[Span] = []
    for window in windows:  # once every line was tagged: a name word learnt late is found early too
        spans += window.spans(memory)
    return spans


def _cores(text: str) -> list[tuple[int, int]]:
    """The windows' cores: consecutive ranges of whole lines of at least _WINDOW characters (the last may be
    shorter), covering the text; a text with no line end is one core."""
    cores: list[tuple[int, int]] = []
    start = 0
    while start < len(text):
        newline = text.find("\n", start + _WINDOW) if len(text) - start > _WINDOW + _MARGIN else -1
        end = len(text) if newline < 0 else newline + 1
        cores.append((start, end))
        start = end
    return cores


class _Window:
    """Every detector over one window of the text; the findings that start in its core, in text offsets.

    The mentions of the name words learnt so far are found while the window's tokens are at hand; the
    words learnt in later windows are looked for at the end (`spans`), in the few windows whose text holds
    one of them, so a window's tokens are dropped when it is read and memory stays bounded by a window."""

    __slots__ = ("base", "core", "kept", "known", "mentioned", "rest", "source", "stop", "tagged", "vetoes")

    def __init__(
        self,
        text: str,
        core: tuple[int, int],
        hard_breaks: Sequence[int],
        memory: NameMemory,
        quick: bool,
    ) -> None:
        start, end = core
        self.source = text
        if start == 0 and end == len(text):
            base, stop = 0, len(text)
        else:
            base = 0 if start <= _MARGIN else text.rfind("\n", 0, start - _MARGIN) + 1
            newline = text.find("\n", end + _MARGIN) if end < len(text) else -1
            stop = len(text) if newline < 0 else newline + 1
            text = text[base:stop]
            hard_breaks = [b - base for b in hard_breaks if base <= b < stop]
        self.base, self.stop = base, stop
        self.core = core_start, core_end = (start - base, end - base)
        tk = Tokens(text)
        locations = detect_locations(text, tk)
        # a place the tagger took for a person ("Duluth, MN") is a place: location wins, unless the place
        # rests only on a capital after "from/in" ("request 40 from Omar"): location is off by default, so
        # that would leave the name in clear
        self.vetoes: list[Sequence[tuple[int, int] | Span]] = [[p for p in locations if p[3] > WEAK_LOCATION]]
        self.tagged = tagged = memory.tag_lines(text, tk, core_start, core_end)
        self.known = len(memory.learnt_order)
        if not quick:
            self.rest: list[Span] = locations
        else:
            ctx = Context(text, tk, hard_breaks)
            runs = build_runs(tk, hard_breaks)
            date_spans, dates = detect_dates(tk, ctx, runs)
            # "the first of April", "June 5th": a month inside a date is not a person
            self.vetoes.append(dates)
            spans: list[Span] = detect_emails(text)
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
            # the findings that start in the core, and those that run into it from the margin before it: a
            # value across many lines (a number read out over more lines than the margin holds) is seen
            # in part by each window, and the parts together cover it
            self.rest = [sp for sp in spans if sp[0] < core_end and sp[1] > core_start]
        self.kept = self._names(tagged, tk)
        self.mentioned = self._names(mentions(tk, memory.learnt, tagged, core_start, core_end), tk)

    def _names(self, names: list[Span], tk: Tokens) -> list[Span]:
        for veto in self.vetoes:
            names = _not_inside(names, veto)
        if len(self.vetoes) > 1:  # the text holds numbers or number words: the full pass, titles too
            names = [sp for sp in names if sp[2] != "name" or not media_title(tk, sp[0])]
        return names

    def spans(self, memory: NameMemory) -> list[Span]:
        """The window's findings once every window was read."""
        found = self.mentioned
        late = memory.learnt_order[self.known :]
        if late:
            text = self.source[self.base : self.stop]
            lowered = text.lower().replace("\u2019", "'")
            # a token's lower-case form is a piece of the lower-cased text, but for rare letters whose
            # lower case depends on what follows (a final sigma): outside ASCII the tokens are read again
            if not text.isascii() or any(word in lowered for word in late):
                tk = Tokens(text)
                found = sorted(found + self._names(mentions(tk, set(late), self.tagged, *self.core), tk))
        base = self.base
        return [(a + base, b + base, kind, p) for a, b, kind, p in self.kept + found + self.rest]


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
