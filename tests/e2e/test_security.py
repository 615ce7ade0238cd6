"""Security matrix over HTTP against the local API, under the shared-secret and the HMAC schemes:
forged, tampered, replayed, expired and future-dated signatures; wrong schemes and malformed headers;
non-JSON, non-UTF-8, deeply nested and huge bodies -> 401/400/413, never 500, never stored. Unknown
message types are accepted and stored; an identical replay is answered 200 and stored once. Every case is
counted and printed as a table."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from voicetrail.providers.vapi.auth import AuthScheme, VapiAuthConfig, sign_request
from voicetrail_cli.dev.local import LocalApi
from voicetrail_cli.target import dynamodb_admin_client

pytestmark = pytest.mark.e2e

SHARED = VapiAuthConfig()
HMAC = VapiAuthConfig(scheme=AuthScheme.HMAC)
HMAC_ENV = {
    "VAPI_AUTH_SCHEME": "hmac",
    "VAPI_SIGNATURE_HEADER": "x-signature",
    "VAPI_TIMESTAMP_HEADER": "x-timestamp",
}


def envelope(call_id: str, message_type: str = "status-update", **fields: Any) -> bytes:
    message = {"type": message_type, "timestamp": int(time.time() * 1000), "call": {"id": call_id}, **fields}
    if message_type == "status-update":
        message.setdefault("status", "in-progress")
    return json.dumps({"message": message}).encode()


@dataclass(frozen=True)
class Case:
    name: str
    expect: int
    build: Callable[[str, str], tuple[bytes, dict[str, str | bytes]]]  # (call id, secret) -> request
    stored: int = 0
    route: str = "/vapi/webhook"


def signed(config: VapiAuthConfig, body: bytes, secret: str, **kw: Any) -> dict[str, str | bytes]:
    return {
        "content-type": "application/json",
        **sign_request(config, body, secret, timestamp=time.time(), **kw),
    }


def signed_as_sent(
    config: VapiAuthConfig, change: Callable[[bytes], bytes]
) -> Callable[[str, str], tuple[bytes, dict[str, str | bytes]]]:
    """A validly signed request whose body is `change(envelope)`. The envelope is built once: it carries a
    millisecond timestamp, so two builds a tick apart would sign one body and send another (a 401)."""

    def build(call_id: str, secret: str) -> tuple[bytes, dict[str, str | bytes]]:
        body = change(envelope(call_id))
        return body, signed(config, body, secret)

    return build


def body_cases(config: VapiAuthConfig) -> list[Case]:
    nested = b'{"message":{"type":"status-update","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    huge = b'{"message":{"type":"hang","x":"' + b"a" * 1_100_000 + b'"}}'
    return [
        Case(
            "body: not JSON",
            400,
            lambda c, s: (
                b"type=status-update&call=" + c.encode(),
                signed(config, b"type=status-update&call=" + c.encode(), s),
            ),
        ),
        Case("body: truncated JSON", 400, signed_as_sent(config, lambda body: body[:-3])),
        Case(
            "body: not UTF-8",
            400,
            signed_as_sent(config, lambda body: body.replace(b"in-progress", b"\xff\xfe\xfd")),
        ),
        Case("body: JSON array", 400, lambda c, s: (b"[1,2]", signed(config, b"[1,2]", s))),
        Case(
            "body: no message.type",
            400,
            lambda c, s: (
                b'{"message":{"call":{"id":"' + c.encode() + b'"}}}',
                signed(config, b'{"message":{"call":{"id":"' + c.encode() + b'"}}}', s),
            ),
        ),
        Case("body: empty", 400, lambda c, s: (b"", signed(config, b"", s))),
        Case("body: nested 100k deep", 400, lambda c, s: (nested, signed(config, nested, s))),
        Case("body: 1.1 MB", 413, lambda c, s: (huge, signed(config, huge, s))),
        Case(
            "unknown message type",
            200,
            lambda c, s: (
                envelope(c, "brand-new-type", foo={"bar": 1}),
                signed(config, envelope(c, "brand-new-type", foo={"bar": 1}), s),
            ),
            stored=1,
        ),
    ]


def shared_secret_cases() -> list[Case]:
    return [
        Case("forged secret", 401, lambda c, s: (envelope(c), {"x-vapi-secret": "forged-" + s})),
        Case("missing credential", 401, lambda c, s: (envelope(c), {"content-type": "application/json"})),
        Case("secret prefix (wrong length)", 401, lambda c, s: (envelope(c), {"x-vapi-secret": s[:-1]})),
        Case("secret + suffix", 401, lambda c, s: (envelope(c), {"x-vapi-secret": s + "x"})),
        Case("empty header", 401, lambda c, s: (envelope(c), {"x-vapi-secret": ""})),
        Case(
            "non-ASCII header bytes",
            401,
            lambda c, s: (envelope(c), {"x-vapi-secret": b"\xff\xfe" + s.encode()}),
        ),
        Case("8 KB header", 401, lambda c, s: (envelope(c), {"x-vapi-secret": "A" * 8192})),
        Case("wrong scheme: bearer", 401, lambda c, s: (envelope(c), {"authorization": f"Bearer {s}"})),
        Case("wrong scheme: hmac", 401, lambda c, s: (envelope(c), signed(HMAC, envelope(c), s))),
        *body_cases(SHARED),
    ]


def _hmac_at(body: bytes, secret: str, at: float, config: VapiAuthConfig = HMAC) -> dict[str, str | bytes]:
    return {"content-type": "application/json", **sign_request(config, body, secret, timestamp=at)}


def _tampered(c: str, s: str) -> tuple[bytes, dict[str, str | bytes]]:
    body = envelope(c)
    return body.replace(b"in-progress", b"forwarding"), signed(HMAC, body, s)


def _replayed_signature(c: str, s: str) -> tuple[bytes, dict[str, str | bytes]]:
    captured = signed(HMAC, envelope(str(uuid.uuid4())), s)
    return envelope(c), captured


def _with(headers: dict[str, str | bytes], **changes: str | bytes) -> dict[str, str | bytes]:
    return {**headers, **{k.replace("_", "-"): v for k, v in changes.items()}}


def hmac_cases() -> list[Case]:
    sha1 = VapiAuthConfig(scheme=AuthScheme.HMAC, algorithm="sha1")
    b64 = VapiAuthConfig(scheme=AuthScheme.HMAC, signature_encoding="base64")
    return [
        Case(
            "forged (wrong secret)", 401, lambda c, s: (envelope(c), signed(HMAC, envelope(c), "forged-" + s))
        ),
        Case("tampered body", 401, _tampered),
        Case("replayed signature, other body", 401, _replayed_signature),
        Case(
            "expired (-10 min)", 401, lambda c, s: (envelope(c), _hmac_at(envelope(c), s, time.time() - 600))
        ),
        Case(
            "future-dated (+10 min)",
            401,
            lambda c, s: (envelope(c), _hmac_at(envelope(c), s, time.time() + 600)),
        ),
        Case(
            "expired, ms timestamp",
            401,
            lambda c, s: (
                envelope(c),
                _with(
                    _hmac_at(envelope(c), s, time.time() - 600),
                    x_timestamp=str(int((time.time() - 600) * 1000)),
                ),
            ),
        ),
        Case(
            "timestamp not signed (swapped)",
            401,
            lambda c, s: (
                envelope(c),
                _with(signed(HMAC, envelope(c), s), x_timestamp=str(int(time.time()) - 5)),
            ),
        ),
        Case(
            "missing timestamp",
            401,
            lambda c, s: (envelope(c), {"x-signature": str(signed(HMAC, envelope(c), s)["x-signature"])}),
        ),
        Case(
            "timestamp not a number",
            401,
            lambda c, s: (envelope(c), _with(signed(HMAC, envelope(c), s), x_timestamp="soon")),
        ),
        Case(
            "timestamp NaN",
            401,
            lambda c, s: (envelope(c), _with(signed(HMAC, envelope(c), s), x_timestamp="nan")),
        ),
        Case("missing signature", 401, lambda c, s: (envelope(c), {"x-timestamp": str(int(time.time()))})),
        Case(
            "signature not hex",
            401,
            lambda c, s: (envelope(c), _with(signed(HMAC, envelope(c), s), x_signature="zz" * 32)),
        ),
        Case(
            "signature truncated",
            401,
            lambda c, s: (
                envelope(c),
                _with(
                    signed(HMAC, envelope(c), s),
                    x_signature=str(signed(HMAC, envelope(c), s)["x-signature"])[:-2],
                ),
            ),
        ),
        Case(
            "signature 10 KB",
            401,
            lambda c, s: (envelope(c), _with(signed(HMAC, envelope(c), s), x_signature="ab" * 5000)),
        ),
        Case(
            "signature base64 (hex configured)", 401, lambda c, s: (envelope(c), signed(b64, envelope(c), s))
        ),
        Case("wrong algorithm (sha1)", 401, lambda c, s: (envelope(c), signed(sha1, envelope(c), s))),
        Case("wrong scheme: shared secret", 401, lambda c, s: (envelope(c), {"x-vapi-secret": s})),
        Case("wrong scheme: bearer", 401, lambda c, s: (envelope(c), {"authorization": f"Bearer {s}"})),
        Case(
            "non-ASCII signature bytes",
            401,
            lambda c, s: (
                envelope(c),
                _with(signed(HMAC, envelope(c), s), x_signature="\u00e9\u00e9".encode("latin-1")),
            ),
        ),
        *body_cases(HMAC),
    ]


def twilio_cases(base_url: str) -> list[Case]:
    from twilio.request_validator import RequestValidator

    def form(c: str) -> dict[str, str]:
        sid = "CA" + uuid.UUID(c).hex
        return {"CallSid": sid, "CallStatus": "ringing", "SequenceNumber": "0", "From": "+14155550100"}

    def request(c: str, token: str, url: str, tamper: bool = False) -> tuple[bytes, dict[str, str | bytes]]:
        from urllib.parse import urlencode

        params = form(c)
        signature = RequestValidator(token).compute_signature(url, params)
        if tamper:
            params["CallStatus"] = "completed"
        return urlencode(params).encode(), {
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": signature,
        }

    url = base_url + "/twilio/status"
    return [
        Case("twilio: forged token", 401, lambda c, s: request(c, "forged", url), route="/twilio/status"),
        Case(
            "twilio: tampered field",
            401,
            lambda c, s: request(c, "local-twilio-token", url, tamper=True),
            route="/twilio/status",
        ),
        Case(
            "twilio: signed for another URL",
            401,
            lambda c, s: request(c, "local-twilio-token", "https://evil.example/twilio/status"),
            route="/twilio/status",
        ),
        Case(
            "twilio: missing signature",
            401,
            lambda c, s: (request(c, "x", url)[0], {"content-type": "application/x-www-form-urlencoded"}),
            route="/twilio/status",
        ),
        Case(
            "twilio: signature garbage",
            401,
            lambda c, s: (request(c, "x", url)[0], {"x-twilio-signature": "%%%" * 50}),
            route="/twilio/status",
        ),
    ]


def event_items(api: LocalApi) -> int:
    client = dynamodb_admin_client(api.dynamodb_endpoint)
    count, kwargs = (
        0,
        {
            "TableName": api.table,
            "Select": "COUNT",
            "FilterExpression": "begins_with(sk, :e)",
            "ExpressionAttributeValues": {":e": {"S": "EVT#"}},
        },
    )
    while True:
        page = client.scan(**kwargs)
        count += page["Count"]
        if "LastEvaluatedKey" not in page:
            return count
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def run_matrix(api: LocalApi, scheme: str, cases: list[Case]) -> list[tuple[str, str, int, int, int, int]]:
    rows = []
    with httpx.Client(base_url=api.base_url, timeout=60) as client:
        for case in cases:
            before = event_items(api)
            body, headers = case.build(str(uuid.uuid4()), api.secrets.vapi)
            response = client.post(case.route, content=body, headers=headers)
            stored = event_items(api) - before
            rows.append((scheme, case.name, case.expect, response.status_code, case.stored, stored))
        # An identical replay (a sender retry or a captured request inside the window): 200, stored once.
        call_id = str(uuid.uuid4())
        body = envelope(call_id)
        headers = signed(HMAC if scheme == "hmac" else SHARED, body, api.secrets.vapi)
        before = event_items(api)
        statuses = [client.post("/vapi/webhook", content=body, headers=headers).status_code for _ in range(3)]
        rows.append((scheme, "identical replay x3", 200, max(statuses), 1, event_items(api) - before))
    return rows


def print_table(rows: list[tuple[str, str, int, int, int, int]]) -> None:
    print(f"\n{'scheme':<14} {'case':<36} {'expect':>6} {'got':>4} {'stored':>6}  ok")
    for scheme, name, expect, got, want_stored, stored in rows:
        ok = got == expect and stored == want_stored
        print(f"{scheme:<14} {name:<36} {expect:>6} {got:>4} {stored:>6}  {'ok' if ok else 'FAIL'}")
    passed = sum(1 for r in rows if r[2] == r[3] and r[4] == r[5])
    statuses = sorted({r[3] for r in rows})
    print(
        f"{len(rows)} cases, {passed} as expected, statuses seen {statuses}, "
        f"5xx: {sum(r[3] >= 500 for r in rows)}"
    )


@pytest.fixture(scope="module", params=["shared-secret", "hmac"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, LocalApi]]:
    extra = HMAC_ENV if request.param == "hmac" else {}
    log = tmp_path_factory.mktemp("logs") / "functions.log"
    with LocalApi(workers=2, extra_env=extra, log_path=str(log)) as api:
        yield request.param, api


def test_security_matrix(stack: tuple[str, LocalApi]) -> None:
    scheme, api = stack
    cases = shared_secret_cases() + twilio_cases(api.base_url) if scheme == "shared-secret" else hmac_cases()
    rows = run_matrix(api, scheme, cases)
    print_table(rows)
    failed = [r for r in rows if r[2] != r[3] or r[4] != r[5]]
    assert not any(r[3] >= 500 for r in rows)
    assert not failed, failed
