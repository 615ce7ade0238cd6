"""Processing one Twilio callback: validate the signature, dedupe, hash numbers, store once.

Signatures are checked with twilio's own RequestValidator against the configured public base URL plus
the request path and raw query string (never a URL rebuilt from the event: stages, custom domains and
proxies change it), over the form parameters with blank values kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import parse_qsl

from aws_lambda_powertools import Logger

from voicetrail.errors import AuthenticationError, AuthFailure, BadRequestError, PayloadTooLargeError
from voicetrail.hashing import CallerHasher
from voicetrail.http import InboundRequest, Reply
from voicetrail.observability import MetricsRecorder
from voicetrail.retention import RetentionClass, RetentionPolicy
from voicetrail.secrets import SecretResolver
from voicetrail.storage import EventStore, PutOutcome, StoredEvent

SIGNATURE_HEADER = "x-twilio-signature"
# Twilio parameters that carry a party's phone number: stored only as keyed hashes.
NUMBER_FIELDS = frozenset({"From", "To", "Caller", "Called", "ForwardedFrom"})
# Location details of the parties are PII too and are not needed for ROI.
DROPPED_PREFIXES = ("From", "To", "Caller", "Called")
KEPT_FIELDS = frozenset(
    {
        "CallSid",
        "AccountSid",
        "CallStatus",
        "Direction",
        "ApiVersion",
        "CallDuration",
        "Duration",
        "SequenceNumber",
        "Timestamp",
        "CallbackSource",
        "AnsweredBy",
        "ParentCallSid",
        "RecordingSid",
        "RecordingStatus",
        "RecordingDuration",
        "RecordingChannels",
        "RecordingSource",
        "RecordingStartTime",
        "RecordingTrack",
        "ErrorCode",
        "ConferenceSid",
        "SipResponseCode",
    }
)


def form_params(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body), max_num_fields=500
        )
    except (UnicodeDecodeError, ValueError):
        raise BadRequestError("body is not a form") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        params[key] = value  # Twilio never repeats a key in status callbacks
    return params


def public_url(base_url: str, path: str, raw_query: str) -> str:
    url = base_url.rstrip("/") + path
    return f"{url}?{raw_query}" if raw_query else url


def event_key(kind: str, params: dict[str, str]) -> str:
    if kind == "recording":
        return f"recording#{params.get('RecordingSid', '-')}#{params.get('RecordingStatus', '-')}"
    sequence = params.get("SequenceNumber")
    if sequence is not None:
        return f"status#{int(sequence):06d}" if sequence.isdigit() else f"status#{sequence}"
    return f"status#{params.get('CallStatus', '-')}"


class TwilioCallbackService:
    def __init__(
        self,
        *,
        tokens: SecretResolver,
        pepper: SecretResolver,
        base_url: str,
        store: EventStore,
        retention: RetentionPolicy,
        metrics: MetricsRecorder,
        logger: Logger,
        max_body_bytes: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._tokens = tokens
        self._pepper = pepper
        self._base_url = base_url
        self._store = store
        self._retention = retention
        self._metrics = metrics
        self._log = logger
        self._max_body_bytes = max_body_bytes
        self._clock = clock

    def handle(self, request: InboundRequest, kind: str) -> Reply:
        if len(request.body) > self._max_body_bytes:
            raise PayloadTooLargeError()
        params = form_params(request.body)
        self._authenticate(request, params)
        call_sid = params.get("CallSid", "")
        if not call_sid or (kind == "recording" and not params.get("RecordingSid")):
            raise BadRequestError("missing CallSid/RecordingSid")
        self._store_event(kind, call_sid, params)
        return Reply(status=204, body="")

    def _authenticate(self, request: InboundRequest, params: dict[str, str]) -> None:
        from twilio.request_validator import RequestValidator

        signature = request.headers.get(SIGNATURE_HEADER, "").strip()
        reason: AuthFailure | None = None
        if not signature:
            reason = AuthFailure.MISSING
        else:
            url = public_url(self._base_url, request.path, request.raw_query)
            if not any(
                RequestValidator(token).validate(url, params, signature) for token in self._tokens.values()
            ):
                reason = AuthFailure.INVALID
        if reason is not None:
            self._metrics.count("AuthRejected", source="twilio", reason=reason.value)
            self._log.warning("request rejected", extra={"reason": reason.value, "source": "twilio"})
            raise AuthenticationError(reason)

    def _store_event(self, kind: str, call_sid: str, params: dict[str, str]) -> None:
        now = self._clock()
        hasher = CallerHasher(self._pepper.values()[0])
        body: dict[str, str] = {}
        for key, value in params.items():
            if key in NUMBER_FIELDS:
                body[key] = hasher.hash(value) if value else value
            elif key in KEPT_FIELDS:
                body[key] = value
        retention_class = RetentionClass.RECORDING if kind == "recording" else RetentionClass.METADATA
        caller = params.get("From") if params.get("Direction", "inbound") == "inbound" else params.get("To")
        event = StoredEvent(
            call_id=f"twilio:{call_sid}",
            event_key=event_key(kind, params),
            source="twilio",
            event_type=f"twilio.{kind}",
            retention_class=retention_class,
            expires_at=self._retention.expires_at(retention_class, now),
            received_at_ms=int(now * 1000),
            body=body,
            caller_hash=hasher.hash(caller) if caller else None,
            attributes={"status": params.get("CallStatus") or params.get("RecordingStatus") or "-"},
        )
        self._log.append_keys(call_id=event.call_id)
        outcome = self._store.put_event(event, now=now)
        name = "EventDuplicate" if outcome is PutOutcome.DUPLICATE else "EventAccepted"
        self._metrics.count(name, source="twilio", message_type=f"twilio.{kind}")
        self._log.info("event processed", extra={"message_type": f"twilio.{kind}", "outcome": outcome.value})
