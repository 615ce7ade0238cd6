"""Generate the look-alike fold table of the redaction detection view (dev-time only).

Reads Unicode's confusables data as packaged by `confusable-homoglyphs` (MIT, a dev dependency: its
900 KB JSON never ships) and writes `redaction/lexicon/homoglyphs.json`: every single character that
Unicode lists as confusable with an ASCII letter, digit, "@" or ".", and that NFKC does not already map
to ASCII (fullwidth and mathematical letters are NFKC's job); letters only, except look-alikes of "@"
and ".". Only the table ships in the layer.

    python tools/gen_homoglyphs.py            # rewrite the table
    python tools/gen_homoglyphs.py --check    # exit 1 if the table is stale
"""

from __future__ import annotations

import json
import string
import sys
import unicodedata
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "layers/common/voicetrail/redaction/lexicon/homoglyphs.json"
ASCII_TARGETS = string.ascii_letters + string.digits + "@."
# Not in the confusables data but used as a dot in addresses typed on CJK keyboards.
EXTRA = {"\u3002": "."}


def build() -> dict[str, str]:
    import confusable_homoglyphs  # type: ignore[import-untyped]

    data = json.loads((Path(confusable_homoglyphs.__file__).parent / "confusables.json").read_text())
    table: dict[str, str] = {}
    for target in ASCII_TARGETS:
        for entry in data.get(target, []):
            char = entry["c"]
            if len(char) != 1 or char.isascii() or char.isspace():
                continue
            if unicodedata.normalize("NFKC", char).isascii():
                continue  # NFKC folds it already
            category = unicodedata.category(char)
            if category == "Nd":
                continue  # decimal digits are mapped by their value (Bengali zero is 0, not O)
            if not category.startswith("L") and target not in "@.":
                continue  # letters only (the multiplication sign stays); marks are removed, not folded
            table.setdefault(char, target)
    table.update(EXTRA)
    return dict(sorted(table.items()))


def main() -> int:
    text = json.dumps(build(), ensure_ascii=True, separators=(",", ":"), sort_keys=True) + "\n"
    if "--check" in sys.argv:
        return 0 if TARGET.read_text() == text else 1
    TARGET.write_text(text)
    print(f"{TARGET.name}: {len(json.loads(text))} characters, {len(text)} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
