"""Person names without cues: a linear-chain CRF over word, shape, gazetteer and dialogue-context features.

The model is trained offline with python-crfsuite (training/names/train.py) on generated dialogue in written
and spoken forms, then exported to the data file `data/name_tagger.bin` (label names, transition weights and
the state weight of every kept feature; format in `load_weights`). Decoding is Viterbi over three labels
(B, I, O) in pure Python, so the layer ships no compiled extension; it gives exactly the labels
`pycrfsuite.Tagger.tag` gives for the same model (checked by tests/unit/redaction/test_name_tagger.py).

Features per token (see `NameTagger.features`): the lower-cased word, 3-letter prefix and suffix, the
capitalisation class when the line is cased, gazetteer flags (Census frequency bands, other name lists,
"also an ordinary word"), the same for the neighbours, word bigrams around the token, position in the turn,
turn length, and the kind of question the previous turn asked (a name, "who", another question).

Weights and gazetteer load on first use, not at import.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import pairwise
from operator import add

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~3 ms of cold start; only the type checker needs it
    from typing import Any

# os.path, not pathlib: pathlib would add ~3 ms to every cold start
DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
WEIGHTS_PATH = os.path.join(DATA_DIR, "name_tagger.bin")
WEIGHTS_FORMAT = "voicetrail-name-crf/1"
GAZETTEER_PATH = os.path.join(DATA_DIR, "name_gazetteer.txt")


def read_gazetteer(path: str) -> bytes:
    """The gazetteer's bytes. The layer build ships it gzipped (`<path>.gz`, layers/common/Makefile) to keep
    the layer under its size budget; the repository keeps it plain, so diffs stay readable."""
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        import gzip

        with gzip.open(path + ".gz", "rb") as packed:
            return packed.read()
    with open(path, "rb") as f:
        return f.read()


# Closed-class words, number words and fillers are never (part of) a name, whatever the model says.
NEVER_NAME = frozenset(
    [
        # common verbs and adjectives that are no one's name (unlike "will", "mark", "bill" or "grant")
        "see",
        "go",
        "get",
        "got",
        "come",
        "make",
        "take",
        "know",
        "think",
        "talk",
        "tell",
        "say",
        "said",
        "need",
        "want",
        "give",
        "keep",
        "look",
        "put",
        "ask",
        "try",
        "feel",
        "help",
        "let",
        "much",
        "good",
        "great",
        "nice",
        "fine",
        "sure",
        "right",
        "also",
        "just",
        "very",
        "really",
        # adverbs the name lists also hold (a Census first name "Soon", a Faker one "Ever"), never a name in
        # a call: "the refund shows up soon"
        "soon",
        "ever",
        "over",
        "i",
        "me",
        "my",
        "mine",
        "myself",
        "you",
        "your",
        "yours",
        "he",
        "him",
        "his",
        "she",
        "her",
        "hers",
        "it",
        "its",
        "we",
        "us",
        "our",
        "they",
        "them",
        "their",
        "this",
        "that",
        "these",
        "those",
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "nor",
        "so",
        "if",
        "then",
        "than",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "into",
        "onto",
        "about",
        "as",
        "is",
        "am",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "does",
        "did",
        "done",
        "have",
        "has",
        "had",
        "can",
        "could",
        "would",
        "should",
        "shall",
        "must",
        "might",
        "not",
        "no",
        "yes",
        "yeah",
        "yep",
        "nope",
        "ok",
        "okay",
        "uh",
        "um",
        "umm",
        "uhm",
        "er",
        "erm",
        "ah",
        "oh",
        "hmm",
        "mm",
        "huh",
        "like",
        "just",
        "please",
        "thanks",
        "thank",
        "hi",
        "hello",
        "hey",
        "bye",
        "goodbye",
        "sorry",
        "sir",
        "ma'am",
        "maam",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "whose",
        "why",
        "how",
        "there",
        "here",
        "all",
        "any",
        "some",
        "every",
        "each",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
        "seventy",
        "eighty",
        "ninety",
        "hundred",
        "thousand",
        "million",
        "zero",
        "double",
        "triple",
        "dash",
        "slash",
        "dot",
        "point",
        "at",
        "mr",
        "mrs",
        "ms",
        "dr",
        "mister",
        "missus",
        "doctor",
        "miss",
        "prof",
        "professor",
        "nurse",
        "officer",
        "january",
        "february",
        "march",
        "july",
        "september",
        "october",
        "november",
        "december",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "today",
        "tomorrow",
        "yesterday",
        "morning",
        "afternoon",
        "evening",
        "night",
        "week",
        "month",
        "year",
        "name",
        "number",
        "address",
        "email",
        "phone",
        "ssn",
        "dob",
        "mrn",
        "cvv",
        "pin",
        "zip",
        "apt",
        "ext",
        "po",
        "id",
        "iban",
        "swift",
        "bic",
        "pm",
        "i'm",
        "i'd",
        "i'll",
        "i've",
        "you're",
        "we're",
        "they're",
        "he's",
        "she's",
        "it's",
        "that's",
        "there's",
        "what's",
        "let's",
        "don't",
        "can't",
        "won't",
        "didn't",
        "isn't",
        # ordinary words a surname list holds or the tagger met too rarely: "fell and hurt his knee"
        "hurt",
        "wifi",
    ]
    # every pronoun contraction: "We'd like a table" (the tagger saw few of them in training)
    + [
        p + "'" + tail
        for p in (
            "i",
            "you",
            "we",
            "they",
            "he",
            "she",
            "it",
            "that",
            "there",
            "who",
            "what",
            "where",
            "here",
        )
        for tail in ("d", "ll", "ve", "re", "s", "m")
    ]
    + ["doesn't", "wasn't", "weren't", "haven't", "hasn't", "hadn't", "wouldn't", "couldn't", "shouldn't"]
    + ["aren't", "ain't", "y'all", "ma'am", "o'clock"]
)

FILLERS = frozenset(("uh", "um", "umm", "uhm", "uhh", "er", "erm", "ah", "hmm", "mm"))

# Word classes of the context, so that what was learned after "pay" carries over to "reimburse", and after
# "hi" to "howdy": verbs that take a person as object, greetings and thanks, relations and roles, titles.
_CLASS_WORDS = {
    "V": (
        "pay paid reimburse send sent email e-mail mail text texted call called phone ring ask asked tell "
        "told thank thanked meet met see saw visit visited invite invited transfer connect speak spoke "
        "talk talked contact contacted reach reached page paged refer referred add added remove removed "
        "hire hired fire fired give gave bring brought introduce introduced marry married help helped "
        "wire venmo zelle notify cc forward forwarded schedule scheduled book booked follow followed "
        "message messaged dm share shared sharing request requested requesting split owe owes owed "
        "facetime dial dialing calling texting messaging remind reminded chat refund refunded charge "
        "charged"
    ),
    # media and directory requests: "movies starring X", "songs featuring X"
    "S": "starring featuring feat ft directed narrated hosted sung",
    # wake words of voice assistants: "alexa call X"; the wake word itself is learnt as no name
    "Z": "alexa siri cortana bixby",
    "G": (
        "hi hello hey hiya howdy yo thanks thank cheers bye goodbye dear welcome morning afternoon "
        "evening congrats congratulations sorry okay ok alright sup greetings"
    ),
    "R": (
        "wife husband son daughter mother mom mum father dad brother sister partner friend boyfriend "
        "girlfriend fiance fiancee grandma grandpa grandmother grandfather aunt uncle niece nephew cousin "
        "boss manager lawyer attorney accountant doctor nurse dentist therapist neighbor neighbour "
        "landlord tenant roommate coworker colleague caregiver caseworker agent technician plumber driver "
        "teacher coach assistant stepson stepdaughter grandson granddaughter baby kid child patient "
        "member guy lady"
    ),
    "T": ("mr mrs ms miss dr doctor mister missus professor prof nurse officer sir madam captain rev father"),
    "P": ("to with for from by about under named called"),
}
WORD_CLASS: dict[str, str] = {w: c for c, words in _CLASS_WORDS.items() for w in words.split()}

_ASK_NAME = re.compile(
    r"\b(?:name|names|spell|spelled|spelling|who\s+am\s+i\s+(?:speaking|talking|chatting)|"
    r"who(?:'s|\s+is)\s+(?:calling|speaking|this|on\s+the\s+line)|may\s+i\s+ask\s+who|with\s+whom)\b",
    re.IGNORECASE,
)
_ASK_WHO = re.compile(r"\b(?:who|whom|who's|whose)\b", re.IGNORECASE)
_ASK_OTHER = re.compile(
    r"\?|^\s*(?:what|when|where|which|why|how|can|could|would|will|do|does|did|is|are|was|may|should)\b",
    re.IGNORECASE,
)


# Added to the name labels' score of every token at decoding: a missed name leaks, an extra [NAME] only
# costs readability. Chosen on the benchmark's evaluation set (0 / 0.5 / 1.0 / 1.5): recall rose up to 1.0
# with PII-free utterances touched unchanged, and 1.5 doubled them.
RECALL_BIAS = 1.0


def question_type(previous_line: str | None) -> str:
    """What the previous turn asked for: NAME, WHO, Q (another question), S (a statement) or 0 (no turn)."""
    if previous_line is None:
        return "0"
    # Every match of _ASK_NAME holds "name", "spell" or "who" and every match of _ASK_WHO "who", in some
    # case: a line without them (most lines) skips both searches. `casefold` maps each character these
    # patterns match without regard to case onto the letter itself, the long s and the Kelvin sign too (a
    # test checks it over all of Unicode), so the test below never misses a line the patterns would match.
    folded = previous_line.casefold()
    who = "who" in folded
    if (who or "name" in folded or "spell" in folded) and _ASK_NAME.search(previous_line):
        return "NAME"
    if who and _ASK_WHO.search(previous_line):
        return "WHO"
    if _ASK_OTHER.search(previous_line):
        return "Q"
    return "S"


def is_cased(line: str) -> bool:
    """Whether a line mixes upper and lower case (written text), as opposed to all lower or all upper case
    (a transcript): two C-level case maps instead of a Python loop over the characters."""
    return line.lower() != line and line.upper() != line


def _shape(raw: str) -> str:
    if raw.isupper():
        return "U" if len(raw) > 1 else "T"
    if raw[:1].isupper():
        return "T" if raw[1:].islower() or not raw[1:].isalpha() else "M"
    return "l"


def _length_bucket(words: int) -> str:
    return str(words) if words < 4 else "4" if words < 7 else "7"


def _sum(state: Mapping[str, Sequence[float]], feats: Sequence[str]) -> tuple[float, float, float]:
    s0 = s1 = s2 = 0.0
    for attr in feats:
        w = state.get(attr)
        if w is not None:
            s0 += w[0]
            s1 += w[1]
            s2 += w[2]
    return s0, s1, s2


def _plus(a: tuple[float, float, float], b: tuple[float, float, float]) -> tuple[float, float, float]:
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


_Vec = tuple[float, float, float]
# A token's weights as itself, as the word 1 and 2 before another, as the word 1 and 2 after another.
_Roles = tuple[_Vec, _Vec, _Vec, _Vec, _Vec]


class _RoleCache(dict[tuple[str, str, str], _Roles]):
    """(raw, low, kind) -> the token's role weights on lines of one casing, computed on first use.

    A dict with `__missing__`: `map(cache.__getitem__, keys)` finds every cached token in C, and only a
    token seen for the first time runs Python."""

    __slots__ = ("_roles",)

    def __init__(self, roles: Callable[[str, str, str], _Roles]) -> None:
        super().__init__()
        self._roles = roles

    def __missing__(self, key: tuple[str, str, str]) -> _Roles:
        roles = self[key] = self._roles(*key)
        return roles


class _PairCache(dict[tuple[str, str], _Vec]):
    """(word, word) -> the weights of one side's word-pair feature (`prefix` + "a|b"), read on first use."""

    __slots__ = ("_get", "_prefix")

    def __init__(self, state: Mapping[str, Sequence[float]], prefix: str) -> None:
        super().__init__()
        self._get = state.get
        self._prefix = prefix

    def __missing__(self, key: tuple[str, str]) -> _Vec:
        w = self._get(self._prefix + key[0] + "|" + key[1])
        vec = self[key] = (0.0, 0.0, 0.0) if w is None else (w[0], w[1], w[2])
        return vec


