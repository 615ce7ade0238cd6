"""Number runs: consecutive digit-bearing tokens (typed digits, spoken digits, "oh", "double", "twenty",
alphanumerics) joined by separators and fillers, with the digits they spell.
"""

from __future__ import annotations

from collections.abc import Sequence

from voicetrail.redaction.detection.tokens import ORDINAL_RE, Tokens, crosses
from voicetrail.redaction.lexicon.numbers import (
    JOIN_PUNCT,
    JOIN_WORDS,
    MULTIPLIERS,
    SCALES,
    TEENS,
    TENS,
    UNITS,
)

# Words that can open a spoken number (digits, teens, tens, "oh", "double").
_NUMBER_WORDS = frozenset(UNITS) | frozenset(TEENS) | frozenset(TENS) | frozenset(MULTIPLIERS)


class Run:
    __slots__ = ("end", "first", "last", "letters", "plus", "start", "value")

    def __init__(self, first: int, last: int, start: int, end: int, value: str, plus: bool) -> None:
        self.first = first
        self.last = last
        self.start = start
        self.end = end
        self.value = value
        self.plus = plus
        self.letters = sum(1 for c in value if c.isalpha())

    @property
    def digits(self) -> int:
        return len(self.value) - self.letters


def digitish(tk: Tokens, i: int, in_run: bool) -> bool:
    t = tk.types[i]
    low = tk.lows[i]
    if t == "N":
        return True
    if t == "A":
        return ORDINAL_RE.fullmatch(low) is None
    if t != "W":
        return False
    if low in ("oh", "o"):
        if tk.raws[i] == "OH" and not in_run:
            return False  # typed upper case before a number it is Ohio ("Dayton OH 45459"), not a zero
        # "oh" is a zero only inside a number or right before one ("oh five"), never "Oh, I see".
        return in_run or (i + 1 < tk.n and tk.starts[i + 1] - tk.ends[i] <= 1 and digitish(tk, i + 1, True))
    if low in UNITS or low in TEENS or low in TENS:
        return True
    if low in MULTIPLIERS:
        return i + 1 < tk.n and (tk.types[i + 1] == "N" or tk.lows[i + 1] in UNITS)
    return in_run and low in SCALES


def _spoken_value(items: list[tuple[str, str]]) -> str:
    """Digits of a run from its items: ("n", "123") typed, ("u", "5") unit, ("t", "14") teen, ("d", "2") tens,
    ("s", "hundred"), ("m", "2") double/triple, ("a", "1EG4") alphanumeric."""
    out: list[str] = []
    i = 0
    n = len(items)

    def below_100(j: int) -> tuple[str | None, int]:
        if j < n and items[j][0] == "t":
            return items[j][1], j + 1
        if j < n and items[j][0] == "d":
            if j + 1 < n and items[j + 1][0] == "u" and items[j + 1][1] != "0":
                return items[j][1] + items[j + 1][1], j + 2
            return items[j][1] + "0", j + 1
        return None, j

    while i < n:
        kind, val = items[i]
        nxt = items[i + 1] if i + 1 < n else ("", "")
        if kind == "m":
            if nxt[0] in ("u", "n"):
                out.append(nxt[1] * int(val))
                i += 2
            else:
                i += 1
            continue
        if kind in ("u", "t") and nxt == ("s", "hundred"):
            rest, j = below_100(i + 2)
            if rest is not None:
                out.append(val + rest.zfill(2))
                i = j
            elif (
                i + 2 < n
                and items[i + 2][0] == "u"
                and not (i + 3 < n and items[i + 3][0] in ("u", "n", "m"))
            ):
                out.append(val + "0" + items[i + 2][1])
                i += 3
            else:
                out.append(val + "00")
                i += 2
            continue
        if kind == "u" and nxt == ("s", "thousand"):
            j = i + 2
            if j + 1 < n and items[j][0] == "u" and items[j + 1] == ("s", "hundred"):
                rest, k = below_100(j + 2)
                out.append(val + items[j][1] + (rest or "00").zfill(2))
                i = k
                continue
            rest, k = below_100(j)
            if rest is not None:
                out.append(val + rest.zfill(3))
                i = k
            elif j < n and items[j][0] == "u":
                out.append(val + "00" + items[j][1])
                i = j + 1
            else:
                out.append(val + "000")
                i = j
            continue
        if kind == "d":
            rest, j = below_100(i)
            out.append(rest or "")
            i = j
            continue
        if kind == "s":
            i += 1
            continue
        out.append(val)
        i += 1
    return "".join(out)


def build_runs(tk: Tokens, hard_breaks: Sequence[int]) -> list[Run]:
    runs: list[Run] = []
    n = tk.n
    # a run opens at a token with a digit or at a number word: visit those tokens only
    openers = sorted(set(tk.positions(_NUMBER_WORDS)) | set(tk.numeric))
    next_free = 0
    for i in openers:
        if i < next_free or not digitish(tk, i, False):
            continue
        items: list[tuple[str, str]] = []
        j = i
        last = i
        while True:
            low = tk.lows[j]
            t = tk.types[j]
            if t == "N":
                items.append(("n", low))
            elif t == "A":
                items.append(("a", tk.raws[j].upper()))
            elif low in UNITS:
                items.append(("u", str(UNITS[low])))
            elif low in TEENS:
                items.append(("t", str(TEENS[low])))
            elif low in TENS:
                items.append(("d", str(TENS[low])))
            elif low in MULTIPLIERS:
                items.append(("m", str(MULTIPLIERS[low])))
            else:
                items.append(("s", low))
            last = j
            k = j + 1
            joins = 0
            while k < n and joins < 4:
                lk = tk.lows[k]
                if (
                    (tk.types[k] == "P" and lk in JOIN_PUNCT)
                    or lk in JOIN_WORDS
                    or (lk == "and" and items[-1][0] == "s")
                ):
                    k += 1
                    joins += 1
                else:
                    break
            if k < n and digitish(tk, k, True) and not crosses(hard_breaks, tk.ends[j], tk.starts[k]):
                j = k
                continue
            break
        start = tk.starts[i]
        plus = False
        if i > 0 and ((tk.lows[i - 1] == "+" and tk.ends[i - 1] >= start - 1) or tk.lows[i - 1] == "plus"):
            plus = True
            start = tk.starts[i - 1]
        value = _spoken_value(items)
        if value:
            runs.append(Run(i, last, start, tk.ends[last], value, plus))
        next_free = last + 1
    return runs
