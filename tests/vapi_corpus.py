"""The Vapi payload corpus of the tests: real and documented payloads, plus one generated instance of every
`ServerMessage*` schema in Vapi's OpenAPI spec.

`generate(name)` builds the smallest instance a schema accepts: every required property (and nothing else),
the first enum value, the first branch of a `oneOf`/`anyOf`, `allOf` branches merged. It is checked against
the closed schema (tests/test_live_support.py) by the tests, so a generator bug fails loudly.

`plant(payload)` puts an SSN and a card number wherever Vapi carries caller content (artifact messages and
transcript, conversation lists, transcripts, summaries, analysis, tool/function/handoff arguments, voice
input, model output, and an extra field of an unknown type), so the tests can prove they never reach
storage, a log line or a metric.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from tests.conftest import FIXTURES
from tests.test_live_support import SPEC_PATH

REAL_DIR = FIXTURES / "vapi" / "real"
PLANTED_SSN = "123-45-6789"
PLANTED_CARD = "4111 1111 1111 1111"
PLANTED_TEXT = f"my social is {PLANTED_SSN} and my card is {PLANTED_CARD}"
# Every spelling of the planted values that must never be stored or logged (not inside a longer number:
# a documented timestamp, 1677123456789, contains the SSN's digits).
PLANTED_FORMS = (PLANTED_SSN, "123456789", PLANTED_CARD, "4111111111111111", "4111-1111-1111-1111")
_PLANTED = re.compile("|".join(rf"(?<!\d){re.escape(form)}(?!\d)" for form in PLANTED_FORMS))


def planted_pii_in(text: str) -> list[str]:
    return sorted(set(_PLANTED.findall(text)))


# The spec's response schema for each request type. `function-call` has none (legacy): Vapi's 2024 docs
# document `{"result": "..."}`, closed here the same way.
RESPONSE_SCHEMAS = {
    "assistant-request": "ServerMessageResponseAssistantRequest",
    "tool-calls": "ServerMessageResponseToolCalls",
    "transfer-destination-request": "ServerMessageResponseTransferDestinationRequest",
    "handoff-destination-request": "ServerMessageResponseHandoffDestinationRequest",
    "knowledge-base-request": "ServerMessageResponseKnowledgeBaseRequest",
    "call.endpointing.request": "ServerMessageResponseCallEndpointingRequest",
    "campaign.predial": "ServerMessageResponseCampaignPredial",
}
LEGACY_FUNCTION_CALL_RESPONSE = {
    "type": "object",
    "properties": {"result": {"type": "string"}},
    "required": ["result"],
    "additionalProperties": False,
}
# Answered with a documented 4xx: voicetrail is not a custom voice server (voicetrail.providers.vapi.replies).
STATUS_BY_TYPE = {"voice-request": 422}


@cache
def spec_schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = json.loads(SPEC_PATH.read_text())["components"]["schemas"]
    return schemas


def server_message_schemas() -> list[str]:
    """Every member of the spec's ServerMessage union, in spec order."""
    union = spec_schemas()["ServerMessage"]["properties"]["message"]["oneOf"]
    return [branch["$ref"].rsplit("/", 1)[-1] for branch in union]


def message_types(name: str) -> list[str]:
    return list(spec_schemas()[name]["properties"]["type"]["enum"])


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = spec_schemas()[node["$ref"].rsplit("/", 1)[-1]]
    return node


def _generate(node: dict[str, Any], depth: int) -> Any:
    node = _resolve(node)
    if depth > 12:
        raise RecursionError("schema too deep for a minimal instance")
    if "allOf" in node:
        merged: dict[str, Any] = {}
        for branch in node["allOf"]:
            part = _generate(branch, depth + 1)
            if isinstance(part, dict):
                merged.update(part)
            else:
                return part
        return merged
    for key in ("oneOf", "anyOf"):
        if key in node:
            return _generate(node[key][0], depth + 1)
    if "enum" in node:
        return node["enum"][0]
    if "const" in node:
        return node["const"]
    kind = node.get("type", "object" if "properties" in node else "string")
    if kind == "object":
        properties = node.get("properties", {})
        return {name: _generate(properties[name], depth + 1) for name in node.get("required", [])}
    if kind == "array":
        return [_generate(node["items"], depth + 1) for _ in range(node.get("minItems", 0))]
    if kind in ("number", "integer"):
        return node.get("minimum", 1)
    if kind == "boolean":
        return False
    if node.get("format") == "date-time":
        return "2026-11-27T10:00:00.000Z"
    return "x" * max(1, node.get("minLength", 1))