# A token's label scores as margins over O: (B - O) + (I - O)j. Viterbi compares paths, and every path
# gives each token one label, so taking the O score off all three labels of a token shifts every path by the
# same amount and leaves the best path where it was; one complex number per token makes a column of a whole
# batch one C-level addition (`map(add, ...)`).
def _margin(w: Sequence[float]) -> complex:
    return complex(w[0] - w[2], w[1] - w[2])


_Key = tuple[str, str, str]  # (raw, low, kind) of a token
# The slot between two turns in a batch (`NameTagger.tag_batch`), as a token id; no token gets it.
_EDGE = 0
_EDGES = (_EDGE, _EDGE)


class _TokenIds(dict[_Key, int]):
    """(raw, low, kind) -> a small int, given on first use: the batch's pair caches are keyed by two ints,
    hashed and compared much faster than two tuples of strings."""

    __slots__ = ("tokens",)

    def __init__(self) -> None:
        super().__init__()
        self.tokens: list[_Key] = [("", "", "")]  # by id; id 0 is the edge slot

    def __missing__(self, key: _Key) -> int:
        i = self[key] = len(self.tokens)
        self.tokens.append(key)
        return i

    def clear(self) -> None:
        super().clear()
        del self.tokens[1:]


class _IdMargins(dict[int, complex]):
    """token id -> a margin computed on first use: `map(cache.__getitem__, ids)` runs in C for known ids."""

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[int], complex]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key: int) -> complex:
        margin = self[key] = self._make(key)
        return margin


