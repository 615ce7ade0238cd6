"""Person names: after cues ("my name is", "this is", "Mr."), and the glue around the learned tagger
(`voicetrail.redaction._names`), which tags one line at a time with the previous line as context.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from itertools import compress
from operator import eq

import voicetrail.redaction._names as _names
from voicetrail.redaction.detection.tokens import Span, Tokens, anchored, capitalised, skip_leadin
from voicetrail.redaction.lexicon.brands import BRANDS
from voicetrail.redaction.lexicon.dates import MONTHS, WEEKDAYS
from voicetrail.redaction.lexicon.name_slots import (
    AFTER_PERSON,
    AUX_FOLLOWERS,
    ENDEARMENTS,
    GREETINGS,
    MESSAGE_VERBS,
    NOT_A_NAME_ALONE,
    NOT_A_PERSON_AFTER,
    OBJECT_PREPOSITIONS,
    PERSON_PREDICATES,
    PERSON_VERBS,
    QUESTION_AUX,
    SUBJECT_ADVERBS,
    SUBJECT_VERBS,
    WAKE_LEADS,
    WAKE_WORDS,
)
from voicetrail.redaction.lexicon.names import (
    COMMON_FIRST_NAMES,
    MEDIA_WORDS,
    NAME_FIRST,
    NAME_FOLLOWERS,
    NAME_STOPWORDS,
    TITLES,
)
from voicetrail.redaction.lexicon.numbers import TEENS, TENS, UNITS
from voicetrail.redaction.lexicon.places import US_STATE_CODES, WELL_KNOWN_PLACES

_NAME_STRONG = re.compile(
    r"(?<![\w'])(?:my\s+(?:full\s+|first\s+|last\s+|middle\s+|maiden\s+|legal\s+)?name(?:'s|\s+is)|"
    r"(?:first|last|full|middle|maiden|legal|sur)\s*name(?:'s|\s+is)?|name\s+is|name's|"
    r"name\s+on\s+the\s+(?:card|account|policy)\s+is|"
    r"(?:patient|caller|member|subscriber|cardholder|account\s+holder|policy\s+holder|his|her|their)(?:'s)?\s+name"
    r"(?:'s|\s+is)?|(?:it's\s+|that's\s+)?spelled|called|named|goes\s+by)(?![\w'])",
    re.IGNORECASE,
)
_NAME_WEAK = re.compile(
    r"(?<![\w'])(?:this\s+is|i'm|i\s+am|speaking\s+with|calling\s+for|on\s+behalf\s+of|ask(?:ing)?\s+for|"
    r"my\s+(?:wife|husband|son|daughter|mother|mom|father|dad|brother|sister|partner|friend|grandmother|"
    r"grandfather|grandma|grandpa|aunt|uncle|niece|nephew|child|kid|boss|caregiver|doctor|fiance|fiancee)|"
    r"(?:mr|mrs|ms|miss|dr|doctor)\.?)(?![\w'])",
    re.IGNORECASE,
)


_NEWLINE = re.compile("\n")
# A word's possessive that may be a name's ("Theo's"), not a contraction ("it's", "that's", "let's"): the
# lines without one skip `_possessive_names` and keep their early exit in `_line_names`.
_POSSESSIVE = re.compile(
    r"(?<![\w'\u2019])(?!(?:it|that|what|there|here|let|he|she|who|where|how|when|why|one|everyone|"
    r"everything|nothing|something|someone|somebody|anyone|today|tomorrow|yesterday|tonight|name|mother|"
    r"father|mom|dad|wife|husband|son|daughter|doctor)['\u2019]s\b)[^\W\d_]{2,}['\u2019]s\b",
    re.IGNORECASE,
)


def detect_names(text: str, tk: Tokens) -> list[Span]:
    spans: list[Span] = []
    mixed_case = False

    def take(i: int, strong: bool) -> int:
        """Index one past the last name token starting at i (i if none); i is past any lead-in."""
        j = i
        words = 0
        letters = 0
        while j < tk.n:
            low, raw, t = tk.lows[j], tk.raws[j], tk.types[j]
            if t == "W" and len(raw) == 1 and raw.isalpha() and (strong or letters or raw.isupper()):
                # spelled out: "s m i t h", "S-M-I-T-H"
                if low in ("i", "a") and not letters:
                    # "Mr., I don't know": a lone I or a is a word unless more letters follow ("A-N-A")
                    nxt = tk.raws[j + 1] if j + 1 < tk.n else ""
                    nxt2 = tk.raws[j + 2] if j + 2 < tk.n else ""
                    # after a strong cue a lower-case one opens a spelling when two letters follow: "it is
                    # spelled a n a"
                    opens = raw.isupper() or (strong and len(nxt2) == 1 and nxt2.isalpha())
                    if not opens or not (len(nxt) == 1 and (nxt.isalpha() or len(nxt2) == 1)):
                        break
                letters += 1
                j += 1
                continue
            if t == "P" and low in ("-", ",", ".") and (letters or words) and j + 1 < tk.n:
                nxt = tk.raws[j + 1]
                if tk.types[j + 1] == "W" and (len(nxt) == 1 or (low == "-" and words)):
                    j += 1
                    continue
                break
            if t != "W" or words >= 3 or letters:
                break
            if (
                low in NAME_STOPWORDS
                or low in _names.NEVER_NAME  # "I'm-I'm", "Mr., I"
                or low in MONTHS
                or low in UNITS
                or low in TEENS
                or low in TENS
            ):
                break
            if raw.startswith("[") or (not raw.isalpha() and "'" not in raw):
                break
            if mixed_case and not capitalised(raw):
                break
            if not strong and words == 0 and not mixed_case and low not in COMMON_FIRST_NAMES:
                nxt = tk.lows[j + 1] if j + 1 < tk.n else ""
                if nxt not in NAME_FOLLOWERS:
                    break
            words += 1
            j += 1
        while j > i and tk.types[j - 1] == "P":
            j -= 1
        return j

    # transcripts may be all lower case; capitalisation is judged on the cue's own line, each line once
    # (slicing and scanning the line again for every cue would make a long line quadratic)
    newlines: list[int] | None = None
    line_cased: dict[int, bool] = {}
    for regex, strong in ((_NAME_STRONG, True), (_NAME_WEAK, False)):
        for m in anchored(tk, text, regex, NAME_FIRST):
            if newlines is None:
                newlines = [nl.start() for nl in _NEWLINE.finditer(text)]
            line_no = bisect_left(newlines, m.start())
            cased = line_cased.get(line_no)
            if cased is None:
                start = newlines[line_no - 1] + 1 if line_no else 0
                end = newlines[line_no] if line_no < len(newlines) else len(text)
                cased = line_cased[line_no] = _names.is_cased(text[start:end])
            mixed_case = cased
            i = skip_leadin(tk, tk.index_at(m.end()))
            j = take(i, strong)
            if j > i:
                spans.append((tk.starts[i], tk.ends[j - 1], "name", 70))
    return spans


_SENTENCE_PUNCT = frozenset({".", "?", "!"})
# Relations and roles ("my daughter Hope", "the nurse Joy"): the tagger's word class R.
RELATIONS = frozenset(w for w, c in _names.WORD_CLASS.items() if c == "R")
# Inside a name only hyphens, apostrophes and the period of an initial ("J. R. Smith") may appear.
_NAME_BREAKS = frozenset(
    {",", ":", ";", "(", ")", '"', "/", "[", "]", "\u201c", "\u201d", "|", "&", "+", "="}
)


def detect_names_learned(text: str, tk: Tokens, *, remember: bool = True) -> list[Span]:
    """Names found by the CRF tagger, one line (turn) at a time, with the previous line as context, and
    the other mentions of the name words learnt (`remember=False`: every line tagged afresh, for tests of
    the memo in `NameMemory`). A long text is read in windows (see `pipeline`) with one `NameMemory`."""
    memory = NameMemory(remember=remember)
    spans = memory.tag_lines(text, tk, 0, len(text))
    return spans + mentions(tk, memory.learnt, spans, 0, len(text))


class NameMemory:
    """What the name tagger carries from one line of a text to the next, so that a text read window by
    window gets the names it gets when read whole: the previous line (its question is the next line's
    context), the findings of every line tagged so far, and the name words learnt.

    A line's names depend on its own text and on the previous line's question only (tokens never cross a
    line, and every rule reads the line's own tokens): a line seen again with the same question gets its
    findings again, shifted, without tagging. Transcripts repeat many lines ("AI: Is there anything else
    I can help with?", "User: Yes."). Kept for one text only, so no transcript outlives the call."""

    __slots__ = ("_found", "_questions", "_remember", "_seen", "learnt", "learnt_order", "previous", "tagger")

    def __init__(self, *, remember: bool = True) -> None:
        self._remember = remember
        self.tagger: _names.NameTagger | None = None  # loaded on the first line worth tagging
        self.previous: str | None = None  # the last line tagged
        self._seen: dict[tuple[str, str], int] = {}  # (line, question) -> index in `_found`
        self._found: list[list[Span]] = []  # each line's findings, offsets from its start
        self._questions: dict[str, str] = {}
        # the name words to look for again (`mentions`): the first _MAX_LEARNT_WORDS the findings taught,
        # and the order they were learnt in
        self.learnt: set[str] = set()
        self.learnt_order: list[str] = []

    def tag_lines(self, text: str, tk: Tokens, start: int, stop: int) -> list[Span]:
        """The tagger's names in the lines of `text` that start in start..stop-1 (`start` opens a line, and
        the lines before it in the text were read through this memory, in order)."""
        lines: list[_Line] = []  # the lines to tag here, each once
        order: list[tuple[int, int]] = []  # (line start, index in `_found`) of every tagged line, in order
        fresh = len(self._found)  # `_found` entries from here on are the lines in `lines`
        line_start, k = start, tk.index_at(start)
        while line_start < stop:
            newline = text.find("\n", line_start)
            line_end = len(text) if newline < 0 else newline
            first = k
            k = bisect_left(tk.starts, line_end, k)  # the line's tokens: first..k-1
            line = text[line_start:line_end]
            if k > first and "W" in tk.types[first:k] and not _machine_value(line):
                self.tagger = tagger = self.tagger or _names.tagger()
                if (
                    self.previous is None
                    and " " not in line.strip()
                    and not _known_names(tagger, tk, first, k)
                ):
                    # one word alone, no question before it: "twilio", "inboundPhoneCall" are metadata
                    # values; only a word the name lists know ("Maria") is taken for a name there
                    if newline < 0:
                        break
                    line_start = newline + 1
                    continue
                question = self._question()
                index = self._seen.get((line, question), -1) if self._remember else -1
                if index < 0:
                    index = self._seen[(line, question)] = len(self._found)
                    self._found.append([])
                    line_ = _Line(tk, first, k, line_start, _names.is_cased(line), question)
                    line_.possessive = ("'s" in line or "\u2019s" in line) and _POSSESSIVE.search(
                        line
                    ) is not None
                    lines.append(line_)
                order.append((line_start, index))
                self.previous = line
            if newline < 0:
                break
            line_start = newline + 1
        if not order or self.tagger is None:  # the tagger is loaded once a line is tagged
            return []
        tagger = self.tagger
        if lines:
            # every new line's labels at once: the emissions are summed in a few C-level passes
            labels = tagger.tag_batch([(ln.raws, ln.lows, ln.types, ln.cased, ln.question) for ln in lines])
            for offset, (ln, y) in enumerate(zip(lines, labels, strict=True)):
                at = ln.start
                self._found[fresh + offset] = [
                    (a - at, b - at, kind, p) for a, b, kind, p in _line_names(tagger, tk, ln, y)
                ]
        spans: list[Span] = []
        for line_start, index in order:
            found = self._found[index]
            if not found:
                continue
            shifted = [(a + line_start, b + line_start, kind, p) for a, b, kind, p in found]
            if index >= fresh and lines[index - fresh].start == line_start:
                # the line where it was tagged: a line's copies hold no new word
                self._learn(tagger, tk, shifted)
            spans.extend(shifted)
        return spans

    def _question(self) -> str:
        previous = self.previous
        if previous is None:
            return "0"
        return self._questions.get(previous) or self._questions.setdefault(
            previous, _names.question_type(previous)
        )

    def _learn(self, tagger: _names.NameTagger, tk: Tokens, spans: list[Span]) -> None:
        """Learn the name words of `spans`: only words the name lists hold and the English word lists do
        not, at least three letters long, so that a word the tagger took wrongly in one turn ("Noted") or a
        name that is also a word ("Grace") does not spread."""
        learnt = self.learnt
        for s, e, _, _ in spans:
            if len(learnt) >= _MAX_LEARNT_WORDS:
                return
            k = tk.index_at(s)
            while k < tk.n and tk.starts[k] < e:
                low = tk.lows[k]
                if tk.types[k] == "W" and len(low) >= 3 and low not in _names.NEVER_NAME:
                    flags = tagger.cached_flags(low)
                    if ("F" in flags or "L" in flags) and "W" not in flags and low not in learnt:
                        learnt.add(low)
                        self.learnt_order.append(low)
                k += 1


def mentions(tk: Tokens, words: set[str], tagged: list[Span], start: int, stop: int) -> list[Span]:
    """Other mentions, in start..stop-1, of name words learnt in the text (`NameMemory.learnt`): "Theo"
    tagged when he was paid is also "theo" in "theo never answered" three turns later, or three turns
    before: the call's own context. `tagged` holds the tagger's findings in start..stop-1 (a word inside
    one is no other mention)."""
    if not words:
        return []
    covered = sorted((s, e) for s, e, _, _ in tagged)
    out: list[Span] = []
    j = 0
    for i in tk.positions(words):  # the words' tokens in order, from the index: not every token
        if tk.types[i] != "W":
            continue
        begin, end = tk.starts[i], tk.ends[i]
        if not start <= begin < stop:
            continue
        while j < len(covered) and covered[j][1] <= begin:
            j += 1
        if j < len(covered) and covered[j][0] <= begin:
            continue  # already inside a finding
        out.append((begin, end, "name", 57))
    return out


class _Line:
    """A line to tag: its tokens first..end-1, and the ones the tagger reads (a stutter said once)."""

    __slots__ = (
        "cased", "end", "first", "hesitates", "lows", "once", "possessive", "question", "raws", "start",
        "types",
    )  # fmt: skip

    def __init__(self, tk: Tokens, first: int, end: int, start: int, cased: bool, question: str) -> None:
        self.first, self.end, self.start, self.cased, self.question = first, end, start, cased, question
        self.possessive = False  # the line holds a possessive ("Theo's"), for `_possessive_names`
        # most lines hold no hesitation: their kept tokens are all of them (or all said once), built in C
        lows = tk.lows[first:end]
        self.hesitates = not _names.FILLERS.isdisjoint(lows)
        # without hesitations, no two equal neighbours means no stutter (`said_once`), found in C here
        stutters = self.hesitates or any(map(eq, lows, lows[1:]))
        self.once = once = said_once(tk.lows, tk.types, first, end, self.hesitates) if stutters else None
        self.raws: Sequence[str]
        self.lows: Sequence[str]
        self.types: Sequence[str]
        if once is None:
            self.raws, self.lows, self.types = tk.raws[first:end], lows, tk.types[first:end]
        else:  # a stutter is read as said once: "in houston houston" is no first name and surname
            self.raws = [tk.raws[i] for i in once]
            self.lows = [tk.lows[i] for i in once]
            self.types = [tk.types[i] for i in once]


def _line_names(tagger: _names.NameTagger, tk: Tokens, ln: _Line, labels: list[int]) -> list[Span]:
    """The names in a line given the tagger's labels of its tokens: the tagger's, then the slot rules'."""
    first, end, once, cased = ln.first, ln.end, ln.once, ln.cased
    tagged = tagger.spans(labels)
    if (
        not tagged
        and not ln.possessive
        and not any(map(_given_names(tagger).__getitem__, ln.lows))
        and (cased or TITLES.isdisjoint(ln.lows))
    ):
        # no name tagged, and no word the slot rules could take (see `_slot_names`; the tagger's tokens
        # hold the line's kept ones): most lines end here, without the lists below
        return []
    spans: list[Span] = []
    if ln.hesitates:
        kept = [i for i in (once or range(first, end)) if tk.lows[i] not in _names.FILLERS]
    else:
        kept = list(once or range(first, end))
    wake: int | None = -1  # the wake word, looked for at the first name the tagger found
    for a, b in tagged:
        if wake == -1:
            wake = _wake_word(tk, kept)
        if once is not None:
            a, b = once[a] - first, once[b - 1] + 1 - first
        for piece in _name_pieces(tk, first + a, first + b):
            k = tk.index_at(piece[0])
            if tk.ends[k] == piece[1] and (
                tk.lows[k] in NOT_A_NAME_ALONE  # "AI: How can I help?"
                or tk.lows[k] in BRANDS  # "delivered by FedEx"
                or (len(tk.lows[k]) == 1 and k + 1 < end and tk.lows[k + 1] == "/")  # "w/ priya", "w/o"
                or _model_code(tk, k, end)  # "XR-2000"
                or (ln.possessive and _business(tk, k, first, end))  # "Trader Joe's"
                # on a written line only a word written in lower case: "pay Bill" is a person
                or ((not cased or tk.raws[k].islower()) and _ordinary_word_here(tagger, tk, first, k, end))
            ):
                continue
            if wake is not None and piece[0] == tk.starts[wake]:  # "alexa call Theo": not Alexa
                if piece[1] == tk.ends[wake] or wake + 1 >= tk.n:
                    continue
                piece = (tk.starts[wake + 1], piece[1], piece[2], piece[3])
            if tk.ends[k] == piece[1] and k + 1 < end:
                piece = _with_surname(tagger, tk, piece, k, cased)
            spans.append(piece)
    spans.extend(_slot_names(tagger, tk, kept, cased, ln.question))
    if ln.possessive:
        spans.extend(_possessive_names(tagger, tk, kept, cased))
    if once is not None:  # a name said twice ("call theo theo") is covered twice
        spans = [_through_repeats(tk, span, end) for span in spans]
    return spans


# "how long", "too young", "so brown": a word after these is an adjective, whatever the name lists say.
_DEGREE_WORDS = frozenset({"how", "too", "so", "very", "as"})
# "a grant", "the bill", "your will": a word after these is a thing, whatever the name lists say ("her" is
# left out: "tell her grace said hi")
_DETERMINERS = frozenset(
    ("a", "an", "the", "this", "that", "these", "those", "my", "your", "his", "its", "our", "their", "some",
     "any", "no", "every", "each")
)  # fmt: skip
# "can you page the nurse", "we bill you": between a subject and an object stands a verb
_SUBJECTS = frozenset(("i", "you", "we", "they"))
_OBJECTS = frozenset(
    ("the", "a", "an", "my", "your", "our", "their", "his", "this", "that", "it", "me", "him", "them", "us")
)
# "drive to boston", "the capital of australia", "flights from manila"
_PLACE_LEADS = frozenset(
    {"to", "in", "from", "of", "near", "at", "around", "into", "via", "toward", "towards"}
)


def _ordinary_word_here(tagger: _names.NameTagger, tk: Tokens, first: int, i: int, end: int) -> bool:
    """A lone lower-case word the tagger took for a name that the words around it make an ordinary word:
    an adjective after a degree word ("how long"), a place after a preposition ("drive to boston"), a thing
    after an article or a possessive ("we got a grant"), the object of a phrase ("pay cash"), an endearment
    after a thank-you ("thank you honey"), a verb
    between a subject and its object ("can you page the nurse"), an idiom ("to be frank"). Each but the
    phrase and the place needs a word an English word list holds, and a common given name stays a name
    after a preposition ("talk to jordan", "a card for georgia"): a person left in clear costs more than a
    word redacted. `first..end-1` are the line's tokens."""
    j = i - 1
    while j >= first and tk.lows[j] in _names.FILLERS:
        j -= 1
    if j < first:
        return False
    prev, low = tk.lows[j], tk.lows[i]
    if low in NOT_A_PERSON_AFTER.get(prev, ()):
        return True
    if low in ENDEARMENTS and (prev in GREETINGS or prev in ("you", ",")):  # "thank you honey"
        return True
    if prev in _PLACE_LEADS and low in WELL_KNOWN_PLACES:
        flags = tagger.cached_flags(low)
        return "F1" not in flags and "F2" not in flags
    if not (
        prev in _DEGREE_WORDS
        or prev in _DETERMINERS
        or (prev in _SUBJECTS and i + 1 < end and tk.lows[i + 1] in _OBJECTS)
        or (prev == "be" and j > first and tk.lows[j - 1] == "to")
    ):
        return False
    return "W" in tagger.cached_flags(low)


def said_once(
    lows: Sequence[str], types: Sequence[str], first: int, end: int, hesitates: bool = True
) -> list[int] | None:
    """The token indices first..end-1 without the words said again right after themselves (hesitations
    between count as nothing: "houston uh houston"), or None when the line repeats no word. One-letter words
    stay: "n n" is a double letter when a name is spelled. Training reads its turns the same way.
    `hesitates=False` promises no hesitation among the tokens."""
    if not hesitates:
        # without hesitations a word said again stands right after itself: most lines have no two equal
        # neighbours, found in C (`map(eq, ...)`) without the loop below
        line = lows[first:end]
        if not any(map(eq, line, line[1:])):
            return None
    once: list[int] | None = None
    last = ""  # the last word kept, fillers skipped
    for i in range(first, end):
        low = lows[i]
        if low in _names.FILLERS:
            if once is not None:
                once.append(i)
            continue
        if low == last and types[i] == "W" and len(low) > 1:
            if once is None:
                once = list(range(first, i))
            continue
        if once is not None:
            once.append(i)
        last = low if types[i] == "W" else ""
    return once


# Surnames that follow a given name as its verb: "maria rose early", "tom won"
_VERBS_AFTER_A_NAME = frozenset(
    ("rose", "won", "left", "lay", "stood", "bore", "drew", "saw", "rang", "sang")
)


# Businesses named with a given name's possessive ("Wendy's", "Macy's"), and the words around one that make
# it a business or a day ("Papa John's", "Trader Joe's", "Sam's Club", "Carl's Jr", "St. Patrick's Day").
_POSSESSIVE_BUSINESSES = frozenset(
    ("wendy", "denny", "macy", "mcdonald", "kohl", "lowe", "arby", "chili", "applebee", "dillard", "domino",
     "hardee", "culver", "friendly", "popeye", "zaxby", "claire", "moe", "reese", "kellogg", "levi", "dick",
     "bojangle", "valentine")
)  # fmt: skip
_BEFORE_A_BUSINESS = frozenset(("papa", "trader", "jimmy", "st", "saint", "uncle", "aunt", "ben"))
_AFTER_A_BUSINESS = frozenset(("club", "jr", "secret", "day", "eve", "pizza", "restaurant", "diner", "bar"))


def _business(tk: Tokens, k: int, first: int, end: int) -> bool:
    """Token k is a possessive that names a business or a day, in the line's tokens first..end-1."""
    low = tk.lows[k]
    if not low.endswith("'s"):
        return False
    j = k - 1
    if j >= first and tk.lows[j] == "." and j > first:  # "St. Patrick's"
        j -= 1
    return (
        low[:-2] in _POSSESSIVE_BUSINESSES
        or (j >= first and tk.lows[j] in _BEFORE_A_BUSINESS)
        or (k + 1 < end and tk.lows[k + 1] in _AFTER_A_BUSINESS)
    )


def _possessive_names(tagger: _names.NameTagger, tk: Tokens, kept: list[int], cased: bool) -> list[Span]:
    """A given name's possessive ("is this Theo's phone?", "calling about kwame's appointment"): the name
    lists hold "theo", not "theo's", so neither the tagger nor the slot rules see it. Written like a name
    on a cased line; in a transcript a word no English word list holds, or a common given name ("john's
    wife"). Not a business or a day named so ("Wendy's", "Trader Joe's", "St. Patrick's Day")."""
    out: list[Span] = []
    for i in kept:
        low = tk.lows[i]
        if len(low) < 5 or not low.endswith("'s") or tk.types[i] != "W":
            continue
        stem, raw = low[:-2], tk.raws[i]
        if stem in _names.NEVER_NAME or stem in WAKE_WORDS or _business(tk, i, kept[0], kept[-1] + 1):
            continue
        flags = tagger.cached_flags(stem)
        if "F" not in flags:
            continue
        if cased:
            if not (raw[:1].isupper() and raw[1:-2].islower()):
                continue
        elif "W" in flags and stem not in COMMON_FIRST_NAMES:
            continue
        out.append((tk.starts[i], tk.ends[i], "name", 58))
    return out


def _with_surname(tagger: _names.NameTagger, tk: Tokens, piece: Span, k: int, cased: bool) -> Span:
    """A given name found alone (token k), stretched over the surname right after it that is also a word
    ("Horacio Link", "tom wood"): the tagger's word weights keep such a surname out, and it would be left
    in clear beside the redacted given name. Only a word the surname lists hold, written like the given
    name (capitalised on a written line, lower case in a transcript), and no word that ends a request or
    names a time."""
    if "F" not in tagger.cached_flags(tk.lows[k]):
        return piece
    j = k + 1
    raw, low = tk.raws[j], tk.lows[j]
    if tk.types[j] != "W" or len(raw) < 2 or not raw.isalpha():
        return piece
    if not ((raw[:1].isupper() and raw[1:].islower()) if cased else raw.islower()):
        return piece
    if (
        low in NAME_STOPWORDS
        or low in _names.NEVER_NAME
        or low in AFTER_PERSON
        or low in MONTHS
        or low in WEEKDAYS
        or low in TITLES
        or low in RELATIONS
        or low in _names.FILLERS
        or low in ENDEARMENTS  # "thank you maria love you"
        or low in _VERBS_AFTER_A_NAME
        or "L" not in tagger.cached_flags(low)
    ):
        return piece
    return (piece[0], tk.ends[j], piece[2], piece[3])


def _through_repeats(tk: Tokens, span: Span, end: int) -> Span:
    """A span stretched over the stutter right after it ("theo theo", "theo uh theo")."""
    j = tk.index_at(span[1]) - 1  # the span's last token
    word = tk.lows[j]
    k = j + 1
    while k < end and (tk.lows[k] == word or tk.lows[k] in _names.FILLERS):
        if tk.lows[k] == word:
            j = k
        k += 1
    return (span[0], tk.ends[j], span[2], span[3]) if tk.ends[j] > span[1] else span


# At most this many name words are looked for again (the first found): a call names few people, and the set
# stays small whatever the text.
_MAX_LEARNT_WORDS = 200


def _wake_word(tk: Tokens, kept: list[int]) -> int | None:
    """The token index of a wake word opening the turn ("alexa, ...", "hey google ..."), if any."""
    r = 0
    while r < len(kept) and r < 2 and tk.lows[kept[r]] in WAKE_LEADS:
        r += 1
    if r < len(kept) and tk.lows[kept[r]] in WAKE_WORDS:
        return kept[r]
    return None


class _GivenNames(dict[str, bool]):
    """lower-case word -> whether `_first_name` may hold for it (the word alone, before type and case are
    looked at), computed on first use: `map(given.__getitem__, lows)` runs in C for known words."""

    __slots__ = ("tagger",)

    def __init__(self, tagger: _names.NameTagger) -> None:
        super().__init__()
        self.tagger = tagger

    def __missing__(self, low: str) -> bool:
        if len(self) > 50_000:  # bounded: a call reuses a small vocabulary
            self.clear()
        given = self[low] = (
            len(low) >= 2
            and low not in _names.NEVER_NAME
            and low not in WAKE_WORDS
            and "F" in self.tagger.cached_flags(low)
        )
        return given


_GIVEN: list[_GivenNames] = []  # of the tagger in use


def _given_names(tagger: _names.NameTagger) -> _GivenNames:
    if not _GIVEN or _GIVEN[0].tagger is not tagger:
        _GIVEN[:] = [_GivenNames(tagger)]
    return _GIVEN[0]


def _first_name(tagger: _names.NameTagger, tk: Tokens, i: int, cased: bool) -> bool:
    """A word that name lists know as a given name, written as a name on a cased line."""
    low, raw = tk.lows[i], tk.raws[i]
    if tk.types[i] != "W" or len(low) < 2 or low in _names.NEVER_NAME or low in WAKE_WORDS or low in BRANDS:
        return False
    if cased and not raw[:1].isupper():
        return False
    return "F" in tagger.cached_flags(low)


def _ends_request(tk: Tokens, kept: list[int], r: int) -> bool:
    """Nothing after the person but the end of the turn, punctuation, a number (in digits or words: "pay
    grace sixty dollars"), a short tail word, or the call asked for ("give faith a call")."""
    if r + 1 >= len(kept):
        return True
    nxt = kept[r + 1]
    low = tk.lows[nxt]
    if tk.types[nxt] in ("P", "N", "A") or low in AFTER_PERSON or low in _NUMBER_WORDS:
        return True
    return low == "a" and r + 2 < len(kept) and tk.lows[kept[r + 2]] in _CALLS


def _before_an_object(tk: Tokens, kept: list[int], r: int, cased: bool) -> bool:
    """The person is the first object of the verb, the thing the second: "Send Will the file", "pay alpha
    the 150". On a written line the capital tells the person; in a transcript only an amount after the
    article does ("give faith the benefit of the doubt" is a phrase)."""
    if r + 2 >= len(kept) or tk.lows[kept[r + 1]] not in _SECOND_OBJECT:
        return False
    if cased:
        return True
    after = kept[r + 2]
    low = tk.lows[after]
    return tk.types[after] in ("N", "A") or low == "$" or low in _NUMBER_WORDS


_SECOND_OBJECT = frozenset(("the", "my", "your", "his", "her", "their", "our", "this", "that"))
# An amount said in words starts with one of these ("sixty", "fifteen", "one hundred")
_NUMBER_WORDS = frozenset(UNITS) | frozenset(TEENS) | frozenset(TENS)
# "give faith a call": what a person is given
_CALLS = frozenset(("call", "ring", "shout", "buzz", "text", "bell"))


def _greeted(low: str) -> bool:
    """A word after a greeting may be the person greeted: not an endearment ("thanks love") nor the
    assistant itself ("Thanks AI.")."""
    return low not in ENDEARMENTS and low not in NOT_A_NAME_ALONE


def _after_thank_you(tk: Tokens, kept: list[int], r: int) -> bool:
    """The word at rank r follows "thank you" (and a comma) opening the turn or a clause: "thank you
    grace", "Thank you, Grace."."""
    p = r - 1
    if tk.lows[kept[p]] == ",":
        p -= 1
    return (
        p >= 1
        and tk.lows[kept[p]] == "you"
        and tk.lows[kept[p - 1]] == "thank"
        and (p == 1 or tk.types[kept[p - 2]] == "P")
    )


def _slot_names(
    tagger: _names.NameTagger, tk: Tokens, kept: list[int], cased: bool, question: str
) -> list[Span]:
    """Given names in slots that hold a person whatever the word ("call Will", "send $60 to Grace", "share
    my location with Theo", "my daughter Hope" on a cased line, "Faith" alone answering "Who should I pay?").
    A rule family beside the tagger: it decides on names that are ordinary words, which the tagger's own
    word weights pull towards "no name"; the word must be in the given-name lists."""
    out: list[Span] = []
    lows = tk.lows
    if question in ("NAME", "WHO"):
        words = [i for i in kept if tk.types[i] == "W"]
        if (
            1 <= len(words) <= 2
            and len(kept) <= len(words) + 2
            and all(_first_name(tagger, tk, i, cased) and lows[i] not in RELATIONS for i in words)
        ):
            return [(tk.starts[words[0]], tk.ends[words[-1]], "name", 58)]
    # Every rule below ends in `_first_name` of one word, but the title rule of a transcript: only the ranks
    # of words that may pass it, and of words after a title, are visited (found in C), most lines none.
    kept_lows = list(map(lows.__getitem__, kept))
    given = _given_names(tagger)
    ranks = list(compress(range(len(kept)), map(given.__getitem__, kept_lows)))
    if not cased and not TITLES.isdisjoint(kept_lows):
        after_title = [r + 1 for r in compress(range(len(kept)), map(TITLES.__contains__, kept_lows))]
        ranks = sorted({*ranks, *after_title})
    if not ranks:
        return out
    mid_capitals: bool | None = None  # decided on the first word that needs it
    # the rules of this loop name the word at rank r or r + 1
    for r in sorted({q for c in ranks for q in (c - 1, c) if 0 <= q < len(kept) - 1}):
        opens = r == 0 or lows[kept[r - 1]] in _SENTENCE_PUNCT
        # a person opening the turn or a sentence, then what they did: "Dawn requested $30 from you"
        if opens and lows[kept[r + 1]] in SUBJECT_VERBS:
            i = kept[r]
            if _first_name(tagger, tk, i, cased):
                out.append((tk.starts[i], tk.ends[i], "name", 58))
        # the subject of a question, when what is asked only a person does: "did june call back", "is
        # frank still working there" (not "is the bill still due": the word must be a given name)
        if opens and lows[kept[r]] in QUESTION_AUX and r + 2 < len(kept):
            i = kept[r + 1]
            v = r + 2
            while v + 1 < len(kept) and lows[kept[v]] in SUBJECT_ADVERBS:
                v += 1
            if (
                lows[kept[v]] in PERSON_PREDICATES
                and lows[i] not in RELATIONS
                and lows[i] not in MONTHS
                and lows[i] not in WEEKDAYS
                and _first_name(tagger, tk, i, cased)
            ):
                out.append((tk.starts[i], tk.ends[i], "name", 58))
    raws = tk.raws
    for r in ranks:  # the rules of this loop name the word at rank r
        if not 1 <= r < len(kept):
            continue
        i = kept[r]
        if cased and not raws[i][:1].isupper():
            continue  # on a written line every rule below ends in a capitalised given name (`_first_name`)
        prev = lows[kept[r - 1]]
        person = False
        if prev in PERSON_VERBS:
            # "pay bill" is a phrase, "pay Bill" on a cased line a person
            phrase = lows[i] in NOT_A_PERSON_AFTER.get(prev, ()) and not (cased and tk.raws[i][:1].isupper())
            if prev in MESSAGE_VERBS and r + 1 < len(kept):
                # the message follows the person: "text Grace good night", unless the word is a verb there
                # ("text will be sent")
                capital = cased and tk.raws[i][:1].isupper()  # "tell Will I'm late"
                person = not phrase and (capital or lows[kept[r + 1]] not in AUX_FOLLOWERS)
            else:
                person = not phrase and (_ends_request(tk, kept, r) or _before_an_object(tk, kept, r, cased))
        elif prev in OBJECT_PREPOSITIONS and r >= 2 and _verb_before(lows, kept, r):
            person = _ends_request(tk, kept, r)
        elif not cased and prev in TITLES:
            # a transcript's "doctor okafor", "mister nguyen": a surname, in no given-name list
            if _surname_after_title(tagger, tk, prev, i):
                out.append((tk.starts[i], tk.ends[i], "name", 58))
            continue
        elif cased and prev in RELATIONS:
            person = True
        elif _after_thank_you(tk, kept, r):
            person = _greeted(lows[i]) and _ends_request(tk, kept, r)
        elif prev in GREETINGS and (r == 1 or tk.types[kept[r - 2]] == "P"):
            # "Thanks Hope!", "ok, hi will": a greeting opening the turn or a clause, then the person
            person = _greeted(lows[i]) and _ends_request(tk, kept, r)
        elif mid_capitals is None or mid_capitals:
            # written text capitalises names, not words: "Is Grace still working there?" ("in May" and
            # "on Sunday" excepted, and lines that capitalise most words, as titles do)
            if mid_capitals is None:
                mid_capitals = cased and _sentence_case(tk, kept)
            person = (
                mid_capitals
                and prev not in _SENTENCE_PUNCT
                and prev not in (":", '"', "\u201c")
                and prev not in _BEFORE_PLACES_AND_THINGS
                and tk.raws[i][1:].islower()
                and lows[i] not in MONTHS
                and lows[i] not in WEEKDAYS
            )
        if person and _first_name(tagger, tk, i, cased):
            out.append((tk.starts[i], tk.ends[i], "name", 58))
    return out


# Titles that stand only before a person's name; "doctor", "miss" and "professor" also stand before ordinary
# words ("doctor appointment", "i miss home"), so after them only a word no word list holds is taken.
_PLAIN_TITLES = frozenset(("mr", "mrs", "ms", "mister", "missus"))


def _surname_after_title(tagger: _names.NameTagger, tk: Tokens, title: str, i: int) -> bool:
    """The word after a title in a transcript is a surname: after "mr"/"ms" any word a name list holds
    ("ms cleaver", though cleaver is also a word) or none holds; after "doctor"/"miss" only a word no
    English word list holds ("doctor okafor", not "doctor appointment")."""
    low = tk.lows[i]
    if (
        tk.types[i] != "W"
        or len(low) < 3
        or not low.isalpha()
        or low in _names.NEVER_NAME
        or low in NAME_STOPWORDS
        or low in MONTHS
        or low in WEEKDAYS
    ):
        return False
    flags = tagger.cached_flags(low)
    if "W" not in flags:
        return True
    return title in _PLAIN_TITLES and ("L" in flags or "F" in flags)


# "in Houston", "the Chase app": after these a capitalised given name is more often a place or a brand
_BEFORE_PLACES_AND_THINGS = frozenset(
    # "with"/"from" too: "I bank with Chase", "my card is from Chase" (a person there needs a verb before)
    [
        *(
            "in",
            "near",
            "at",
            "on",
            "around",
            "outside",
            "the",
            "a",
            "an",
            "via",
            "through",
            "into",
            "across",
        ),
        *("from", "with", "by"),
    ]
)


# The words of a spoken amount: "send one hundred fifty dollars to ..." puts the verb as far from the person
# as "send $150 to ..." does.
_AMOUNT_WORDS = frozenset((*UNITS, *TEENS, *TENS, "hundred", "thousand", "dollars", "dollar", "bucks", "and"))


def _verb_before(lows: list[str], kept: list[int], r: int) -> bool:
    """A verb that takes a person two to six words before rank r ("send sixty dollars to ..."), the words of
    a spoken amount not counted."""
    v, words = r - 2, 0
    while v >= 0 and words < 5:
        low = lows[kept[v]]
        if low in PERSON_VERBS:
            return True
        words += low not in _AMOUNT_WORDS
        v -= 1
    return False


def _sentence_case(tk: Tokens, kept: list[int]) -> bool:
    """A line in sentence case: at most a third of the words inside its sentences capitalised (a title
    capitalises most); the first word of each sentence does not count."""
    words = capitals = 0
    for r, i in enumerate(kept):
        if tk.types[i] != "W" or len(tk.raws[i]) < 2:
            continue
        if r == 0 or tk.lows[kept[r - 1]] in _SENTENCE_PUNCT:
            continue
        words += 1
        capitals += tk.raws[i][:1].isupper()
    return words >= 2 and 3 * capitals <= words


def _known_names(tagger: _names.NameTagger, tk: Tokens, first: int, end: int) -> bool:
    words = [tk.lows[i] for i in range(first, end) if tk.types[i] == "W"]
    return all("F" in (f := tagger.flags(w)) or "L" in f for w in words)


# ids, URLs, times ("wss://...", "2026-11-25T14:00"), and locales ("en-US"): one word, no space
_SPACE = re.compile(r"\s")
_MACHINE_CHAR = re.compile(r"[\d/:_@=]")
_LOCALE = re.compile(r"[a-z]{2}-[A-Z]{2}")


def _machine_value(line: str) -> bool:
    """One word with digits or URL/ID punctuation ("inboundPhoneCall" stays in, "wss://...", "CA79cb..."
    and "2026-11-25T14:00" are out): metadata fields of every webhook, never a person's name. Three linear
    scans (a single `\\S*[...]\\S*` pattern backtracks quadratically over a long word)."""
    if " " in line or _SPACE.search(line) is not None:  # most lines have a space, found without the regex
        return False
    return _MACHINE_CHAR.search(line) is not None or _LOCALE.fullmatch(line) is not None


def _name_pieces(tk: Tokens, i: int, j: int) -> list[Span]:
    """A tagged token range as spans: punctuation trimmed, split at a sentence end ("Ramirez. Thanks")."""
    out: list[Span] = []
    start = i
    for m in range(i, j + 1):
        boundary = (
            m == j
            or tk.types[m] in ("N", "A", "X")  # digits are never part of a name
            # a capital after three lower-case letters: none when the tail past the third is lower case
            or (not tk.raws[m][3:].islower() and _CODE_WORD.search(tk.raws[m]) is not None)
            or tk.lows[m] in _NAME_BREAKS
            or (tk.lows[m] in _names.NEVER_NAME and not _initial(tk, start, m) and not _spelled(tk, i, j, m))
            or tk.raws[m] in US_STATE_CODES  # "Duluth, MN"
            or (
                tk.lows[m] in _SENTENCE_PUNCT and m > i and len(tk.raws[m - 1]) > 1 and tk.types[m - 1] == "W"
            )
        )
        if not boundary:
            continue
        a, b = start, m
        while a < b and tk.types[a] == "P":
            a += 1
        while b > a and tk.types[b - 1] == "P":
            b -= 1
        if a < b:
            # below the digit kinds (60): a number the tagger wrongly took keeps its own kind
            out.append((tk.starts[a], tk.ends[b - 1], "name", 58))
        start = m + 1
    return out


# A capital after three lower-case letters inside a word is code ("InvalidSignature", "tableName"), not a
# name: names put at most two letters before an inner capital ("McDonald", "DeShawn", "MacArthur").
_CODE_WORD = re.compile(r"[a-z]{3}[A-Z]")


def _model_code(tk: Tokens, k: int, end: int) -> bool:
    """Token k opens a model or part code: a hyphen right after it, then digits ("XR-2000", "F-150")."""
    return (
        k + 2 < end
        and tk.lows[k + 1] == "-"
        and tk.starts[k + 1] == tk.ends[k]
        and tk.starts[k + 2] == tk.ends[k + 1]
        and tk.types[k + 2] in ("N", "A")
    )


def _spelled(tk: Tokens, i: int, j: int, m: int) -> bool:
    """A one-letter token among the letters of a name spelled out ("k o w a l s k i"): "a" and "i" are
    words elsewhere, letters here."""
    if len(tk.raws[m]) != 1:
        return False
    return (m > i and _letter(tk.raws[m - 1])) or (m + 1 < j and _letter(tk.raws[m + 1]))


def _letter(raw: str) -> bool:
    return len(raw) == 1 and raw.isalpha()


def _initial(tk: Tokens, start: int, m: int) -> bool:
    """A one-letter token the tagger put right after name words: an initial ("Okafor Chidi A"), even "a"."""
    return len(tk.raws[m]) == 1 and m > start and tk.types[m - 1] == "W" and len(tk.raws[m - 1]) > 1


def media_title(tk: Tokens, start: int) -> bool:
    """A name right after a title after a media word is a title of a film or book ("watched Dr. Strangelove",
    "the movie Miss Congeniality"), not a person."""
    i = tk.index_at(start) - 1
    if i >= 0 and tk.lows[i] == ".":
        i -= 1
    if i < 1 or tk.lows[i] not in TITLES:
        return False
    j = i - 1
    if tk.lows[j] == "the" and j > 0:
        j -= 1
    return tk.lows[j] in MEDIA_WORDS or tk.lows[j] in ("'", '"', "“")
