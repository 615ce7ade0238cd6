"""Train the name tagger and export it for the layer.

    python training/names/train.py            # writes layers/common/voicetrail/redaction/data/name_model.json
    python training/names/train.py --check    # retrains and fails unless the result equals the shipped file

Deterministic: the corpus comes from a fixed seed over sorted, pinned name lists, and CRFsuite's L-BFGS gives
byte-identical weights for identical input. python-crfsuite is a training-time dependency only; the layer
decodes the exported weights in pure Python (voicetrail/redaction/_names.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "layers" / "common"))

import corpus  # noqa: E402
import pycrfsuite  # noqa: E402

from voicetrail.redaction._names import GAZETTEER_PATH, MODEL_PATH, NameTagger, question_type  # noqa: E402

PARAMS = {"c1": 0.02, "c2": 0.005, "max_iterations": 150, "feature.possible_transitions": True}
LABELS = ["B", "I", "O"]


def featurize(tagger: NameTagger, question: str | None, text: str, spans: list[tuple[int, int]]):  # type: ignore[no-untyped-def]
    raws, lows, kinds, labels = corpus.tokens_and_labels(text, spans)
    feats = tagger.features(raws, lows, kinds, corpus.is_cased(text), question_type(question))
    return feats, labels


def train(model_file: Path) -> None:
    # features need only the gazetteer; an empty model stands in for the weights
    tagger = NameTagger({"labels": LABELS, "state": {}, "trans": [[0.0] * 3] * 3}, GAZETTEER_PATH.read_text("utf-8"))
    trainer = pycrfsuite.Trainer(verbose=False)
    n = 0
    for question, text, spans in corpus.examples():
        feats, labels = featurize(tagger, question, text, spans)
        if feats:
            trainer.append(feats, labels)
            n += 1
    trainer.set_params(PARAMS)
    trainer.train(str(model_file))
    print(f"trained on {n} turns")


def export(model_file: Path) -> str:
    tagger = pycrfsuite.Tagger()
    tagger.open(str(model_file))
    info = tagger.info()
    labels = LABELS
    index = {label: i for i, label in enumerate(labels)}
    state: dict[str, list[float]] = {}
    for (attr, label), weight in info.state_features.items():
        state.setdefault(attr, [0.0, 0.0, 0.0])[index[label]] = round(weight, 5)
    trans = [[0.0] * 3 for _ in labels]
    for (a, b), weight in info.transitions.items():
        trans[index[a]][index[b]] = round(weight, 5)
    model = {"labels": labels, "trans": trans, "state": dict(sorted(state.items())), "params": PARAMS}
    return json.dumps(model, separators=(",", ":"), ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="retrain and compare with the shipped model")
    parser.add_argument("--crfsuite-model", type=Path, help="also keep the CRFsuite model file here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model_file = args.crfsuite_model or Path(tmp) / "names.crfsuite"
        train(model_file)
        exported = export(model_file)
    digest = hashlib.sha256(exported.encode()).hexdigest()
    if args.check:
        shipped = hashlib.sha256(MODEL_PATH.read_bytes()).hexdigest()
        print(f"retrained {digest}\nshipped   {shipped}")
        return 0 if digest == shipped else 1
    MODEL_PATH.write_text(exported, encoding="utf-8")
    print(f"{MODEL_PATH.name}: {len(exported):,} bytes, sha256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