def generate(name: str, *, message_type: str | None = None, call_id: str | None = None) -> dict[str, Any]:
    """The smallest valid instance of a ServerMessage* schema, with a (minimal, valid) call of its own id."""
    message = _generate({"$ref": f"#/components/schemas/{name}"}, 0)
    assert isinstance(message, dict)
    message["type"] = message_type or message_types(name)[0]
    call = _generate({"$ref": "#/components/schemas/Call"}, 0)
    call["id"] = call_id or f"gen-{name}-{message['type']}"
    message["call"] = call
    return message


def real_fixtures() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(REAL_DIR.glob("*.json")):
        yield path.name, json.loads(path.read_text())


def corpus() -> list[tuple[str, dict[str, Any]]]:
    """(sample id, envelope) for every real fixture and every generated instance."""
    samples = list(real_fixtures())
    samples += [
        (f"spec:{name}:{kind}", {"message": generate(name, message_type=kind)})
        for name in server_message_schemas()
        for kind in message_types(name)
    ]
    return samples


def _user_turn(text: str) -> dict[str, Any]:
    return {"role": "user", "message": text, "time": 1_764_000_000_000, "secondsFromStart": 1.5}


def plant(envelope: dict[str, Any], text: str = PLANTED_TEXT) -> dict[str, Any]:
    """The envelope with the planted PII in every place Vapi carries caller content."""
    planted = copy.deepcopy(envelope)
    message = planted["message"]
    artifact = message.setdefault("artifact", {})
    if isinstance(artifact, dict):
        artifact.setdefault("messages", []).append(_user_turn(text))
        artifact["transcript"] = f"{artifact.get('transcript') or ''}\nUser: {text}"
    for key in ("transcript", "summary", "text", "input", "originalTranscript"):
        if isinstance(message.get(key), str):
            message[key] = text
    if "output" in message:
        message["output"] = text
    for key in ("messages", "messagesOpenAIFormatted"):
        if isinstance(message.get(key), list):
            message[key].append({"role": "user", "content": text})
    if isinstance(message.get("analysis"), dict):
        message["analysis"]["summary"] = text
    for call in message.get("toolCallList", []) or []:
        call["arguments"] = {"note": text}
    if isinstance(message.get("functionCall"), dict):
        message["functionCall"]["parameters"] = json.dumps({"note": text})
    if isinstance(message.get("parameters"), dict):
        message["parameters"]["reason"] = text
    message["callerNote"] = text  # an extra field: content for unknown types, redacted for known ones
    return planted


# ---- running the corpus through the webhook --------------------------------------------------------

NOW = 1_764_237_600.0  # 2025-11-27 10:00 UTC
_LOGGER_IDS = itertools.count()


def with_call_id(envelope: dict[str, Any], suffix: str) -> dict[str, Any]:
    """The same payload as a different call (so a planted copy is a new event, not a resend)."""
    copied = copy.deepcopy(envelope)
    message = copied["message"]
    for holder in ("call", "chat", "session"):
        if isinstance(message.get(holder), dict) and message[holder].get("id"):
            message[holder]["id"] = f"{message[holder]['id']}{suffix}"
    if isinstance(message.get("campaignId"), str):
        message["campaignId"] += suffix
    holders = ("call", "chat", "session")
    if not any(isinstance(message.get(h), dict) and message[h].get("id") for h in holders):
        message.setdefault("call", {})["id"] = f"nocall{suffix}"
    return copied


def resend_of(envelope: dict[str, Any]) -> dict[str, Any]:
    """A retry as Vapi sends it: the same event, presigned URLs regenerated."""
    copied = copy.deepcopy(envelope)
    artifact = copied["message"].get("artifact")
    if isinstance(artifact, dict):
        artifact["presignedMonoUrl"] = "https://storage.vapi.ai/regenerated?X-Amz-Signature=retry"
        artifact["presignedUrlsExpiresAt"] = "2026-11-27T11:00:00.000Z"
    return copied


