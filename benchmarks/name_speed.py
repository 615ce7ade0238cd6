"""Time of name detection against the whole redaction, by text size: is the name part linear, and its share.

    python benchmarks/name_speed.py                                   # this checkout's layer
    python benchmarks/name_speed.py --layer /tmp/before/layers/common # another layer (before/after)

The text is realistic: turns of the redaction benchmark's evaluation set (names, numbers, addresses, PII-free
chatter) drawn with a fixed seed and joined by newlines, 100 kB, 1 MB and 5 MB; and the same 1 MB as one
line (no newlines), the case that made per-match line rescans quadratic. For each: CPU seconds of
`redact(text)` and of the two name detectors alone (the learned tagger and the cue detector) on the same
tokens, best of `--runs`. CPU time (process_time), not wall time, so other jobs on the machine matter less.
Not a test: no assertions.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "benchmarks" / "data" / "redaction_eval.json"


def _text(size: int, one_line: bool) -> str:
    lines = [t["text"] for c in json.loads(EVAL.read_text(encoding="utf-8")) for t in c["turns"]]
    rng = random.Random(7)
    out: list[str] = []
    total = 0
    while total < size:
        line = rng.choice(lines)
        out.append(line)
        total += len(line) + 1
    return (" " if one_line else "\n").join(out)[:size]


def _cpu(fn: Callable[[], object], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layer", type=Path, default=ROOT / "layers" / "common")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(args.layer))
    from voicetrail.redaction import redact

    try:  # the layout after the engine split
        from voicetrail.redaction.detection.names import detect_names, detect_names_learned
        from voicetrail.redaction.detection.tokens import Tokens
    except ImportError:  # the single engine module before it
        from voicetrail.redaction._engine import (  # type: ignore[no-redef]
            _detect_names as detect_names,
        )
        from voicetrail.redaction._engine import (  # type: ignore[no-redef]
            _detect_names_learned as detect_names_learned,
        )
        from voicetrail.redaction._engine import _Tokens as Tokens  # type: ignore[no-redef]

    redact("warm up: Maria Delgado, 12 Oak Street")  # loads the tagger
    print(f"layer {args.layer}; CPU seconds, best of {args.runs}")
    print(f"{'text':<22}{'redact':>9}{'names':>9}{'share':>8}{'s/MB all':>10}{'s/MB names':>12}")
    for label, size, one_line in (
        ("100 kB lines", 100_000, False),
        ("1 MB lines", 1_000_000, False),
        ("5 MB lines", 5_000_000, False),
        ("1 MB one line", 1_000_000, True),
    ):
        text = _text(size, one_line)
        tk = Tokens(text)
        total = _cpu(lambda text=text: redact(text), args.runs)
        names = _cpu(
            lambda text=text, tk=tk: (detect_names_learned(text, tk), detect_names(text, tk)), args.runs
        )
        mb = size / 1e6
        share = names / total
        print(f"{label:<22}{total:>9.2f}{names:>9.2f}{share:>8.0%}{total / mb:>10.2f}{names / mb:>12.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
