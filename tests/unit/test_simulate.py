"""The simulator's pure parts: the plan (deliveries + expected state), signing, the evaluation and the
sender's retry loop (httpx MockTransport), and the fault proxy's choices."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from typing import Any

import httpx
import pytest

from voicetrail.providers.vapi.auth import AuthScheme, VapiAuthConfig, verify_request
from voicetrail.providers.vapi.idempotency import semantic_key
from voicetrail.providers.vapi.messages import parse_envelope
from voicetrail_cli.dev.faults import FaultRates, dynamodb_item_size
from voicetrail_cli.dev.simulate.command import check_fresh_seed, preflight
from voicetrail_cli.dev.simulate.driver import HttpDriver, Signer
from voicetrail_cli.dev.simulate.evaluate import evaluate_storage, find_pii, pii_needles
from voicetrail_cli.dev.simulate.identities import synthetic_identity
from voicetrail_cli.dev.simulate.plan import FORGED_MARKER, SimConfig, plan_simulation
from voicetrail_cli.failures import CliError

pytestmark = pytest.mark.unit
SIGNER = Signer(VapiAuthConfig(), "s3cret", "tw-token", "http://127.0.0.1:9")


def test_a_plan_is_deterministic_for_a_seed_and_counts_distinct_events() -> None:
    config = SimConfig(calls=5, turns=3, seed=11, start_ms=1_795_000_000_000)
    a, b = plan_simulation(config), plan_simulation(config)
    assert [d.body() for d in a.deliveries()] == [d.body() for d in b.deliveries()]
    originals = [d for d in a.deliveries() if d.kind == "original"]
    assert a.expected.total == len(originals) == len({d.event_id for d in originals})
    types = Counter(t for _, t in a.expected.buckets.elements())
    for kind in (
        "assistant-request",
        "status-update",
        "speech-update",
        "transcript",
        "conversation-update",
        "tool-calls",
        "end-of-call-report",
        "twilio.status",
        "twilio.recording",
        "hang",
    ):
        assert types[kind] > 0, kind


def test_injections_follow_the_chosen_proportions() -> None:
    plan = plan_simulation(
        SimConfig(calls=40, turns=4, seed=3, retry_rate=0.1, duplicate_rate=0.1, forged_rate=0.05)
    )
    kinds = plan.counts()
    originals = kinds["original"]
    for kind, rate in (("retry", 0.1), ("duplicate", 0.1), ("forged", 0.05)):
        assert abs(kinds[kind] / originals - rate) < rate * 0.35, (kind, kinds)
    none = plan_simulation(SimConfig(calls=3, seed=3, retry_rate=0, duplicate_rate=0, forged_rate=0))
    assert set(none.counts()) == {"original"}


def test_retries_and_duplicates_are_the_same_event_with_new_presigned_urls() -> None:
    plan = plan_simulation(SimConfig(calls=30, turns=2, seed=5, retry_rate=0.3, duplicate_rate=0.3))
    originals = {d.event_id: d for d in plan.deliveries() if d.kind == "original"}
    changed = 0
    for copy in (d for d in plan.deliveries() if d.kind in ("retry", "duplicate") and d.payload):
        original = originals[copy.event_id]
        assert copy.payload is not None and original.payload is not None
        changed += copy.body() != original.body()
        assert semantic_key(parse_envelope(copy.body())) == semantic_key(parse_envelope(original.body()))
    assert changed > 0  # end-of-call-reports were re-presigned


def test_concurrent_duplicates_share_a_step_and_out_of_order_moves_deliveries() -> None:
    plan = plan_simulation(SimConfig(calls=10, seed=8, duplicate_rate=0.2, out_of_order_rate=0.3))
    assert any(len(step) == 2 and step[1].kind == "duplicate" for c in plan.calls for step in c.steps)
    ordered = plan_simulation(SimConfig(calls=10, seed=8, out_of_order_rate=0.0, duplicate_rate=0.2))
    assert [d.label for d in plan.deliveries()] != [d.label for d in ordered.deliveries()]


def test_genuine_deliveries_verify_and_forgeries_do_not() -> None:
    for config in (VapiAuthConfig(), VapiAuthConfig(scheme=AuthScheme.HMAC)):
        signer = Signer(config, "s3cret", "tw", "http://x")
        plan = plan_simulation(
            SimConfig(
                calls=20,
                seed=2,
                forged_rate=0.2,
                vapi_forgeries=("wrong-secret", "missing-credential", "tampered"),
            )
        )
        for delivery in (d for d in plan.deliveries() if d.route == "/vapi/webhook"):
            if delivery.forgery == "tampered" and config.scheme is not AuthScheme.HMAC:
                continue  # only HMAC signs the body
            body, headers = signer.sign(delivery, delivery.body())
            try:
                verify_request(config, headers, body, ["s3cret"], now=__import__("time").time())
                accepted = True
            except Exception:
                accepted = False
            assert accepted is (delivery.kind != "forged"), delivery.label


def test_twilio_signature_matches_the_validator_and_forgeries_do_not() -> None:
    from twilio.request_validator import RequestValidator

    plan = plan_simulation(SimConfig(calls=30, seed=4, forged_rate=0.2))
    validator = RequestValidator("tw-token")
    seen = Counter()
    for d in (d for d in plan.deliveries() if d.route != "/vapi/webhook"):
        body, headers = SIGNER.sign(d, d.body())
        from urllib.parse import parse_qsl

        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        ok = validator.validate(SIGNER.twilio_base_url + d.route, params, headers["x-twilio-signature"])
        assert ok is (d.kind != "forged")
        seen[d.kind] += 1
    assert seen["forged"] and seen["original"]


def _item(pk: str, sk: str, event_type: str, body: str = "{}") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, "event_type": {"S": event_type}, "body": {"S": body}}


def test_evaluation_counts_lost_duplicate_and_forged_per_partition_and_type() -> None:
    plan = plan_simulation(SimConfig(calls=1, turns=1, seed=1, twilio=False))
    pk = f"CALL#{plan.calls[0].call_id}"
    items = []
    for (bucket_pk, event_type), n in plan.expected.buckets.items():
        items += [_item(bucket_pk, f"EVT#vapi#{event_type}#{i}", event_type) for i in range(n)]
    perfect = evaluate_storage(plan.expected, items)
    assert (perfect.lost, perfect.duplicates, perfect.forged_stored) == (0, 0, 0)
    transcript = next(i for i in items if i["event_type"]["S"] == "transcript")
    broken = [i for i in items if i is not transcript]
    broken += [_item(pk, "EVT#vapi#status-update#again", "status-update")]
    broken += [_item(pk, "EVT#vapi#transcript#x", "transcript", json.dumps({"t": FORGED_MARKER}))]
    broken += [_item(pk, "SUMMARY", "-"), _item("CALL#other", "EVT#vapi#x", "status-update")]  # ignored
    result = evaluate_storage(plan.expected, broken)
    assert (result.lost, result.duplicates, result.forged_stored) == (1, 1, 1)
    assert result.missing_by_type == Counter({"transcript": 1})
    assert result.extra_by_type == Counter({"status-update": 1})


def test_pii_search_reports_kinds_never_values() -> None:
    identity = synthetic_identity(random.Random(1))
    needles = pii_needles([identity])
    hits = find_pii("logs", [("line 1", f"x {identity.ssn} y"), ("line 2", "[SSN] [CARD]")], needles)
    assert [(h.kind, h.context) for h in hits] == [("ssn", "line 1")]
    assert identity.ssn not in str(hits[0])
    assert all(n.lower() == n for n in needles)


def _driver(statuses: list[int | None], sleeps: list[float]) -> tuple[HttpDriver, list[int]]:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        status = statuses.pop(0) if statuses else 200
        if status is None:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(status, json={} if status < 400 else {"error": "x"})

    driver = HttpDriver(
        "http://sim", SIGNER, concurrency=2, sleep=sleeps.append, transport=httpx.MockTransport(handler)
    )
    return driver, calls


def test_the_sender_retries_5xx_429_and_connection_errors_with_backoff() -> None:
    plan = plan_simulation(
        SimConfig(calls=1, turns=1, seed=1, twilio=False, retry_rate=0, duplicate_rate=0, forged_rate=0)
    )
    delivery = next(plan.deliveries())
    sleeps: list[float] = []
    driver, calls = _driver([503, 429, None, 500, 200], sleeps)
    with driver._client() as client:
        result = driver.send(client, delivery, random.Random(0))
    assert [a.status for a in result.attempts] == [503, 429, None, 500, 200]
    assert len(sleeps) == 4 and sleeps[3] > sleeps[0]
    driver, calls = _driver([401, 200], [])
    with driver._client() as client:
        assert driver.send(client, delivery, random.Random(0)).final == 401 and len(calls) == 1


def test_a_run_over_a_mock_transport_reports_rates_and_latencies() -> None:
    plan = plan_simulation(SimConfig(calls=3, turns=1, seed=1, forged_rate=0))
    driver, _ = _driver([503], [])
    stats = driver.run(plan.calls)
    assert stats.deliveries == sum(1 for _ in plan.deliveries())
    assert stats.requests == stats.deliveries + 1 and stats.status_5xx == 1 and stats.status_5xx_final == 0
    assert stats.percentile_ms(50) >= 0 and stats.rps > 0


def test_fault_rates_choose_in_proportion_and_spare_the_control_plane() -> None:
    rates = FaultRates(throttle=0.1, error=0.1, timeout=0.1)
    rng = random.Random(0)
    picks = Counter(rates.choose("PutItem", rng) for _ in range(10_000))
    assert abs(picks["throttle"] - 1000) < 150 and abs(picks["error"] - 1000) < 150
    assert abs(picks["timeout"] + picks["timeout-after-write"] - 1000) < 150
    assert all(rates.choose("CreateTable", rng) is None for _ in range(100))
    only_puts = FaultRates(error=1.0, operations=frozenset({"PutItem"}))
    assert only_puts.choose("GetItem", rng) is None and only_puts.choose("PutItem", rng) == "error"


def test_item_size_follows_dynamodb_rules() -> None:
    assert dynamodb_item_size({"pk": {"S": "abc"}}) == 5
    assert dynamodb_item_size({"n": {"N": "12345"}}) == 1 + 3
    assert dynamodb_item_size({"m": {"M": {"a": {"S": "xy"}}}}) == 1 + 3 + 1 + 2


@pytest.mark.parametrize(
    ("statuses", "says"),
    [
        ([None], "cannot reach http://sim (ConnectError): is `voicetrail serve` running there?"),
        ([401], "every Vapi request got 401: check --secret"),
        ([200, 403], "every Twilio callback got 403: check --twilio-token"),
        ([404], "answered 404: is --base-url the API's base URL?"),
    ],
    ids=["unreachable", "vapi-401", "twilio-403", "wrong-path"],
)
def test_preflight_fails_fast_with_a_hint(statuses: list[int | None], says: str) -> None:
    plan = plan_simulation(SimConfig(calls=2, turns=1, seed=3))
    driver, calls = _driver(statuses, [])
    with pytest.raises(CliError, match=re.escape(says)):
        preflight(plan, driver)
    assert len(calls) <= 2  # one request per source, no retries


def test_preflight_passes_a_target_that_accepts() -> None:
    driver, calls = _driver([], [])
    preflight(plan_simulation(SimConfig(calls=2, turns=1, seed=3)), driver)
    assert len(calls) == 2


def test_a_reused_seed_is_refused_not_counted_as_duplicates(moto_table: Any) -> None:
    from tests.conftest import TABLE

    plan = plan_simulation(SimConfig(calls=2, turns=1, seed=5))
    check_fresh_seed(plan, moto_table, TABLE)  # a fresh table: fine
    first = min(plan.expected.partitions)
    moto_table.put_item(TableName=TABLE, Item={"pk": {"S": first}, "sk": {"S": "EVT#x"}})
    with pytest.raises(CliError, match="seed 5 was already used"):
        check_fresh_seed(plan, moto_table, TABLE)