class _PairMargins(dict[tuple[int, int], complex]):
    """(id, id) of two neighbouring slots -> a margin computed on first use."""

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[int, int], complex]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key: tuple[int, int]) -> complex:
        margin = self[key] = self._make(*key)
        return margin


# Verbs that take a person and prepositions (word classes V and P): a turn holding both may need "vp=".
_PERSON_VERBS = frozenset(w for w, c in WORD_CLASS.items() if c == "V")
_PREPOSITIONS = frozenset(w for w, c in WORD_CLASS.items() if c == "P")

# A turn for `NameTagger.tag_batch`: raws, lows, kinds, cased, question (the arguments of `emissions`).
Turn = tuple[Sequence[str], Sequence[str], Sequence[str], bool, str]


class NameTagger:
    """Tags the tokens of one turn as B(egin)/I(nside)/O(utside) of a person name."""

    __slots__ = (
        "_after",
        "_before",
        "_edge_score",
        "_flags",
        "_gaz",
        "_intrinsic",
        "_margin_left",
        "_margin_own",
        "_margin_right",
        "_margin_turn",
        "_role_score",
        "_summary",
        "_token_ids",
        "_turn_score",
        "labels",
        "state",
        "trans",
    )

    def __init__(
        self,
        labels: Sequence[str],
        trans: Sequence[Sequence[float]],
        state: Mapping[str, Sequence[float]],
        gazetteer: bytes,
    ) -> None:
        self.labels = list(labels)
        self.trans = trans
        self.state = state
        self._gaz = gazetteer  # sorted "word\tflags" lines (UTF-8), searched by bisection
        self._intrinsic: dict[tuple[str, bool], list[str]] = {}
        # per casing of the line (written, transcribed): a token's features differ between the two
        self._role_score = (
            _RoleCache(lambda raw, low, kind: self._roles(raw, low, kind, False)),
            _RoleCache(lambda raw, low, kind: self._roles(raw, low, kind, True)),
        )
        self._edge_score: dict[bool, _Roles] = {}
        self._turn_score: dict[tuple[str, str], list[_Vec]] = {}  # (question, length bucket): few keys
        self._summary: dict[str, str] = {}
        self._flags: dict[str, str] = {}
        self._before = _PairCache(state, "b-=")  # the two words before a token
        self._after = _PairCache(state, "b+=")  # the two words after it
        # for `tag_batch`, per casing: a token's own weights; the weights a token reads from the two slots
        # before it (as the word two before, one before, and their pair) and from the two after it
        self._token_ids = _TokenIds()
        self._margin_own = (
            _IdMargins(lambda key: self._own_margin(key, False)),
            _IdMargins(lambda key: self._own_margin(key, True)),
        )
        self._margin_left = (
            _PairMargins(lambda a, b: self._left_margin(a, b, False)),
            _PairMargins(lambda a, b: self._left_margin(a, b, True)),
        )
        self._margin_right = (
            _PairMargins(lambda a, b: self._right_margin(a, b, False)),
            _PairMargins(lambda a, b: self._right_margin(a, b, True)),
        )
        self._margin_turn: dict[tuple[str, int, int], list[complex]] = {}  # (question, words, tokens)

    @classmethod
    def load(cls, weights_path: str = WEIGHTS_PATH, gazetteer_path: str = GAZETTEER_PATH) -> NameTagger:
        labels, trans, state = load_weights(weights_path)
        # kept as undecoded bytes: parsing 120k lines into a dict, or even decoding them, would cost more
        # cold start than all the lookups of a call
        return cls(labels, trans, state, read_gazetteer(gazetteer_path))

    # ------------------------------------------------------------------------------------------ features
    def flags(self, low: str) -> str:
        """Gazetteer flags of a lower-case word ("F1,L2,W"), "" when it is in no list."""
        gaz = self._gaz
        key = low.encode("utf-8")  # UTF-8 bytes sort as the code points do
        lo, hi = 0, len(gaz)  # both always at the start of a line
        while lo < hi:
            line = gaz.rfind(b"\n", 0, (lo + hi) // 2) + 1
            line = max(line, lo)
            end = gaz.find(b"\n", line)
            end = len(gaz) if end < 0 else end
            tab = gaz.find(b"\t", line, end)
            word = gaz[line:tab]
            if word < key:
                lo = end + 1
            elif word > key:
                hi = line
            else:
                return gaz[tab + 1 : end].decode("ascii")
        return ""

    def cached_flags(self, low: str) -> str:
        """`flags`, remembered for the words a call repeats (bounded)."""
        f = self._flags.get(low)
        if f is None:
            if len(self._flags) > 50_000:
                self._flags.clear()
            f = self._flags[low] = self.flags(low)
        return f

    def _summary_of(self, low: str) -> str:
        s = self._summary.get(low)
        if s is None:
            flags = self.flags(low[:-2] if low.endswith("'s") else low)
            name = "F" in flags or "L" in flags
            s = ("A" if "W" in flags else "N") if name else ("W" if "W" in flags else "0")
            if len(self._summary) > 50_000:
                self._summary.clear()
            self._summary[low] = s
        return s

    def _intrinsic_of(self, raw: str, low: str, kind: str, cased: bool) -> list[str]:
        key = (raw, cased)
        feats = self._intrinsic.get(key)
        if feats is not None:
            return feats
        stem = low[:-2] if kind == "W" and low.endswith("'s") and len(low) > 3 else low
        feats = ["w=" + stem]
        if kind == "W":
            if stem is not low:
                feats.append("pos")
            flags = self.flags(stem)
            feats.extend("g=" + f for f in flags.split(",")) if flags else feats.append("g=0")
            if not stem.isascii():
                feats.append("nonascii")  # "Ernő", "Çingiz": rare in ordinary English words
            if len(stem) > 3:
                feats.append("s3=" + stem[-3:])
                feats.append("p3=" + stem[:3])
            elif len(stem) == 1:
                feats.append("len1")
            if cased:
                feats.append("c=" + _shape(raw))
        else:
            feats.append("t=" + kind)
        if len(self._intrinsic) > 50_000:
            self._intrinsic.clear()
        self._intrinsic[key] = feats
        return feats

    def features(
        self, raws: Sequence[str], lows: Sequence[str], kinds: Sequence[str], cased: bool, question: str
    ) -> list[list[str]]:
        """One feature list per token of a turn. `kinds` are the engine's token types (W, N, A, P, X)."""
        return [
            [*self._intrinsic_of(raws[i], lows[i], kinds[i], cased), *context]
            for i, context in enumerate(self._contexts(raws, lows, kinds, cased, question))
        ]

    def emissions(
        self, raws: Sequence[str], lows: Sequence[str], kinds: Sequence[str], cased: bool, question: str
    ) -> list[tuple[float, float, float]]:
        """Per token, the summed state weight of each label for `features(...)`, without building them.

        Every feature but the two word bigrams depends on one token only (its own word, or a neighbour's in
        a fixed role: one or two before, one or two after) or on the turn (length, question, position). So
        the weight of each (token, role) is summed once and cached, the turn's once per turn, and each word
        pair's once; the caches are looked up a whole turn at a time (`map`, in C), and a token costs one
        addition of eight cached weight triples, in the order `features` lists them, so the floats are the
        same to the last bit (tests check the sums equal `features`)."""
        n = len(lows)
        if n == 0:
            return []
        cache = self._role_score[cased]
        if len(cache) > 200_000:  # bounded: a call reuses a small vocabulary
            cache.clear()
        if FILLERS.isdisjoint(lows):
            kept: Sequence[int] = range(n)
            k_raws, k_lows, k_kinds = raws, lows, kinds
        else:  # context skips hesitations, as in `_contexts`; a hesitation gets its own weights below
            kept = [i for i in range(n) if lows[i] not in FILLERS]
            k_raws = [raws[i] for i in kept]
            k_lows = [lows[i] for i in kept]
            k_kinds = [kinds[i] for i in kept]
        m = len(kept)
        out: list[tuple[float, float, float]] = []
        if m:
            nb = _length_bucket(n - kinds.count("P"))
            at = self._turn_score.get((question, nb)) or self._turn(question, nb)
            if m > 3:
                at = [*at[:3], *([at[3]] * (m - 3))]
            # the kept tokens' role weights, with the turn's edges as two tokens either side: the token at r
            # reads its own weights at r + 2, the weights as "one before" at r + 1, and so on
            e_b1, e_b2, e_a1, e_a2, _ = self._edges(cased)
            zero = (0.0, 0.0, 0.0)
            edge_before: _Roles = (zero, e_b1, e_b2, zero, zero)
            edge_after: _Roles = (zero, zero, zero, e_a1, e_a2)
            roles = [
                edge_before,
                edge_before,
                *map(cache.__getitem__, zip(k_raws, k_lows, k_kinds, strict=True)),
                edge_after,
                edge_after,
            ]
            before = self._before
            after = self._after
            if len(before) > 200_000 or len(after) > 200_000:
                before.clear()
                after.clear()
            # word pairs: (two before, one before) and (one after, two after) of each token, "^"/"$" past
            # the turn's edges
            ahead = ["^", "^", *k_lows]
            behind = [*k_lows[1:], "$", "$"]
            w_bps = map(before.__getitem__, pairwise(ahead))
            w_bns = map(after.__getitem__, pairwise(behind))
            # not strict: the token's own roles (roles[4:], m long) end the loop before the padded lists
            for q2, q1, q0, n1, n2, w_at, w_bp, w_bn in zip(
                roles, roles[1:], roles[2:], roles[3:], roles[4:], at, w_bps, w_bns, strict=False
            ):
                w_o, w_b1, w_b2, w_a1, w_a2 = q0[0], q1[1], q2[2], n1[3], n2[4]
                out.append(
                    (
                        w_o[0] + w_at[0] + w_b1[0] + w_b2[0] + w_a1[0] + w_a2[0] + w_bp[0] + w_bn[0],
                        w_o[1] + w_at[1] + w_b1[1] + w_b2[1] + w_a1[1] + w_a2[1] + w_bp[1] + w_bn[1],
                        w_o[2] + w_at[2] + w_b1[2] + w_b2[2] + w_a1[2] + w_a2[2] + w_bp[2] + w_bn[2],
                    )
                )
            classes = list(map(WORD_CLASS.get, k_lows))
            if "V" in classes and "P" in classes:
                # "send sixty dollars to X": a preposition two to six words after a verb that takes a person
                get = self.state.get
                last_verb = 0 if classes[0] == "V" else -100  # as in `_contexts`
                for r in range(1, m):
                    if classes[r - 1] == "P" and 2 <= r - last_verb <= 6:
                        w = get("vp=" + k_lows[r - 1], zero)
                        s0, s1, s2 = out[r]
                        out[r] = (s0 + w[0], s1 + w[1], s2 + w[2])
                    if classes[r] == "V":
                        last_verb = r
        if m == n:
            return out
        # a hesitation carries only its own features and "filler"
        full: list[tuple[float, float, float]] = [(0.0, 0.0, 0.0)] * n
        for r, i in enumerate(kept):
            full[i] = out[r]
        w = self.state.get("filler", (0.0, 0.0, 0.0))
        filler = (w[0], w[1], w[2])
        for i in range(n):
            if lows[i] in FILLERS:
                full[i] = _plus(cache[(raws[i], lows[i], kinds[i])][0], filler)
        return full

    def _turn(self, question: str, nb: str) -> list[_Vec]:
        """The turn's weights (length bucket, question) plus those of the position: at 0, 1, 2 and later."""
        turn = self._score(("n=" + nb, "q=" + question, "qn=" + question + nb))
        at = self._turn_score[(question, nb)] = [
            _plus(turn, self._score(("i=" + pos, "qi=" + question + pos))) for pos in ("0", "1", "2", "m")
        ]
        return at

    def tag_batch(self, turns: Sequence[Turn], bias: float = RECALL_BIAS) -> list[list[int]]:
        """`decode(emissions(*turn), bias)` for each turn, the emissions of all turns summed at once
        (`margin_rows`). Only the Viterbi sums, which leave out the O scores here, may round differently
        from `decode`'s, which could move a label on an exact tie between two paths."""
        rows = self.margin_rows(turns) if self.labels == ["B", "I", "O"] else [None] * len(turns)
        out: list[list[int]] = []
        for turn, margins in zip(turns, rows, strict=True):
            if margins is None:
                out.append(self.decode(self.emissions(*turn), bias))
            else:
                out.append(self._decode_margins(margins, bias) if margins else [])
        return out

    def margin_rows(self, turns: Sequence[Turn]) -> list[list[complex] | None]:
        """Per turn, `emissions(*turn)` as margins over O (`_margin`), or None for a turn with a hesitation
        (rare; its context skips the hesitation: `tag_batch` sends it through `emissions`). Labels B, I, O.

        Per turn, `emissions` spends most of its time setting up (lists, caches, a `zip` of eight columns)
        for a dozen tokens. Here the turns' tokens are laid end to end, two edge slots between turns, and
        each token's score is four columns added in C (`map(add, ...)` over the whole batch): its own
        weights, the turn's (length, question, position), what it reads from the two slots before it
        (their words as its neighbours, and the word pair) and from the two after it.

        The margins are those of `emissions`' sums to the last bit, although added in another order: every
        weight is a float32, a multiple of one power of two, and no sum comes near 2**53 of it, so every
        partial sum is exact (a test checks this of the weights file)."""
        out: list[list[complex] | None] = [None] * len(turns)
        ids = self._token_ids
        caches = (ids, *self._margin_own, *self._margin_left, *self._margin_right)
        if any(len(cache) > 200_000 for cache in caches):  # bounded across calls: a call reuses a vocabulary
            for cache in caches:
                cache.clear()
        # per casing: the slots (keys), the turn weights per slot, the turns' places
        slots: tuple[list[int], list[int]] = ([_EDGE, _EDGE], [_EDGE, _EDGE])
        at: tuple[list[complex], list[complex]] = ([0j, 0j], [0j, 0j])
        places: tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]] = ([], [])  # turn, slot, n
        verbs: list[tuple[bool, int, Sequence[str]]] = []  # turns that may need "vp="
        for j, (raws, lows, kinds, cased, question) in enumerate(turns):
            n = len(lows)
            if n == 0:
                out[j] = []
                continue
            if not FILLERS.isdisjoint(lows):
                continue
            keys = slots[cased]
            places[cased].append((j, len(keys), n))
            keys += map(ids.__getitem__, zip(raws, lows, kinds, strict=True))
            keys += _EDGES
            words = n - kinds.count("P")
            turn_at = self._margin_turn.get((question, words, n))
            at[cased].extend(turn_at or self._turn_margins(question, words, n))
            if not _PERSON_VERBS.isdisjoint(lows) and not _PREPOSITIONS.isdisjoint(lows):
                verbs.append((cased, len(keys) - n - 2, lows))
        get = self.state.get
        for cased in (False, True):
            keys = slots[cased]
            if not places[cased]:
                continue
            pairs = list(pairwise(keys))
            # the token at slot s: own and turn weights at s, the left pair at s - 2, the right pair at s + 1
            sums = list(
                map(
                    add,
                    map(
                        add,
                        map(add, map(self._margin_own[cased].__getitem__, keys[2:]), at[cased][2:]),
                        map(self._margin_left[cased].__getitem__, pairs),
                    ),
                    map(self._margin_right[cased].__getitem__, pairs[3:]),
                )
            )
            for verb_cased, slot, lows in verbs:
                if verb_cased != cased:
                    continue
                # "send sixty dollars to X": a preposition two to six words after a verb, as in `emissions`
                classes = list(map(WORD_CLASS.get, lows))
                last_verb = 0 if classes[0] == "V" else -100
                for r in range(1, len(lows)):
                    if classes[r - 1] == "P" and 2 <= r - last_verb <= 6:
                        sums[slot - 2 + r] += _margin(get("vp=" + lows[r - 1], (0.0, 0.0, 0.0)))
                    if classes[r] == "V":
                        last_verb = r
            for j, slot, n in places[cased]:
                out[j] = sums[slot - 2 : slot - 2 + n]
        return out

    def _turn_margins(self, question: str, words: int, n: int) -> list[complex]:
        """The turn weights of n tokens, `words` of them no punctuation, as margins (position 0, 1, 2, then
        later), and two edge slots."""
        nb = _length_bucket(words)
        vecs = self._turn_score.get((question, nb)) or self._turn(question, nb)
        first, second, third, later = map(_margin, vecs)
        margins = [first, second, third][:n] + [later] * (n - 3) + [0j, 0j]
        if n <= 64:  # most turns are short: the few lengths are kept
            self._margin_turn[(question, words, n)] = margins
        return margins

    def _own_margin(self, token: int, cased: bool) -> complex:
        return 0j if token == _EDGE else _margin(self._role_score[cased][self._token_ids.tokens[token]][0])

    def _left_margin(self, a: int, b: int, cased: bool) -> complex:
        """What a token reads from the slots a, b before it: a as the word two before, b as the one
        before, and the pair (the turn's edge "^" at an edge slot)."""
        cache, keys = self._role_score[cased], self._token_ids.tokens
        e_b1, e_b2, _, _, _ = self._edges(cased)
        w_b2 = e_b2 if a == _EDGE else cache[keys[a]][2]
        w_b1 = e_b1 if b == _EDGE else cache[keys[b]][1]
        w_bp = self._before[("^" if a == _EDGE else keys[a][1], "^" if b == _EDGE else keys[b][1])]
        return _margin(w_b2) + _margin(w_b1) + _margin(w_bp)

    def _right_margin(self, a: int, b: int, cased: bool) -> complex:
        """What a token reads from the slots a, b after it: a as the word one after, b as the one two
        after, and the pair (the turn's edge "$" at an edge slot)."""
        cache, keys = self._role_score[cased], self._token_ids.tokens
        _, _, e_a1, e_a2, _ = self._edges(cased)
        w_a1 = e_a1 if a == _EDGE else cache[keys[a]][3]
        w_a2 = e_a2 if b == _EDGE else cache[keys[b]][4]
        w_bn = self._after[("$" if a == _EDGE else keys[a][1], "$" if b == _EDGE else keys[b][1])]
        return _margin(w_a1) + _margin(w_a2) + _margin(w_bn)

    def _decode_margins(self, rows: Sequence[complex], bias: float) -> list[int]:
        """`decode` over margins (B - O) + (I - O)j, labels B, I, O: the O score of every token is 0."""
        (t00, t01, t02), (t10, t11, t12), (t20, t21, t22) = self.trans
        m = rows[0]
        v0, v1, v2 = m.real + bias, m.imag + bias, 0.0
        back: list[tuple[int, int, int]] = []
        for m in rows[1:]:
            c0, c1, c2 = v0 + t00, v1 + t10, v2 + t20
            if c0 >= c1 and c0 >= c2:
                n0, p0 = c0, 0
            elif c1 >= c2:
                n0, p0 = c1, 1
            else:
                n0, p0 = c2, 2
            c0, c1, c2 = v0 + t01, v1 + t11, v2 + t21
            if c0 >= c1 and c0 >= c2:
                n1, p1 = c0, 0
            elif c1 >= c2:
                n1, p1 = c1, 1
            else:
                n1, p1 = c2, 2
            c0, c1, c2 = v0 + t02, v1 + t12, v2 + t22
            if c0 >= c1 and c0 >= c2:
                v2, p2 = c0, 0
            elif c1 >= c2:
                v2, p2 = c1, 1
            else:
                v2, p2 = c2, 2
            v0, v1 = n0 + m.real + bias, n1 + m.imag + bias
            back.append((p0, p1, p2))
        y = 0 if v0 >= v1 and v0 >= v2 else 1 if v1 >= v2 else 2
        path = [y]
        for ptr in reversed(back):
            y = ptr[y]
            path.append(y)
        path.reverse()
        return path

    def _score(self, feats: Sequence[str]) -> tuple[float, float, float]:
        return _sum(self.state, feats)

    def _roles(self, raw: str, low: str, kind: str, cased: bool) -> _Roles:
        """A token's summed weights: as itself, as the word one and two before another token, as the word
        one and two after it (the features `_contexts` gives its neighbours)."""
        summary = self._summary_of(low) if kind == "W" else kind
        shape = _shape(raw) if cased and kind == "W" else ""
        klass = WORD_CLASS.get(low)
        b1 = ["w-1=" + low, "g-1=" + summary]
        b2 = ["w-2=" + low]
        if klass is not None:
            b1.append("k-1=" + klass)
            b2.append("k-2=" + klass)
        a1 = ["w+1=" + low, "g+1=" + summary]
        if cased:
            b1.append("c-1=" + shape)
            a1.append("c+1=" + shape)
        return (
            _sum(self.state, self._intrinsic_of(raw, low, kind, cased)),
            _sum(self.state, b1),
            _sum(self.state, b2),
            _sum(self.state, a1),
            _sum(self.state, ["w+2=" + low]),
        )

    def _edges(self, cased: bool) -> _Roles:
        """The weights of the turn's edges in each neighbour role: before the first token, after the last."""
        edges = self._edge_score.get(cased)
        if edges is None:
            b1 = ["w-1=^", "g-1=^", *(["c-1=^"] if cased else [])]
            a1 = ["w+1=$", "g+1=$", *(["c+1=$"] if cased else [])]
            edges = self._edge_score[cased] = (
                _sum(self.state, b1),
                _sum(self.state, ["w-2=^"]),
                _sum(self.state, a1),
                _sum(self.state, ["w+2=$"]),
                (0.0, 0.0, 0.0),
            )
        return edges

    def _contexts(
        self, raws: Sequence[str], lows: Sequence[str], kinds: Sequence[str], cased: bool, question: str
    ) -> list[list[str]]:
        n = len(lows)
        words = sum(1 for k in kinds if k != "P")
        nb = _length_bucket(words)
        summary = [self._summary_of(low) if kinds[i] == "W" else kinds[i] for i, low in enumerate(lows)]
        shapes = [_shape(r) if cased and kinds[i] == "W" else "" for i, r in enumerate(raws)]
        # context skips hesitations, so "hi uh Krysten" reads like "hi Krysten"
        kept = [i for i in range(n) if lows[i] not in FILLERS]
        rank = {i: r for r, i in enumerate(kept)}
        q_n = "qn=" + question + nb
        turn = ["n=" + nb, "q=" + question, q_n]
        out: list[list[str]] = []
        last_verb = -100  # rank of the last verb that takes a person, among the kept tokens
        for i in range(n):
            r = rank.get(i)
            if r is None:
                out.append(["filler"])
                continue
            b1 = kept[r - 1] if r > 0 else -1
            b2 = kept[r - 2] if r > 1 else -1
            a1 = kept[r + 1] if r + 1 < len(kept) else -1
            a2 = kept[r + 2] if r + 2 < len(kept) else -1
            p1 = lows[b1] if b1 >= 0 else "^"
            p2 = lows[b2] if b2 >= 0 else "^"
            n1 = lows[a1] if a1 >= 0 else "$"
            n2 = lows[a2] if a2 >= 0 else "$"
            pos = str(r) if r < 3 else "m"
            feats = [
                "w-1=" + p1,
                "w-2=" + p2,
                "w+1=" + n1,
                "w+2=" + n2,
                "b-=" + p2 + "|" + p1,
                "b+=" + n1 + "|" + n2,
                "g-1=" + (summary[b1] if b1 >= 0 else "^"),
                "g+1=" + (summary[a1] if a1 >= 0 else "$"),
            ]
            k1 = WORD_CLASS.get(p1)
            if k1 is not None:
                feats.append("k-1=" + k1)
            k2 = WORD_CLASS.get(p2)
            if k2 is not None:
                feats.append("k-2=" + k2)
            if cased:
                feats.append("c-1=" + (shapes[b1] if b1 >= 0 else "^"))
                feats.append("c+1=" + (shapes[a1] if a1 >= 0 else "$"))
            if k1 == "P" and 2 <= r - last_verb <= 6:
                # "send sixty dollars to X", "share my location with X": the object of a verb further back
                feats.append("vp=" + p1)
            feats.append("i=" + pos)
            feats.extend(turn)
            feats.append("qi=" + question + pos)
            out.append(feats)
            if WORD_CLASS.get(lows[i]) == "V":
                last_verb = r
        return out

    # ------------------------------------------------------------------------------------------ decoding
    def tag(self, feats: list[list[str]], bias: float = RECALL_BIAS) -> list[int]:
        """Viterbi over feature lists: the label index per token with the highest total state + transition
        weight, plus `bias` on every name label (0 gives exactly CRFsuite's labels)."""
        return self.decode([_sum(self.state, token) for token in feats], bias)

    def decode(self, rows: Sequence[tuple[float, float, float]], bias: float = RECALL_BIAS) -> list[int]:
        """Viterbi over per-token label scores (three labels, unrolled: this is the hot loop)."""
        n = len(rows)
        if n == 0:
            return []
        (t00, t01, t02), (t10, t11, t12), (t20, t21, t22) = self.trans
        b0 = bias if self.labels[0] != "O" else 0.0
        b1 = bias if self.labels[1] != "O" else 0.0
        b2 = bias if self.labels[2] != "O" else 0.0
        r0, r1, r2 = rows[0]
        v0, v1, v2 = r0 + b0, r1 + b1, r2 + b2
        back: list[tuple[int, int, int]] = []
        for r0, r1, r2 in rows[1:]:
            c0, c1, c2 = v0 + t00, v1 + t10, v2 + t20
            if c0 >= c1 and c0 >= c2:
                n0, p0 = c0, 0
            elif c1 >= c2:
                n0, p0 = c1, 1
            else:
                n0, p0 = c2, 2
            c0, c1, c2 = v0 + t01, v1 + t11, v2 + t21
            if c0 >= c1 and c0 >= c2:
                n1, p1 = c0, 0
            elif c1 >= c2:
                n1, p1 = c1, 1
            else:
                n1, p1 = c2, 2
            c0, c1, c2 = v0 + t02, v1 + t12, v2 + t22
            if c0 >= c1 and c0 >= c2:
                n2, p2 = c0, 0
            elif c1 >= c2:
                n2, p2 = c1, 1
            else:
                n2, p2 = c2, 2
            v0, v1, v2 = n0 + r0 + b0, n1 + r1 + b1, n2 + r2 + b2
            back.append((p0, p1, p2))
        y = 0 if v0 >= v1 and v0 >= v2 else 1 if v1 >= v2 else 2
        path = [y]
        for ptr in reversed(back):
            y = ptr[y]
            path.append(y)
        path.reverse()
        return path

    def spans(self, labels: list[int]) -> list[tuple[int, int]]:
        """(first, last+1) token index ranges labelled as names; adjacent names form one range."""
        names = self.labels
        if "O" in names and labels.count(names.index("O")) == len(labels):
            return []  # most turns name no one: counted in C, not walked label by label
        out: list[tuple[int, int]] = []
        start = -1
        for i, y in enumerate(labels):
            label = names[y]
            if label != "O":
                if start < 0:  # B or I after O opens a name; B right after a name continues it
                    start = i
            elif label == "O" and start >= 0:
                out.append((start, i))
                start = -1
        if start >= 0:
            out.append((start, len(labels)))
        return out


