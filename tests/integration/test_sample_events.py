"""The events/ folder stays usable with `sam local invoke -e`: each sample passes the real handler."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, TABLE, FakeContext, load_function

pytestmark = pytest.mark.integration
EVENTS = ROOT / "events"
ENV = json.loads((EVENTS / "env.json").read_text())
HTTP_SAMPLES = [
    ("vapi_webhook", "VapiWebhookFunction", "vapi-status-update.json", 200),
    ("vapi_webhook", "VapiWebhookFunction", "vapi-transcript.json", 200),
    ("vapi_webhook", "VapiWebhookFunction", "vapi-end-of-call-report.json", 200),
    ("twilio_status", "TwilioStatusFunction", "twilio-status-completed.json", 204),
]


def env_for(logical_id: str) -> dict[str, str]:
    env = {k: v for k, v in ENV[logical_id].items() if k != "AWS_ENDPOINT_URL_DYNAMODB"}
    env["TABLE_NAME"] = TABLE  # the moto table of this test run
    return env


@pytest.mark.parametrize(("function", "logical_id", "sample", "status"), HTTP_SAMPLES)
def test_sample_http_events_are_accepted(
    moto_table: Any, monkeypatch: pytest.MonkeyPatch, function: str, logical_id: str, sample: str, status: int
) -> None:
    module = load_function(function, env_for(logical_id), monkeypatch)
    event = json.loads((EVENTS / sample).read_text())
    assert module.lambda_handler(event, FakeContext())["statusCode"] == status


def test_sample_schedule_event_runs_the_purge(moto_table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_function("retention_purge", env_for("RetentionPurgeFunction"), monkeypatch)
    result = module.lambda_handler(json.loads((EVENTS / "purge-scheduled.json").read_text()), FakeContext())
    assert isinstance(result, dict)


def test_every_sample_is_covered() -> None:
    covered = {s[2] for s in HTTP_SAMPLES} | {"purge-scheduled.json", "env.json"}
    assert {p.name for p in Path(EVENTS).glob("*.json")} <= covered
