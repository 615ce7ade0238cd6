"""What may be stored of a Vapi message: secrets dropped, numbers hashed, text redacted, names propagated."""

from __future__ import annotations

import json

import pytest

from tests.conftest import PEPPER, load_fixture
from voicetrail.domain.callers import CallerHasher
from voicetrail.providers.vapi.sanitize import URL_MARKER, MessageSanitizer

pytestmark = pytest.mark.unit
HASHER = CallerHasher(PEPPER)


def sanitize(message: dict[str, object], **kwargs: bool) -> tuple[dict[str, object], str]:
    result = MessageSanitizer(HASHER).sanitize(message, **kwargs)
    return result.body, json.dumps(result.body)


@pytest.mark.parametrize(
    "secret_key",
    [
        "twilioAuthToken",
        "twilioApiSecret",
        "controlUrl",
        "listenUrl",
        "presignedMonoUrl",
        "secret",
        "headers",
        "apiKey",
        "callToken",
        "credentials",
    ],
)
def test_secret_and_capability_fields_are_dropped(secret_key: str) -> None:
    body, text = sanitize({"type": "hang", "nested": {secret_key: "SENSITIVE-VALUE"}})
    assert "SENSITIVE-VALUE" not in text
    assert secret_key not in body["nested"]  # type: ignore[operator]


def test_recording_links_become_markers() -> None:
    body, _ = sanitize({"artifact": {"recordingUrl": "https://storage.vapi.ai/a.wav", "stereoUrl": ""}})
    assert body["artifact"] == {"recordingUrl": URL_MARKER, "stereoUrl": ""}


def test_structured_numbers_are_hashed_consistently() -> None:
    body, text = sanitize({"customer": {"number": "+1 (415) 555-0123", "sipUri": "sip:bob@example.com"}})
    customer = body["customer"]
    assert isinstance(customer, dict)
    assert customer["number"] == HASHER.hash("+14155550123")
    assert customer["sipUri"].startswith("ph_")
    assert "555" not in text


def test_customer_name_is_replaced_and_propagated_to_free_text() -> None:
    message = {
        "customer": {"name": "Maria Gonzalez", "email": "m@example.com"},
        "analysis": {"summary": "Maria Gonzalez called; later maria asked about a refund."},
    }
    body, text = sanitize(message)
    assert "maria" not in text.lower() and "gonzalez" not in text.lower()
    assert body["customer"] == {"name": "[NAME]", "email": "[EMAIL]"}
    assert "refund" in text


def test_structural_fields_are_kept_verbatim() -> None:
    report = load_fixture("vapi/captured-end-of-call-report.json")["message"]
    body, _ = sanitize(report)
    assert body["endedReason"] == "customer-ended-call"
    assert body["call"]["id"] == report["call"]["id"]  # type: ignore[index]
    assert body["startedAt"] == report["startedAt"]


def test_the_assistants_turns_keep_their_ai_label() -> None:
    # Vapi writes the call's transcript as "AI: ...\nUser: ..."; the label is no one's name
    report = load_fixture("vapi/captured-end-of-call-report.json")["message"]
    body, _ = sanitize(report)
    transcript = body["artifact"]["transcript"]
    assert transcript.startswith("AI: Hello?\nUser: Okay.\nAI: Hi there.")
    assert "[NAME]" not in transcript


def test_without_consent_caller_content_is_withheld_but_metadata_kept() -> None:
    message = load_fixture("vapi/transcript-final-user.json")["message"]
    body, text = sanitize(message, keep_content=False)
    assert body["transcript"] == "[withheld: no consent]"
    assert body["role"] == "user" and body["type"] == "transcript"
    assert "123-45-6789" not in text


