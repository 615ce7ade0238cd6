"""Build the compact name gazetteer shipped in the layer (voicetrail/redaction/data/name_gazetteer.txt).

    python training/names/gazetteer.py

One line per lower-case token: `word<TAB>flags`. Flags (the tagger turns each into a feature):
F1/F2/F3 Census first name by frequency band (top 300, top 1500, rest), F4 first name from Faker only;
L1/L2/L3 Census surname (rank <= 1000, <= 10000, <= 40000), L4 surname from Faker only;
P a particle inside surnames (van, de, la, bin...); W an ordinary English word (SCOWL), alone when the word
is in no name list.
ASCII-folded forms are added next to accented ones. Held-out locales are left out (see sources.py).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sources

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "layers" / "common" / "voicetrail" / "redaction" / "data" / "name_gazetteer.txt"
CENSUS_LAST_CAP = 40_000
_SPLIT = re.compile(r"[\s\-]+")


def _add(table: dict[str, set[str]], name: str, flag: str) -> None:
    for part in _SPLIT.split(name.strip()):
        part = part.strip(".")
        if len(part) < 2 or not part.replace("'", "").isalpha():
            continue
        flag_here = "P" if part.islower() else flag
        for form in {part.lower(), sources.fold(part).lower()}:
            if form:
                table.setdefault(form, set()).add(flag_here)


def build() -> dict[str, str]:
    table: dict[str, set[str]] = {}
    for rank, name in enumerate(sources.census_first()):
        _add(table, name, "F1" if rank < 300 else "F2" if rank < 1500 else "F3")
    for rank, name in enumerate(sources.census_last()[:CENSUS_LAST_CAP]):
        _add(table, name, "L1" if rank < 1000 else "L2" if rank < 10000 else "L3")
    for name in sources.faker_first():
        _add(table, name, "F4")
    for name in sources.faker_last():
        _add(table, name, "L4")
    words = sources.dictionary_words()
    out: dict[str, str] = {}
    for word, flags in table.items():
        # a band already given by the Census wins over the Faker-only band of the same kind
        if any(f in flags for f in ("F1", "F2", "F3")):
            flags.discard("F4")
        if any(f in flags for f in ("L1", "L2", "L3")):
            flags.discard("L4")
        if word in words:
            flags.add("W")
        out[word] = ",".join(sorted(flags))
    # every other ordinary word too: "not a name, a word" is what tells "summer" from "Sumner" in lower case
    for word in words:
        if word not in out and word.replace("'", "").replace("-", "").isalpha() and word.isascii():
            out[word] = "W"
    return out


def main() -> None:
    table = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # sorted by UTF-8 bytes, the order the tagger's bisection reads them in
    lines = sorted(f"{w}\t{f}\n".encode() for w, f in table.items())
    OUT.write_bytes(b"".join(lines))
    print(f"{OUT.relative_to(ROOT)}: {len(table)} entries, {OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
