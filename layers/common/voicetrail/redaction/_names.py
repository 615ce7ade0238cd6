"""Person names without cues: a linear-chain CRF over word, shape, gazetteer and dialogue-context features.

The model is trained offline with python-crfsuite (training/names/train.py) on generated dialogue in written
and spoken forms, then exported to `_name_model.py` (label names, transition weights and the state weight of
every kept feature). Decoding is Viterbi over three labels (B, I, O) in pure Python, so the layer
ships no compiled extension; it gives exactly the labels `pycrfsuite.Tagger.tag` gives for the same model
(checked by tests/unit/redaction/test_name_tagger.py).

Features per token (see `NameTagger.features`): the lower-cased word, 3-letter prefix and suffix, the
capitalisation class when the line is cased, gazetteer flags (Census frequency bands, other name lists,
"also an ordinary word"), the same for the neighbours, word bigrams around the token, position in the turn,
turn length, and the kind of question the previous turn asked (a name, "who", another question).

Model and gazetteer load on first use (~10 ms), not at import.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence

# os.path, not pathlib: pathlib would add ~3 ms to every cold start
DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
MODEL_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_name_model.py")
GAZETTEER_PATH = os.path.join(DATA_DIR, "name_gazetteer.txt")

# Closed-class words, number words and fillers are never (part of) a name, whatever the model says.
NEVER_NAME = frozenset(
    [
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
    ]
)

FILLERS = frozenset(("uh", "um", "umm", "uhm", "uhh", "er", "erm", "ah", "hmm", "mm"))

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
    if _ASK_NAME.search(previous_line):
        return "NAME"
    if _ASK_WHO.search(previous_line):
        return "WHO"
    if _ASK_OTHER.search(previous_line):
        return "Q"
    return "S"


def _shape(raw: str) -> str:
    if raw.isupper():
        return "U" if len(raw) > 1 else "T"
    if raw[:1].isupper():
        return "T" if raw[1:].islower() or not raw[1:].isalpha() else "M"
    return "l"


def _length_bucket(words: int) -> str:
    return str(words) if words < 4 else "4" if words < 7 else "7"


class NameTagger:
    """Tags the tokens of one turn as B(egin)/I(nside)/O(utside) of a person name."""

    __slots__ = ("_gaz", "_intrinsic", "_summary", "labels", "state", "trans")

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
        self._summary: dict[str, str] = {}

    @classmethod
    def load(cls, gazetteer_path: str = GAZETTEER_PATH) -> NameTagger:
        # the weights are a generated module: from the layer's bytecode they load in ~3 ms
        from voicetrail.redaction import _name_model as model

        # kept as undecoded bytes: parsing 120k lines into a dict, or even decoding them, would cost more
        # cold start than all the lookups of a call
        with open(gazetteer_path, "rb") as f:
            gazetteer = f.read()
        return cls(model.LABELS, model.TRANS, model.STATE, gazetteer)

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
        n = len(lows)
        words = sum(1 for k in kinds if k != "P")
        nb = _length_bucket(words)
        summary = [self._summary_of(low) if kinds[i] == "W" else kinds[i] for i, low in enumerate(lows)]
        shapes = [_shape(r) if cased and kinds[i] == "W" else "" for i, r in enumerate(raws)]
        # context skips hesitations, so "hi uh Krysten" reads like "hi Krysten"
        kept = [i for i in range(n) if lows[i] not in FILLERS]
        rank = {i: r for r, i in enumerate(kept)}
        out: list[list[str]] = []
        for i in range(n):
            feats = list(self._intrinsic_of(raws[i], lows[i], kinds[i], cased))
            r = rank.get(i)
            if r is None:
                feats.append("filler")
                out.append(feats)
                continue
            b1 = kept[r - 1] if r > 0 else -1
            b2 = kept[r - 2] if r > 1 else -1
            a1 = kept[r + 1] if r + 1 < len(kept) else -1
            a2 = kept[r + 2] if r + 2 < len(kept) else -1
            p1 = lows[b1] if b1 >= 0 else "^"
            p2 = lows[b2] if b2 >= 0 else "^"
            n1 = lows[a1] if a1 >= 0 else "$"
            n2 = lows[a2] if a2 >= 0 else "$"
            feats.append("w-1=" + p1)
            feats.append("w-2=" + p2)
            feats.append("w+1=" + n1)
            feats.append("w+2=" + n2)
            feats.append("b-=" + p2 + "|" + p1)
            feats.append("b+=" + n1 + "|" + n2)
            feats.append("g-1=" + (summary[b1] if b1 >= 0 else "^"))
            feats.append("g+1=" + (summary[a1] if a1 >= 0 else "$"))
            if cased:
                feats.append("c-1=" + (shapes[b1] if b1 >= 0 else "^"))
                feats.append("c+1=" + (shapes[a1] if a1 >= 0 else "$"))
            pos = str(r) if r < 3 else "m"
            feats.append("i=" + pos)
            feats.append("n=" + nb)
            feats.append("q=" + question)
            feats.append("qn=" + question + nb)
            feats.append("qi=" + question + pos)
            out.append(feats)
        return out

    # ------------------------------------------------------------------------------------------ decoding
    def tag(self, feats: list[list[str]], bias: float = RECALL_BIAS) -> list[int]:
        """Viterbi: the label index per token with the highest total state + transition weight, plus `bias`
        on every name label (0 gives exactly CRFsuite's labels)."""
        n = len(feats)
        if n == 0:
            return []
        state = self.state
        trans = self.trans
        nl = len(self.labels)
        prior = [0.0 if label == "O" else bias for label in self.labels]
        scores: list[list[float]] = []
        for token_feats in feats:
            row = list(prior)
            for attr in token_feats:
                w = state.get(attr)
                if w is not None:
                    for y in range(nl):
                        row[y] += w[y]
            scores.append(row)
        best = scores[0]
        back: list[list[int]] = []
        for t in range(1, n):
            row = scores[t]
            new = [0.0] * nl
            ptr = [0] * nl
            for y in range(nl):
                top, arg = best[0] + trans[0][y], 0
                for x in range(1, nl):
                    v = best[x] + trans[x][y]
                    if v > top:
                        top, arg = v, x
                new[y] = top + row[y]
                ptr[y] = arg
            best = new
            back.append(ptr)
        y = max(range(nl), key=best.__getitem__)
        path = [y]
        for ptr in reversed(back):
            y = ptr[y]
            path.append(y)
        path.reverse()
        return path

    def spans(self, labels: list[int]) -> list[tuple[int, int]]:
        """(first, last+1) token index ranges labelled as names; adjacent names form one range."""
        names = self.labels
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


_TAGGER: NameTagger | None = None


def tagger() -> NameTagger:
    global _TAGGER
    if _TAGGER is None:
        _TAGGER = NameTagger.load()
    return _TAGGER