class FakeSecondPass:
    """Stands in for Comprehend: finds the (cue-less) name 'Ada Lovelace' in already-redacted text."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def detect(self, text: str) -> list[tuple[str, int, int]]:
        self.texts.append(text)
        start = text.find("Ada Lovelace")
        return [("name", start, start + len("Ada Lovelace"))] if start >= 0 else []


def test_second_pass_runs_only_on_long_free_text_fields_and_sees_redacted_text() -> None:
    second = FakeSecondPass()
    message = {
        "analysis": {"summary": "Ada Lovelace called, SSN 123-45-6789."},
        "artifact": {"messages": [{"role": "user", "message": "Ada Lovelace here"}]},
    }
    result = MessageSanitizer(HASHER, second_pass=second).sanitize(message)
    assert result.body["analysis"]["summary"].startswith("[NAME] called")
    assert all("123-45-6789" not in t for t in second.texts)  # digits never leave the function
    assert len(second.texts) == 1  # the summary only, not every short message
    assert result.body["artifact"]["messages"][0]["message"] == "[NAME] here"  # learnt name propagated


@pytest.mark.parametrize(
    "arguments",
    [
        {
            "full_name": "Ada Lovelace",
            "date_of_birth": "03/14/1985",
            "member_id": "XJ4471902",
            "reason": "refill",
        },
        json.dumps(
            {
                "full_name": "Ada Lovelace",
                "date_of_birth": "03/14/1985",
                "member_id": "XJ4471902",
                "reason": "refill",
            }
        ),
        {
            "patient": {"firstName": "Ada", "last-name": "Lovelace", "DOB": "03/14/1985"},
            "memberId": 4471902,
            "reason": "refill",
        },
    ],
    ids=["object", "json-string", "nested"],
)
def test_tool_arguments_are_masked_by_key_since_bare_values_have_no_cue(arguments: object) -> None:
    message = {
        "type": "tool-calls",
        "toolCallList": [{"id": "c1", "function": {"name": "verify", "arguments": arguments}}],
    }
    _, text = sanitize(message)
    for value in ("Ada", "Lovelace", "03/14/1985", "4471902"):
        assert value not in text
    assert "refill" in text and "verify" in text


def test_tool_argument_masking_follows_the_policy() -> None:
    from voicetrail.redaction import RedactionPolicy

    pci_only = MessageSanitizer(HASHER, RedactionPolicy.from_env_value("pci"))
    body = pci_only.sanitize({"arguments": {"card_number": "4111111111111111", "city": "Springfield"}}).body
    assert body["arguments"]["card_number"] == "[CARD]"
    assert body["arguments"]["city"] == "Springfield"


WITHHELD = "[withheld: no consent]"
SPOKEN = "my social is 123-45-6789"

# (message, path to a value, stored without consent, stored with consent)
ZONE_CASES = [
    (
        {"type": "hang", "artifact": {"messages": [{"role": "user", "message": SPOKEN}]}},
        ("artifact", "messages", 0, "message"),
        WITHHELD,
        "my social is [SSN]",
    ),
    (
        {"type": "hang", "artifact": {"messages": [{"role": "user", "message": SPOKEN}]}},
        ("artifact", "messages", 0, "role"),
        "user",
        "user",
    ),
    (
        {"type": "end-of-call-report", "analysis": {"structuredData": {"status": SPOKEN}}},
        ("analysis", "structuredData", "status"),
        WITHHELD,
        "my social is [SSN]",
    ),
    (
        {"type": "status-update", "status": "forwarding", "summary": SPOKEN},
        ("summary",),
        WITHHELD,
        "my social is [SSN]",
    ),
    (
        {"type": "status-update", "status": "forwarding", "summary": SPOKEN},
        ("status",),
        "forwarding",
        "forwarding",
    ),
    (
        {"type": "conversation-update", "messagesOpenAIFormatted": [{"role": "user", "content": SPOKEN}]},
        ("messagesOpenAIFormatted", 0, "content"),
        WITHHELD,
        "my social is [SSN]",
    ),
    (
        {"type": "handoff-destination-request", "parameters": {"reason": SPOKEN}},
        ("parameters", "reason"),
        WITHHELD,
        "my social is [SSN]",
    ),
    (
        {"type": "function-call", "functionCall": {"name": "lookup", "parameters": '{"q": "x"}'}},
        ("functionCall", "name"),
        "lookup",
        "lookup",
    ),
    ({"type": "brand-new-type", "someField": SPOKEN}, ("someField",), WITHHELD, "my social is [SSN]"),
    ({"type": "hang", "someField": SPOKEN}, ("someField",), "my social is [SSN]", "my social is [SSN]"),
    (
        {
            "type": "end-of-call-report",
            "compliance": {"recordingConsent": {"type": "verbal", "grantedAt": "2024-01-15T10:30:00Z"}},
        },
        ("compliance", "recordingConsent", "grantedAt"),
        "2024-01-15T10:30:00Z",
        "2024-01-15T10:30:00Z",
    ),
    (
        {
            "type": "tool-calls",
            "toolWithToolCallList": [
                {
                    "function": {
                        "name": "book",
                        "description": "Books a slot",
                        "parameters": {"required": ["date"]},
                    },
                    "toolCall": {"id": "t1", "function": {"name": "book", "arguments": {"date": SPOKEN}}},
                }
            ],
        },
        ("toolWithToolCallList", 0, "function", "description"),
        "Books a slot",
        "Books a slot",
    ),
    (
        {
            "type": "tool-calls",
            "toolWithToolCallList": [
                {
                    "function": {"name": "book", "parameters": {"required": ["date"]}},
                    "toolCall": {"id": "t1", "function": {"name": "book", "arguments": {"date": SPOKEN}}},
                }
            ],
        },
        ("toolWithToolCallList", 0, "toolCall", "function", "arguments", "date"),
        WITHHELD,
        "my social is [SSN]",
    ),
    (
        {
            "type": "status-update",
            "assistant": {"model": {"messages": [{"role": "system", "content": "You are kind."}]}},
        },
        ("assistant", "model", "messages", 0, "content"),
        "You are kind.",
        "You are kind.",
    ),
]


@pytest.mark.parametrize(("message", "path", "without_consent", "with_consent"), ZONE_CASES)
def test_consent_follows_the_content_not_the_message_type(
    message: dict[str, object], path: tuple[object, ...], without_consent: str, with_consent: str
) -> None:
    for keep, expected in ((False, without_consent), (True, with_consent)):
        value: object = MessageSanitizer(HASHER).sanitize(message, keep_content=keep).body
        for step in path:
            value = value[step]  # type: ignore[index]
        assert value == expected, (keep, path)


def test_content_kept_tells_whether_caller_content_was_stored() -> None:
    spoken = {"type": "hang", "artifact": {"transcript": SPOKEN}}
    assert MessageSanitizer(HASHER).sanitize(spoken).content_kept is True
    assert MessageSanitizer(HASHER).sanitize(spoken, keep_content=False).content_kept is False
    assert (
        MessageSanitizer(HASHER).sanitize({"type": "status-update", "status": "ended"}).content_kept is False
    )
