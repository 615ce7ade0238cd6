"""PII canary: known synthetic identities through every path (every Vapi message type, Twilio status and
recording callbacks, rejected and malformed requests, the retention purge), then every captured function
log line (EMF metric lines included), every stored item and every response body is searched for every
form of every identity's PII (numeric, grouped, spoken). Zero hits.

The stream includes the shapes this canary first caught leaking (`known_gaps=True`): tool-call arguments
as an object with a name, a numeric date of birth and a member id, and the assistant addressing the caller
by first name in a later message."""

from __future__ import annotations

import json
import random
import re
import time
import unicodedata
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.seed import event_item, put_all
from voicetrail.domain.retention.classes import RetentionClass
from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request
from voicetrail.storage.expiry_days import note_expiry
from voicetrail_cli.dev.local import LocalApi
from voicetrail_cli.dev.simulate.command import run_simulation
from voicetrail_cli.dev.simulate.driver import HttpDriver, Signer
from voicetrail_cli.dev.simulate.evaluate import find_pii, pii_needles
from voicetrail_cli.dev.simulate.identities import Identity, synthetic_identity
from voicetrail_cli.dev.simulate.plan import SimConfig, plan_simulation
from voicetrail_cli.dev.simulate.readback import item_text, log_lines, scan_items
from voicetrail_cli.target import dynamodb_admin_client

# Message types Vapi sends beyond the simulator's stream, each carrying caller content.
OTHER_TYPES: dict[str, Callable[[Identity], dict[str, Any]]] = {
    "model-output": lambda i: {"output": f"Let me confirm: your social is {i.ssn}."},
    "voice-input": lambda i: {"input": f"Your card ending {i.card_grouped} is on file."},
    "transfer-destination-request": lambda i: {"artifact": {"transcript": f"User: my name is {i.name}"}},
    "transfer-update": lambda i: {"transcript": f"User: call me back at {i.phone_national}"},
    "function-call": lambda i: {
        "functionCall": {"name": "note", "parameters": {"note": f"my social is {i.ssn}"}}
    },
    "knowledge-base-request": lambda i: {"messages": [{"role": "user", "content": f"my email is {i.email}"}]},
    "phone-call-control": lambda i: {"request": "forward", "destination": {"number": i.phone}},
    "language-change-detected": lambda i: {"language": "es", "transcript": f"mi nombre es {i.name}"},
    "call.endpointing.request": lambda i: {"messages": [{"role": "user", "message": f"my dob is {i.dob}"}]},
}

# The same canaries disguised as a chat channel, a tool result or a red team would (issue 24): zero-width
# and bidi characters inside the value, fullwidth and Arabic-Indic digits, a Cyrillic letter in the e-mail.
_ZW, _LRM = "\u200b", "\u200e"
HOSTILE_TYPES: dict[str, Callable[[Identity], dict[str, Any]]] = {
    "transcript": lambda i: {
        "role": "user",
        "transcriptType": "final",
        "transcript": f"my social is {_ZW.join(i.ssn)}",
    },
    "conversation-update": lambda i: {
        "messages": [
            {"role": "user", "message": f"call me at {_LRM.join(i.phone_national)}"},
            {"role": "bot", "message": f"Thanks, I have your card as {_fullwidth(i.card_grouped)}."},
        ]
    },
    "model-output": lambda i: {"output": f"Your date of birth is {_arabic_indic(i.dob_numeric)}."},
    "voice-input": lambda i: {"input": f"I'll e-mail {i.email.replace('o', chr(0x043E), 1)} today."},
}


_ESCAPED = re.compile(r"\\u([0-9a-fA-F]{4})")


def _fullwidth(text: str) -> str:
    return "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in text)


def _arabic_indic(text: str) -> str:
    return "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in text)


def _visible(text: str) -> str:
    """What a reader sees: invisible characters out, fullwidth and non-ASCII digits as ASCII, the Cyrillic
    look-alike used above as its Latin letter, so a disguised canary still matches its plain needle."""
    text = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)  # JSON logs and items escape non-ASCII
    folded = unicodedata.normalize("NFKC", text).replace("\u043e", "o")
    return "".join(
        str(unicodedata.decimal(c)) if c.isdecimal() else c for c in folded if unicodedata.category(c) != "Cf"
    )


pytestmark = pytest.mark.e2e


def _envelope(identity: Identity, call_id: str, message_type: str, fields: dict[str, Any]) -> bytes:
    message = {
        "type": message_type,
        "timestamp": int(time.time() * 1000),
        "call": {"id": call_id, "customer": {"number": identity.phone, "name": identity.name}},
        "customer": {"number": identity.phone, "name": identity.name},
        **fields,
    }
    return json.dumps({"message": message}).encode()


