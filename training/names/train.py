"""Train the name tagger and export it for the layer.

    python training/names/train.py            # writes layers/common/voicetrail/redaction/data/name_tagger.bin
    python training/names/train.py --check    # retrains and fails unless the result equals the shipped file

Deterministic: the corpus comes from a fixed seed over sorted, pinned name lists, and CRFsuite's L-BFGS gives
byte-identical weights for identical input. python-crfsuite is a training-time dependency only; the layer
decodes the exported weights in pure Python (voicetrail/redaction/_names.py).

The export is a data file, not code (format in `voicetrail.redaction._names.load_weights`): one JSON header
line (format, training parameters, labels, transition weights, feature count, byte length of the names),
the feature names sorted and separated by newlines, then three little-endian float32 weights per feature
(labels B, I, O), ~4x smaller than the generated module it replaces and loaded without executing anything.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from array import array
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "layers" / "common"))

import corpus  # noqa: E402
import pycrfsuite  # noqa: E402

from voicetrail.redaction._names import (  # noqa: E402
    GAZETTEER_PATH,
    WEIGHTS_FORMAT,
    WEIGHTS_PATH,
    NameTagger,
    question_type,
)

PARAMS = {"c1": 0.02, "c2": 0.005, "max_iterations": 150, "feature.possible_transitions": True}
LABELS = ["B", "I", "O"]


def featurize(tagger: NameTagger, question: str | None, text: str, spans: list[tuple[int, int]]):  # type: ignore[no-untyped-def]
    raws, lows, kinds, labels = corpus.tokens_and_labels(text, spans)
    feats = tagger.features(raws, lows, kinds, corpus.is_cased(text), question_type(question))
    return feats, labels


def train(model_file: Path) -> None:
    # features need only the gazetteer; an empty model stands in for the weights
    gazetteer = Path(GAZETTEER_PATH).read_bytes()
    tagger = NameTagger(LABELS, [[0.0] * 3] * 3, {}, gazetteer)
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


def export(model_file: Path) -> bytes:
    """The model as the layer's data file (see the module docstring)."""
    tagger = pycrfsuite.Tagger()
    tagger.open(str(model_file))
    info = tagger.info()
    index = {label: i for i, label in enumerate(LABELS)}
    state: dict[str, list[float]] = {}
    for (attr, label), weight in info.state_features.items():
        state.setdefault(attr, [0.0, 0.0, 0.0])[index[label]] = weight
    trans = [[0.0] * 3 for _ in LABELS]
    for (a, b), weight in info.transitions.items():
        trans[index[a]][index[b]] = round(weight, 6)
    attrs = sorted(state)
    if any("\n" in attr for attr in attrs):
        raise ValueError("a feature name holds a newline: the data file separates names by newlines")
    names = "\n".join(attrs).encode("utf-8")
    weights = array("f", [w for attr in attrs for w in state[attr]])
    if sys.byteorder != "little":
        weights.byteswap()
    header = {
        "format": WEIGHTS_FORMAT,
        "params": PARAMS,
        "labels": LABELS,
        "trans": trans,
        "features": len(attrs),
        "names_bytes": len(names),
    }
    head = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("ascii")
    return head + b"\n" + names + weights.tobytes()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="retrain and compare with the shipped model")
    parser.add_argument("--crfsuite-model", type=Path, help="also keep the CRFsuite model file here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model_file = args.crfsuite_model or Path(tmp) / "names.crfsuite"
        train(model_file)
        exported = export(model_file)
    digest = hashlib.sha256(exported).hexdigest()
    if args.check:
        shipped = hashlib.sha256(Path(WEIGHTS_PATH).read_bytes()).hexdigest()
        print(f"retrained {digest}\nshipped   {shipped}")
        return 0 if digest == shipped else 1
    Path(WEIGHTS_PATH).write_bytes(exported)
    print(f"{Path(WEIGHTS_PATH).name}: {len(exported):,} bytes, sha256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
