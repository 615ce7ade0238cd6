"""The learned name tagger: pure-Python decoding equals CRFsuite's, features, and reproducible training."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from voicetrail.redaction import DEFAULT_POLICY, RedactionPolicy, Turn, redact, redact_turns
from voicetrail.redaction._names import WEIGHTS_PATH, NameTagger, load_weights, question_type, tagger
from voicetrail.redaction.detection.tokens import Tokens as _Tokens

ROOT = Path(__file__).resolve().parents[3]
TRAINING = ROOT / "training" / "names"


def _features(t: NameTagger, text: str, question: str | None = None) -> list[list[str]]:
    tk = _Tokens(text)
    cased = any(c.isupper() for c in text) and any(c.islower() for c in text)
    return t.features(tk.raws, tk.lows, tk.types, cased, question_type(question))


def test_pure_python_viterbi_gives_crfsuites_labels(tmp_path: Path) -> None:
    """Train a small CRF on part of the generated corpus, export it as the layer does, decode both ways."""
    pycrfsuite = pytest.importorskip("pycrfsuite")
    sys.path.insert(0, str(TRAINING))
    try:
        import corpus
        import train
    finally:
        sys.path.remove(str(TRAINING))
    gazetteer = tagger()._gaz
    blank = NameTagger(train.LABELS, [[0.0] * 3] * 3, {}, gazetteer)
    trainer = pycrfsuite.Trainer(verbose=False)
    samples = []
    for i, (question, text, spans) in enumerate(corpus.examples(repeats=1)):
        feats, labels = train.featurize(blank, question, text, spans)
        if i % 3:
            trainer.append(feats, labels)
        else:
            samples.append(feats)
    trainer.set_params({"c1": 0.05, "c2": 0.01, "max_iterations": 40})
    model_file = tmp_path / "small.crfsuite"
    trainer.train(str(model_file))
    weights_file = tmp_path / "small.bin"
    weights_file.write_bytes(train.export(model_file))
    labels, trans, state = load_weights(str(weights_file))
    ours = NameTagger(labels, trans, state, gazetteer)
    reference = pycrfsuite.Tagger()
    reference.open(str(model_file))
    assert len(samples) > 200
    for feats in samples:
        assert [ours.labels[y] for y in ours.tag(feats, bias=0.0)] == reference.tag(feats)


def test_weights_load_from_the_data_file() -> None:
    labels, trans, state = load_weights()
    assert labels == ["B", "I", "O"] and len(trans) == 3 and all(len(row) == 3 for row in trans)
    assert len(state) > 1000 and all(len(w) == 3 for w in state.values())
    assert any(w[0] > 0 for w in state.values())


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: b'{"format":"other/9"}' + blob[blob.index(b"\n") :],  # another format
        lambda blob: blob[:-6],  # truncated weights
        lambda blob: b"",  # empty
        lambda blob: blob.replace(b"\n", b"", 1),  # no header line end
    ],
    ids=["format", "truncated", "empty", "no-header"],
)
def test_a_damaged_weights_file_is_refused(tmp_path: Path, damage: object) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(damage(Path(WEIGHTS_PATH).read_bytes()))  # type: ignore[operator]
    with pytest.raises(ValueError):
        load_weights(str(bad))


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What's the name on the account?", "NAME"),
        ("can you spell that for me", "NAME"),
        ("Who is the payment for?", "WHO"),
        ("How can I help you today?", "Q"),
        ("Okay.", "S"),
        (None, "0"),
    ],
)
def test_question_type_of_the_previous_turn(question: str | None, kind: str) -> None:
    assert question_type(question) == kind


def test_gazetteer_flags_and_misses() -> None:
    t = tagger()
    assert "F1" in t.flags("maria") and "W" in t.flags("will")
    assert t.flags("summer") != "" and t.flags("qqqzzx") == ""
    assert t.flags("") == ""


def test_context_skips_fillers() -> None:
    t = tagger()
    plain = _features(t, "hi krysten")[1]
    filled = _features(t, "hi uh krysten")[2]
    assert "w-1=hi" in plain and "w-1=hi" in filled


def test_findings_never_carry_values_and_stay_inside_a_sentence() -> None:
    text = "Please pay Jorge Ramirez. Thanks so much."
    r = redact(text)
    assert all(set(vars_of(f)) == {"kind", "start", "end"} for f in r.findings)
    for f in r.findings:
        assert "." not in text[f.start : f.end]


def vars_of(finding: object) -> tuple[str, ...]:
    return tuple(finding.__slots__)  # type: ignore[attr-defined]


def test_bare_answer_uses_the_previous_turn() -> None:
    turns = [Turn("assistant", "who am i speaking with"), Turn("user", "wojtek")]
    assert redact_turns(turns)[1].text == "[NAME]"


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("I live in Fresno with my son.", {"location"}),
        ("we moved to cedar rapids last year", {"location"}),
        ("She is from Marin County.", {"location"}),
    ],
)
def test_location_is_off_by_default_and_on_in_the_phi_profile(text: str, kinds: set[str]) -> None:
    assert "location" not in DEFAULT_POLICY.kinds
    assert redact(text).findings == ()
    phi = RedactionPolicy.from_env_value("phi")
    assert {f.kind for f in redact(text, phi).findings} == kinds


@pytest.mark.slow
def test_training_is_reproducible() -> None:
    """Retraining from the pinned lists and the fixed seed gives the shipped model byte for byte."""
    result = subprocess.run(
        [sys.executable, str(TRAINING / "train.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "text",
    [
        "Please pay Jorge Ramirez. Thanks so much.",
        "My address is 12 Oak St. Maria will be there.",
        "I live at 40 Elm Road. Call me tomorrow.",
        "It's Priya. Can you hear me?",
        "my name is John Smith. I need help with a bill.",
        "Mr. Okafor called. He wants a refund!",
        "Send it to Ana Lima. Then tell Bruno.",
    ],
)
def test_no_finding_crosses_a_sentence_end(text: str) -> None:
    for f in redact(text).findings:
        value = text[f.start : f.end]
        assert ". " not in value.replace("St. ", "").replace("Mr. ", ""), (f.kind, value)
        assert "? " not in value and "! " not in value


@pytest.mark.parametrize(
    "value",
    ["twilio", "pstn", "inboundPhoneCall", "end-of-call-report", "en-US", "openai", "transferCall", "queued"],
)
def test_metadata_values_alone_are_not_names(value: str) -> None:
    assert redact(value).text == value


@pytest.mark.parametrize(
    "value", ["wss://example.test/abc/listen", "CA799cb4b16ae54cd0977983746130", "a_b=c"]
)
def test_machine_values_skip_the_tagger(value: str) -> None:
    assert redact(value).findings == ()


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("Please pay Jorge Ramirez. Thanks so much.", None),
        ("hi uh um krysten how are you", "who am i speaking with"),
        ("uh", None),
        ("Uh, Maria.", "What's the name on the account?"),
        ("send sixty dollars to grace um today", "How can I help you today?"),
        ("OK so Dr. O'Neil-Smith and I, y'know, met at 4 pm", "Okay."),
        ("a b c d e f g", None),
    ],
)
def test_fast_emissions_equal_the_sum_of_the_features(text: str, question: str | None) -> None:
    """The cached per-role sums give what summing every feature string gives, fillers and edges included."""
    from voicetrail.redaction._names import _sum

    t = tagger()
    tk = _Tokens(text)
    for cased in (True, False):
        slow = [
            _sum(t.state, f) for f in t.features(tk.raws, tk.lows, tk.types, cased, question_type(question))
        ]
        fast = t.emissions(tk.raws, tk.lows, tk.types, cased, question_type(question))
        assert len(fast) == len(slow)
        for a, b in zip(fast, slow, strict=True):
            assert a == pytest.approx(b, abs=1e-9)