def test_synthetic_identities_leave_no_trace_in_logs_storage_metrics_or_errors(tmp_path: Path) -> None:
    log_path = tmp_path / "functions.log"
    plan = plan_simulation(
        SimConfig(calls=6, turns=9, seed=4242, forged_rate=0.05, retry_rate=0.05, known_gaps=True)
    )
    extra = synthetic_identity(random.Random(99))
    needles = pii_needles([*plan.expected.identities, extra])
    responses: list[str] = []
    with LocalApi(workers=2, log_path=str(log_path)) as api:
        signer = Signer(VapiAuthConfig(), api.secrets.vapi, api.secrets.twilio, api.base_url)
        client = dynamodb_admin_client(api.dynamodb_endpoint)
        # 1. Every simulated path: whole calls, Twilio callbacks, retries, duplicates, forgeries.
        report = run_simulation(plan, HttpDriver(api.base_url, signer, concurrency=6), dynamodb=None)
        assert report.stats.genuine_failed == 0 and report.stats.forged_accepted == 0
        responses += report.stats.error_bodies
        with httpx.Client(base_url=api.base_url, timeout=30) as http:
            call_id = str(uuid.uuid4())
            # 2. Every other message type, with caller content in it.
            for message_type, fields in OTHER_TYPES.items():
                body = _envelope(extra, call_id, message_type, fields(extra))
                headers = {
                    "content-type": "application/json",
                    **sign_request(VapiAuthConfig(), body, api.secrets.vapi),
                }
                response = http.post("/vapi/webhook", content=body, headers=headers)
                assert response.status_code == 200, message_type
                responses.append(response.text)
            # 2b. The canaries disguised (invisible characters, look-alike digits and letters).
            for message_type, fields in HOSTILE_TYPES.items():
                body = _envelope(extra, call_id, message_type, fields(extra))
                headers = {
                    "content-type": "application/json",
                    **sign_request(VapiAuthConfig(), body, api.secrets.vapi),
                }
                response = http.post("/vapi/webhook", content=body, headers=headers)
                assert response.status_code == 200, message_type
                responses.append(response.text)
            # 3. Rejected and malformed requests that carry PII (forged, broken JSON, wrong type, too big).
            good = _envelope(extra, call_id, "transcript", {"transcript": f"my social is {extra.ssn}"})
            bad_requests = [
                (good, {"x-vapi-secret": "forged"}),
                (good[:-5], sign_request(VapiAuthConfig(), good[:-5], api.secrets.vapi)),
                (
                    good.replace(b'"type"', b'"typo"', 1),
                    sign_request(VapiAuthConfig(), good, api.secrets.vapi),
                ),
                (
                    good + b" " * 1_100_000,
                    sign_request(VapiAuthConfig(), good + b" " * 1_100_000, api.secrets.vapi),
                ),
                (b"[" + good + b"]", sign_request(VapiAuthConfig(), b"[" + good + b"]", api.secrets.vapi)),
            ]
            for body, headers in bad_requests:
                response = http.post(
                    "/vapi/webhook", content=body, headers={"content-type": "application/json", **headers}
                )
                assert 400 <= response.status_code < 500
                responses.append(response.text)
            twilio_bad = f"CallSid=CA{'1' * 32}&CallStatus=ringing&From={extra.phone}&CallerName={extra.name}"
            response = http.post(
                "/twilio/status",
                content=twilio_bad.encode(),
                headers={"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": "bad"},
            )
            responses.append(response.text)
            # 4. The purge: an expired item holding raw PII (e.g. written before a redaction fix) is deleted
            # without its content reaching a log line or the audit trail.
            expired = event_item(
                "canary-old-call",
                "old-1",
                RetentionClass.CONTENT,
                int(time.time()) - 60,
                body={"transcript": f"my social is {extra.ssn}, card {extra.card}"},
            )
            # Written as the service writes: its bucket named in its day's record first (the local stack's
            # table may already be backfilled by an earlier test's purge: moto's state is per process).
            note_expiry(client, api.table, expired)
            put_all(client, api.table, [expired])
            purge = http.post("/_local/invoke/retention_purge", json={"from_days": 2}, timeout=120)
            assert purge.status_code == 200
            responses.append(purge.text)
        items = scan_items(client, api.table)
    assert not any(i["pk"]["S"] == "CALL#canary-old-call" for i in items)
    logs = log_path.read_text(encoding="utf-8", errors="replace")
    assert '"_aws"' in logs and "event processed" in logs  # EMF metric lines and logs were captured
    hits = find_pii("logs", ((n, _visible(line)) for n, line in log_lines(str(log_path))), needles)
    stored = ((f"{i['pk']['S']}|{i['sk']['S']}", _visible(item_text(i))) for i in items)
    hits += find_pii("storage", stored, needles)
    hits += find_pii("responses", ((f"response {n}", _visible(r)) for n, r in enumerate(responses)), needles)
    print(
        f"\nCANARY {len(plan.expected.identities) + 1} identities x {len(needles)} needles: searched "
        f"{logs.count(chr(10))} log lines ({logs.count('_aws')} EMF), {len(items)} stored items, "
        f"{len(responses)} response bodies: {len(hits)} hits"
    )
    assert not hits, [str(h) for h in hits[:20]]