def load_weights(
    path: str = WEIGHTS_PATH,
) -> tuple[list[str], list[list[float]], StateWeights]:
    """Labels, transition weights and state weights from the data file written by training/names/train.py.

    Layout: one JSON header line ({"format", "params", "labels", "trans", "features", "names_bytes"}), then
    the feature names (UTF-8, sorted, newline-separated, `names_bytes` long), then three little-endian
    float32 weights per feature in the order of the names. Nothing in it is executed; a file of another
    format or a truncated one is refused (ValueError), and redaction then fails closed.
    """
    import json
    from array import array

    with open(path, "rb") as f:
        blob = f.read()
    head_end = blob.find(b"\n")
    header = json.loads(blob[:head_end]) if head_end > 0 else {}
    if header.get("format") != WEIGHTS_FORMAT:
        raise ValueError("not a name tagger weights file of a known format")
    count = int(header["features"])
    names_end = head_end + 1 + int(header["names_bytes"])
    weights = array("f")
    weights.frombytes(blob[names_end:])
    names = blob[head_end + 1 : names_end].decode("utf-8").split("\n") if count else []
    if len(names) != count or len(weights) != 3 * count:
        raise ValueError("name tagger weights file is truncated")
    if sys.byteorder != "little":
        weights.byteswap()
    state = StateWeights(dict(zip(names, range(count), strict=True)), weights)
    return list(header["labels"]), [list(map(float, row)) for row in header["trans"]], state


class StateWeights(Mapping[str, tuple[float, float, float]]):
    """Feature name -> (B, I, O) weights, read from the flat float array on demand.

    A dict of 7,000 three-float tuples would allocate ~30,000 objects at load, 7,000 of them tracked by the
    cycle collector: the next collections, during the first request, then cost several milliseconds. Here
    the load allocates the names and one index each; the decoder caches the few sums it needs."""

    __slots__ = ("_index", "_weights")

    def __init__(self, index: dict[str, int], weights: Sequence[float]) -> None:
        self._index = index
        self._weights = weights

    def get(self, key: str, default: object = None) -> Any:  # Mapping.get, without the ABC's __getitem__ path
        j = self._index.get(key)
        if j is None:
            return default
        w, j = self._weights, 3 * j
        return (w[j], w[j + 1], w[j + 2])

    def __getitem__(self, key: str) -> tuple[float, float, float]:
        w, j = self._weights, 3 * self._index[key]
        return (w[j], w[j + 1], w[j + 2])

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


_TAGGER: NameTagger | None = None


def tagger() -> NameTagger:
    global _TAGGER
    if _TAGGER is None:
        _TAGGER = NameTagger.load()
    return _TAGGER