class Harness:
    """The vapi_webhook domain function on in-memory adapters, live features and pre-dial gate included.

    mode `owner`: voicetrail served every call's assistant-request; no consent was given, so caller content
    is withheld. mode `observer`: voicetrail only observes; the number's policy stores content redacted.
    """

    def __init__(self, mode: str, *, configs: dict[str, Any] | None = None) -> None:
        from aws_lambda_powertools import Logger

        from tests.conftest import PEPPER, VAPI_SECRET
        from tests.support.live import InMemoryLive
        from tests.support.memory import (
            InMemoryDoNotCallList,
            InMemoryEventStore,
            InMemoryNameMemory,
            InMemoryTopologyStore,
        )
        from tests.support.metrics import MemoryRecorder
        from tests.support.vapi import vapi_service
        from voicetrail.domain.callers import CallerHasher
        from voicetrail.domain.retention.classes import RetentionPolicy
        from voicetrail.infra.secrets import SecretRef, SecretResolver
        from voicetrail.providers.vapi.auth import VapiAuthConfig
        from voicetrail.providers.vapi.predial import PredialGate, PredialPolicy, RecordedConsent
        from voicetrail.providers.vapi.replies import PredialResponder, base_responders
        from voicetrail.providers.vapi.topology import CallTopology

        self.mode = mode
        self.secret = VAPI_SECRET
        self.store = InMemoryEventStore()
        self.names = InMemoryNameMemory()
        self.topology = InMemoryTopologyStore()
        self.metrics = MemoryRecorder()
        self.live = InMemoryLive(configs=configs or {}, clock=lambda: NOW, metrics=self.metrics)
        # A logger of its own: Powertools binds a named logger's handler to the stdout of its first use.
        self.logger = Logger(service=f"corpus-{mode}-{next(_LOGGER_IDS)}")

        def resolver(value: str) -> SecretResolver:
            return SecretResolver(SecretRef("env", "UNUSED"), fetch=lambda ref, age: value)

        self.dnc = gate_dnc = InMemoryDoNotCallList()
        gate = PredialGate(
            policy=PredialPolicy(),
            dnc=gate_dnc,
            consent=RecordedConsent(self.live.store),
            audit=self.live.audit,
            clock=lambda: NOW,
        )
        predial = PredialResponder(gate, lambda: CallerHasher(PEPPER), self.metrics)
        self.service = vapi_service(
            auth=VapiAuthConfig(),
            secrets=resolver(VAPI_SECRET),
            pepper=resolver(PEPPER),
            store=self.store,
            retention=RetentionPolicy(),
            metrics=self.metrics,
            logger=self.logger,
            max_body_bytes=1_048_576,
            names=self.names,
            audit=self.live.audit,
            topology=CallTopology(self.topology),
            fallback_responders=base_responders(predial=predial),
            clock=lambda: NOW,
            **self.live.service_kwargs(),
        )

    def post(self, envelope: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        from voicetrail.errors import VoicetrailError, to_http_error
        from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request
        from voicetrail.transport.http import InboundRequest

        body = json.dumps(envelope).encode()
        call_id = _call_id(envelope)
        if self.mode == "owner" and call_id and envelope["message"].get("type") != "assistant-request":
            self.topology.mark_owner(call_id, now=NOW)
        request = InboundRequest(
            method="POST",
            path="/vapi/webhook",
            raw_query="",
            headers=sign_request(VapiAuthConfig(), body, self.secret),
            body=body,
        )
        try:
            reply = self.service.handle(request)
        except VoicetrailError as exc:
            error = to_http_error(exc)
            return error.status, dict(error.body)
        return reply.status, dict(reply.body)

    def event_count(self) -> int:
        return sum(1 for e in self.store.all_events() if e.record == "EVT")

    def stored_text(self) -> str:
        """Everything stored: event bodies and attributes, name memory, audit details, metric dimensions."""
        parts = [
            json.dumps([e.body, e.attributes, e.redactions, e.event_key]) for e in self.store.all_events()
        ]
        parts.append(json.dumps(sorted(h for c in self.names._calls.values() for h in c)))
        parts.append(json.dumps([(e.call_id, e.kind, e.details) for e in self.live.audit.events]))
        parts.append(json.dumps([(n, d) for n, _, d in self.metrics.records]))
        return "\n".join(parts)


def _call_id(envelope: dict[str, Any]) -> str | None:
    from voicetrail.providers.vapi.messages import parse_envelope

    return parse_envelope(json.dumps(envelope).encode()).message.call_id


def response_errors(message_type: str, status: int, reply: dict[str, Any]) -> list[str]:
    """Why a reply is not what Vapi expects for this type (empty: it is)."""
    from jsonschema import Draft202012Validator

    from tests.test_live_support import schema_errors

    expected_status = STATUS_BY_TYPE.get(message_type, 200)
    if status != expected_status:
        return [f"status {status}, expected {expected_status}"]
    if status != 200:
        return []
    if message_type == "function-call":
        validator = Draft202012Validator(LEGACY_FUNCTION_CALL_RESPONSE)
        return [e.message for e in validator.iter_errors(reply)]
    schema = RESPONSE_SCHEMAS.get(message_type)
    if schema is None:
        return [] if reply == {} else [f"informational type answered with a body: {sorted(reply)}"]
    return schema_errors(schema, reply)


@dataclass
class CorpusReport:
    mode: str
    samples: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    schema_failures: list[str] = field(default_factory=list)
    collapsed: list[str] = field(default_factory=list)
    resend_stored: list[str] = field(default_factory=list)
    pii_found: list[str] = field(default_factory=list)
    other_metric_types: list[str] = field(default_factory=list)


def run_corpus(mode: str, logs: Callable[[], str] | None = None) -> tuple[CorpusReport, Harness]:
    """Every sample (original and planted copy) delivered once and resent once through the webhook."""
    from voicetrail.providers.vapi.messages import metric_type

    harness = Harness(mode)
    report = CorpusReport(mode)
    for sample_id, original in corpus():
        for variant, envelope in (("", original), (":planted", plant(with_call_id(original, "-pii")))):
            message_type = envelope["message"]["type"]
            report.samples[message_type] += 1
            for attempt, payload in (("first", envelope), ("resend", resend_of(envelope))):
                before = harness.event_count()
                status, reply = harness.post(payload)
                report.statuses[status] += 1
                for error in response_errors(message_type, status, reply):
                    report.schema_failures.append(f"{sample_id}{variant} ({attempt}): {error}")
                new = harness.event_count() - before
                if attempt == "first" and new != 1:
                    report.collapsed.append(f"{sample_id}{variant}: {new} new items")
                if attempt == "resend" and new != 0:
                    report.resend_stored.append(f"{sample_id}{variant}: {new} new items on a resend")
            if metric_type(message_type) == "other":
                report.other_metric_types.append(message_type)
    text = harness.stored_text() + (logs() if logs else "")
    report.pii_found = planted_pii_in(text)
    return report, harness


def _print_report(report: CorpusReport) -> None:
    print(f"mode: {report.mode}")
    print("samples per type (originals + planted copies):")
    for kind, count in sorted(report.samples.items()):
        print(f"  {kind:34} {count}")
    print(f"samples: {sum(report.samples.values())}, types: {len(report.samples)}")
    print(f"statuses seen (each sample sent twice): {dict(sorted(report.statuses.items()))}")
    print(f"reply-schema failures: {len(report.schema_failures)} {report.schema_failures[:5]}")
    print(f"events collapsed: {len(report.collapsed)} {report.collapsed[:5]}")
    print(f"resends stored again: {len(report.resend_stored)} {report.resend_stored[:5]}")
    print(f"planted PII found (stored, logged or in metrics): {len(report.pii_found)} {report.pii_found}")
    print(f"types reported as 'other' in metrics: {sorted(set(report.other_metric_types))}")


if __name__ == "__main__":
    import contextlib
    import io

    for run_mode in ("observer", "owner"):
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            result, _ = run_corpus(run_mode, logs=captured.getvalue)
        _print_report(result)
        print()
