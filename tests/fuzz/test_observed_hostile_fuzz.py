"""The seeded hostile-input campaign against the Retell and ElevenLabs webhook handlers (moto, no network).

Mutations of every real fixture in tests/fixtures/retell and tests/fixtures/elevenlabs (wrong types,
missing and duplicated fields, non-finite numbers, huge strings, ids and lists, deep nesting, lone
surrogates, invisible characters, gzip, truncated and empty bodies, wrong content types), each signed
with the platform's scheme and sent twice; ElevenLabs also with audio kept (ElevenLabsKeepAudio) and
broken or oversized `full_audio`; and the same bodies unsigned and forged. Asserts: no 5xx, every 4xx
carries a readable error, forged and unsigned requests are 401, a resend is never a second stored event
or object, the planted canary never reaches storage, S3 or the logs, no traceback in the logs. Short run
by default (`make test`); `make test-slow` runs the long one.
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3
import pytest

from tests.conftest import FIXTURES, TABLE, FakeContext, function_env, http_event, load_function
from voicetrail.providers.elevenlabs.signature import sign as sign_elevenlabs
from voicetrail.providers.retell.signature import sign as sign_retell

pytestmark = [pytest.mark.fuzz, pytest.mark.integration]

CANARY = "+14155550187"
CANARY_SSN = "219-09-9988"
KEY = "fuzz-observed-key"
BUCKET = "voicetrail-fuzz-audio"
ENV = {
    "RETELL_API_KEY_REF": "env:FUZZ_OBSERVED_KEY",
    "ELEVENLABS_WEBHOOK_SECRET_REF": "env:FUZZ_OBSERVED_KEY",
    "FUZZ_OBSERVED_KEY": KEY,
    "LARGE_EVENTS_BUCKET": BUCKET,
}
PLATFORMS = ("retell", "elevenlabs")
FIXTURE_NAMES = {p: sorted(f.name for f in (FIXTURES / p).glob("*.json")) for p in PLATFORMS}


def _inner(platform: str, document: dict[str, Any]) -> dict[str, Any]:
    """The object the platform's fields live in: Retell's `call` (or a legacy `data`), ElevenLabs' `data`."""
    for name in ("call", "data") if platform == "retell" else ("data",):
        if isinstance(document.get(name), dict):
            inner: dict[str, Any] = document[name]
            return inner
    return document


def _plant(platform: str, document: dict[str, Any]) -> None:
    """Caller content and a caller number that must never reach storage or logs unredacted."""
    said = f"call me on {CANARY}, my ssn is {CANARY_SSN}"
    inner = _inner(platform, document)
    if platform == "retell":
        inner["transcript"] = f"User: {said}"
        inner["from_number" if inner.get("direction") != "outbound" else "to_number"] = CANARY
    elif document.get("type") == "post_call_transcription":
        turns = inner.get("transcript")
        if isinstance(turns, list):
            turns.append({"role": "user", "message": said, "time_in_call_secs": 30})


Mutation = Callable[[random.Random, dict[str, Any]], Any]


def _field(rng: random.Random, inner: dict[str, Any]) -> str:
    return rng.choice(sorted(inner) or ["call_id"])


MUTATIONS: dict[str, Mutation] = {
    "wrong type": lambda r, m: m.__setitem__(_field(r, m), r.choice([1, [], {}, None, True, 1.5, "x"])),
    "missing field": lambda r, m: m.pop(_field(r, m), None),
    "non-finite": lambda r, m: m.__setitem__(
        r.choice(["duration_ms", "start_timestamp", "call_duration_secs", "cost"]), "NAN"
    ),
    "huge string": lambda r, m: m.__setitem__(_field(r, m), "x" * r.choice([300, 5000, 100_000])),
    "huge id": lambda r, m: m.__setitem__(
        r.choice(["call_id", "conversation_id", "agent_id"]), "c" * r.choice([129, 300, 3000])
    ),
    "deep nesting": lambda r, m: m.__setitem__("metadata", "DEEP"),
    "surrogate": lambda r, m: m.__setitem__(_field(r, m), "a\ud800b\udfff"),
    "invisible id": lambda r, m: m.__setitem__(
        r.choice(["call_id", "conversation_id"]),
        "\u200b" + str(m.get("call_id", m.get("conversation_id", ""))),
    ),
    "huge list": lambda r, m: m.__setitem__(
        r.choice(["transcript", "transcript_object", "tool_calls"]),
        [{"role": "user", "message": "hi", "content": "hi"} for _ in range(r.choice([400, 10_001]))],
    ),
    "bad turns": lambda r, m: m.__setitem__(
        r.choice(["transcript", "transcript_object"]), [r.choice([None, 1, "x", [], {"role": {"x": 1}}])] * 3
    ),
}
ENVELOPE = ["duplicated field", "gzip", "empty", "not json", "truncated", "wrong type field", "no type"]


