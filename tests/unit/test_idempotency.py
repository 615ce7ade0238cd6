"""Semantic idempotency keys: retries collapse, distinct events never do."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.conftest import load_fixture
from voicetrail.providers.vapi.idempotency import semantic_key
from voicetrail.providers.vapi.messages import parse_envelope

pytestmark = pytest.mark.unit


def key(payload: dict[str, Any]) -> str:
    return semantic_key(parse_envelope(json.dumps(payload).encode()))


def with_message(payload: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    changed["message"].update(changes)
    return changed


@pytest.mark.parametrize(
    ("fixture", "expected_prefix"),
    [
        ("vapi/end-of-call-report.json", "end-of-call-report"),
        ("vapi/assistant-request.json", "assistant-request"),
        ("vapi/status-update.json", "status-update#in-progress"),
        ("vapi/tool-calls.json", "tool-calls#call_73daba4d_1"),
        ("vapi/tool-calls-docs-shape.json", "tool-calls#abc123"),
        ("vapi/transcript-final-user.json", "transcript#user#final#"),
        ("vapi/speech-update.json", "speech-update#user#started#1#"),
        ("vapi/unknown-type.json", "brand-new-type#t1764079200200#"),
    ],
)
def test_key_shape_per_type(fixture: str, expected_prefix: str) -> None:
    assert key(load_fixture(fixture)).startswith(expected_prefix)


def test_retry_with_regenerated_presigned_urls_has_the_same_key() -> None:
    report = load_fixture("vapi/end-of-call-report.json")
    retry = copy.deepcopy(report)
    retry["message"]["artifact"]["presignedMonoUrl"] = "https://storage.vapi.ai/x.wav?sig=NEW"
    assert key(report) == key(retry)


def test_retry_of_unknown_type_with_new_presigned_urls_has_the_same_key() -> None:
    message = load_fixture("vapi/unknown-type.json")
    first = with_message(message, artifact={"presignedMonoUrl": "a"}, presignedUrl="a")
    second = with_message(message, artifact={"presignedMonoUrl": "b"}, presignedUrl="b")
    assert key(first) == key(second)


DISTINCT = [
    ("status differs", "vapi/status-update.json", {"status": "ended"}),
    ("transcript text differs", "vapi/transcript-final-user.json", {"transcript": "something else"}),
    ("transcript timestamp differs", "vapi/transcript-final-user.json", {"timestamp": 1764079299999}),
    ("partial vs final", "vapi/transcript-final-user.json", {"transcriptType": "partial"}),
    ("role differs", "vapi/transcript-final-user.json", {"role": "assistant"}),
    ("speech turn differs", "vapi/speech-update.json", {"turn": 7}),
    ("speech status differs", "vapi/speech-update.json", {"status": "stopped"}),
    (
        "tool call id differs",
        "vapi/tool-calls-docs-shape.json",
        {"toolCallList": [{"id": "other", "name": "sendEmail", "parameters": {}}]},
    ),
    ("unknown type content differs", "vapi/unknown-type.json", {"note": "different"}),
    ("unknown type timestamp differs", "vapi/unknown-type.json", {"timestamp": 1}),
]


@pytest.mark.parametrize(("fixture", "changes"), [c[1:] for c in DISTINCT], ids=[c[0] for c in DISTINCT])
def test_distinct_events_have_distinct_keys(fixture: str, changes: dict[str, Any]) -> None:
    original = load_fixture(fixture)
    assert key(original) != key(with_message(original, **changes))


def test_same_words_said_twice_at_different_times_are_two_events() -> None:
    yes = load_fixture("vapi/transcript-final-user.json")
    first = with_message(yes, transcript="yes", timestamp=1764079201000)
    second = with_message(yes, transcript="yes", timestamp=1764079209000)
    assert key(first) != key(second)
