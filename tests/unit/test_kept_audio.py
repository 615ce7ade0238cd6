"""Kept ElevenLabs audio, the pure parts: which sort keys are kept-audio pointers, their object keys (no
caller data), the pointer points at nothing a platform holds, and the strict decoding of `full_audio`."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voicetrail.domain.calls.ports import is_kept_audio
from voicetrail.domain.erasure.deleters import recording_ref
from voicetrail.errors import BadRequestError
from voicetrail.providers.elevenlabs.audio import CONTENT_TYPE, call_audio
from voicetrail.providers.elevenlabs.models import parse_event
from voicetrail.storage.large_bodies import audio_object_key


@pytest.mark.parametrize(
    ("sk", "kept"),
    [
        ("REC#elevenlabs#audio", True),
        ("REC#retell#audio", True),
        ("REC#elevenlabs#recording", False),  # what the platform holds (deleted there by the purge)
        ("REC#vapi#recording", False),
        ("REC#RE0123456789abcdef0123456789abcdef", False),  # a Twilio recording
        ("EVT#elevenlabs#audio", False),
        ("REC#elevenlabs#x#audio", False),
        ("REC#audio", False),
    ],
)
def test_which_sort_keys_are_kept_audio(sk: str, kept: bool) -> None:
    assert is_kept_audio(sk) is kept


def test_a_kept_audio_pointer_points_at_nothing_a_platform_holds() -> None:
    pk = {"S": "CALL#elevenlabs:conv_01jxk1wejhenk8x8tt9enzxw4a"}
    audio = recording_ref(
        {"pk": pk, "sk": {"S": "REC#elevenlabs#audio"}, "retention_class": {"S": "recording"}}
    )
    assert audio.empty  # deleted with its object, never held for a platform's answer
    held = recording_ref({"pk": pk, "sk": {"S": "REC#elevenlabs#recording"}})
    assert held.platform_call == ("elevenlabs", "conv_01jxk1wejhenk8x8tt9enzxw4a")


@given(st.text(min_size=1, max_size=40))
def test_the_object_key_never_carries_the_call_id(call: str) -> None:
    key = audio_object_key(f"CALL#elevenlabs:{call}", "REC#elevenlabs#audio")
    assert key.startswith("recording/") and key.endswith(".mp3") and len(key) == len("recording/") + 64 + 4
    assert call not in key.removeprefix("recording/").removesuffix(".mp3") or len(call) <= 2


def _event(full_audio: object, kind: str = "post_call_audio") -> bytes:
    return json.dumps(
        {
            "type": kind,
            "event_timestamp": 1764979239,
            "data": {"conversation_id": "conv_1", "full_audio": full_audio},
        }
    ).encode()


def test_the_audio_is_decoded_with_its_call_and_time() -> None:
    media = call_audio(parse_event(_event(base64.b64encode(b"ID3 audio").decode())))
    assert media is not None
    assert (media.call_id, media.data, media.content_type, media.event_ts_ms) == (
        "elevenlabs:conv_1",
        b"ID3 audio",
        CONTENT_TYPE,
        1764979239000,
    )


@pytest.mark.parametrize("value", ["not base64!", "QUJ", "QU JD", "QUJD\n"])
def test_audio_that_is_not_strict_base64_is_a_400_naming_the_field_only(value: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        call_audio(parse_event(_event(value)))
    assert str(caught.value) == "full_audio is not base64"


@pytest.mark.parametrize(
    "body",
    [_event(""), _event(None), _event(base64.b64encode(b"x").decode(), kind="post_call_transcription")],
)
def test_no_audio_to_keep(body: bytes) -> None:
    assert call_audio(parse_event(body)) is None
