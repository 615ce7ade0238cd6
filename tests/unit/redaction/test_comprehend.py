"""The optional Amazon Comprehend second pass, with botocore's Stubber and a fake client (no network)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from voicetrail.redaction import ComprehendPiiPass, Turn, redact, redact_turns


class FakeComprehend:
    """Finds every occurrence of the given words, like DetectPiiEntities would for NAME/ADDRESS."""

    def __init__(self, words: dict[str, str], fail: bool = False) -> None:
        self.words = words
        self.fail = fail
        self.texts: list[str] = []

    def detect_pii_entities(self, Text: str, LanguageCode: str) -> dict[str, Any]:  # noqa: N803 (boto3 names)
        self.texts.append(Text)
        if self.fail:
            raise RuntimeError("ThrottlingException")
        entities = []
        for word, entity_type in self.words.items():
            start = Text.find(word)
            while start >= 0:
                entities.append(
                    {"Type": entity_type, "Score": 0.99, "BeginOffset": start, "EndOffset": start + len(word)}
                )
                start = Text.find(word, start + 1)
        return {"Entities": entities}


# The local pass finds person names itself now, so these tests give the second pass a street name without
# a house number ("the old mill road"), which the local pass leaves alone.
def test_second_pass_adds_findings_with_offsets_in_the_original_text() -> None:
    text = "ssn 123-45-6789 by the old mill road please"
    fake = FakeComprehend({"old mill road": "ADDRESS"})
    r = redact(text, second_pass=ComprehendPiiPass(fake))
    assert r.text == "ssn [SSN] by the [ADDRESS] please"
    found = next(f for f in r.findings if f.kind == "address")
    assert text[found.start : found.end] == "old mill road"
    # Comprehend only ever sees the locally redacted text
    assert fake.texts == ["ssn [SSN] by the old mill road please"]


def test_second_pass_ignores_kinds_outside_its_scope_and_low_scores() -> None:
    fake = FakeComprehend({"Tuesday": "DATE_TIME", "old mill": "AGE"})
    text = "by the old mill on Tuesday"
    assert redact(text, second_pass=ComprehendPiiPass(fake)).text == text


def test_second_pass_failure_keeps_local_result_and_counts() -> None:
    adapter = ComprehendPiiPass(FakeComprehend({}, fail=True))
    r = redact("ssn 123-45-6789, by old mill road", second_pass=adapter)
    assert r.text == "ssn [SSN], by old mill road"
    assert adapter.failures == 1


def test_second_pass_over_turns_is_one_request() -> None:
    fake = FakeComprehend({"Zelda": "NAME", "12 old mill road": "ADDRESS"})
    turns = [Turn("user", "it's Zelda"), Turn("assistant", "thanks"), Turn("user", "at 12 old mill road")]
    results = redact_turns(turns, second_pass=ComprehendPiiPass(fake))
    assert [r.text for r in results] == ["it's [NAME]", "thanks", "at [ADDRESS]"]
    assert len(fake.texts) == 1


def test_with_botocore_stubber() -> None:
    client = boto3.client(
        "comprehend", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    text = "hello from old mill"
    with Stubber(client) as stub:
        stub.add_response(
            "detect_pii_entities",
            {"Entities": [{"Type": "ADDRESS", "Score": 0.97, "BeginOffset": 11, "EndOffset": 19}]},
            {"Text": text, "LanguageCode": "en"},
        )
        r = redact(text, second_pass=ComprehendPiiPass(client))
        stub.assert_no_pending_responses()
    assert r.text == "hello from [ADDRESS]"


def test_large_text_is_chunked_under_the_request_limit() -> None:
    fake = FakeComprehend({"Zelda": "NAME"})
    adapter = ComprehendPiiPass(fake, max_request_bytes=1000)
    text = ("word " * 150 + "Zelda ") * 3
    r = redact(text, second_pass=adapter)
    assert r.counts() == {"name": 3}
    assert all(len(t.encode()) <= 1000 for t in fake.texts)
    assert adapter.calls == len(fake.texts) > 1


def test_the_wiring_builds_a_client(monkeypatch: pytest.MonkeyPatch) -> None:
    from voicetrail.wiring.comprehend import comprehend_second_pass

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    adapter = comprehend_second_pass(region_name="eu-west-1")
    assert adapter._client.meta.region_name == "eu-west-1"