def _encode(document: Any, mutation: str, rng: random.Random) -> bytes:
    text = json.dumps(document)
    if mutation == "non-finite":
        text = text.replace('"NAN"', rng.choice(["NaN", "Infinity", "-Infinity", "1e400"]))
    if mutation == "deep nesting":
        depth = rng.choice([63, 65, 500, 50_000])
        text = text.replace('"DEEP"', '{"a":' * depth + "1" + "}" * depth)
    return text.encode()


def cases(platform: str, seed: int, count: int) -> list[tuple[str, bytes, str]]:
    rng = random.Random(seed)
    found = []
    for _ in range(count):
        document = json.loads((FIXTURES / platform / rng.choice(FIXTURE_NAMES[platform])).read_text())
        _plant(platform, document)
        type_key = "event" if platform == "retell" else "type"
        mutation = rng.choice([*MUTATIONS, *ENVELOPE])
        if mutation in MUTATIONS:
            MUTATIONS[mutation](rng, _inner(platform, document))
            body = _encode(document, mutation, rng)
        elif mutation == "duplicated field":
            body = (
                json.dumps(document)
                .replace(f'"{type_key}":', f'"{type_key}": "x", "{type_key}":', 1)
                .encode()
            )
        elif mutation == "gzip":
            body = gzip.compress(json.dumps(document).encode())
        elif mutation == "empty":
            body = b""
        elif mutation == "truncated":
            body = json.dumps(document).encode()[: rng.randint(1, 200)]
        elif mutation == "wrong type field":
            document[type_key] = rng.choice([1, None, [], "", " ", "a#b", "x" * 100])
            body = json.dumps(document).encode()
        elif mutation == "no type":
            document.pop(type_key, None)
            body = json.dumps(document).encode()
        else:
            body = rng.choice([b"[]", b'"call"', b"null", b"\xff\xfe"])
        content_type = rng.choice(["application/json", "text/plain", "application/x-www-form-urlencoded", ""])
        found.append((mutation, body, content_type))
    return found


def audio_cases(seed: int, count: int) -> list[tuple[str, bytes, str]]:
    """post_call_audio with audio kept: genuine, broken base64, empty, oversized, not a string."""
    rng = random.Random(seed)
    found = []
    for _ in range(count):
        document = json.loads((FIXTURES / "elevenlabs" / "post_call_audio.json").read_text())
        document["data"]["conversation_id"] = f"conv_{rng.randrange(16**8):08x}"
        kind = rng.choice(
            ["genuine", "not base64", "bad padding", "empty", "oversized", "not a string", "canary"]
        )
        value: Any = {
            "genuine": base64.b64encode(rng.randbytes(rng.choice([10, 5000]))).decode(),
            "not base64": "not base64 \u00e9 " + CANARY,
            "bad padding": "QUJ",
            "empty": "",
            "oversized": base64.b64encode(b"\x00" * 5000).decode(),  # over the 4096-byte bound below
            "not a string": rng.choice([1, [], {}, None, True]),
            "canary": base64.b64encode(f"ID3 {CANARY} {CANARY_SSN}".encode()).decode(),
        }[kind]
        document["data"]["full_audio"] = value
        found.append((f"audio {kind}", json.dumps(document).encode(), "application/json"))
    return found


def _signed(platform: str, body: bytes) -> dict[str, str]:
    if platform == "retell":
        return sign_retell(body, KEY, timestamp_ms=int(time.time() * 1000))
    return sign_elevenlabs(body, KEY, timestamp=int(time.time()))


