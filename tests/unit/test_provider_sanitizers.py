"""The Retell and ElevenLabs sanitizers: nothing a caller said or is survives in clear, in any field of any
event type; numbers become keyed hashes; links, secrets and audio go; consent withholds content only;
identifiers stay; the walk survives any nesting without recursion."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES, load_fixture
from voicetrail.domain.callers import CallerHasher
from voicetrail.providers.elevenlabs.sanitize import sanitizer_for_event as elevenlabs_sanitizer
from voicetrail.providers.retell.sanitize import sanitizer_for_event as retell_sanitizer
from voicetrail_cli.dev import elevenlabs_events, retell_events

pytestmark = pytest.mark.unit

HASHER = CallerHasher("unit-test-pepper")
SANITIZERS = {"retell": retell_sanitizer, "elevenlabs": elevenlabs_sanitizer}
# The people planted in the hand-written fixtures, in every form they appear there.
FIXTURE_NEEDLES = {
    "retell": ["Dana Whitfield", "Whitfield", "+12135550199", "213 555 0199", "213-555-0199", "04/12/1987"],
    "elevenlabs": [
        "Marcus Oyelaran",
        "Oyelaran",
        "+14155550177",
        "415 555 0177",
        "415-555-0177",
        "1979-05-09",
        "P-88213",
        "+14155550188",
    ],
}


def _sanitize(provider: str, payload: dict[str, Any], **kwargs: Any) -> Any:
    return SANITIZERS[provider](HASHER, None, None).sanitize(payload, **kwargs)


def _leaks(text: str, needles: list[str]) -> list[str]:
    lowered = text.lower()
    return [needle for needle in needles if needle.lower() in lowered]


FIXTURES_BY_PROVIDER = [
    (provider, path.name) for provider in SANITIZERS for path in sorted((FIXTURES / provider).glob("*.json"))
]


@pytest.mark.parametrize(("provider", "name"), FIXTURES_BY_PROVIDER)
def test_no_planted_value_survives_in_any_fixture(provider: str, name: str) -> None:
    sanitized = _sanitize(provider, load_fixture(f"{provider}/{name}"))
    assert _leaks(json.dumps(sanitized.body, ensure_ascii=False), FIXTURE_NEEDLES[provider]) == []


def _identity_needles(identity: Any) -> list[str]:
    needles = identity.needles()
    # The last name alone and 4-digit groups can occur by chance elsewhere: the whole forms are checked.
    return [v for k, v in needles.items() if k not in ("last_name",)]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32), transfer=st.booleans())
def test_no_synthetic_callers_data_survives_in_any_retell_event(seed: int, transfer: bool) -> None:
    s = retell_events.script(random.Random(seed))
    for payload in retell_events.call_stream(s, transfer=transfer):
        body = json.dumps(_sanitize("retell", payload).body, ensure_ascii=False)
        assert _leaks(body, _identity_needles(s.identity)) == [], payload["event"]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_no_synthetic_callers_data_survives_in_any_elevenlabs_event(seed: int) -> None:
    s = elevenlabs_events.script(random.Random(seed))
    for make in elevenlabs_events.GENERATORS.values():
        payload = make(s)
        body = json.dumps(_sanitize("elevenlabs", payload).body, ensure_ascii=False)
        assert _leaks(body, _identity_needles(s.identity)) == [], payload["type"]


def test_retell_numbers_are_keyed_hashes_and_links_secrets_go() -> None:
    payload = load_fixture("retell/web_call_ended.json")
    payload["call"]["from_number"] = "+12137771234"
    payload["call"]["custom_sip_headers"] = {"X-Auth": "s3cret"}
    body = _sanitize("retell", payload).body["call"]
    assert body["from_number"] == HASHER.hash("+12137771234")
    assert body["recording_url"] == "[url]" and body["public_log_url"] == "[url]"
    assert "access_token" not in body and "custom_sip_headers" not in body
    assert body["call_id"] == "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6"
    assert body["disconnection_reason"] == "user_hangup"
    assert body["start_timestamp"] == 1703302407333


def test_tool_arguments_stay_json_with_values_masked_by_their_key() -> None:
    body = _sanitize("retell", load_fixture("retell/transcript_updated.json")).body
    invocation = next(
        u for u in body["call"]["transcript_with_tool_calls"] if u["role"] == "tool_call_invocation"
    )
    arguments = json.loads(invocation["arguments"])
    assert arguments == {"patient_name": "[NAME]", "phone": "[PHONE]", "date_of_birth": "[DOB]"}
    assert invocation["name"] == "find_appointment" and invocation["tool_call_id"] == "call_a1b2c3"


def test_elevenlabs_audio_location_and_numbers() -> None:
    audio = _sanitize("elevenlabs", load_fixture("elevenlabs/post_call_audio.json")).body
    assert "full_audio" not in audio["data"]
    failure = _sanitize("elevenlabs", load_fixture("elevenlabs/call_initiation_failure_twilio.json")).body
    callback = failure["data"]["metadata"]["body"]
    assert callback["To"] == HASHER.hash("+14155550188") and callback["Called"] == HASHER.hash("+14155550188")
    assert not {"ToState", "CallerCountry", "FromZip", "CalledCity"} & set(callback)
    assert callback["CallStatus"] == "busy" and failure["data"]["failure_reason"] == "busy"
    transcription = _sanitize("elevenlabs", load_fixture("elevenlabs/post_call_transcription.json")).body[
        "data"
    ]
    phone = transcription["metadata"]["phone_call"]
    assert phone["external_number"] == HASHER.hash("+14155550177") and phone["call_sid"].startswith("CA")
    variables = transcription["conversation_initiation_client_data"]["dynamic_variables"]
    assert variables["system__caller_id"] == HASHER.hash("+14155550177")
    assert variables["system__conversation_id"] == "conv_01jxk1wejhenk8x8tt9enzxw4a"
    assert transcription["conversation_initiation_client_data"]["conversation_config_override"]["agent"] == {
        "prompt": None,
        "first_message": None,
        "language": "en",
    }


@pytest.mark.parametrize(
    ("provider", "name", "content_path"),
    [
        ("retell", "call_analyzed.json", ("call", "call_analysis", "call_summary")),
        ("elevenlabs", "post_call_transcription.json", ("data", "analysis", "transcript_summary")),
    ],
)
def test_without_consent_content_is_withheld_and_the_rest_kept(
    provider: str, name: str, content_path: tuple[str, ...]
) -> None:
    asked: list[bool] = []
    sanitized = _sanitize(
        provider, load_fixture(f"{provider}/{name}"), keep_content=lambda: asked.append(True) or False
    )
    value: Any = sanitized.body
    for part in content_path:
        value = value[part]
    assert value == "[withheld: no consent]"
    assert sanitized.content_kept is False and asked == [True]
    assert sanitized.body[content_path[0]]  # the event itself is kept


@pytest.mark.parametrize("provider", ["retell", "elevenlabs"])
def test_an_event_without_content_never_asks_for_consent(provider: str) -> None:
    payload = (
        load_fixture("retell/call_started.json")
        if provider == "retell"
        else load_fixture("elevenlabs/call_initiation_failure_sip.json")
    )
    if provider == "retell":
        payload["call"].pop("metadata")
        payload["call"].pop("retell_llm_dynamic_variables")

    def never() -> bool:
        raise AssertionError("asked")

    assert _sanitize(provider, payload, keep_content=never).content_kept is False


def test_names_learnt_earlier_in_the_call_are_redacted_later() -> None:
    known = frozenset({HASHER.hash_name_part("dana")})
    payload = {
        "event": "transcript_updated",
        "call": {"call_id": "c1", "transcript": "Agent: Thanks Dana, bye."},
    }
    body = _sanitize("retell", payload, known_names=known).body
    assert body["call"]["transcript"] == "Agent: Thanks [NAME], bye."


def test_learnt_names_are_returned_as_keyed_hashes_only() -> None:
    sanitized = _sanitize("retell", load_fixture("retell/transcript_updated.json"))
    assert HASHER.hash_name_part("whitfield") in sanitized.name_hashes
    assert not any("hitfield" in h for h in sanitized.name_hashes)


def test_an_unknown_event_types_fields_are_content() -> None:
    payload = {
        "event": "call_voicemail",
        "call": {"call_id": "c1"},
        "voicemail_text": "Call Dana at 415 555 0100",
    }
    sanitized = _sanitize("retell", payload, keep_content=False)
    assert sanitized.body["voicemail_text"] == "[withheld: no consent]"


@pytest.mark.parametrize("provider", ["retell", "elevenlabs"])
def test_any_nesting_is_walked_without_recursion(provider: str) -> None:
    deep: Any = "Dana Whitfield 415 555 0199"
    for _ in range(20_000):
        deep = {"x": [deep]}
    payload = (
        {"event": "call_ended", "call": {"call_id": "c1", "metadata": deep}}
        if provider == "retell"
        else {"type": "post_call_transcription", "data": {"conversation_id": "c1", "analysis": deep}}
    )
    sanitized = _sanitize(provider, payload)
    assert "415 555 0199" not in repr(sanitized.findings) and sanitized.findings["phone"] == 1


def test_retell_word_lists_are_dropped_since_single_words_cannot_be_redacted() -> None:
    s = retell_events.script(random.Random(4))
    body = _sanitize("retell", retell_events.call_ended(s)).body
    turns = body["call"]["transcript_object"]
    assert turns and all("words" not in turn for turn in turns)
    groups = [s.identity.card[i : i + 4] for i in range(0, 16, 4)]
    assert not any(f'"{group}"' in json.dumps(body) for group in groups)