def _forged(platform: str, body: bytes, rng: random.Random) -> dict[str, str]:
    choice = rng.choice(["none", "other key", "stale", "garbage"])
    if choice == "none":
        return {}
    if choice == "garbage":
        header = "x-retell-signature" if platform == "retell" else "elevenlabs-signature"
        return {header: rng.choice(["", "v=1,d=2", "t=1,v0=" + "0" * 64, "\u00e9" * 40, "a" * 5000])}
    if platform == "retell":
        stamp = int(time.time() * 1000) - (3_600_000 if choice == "stale" else 0)
        return sign_retell(body, "not-the-key" if choice == "other key" else KEY, timestamp_ms=stamp)
    stamp = int(time.time()) - (3_600 if choice == "stale" else 0)
    return sign_elevenlabs(body, "not-the-key" if choice == "other key" else KEY, timestamp=stamp)


def _send(module: ModuleType, platform: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    event = http_event(f"/{platform}/webhook", body, headers, base64_body=True)
    result: dict[str, Any] = module.lambda_handler(event, FakeContext())
    return result


def run_campaign(
    moto_table: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], seed: int, count: int
) -> Counter[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    statuses: Counter[str] = Counter()
    rng = random.Random(seed)
    runs = [
        ("retell", {}, cases("retell", seed, count)),
        ("elevenlabs", {}, cases("elevenlabs", seed + 1, count)),
        (
            "elevenlabs",
            {"ELEVENLABS_KEEP_AUDIO": "true", "ELEVENLABS_MAX_AUDIO_BYTES": "4096"},
            cases("elevenlabs", seed + 2, count // 2) + audio_cases(seed + 3, count),
        ),
    ]
    for platform, extra, batch in runs:
        module = load_function(f"{platform}_webhook", function_env(**ENV, **extra), monkeypatch)
        label = f"{platform}{' +audio' if extra else ''}"
        for mutation, body, content_type in batch:
            headers = {**_signed(platform, body), **({"content-type": content_type} if content_type else {})}
            for result in (_send(module, platform, body, headers), _send(module, platform, body, headers)):
                status = int(result["statusCode"])
                statuses[f"{label} {status}"] += 1
                assert status < 500, (mutation, result)
                if status >= 400:
                    error = json.loads(result["body"])
                    assert error["error"] and error["message"], (mutation, result)
                    assert CANARY not in result["body"] and "x" * 300 not in result["body"]
            forged = _send(module, platform, body, _forged(platform, body, rng))
            statuses[f"{label} forged {forged['statusCode']}"] += 1
            assert forged["statusCode"] in (401, 413), (mutation, forged)
    _assert_clean(moto_table, s3, capfd)
    return statuses


def _assert_clean(moto_table: Any, s3: Any, capfd: pytest.CaptureFixture[str]) -> None:
    items = moto_table.scan(TableName=TABLE)["Items"]
    keys = [(i["pk"]["S"], i["sk"]["S"]) for i in items]
    assert len(keys) == len(set(keys))
    events = Counter((i["pk"]["S"], i["sk"]["S"]) for i in items if i["sk"]["S"].startswith(("EVT#", "REC#")))
    assert all(n == 1 for n in events.values())  # 0 duplicates on resend
    objects = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    pointers = [i for i in items if i["sk"]["S"].endswith("#audio")]
    assert len(objects) == len(pointers)  # one object per kept audio, none without its pointer
    assert all(o.startswith("recording/") for o in objects)
    stored = json.dumps([str(i) for i in items]) + json.dumps(objects)
    for canary in (CANARY, CANARY[2:], CANARY_SSN):
        assert canary not in stored
    out, err = capfd.readouterr()
    for canary in (CANARY, CANARY[2:], CANARY_SSN):
        assert canary not in out and canary not in err
    assert "Traceback" not in out + err and "Logging error" not in out + err


def test_a_short_observed_hostile_campaign(
    moto_table: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    statuses = run_campaign(moto_table, monkeypatch, capfd, seed=27, count=14)
    with capfd.disabled():
        print("\nshort observed campaign:", dict(sorted(statuses.items())))


# Run alone (`make test-slow` selects only it), like the Vapi/Twilio long campaign.
@pytest.mark.slow
def test_a_long_observed_hostile_campaign(
    moto_table: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    statuses = run_campaign(moto_table, monkeypatch, capfd, seed=2027, count=90)
    with capfd.disabled():
        print("\nlong observed campaign:", dict(sorted(statuses.items())))
