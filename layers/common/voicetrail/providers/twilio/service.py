"""Processing one Twilio callback (voice status or recording status).

size check -> signature (twilio's RequestValidator, see twilio/signature.py) -> required fields
-> one conditional put of the raw callback (dedupe on (CallSid, SequenceNumber) or
(RecordingSid, RecordingStatus)) -> fold into the call ledger (status never regresses; recording
index) -> ROI metrics from what changed -> 204.

The fold is idempotent and is re-applied for duplicates too: if a first delivery stored its event
but failed before folding (503), its retry still completes the state. Metrics come from ledger
transitions, so they count calls, not deliveries.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from enum import StrEnum
from functools import partial

from aws_lambda_powertools import Logger

from voicetrail.domain.callers import CallerHasher, PepperFingerprints, record_pepper_fingerprint
from voicetrail.domain.calls.ports import EventStore, PutOutcome, StoredEvent
from voicetrail.domain.calls.state import CallLedger, RecordingUpdate, TwilioCallUpdate, twilio_call_key
from voicetrail.domain.quarantine import Quarantine, Source, kept_if_refused
from voicetrail.domain.retention.classes import RetentionClass, RetentionPolicy
from voicetrail.domain.roi import RoiMetrics
from voicetrail.errors import AuthenticationError, AuthFailure, BadRequestError, PayloadTooLargeError
from voicetrail.infra.secrets import SecretResolver
from voicetrail.providers.twilio.signature import (
    SIGNATURE_HEADER,
    FormParams,
    parse_form,
    public_url,
    signature_algorithm,
    verify,
)
from voicetrail.transport.http import InboundRequest, Reply
from voicetrail.transport.payload import token_attribute

# Twilio parameters that carry a party's phone number: stored only as keyed hashes.
NUMBER_FIELDS = frozenset({"From", "To", "Caller", "Called", "ForwardedFrom"})
# Everything else we keep is listed: geo fields (FromCity, ToZip...), CallerName and new fields Twilio
# adds without notice are dropped, so no PII slips into storage.
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
SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
TOKEN = re.compile(r"[a-z0-9_-]{1,40}")  # statuses, directions, answered-by: closed vocabularies
MAX_DURATION_S = 7 * 86_400
ASCII_DIGITS = re.compile(r"[0-9]{1,12}")


class CallbackKind(StrEnum):
    STATUS = "status"
    RECORDING = "recording"


def event_key(kind: CallbackKind, params: FormParams) -> str:
    """The dedupe key: (CallSid, SequenceNumber) or (RecordingSid, RecordingStatus); CallSid is the pk."""
    if kind is CallbackKind.RECORDING:
        return f"recording#{params['RecordingSid']}#{params['RecordingStatus']}"
    sequence = params.get("SequenceNumber", "")
    if sequence:
        return f"status#{int(sequence):06d}"
    return f"status#{params['CallStatus']}"


def _int_field(params: FormParams, name: str, *, upper: int) -> int | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    # ASCII digits only: str.isdigit() accepts "²" and "①" (int() then raises) and int() reads other
    # scripts' digits ("٣" is 3), neither of which Twilio sends.
    if not ASCII_DIGITS.fullmatch(raw) or int(raw) > upper:
        raise BadRequestError(f"{name} is not a number")
    return int(raw)


def _digits(params: FormParams, name: str) -> str | None:
    value = params.get(name, "")
    return value if ASCII_DIGITS.fullmatch(value) else None


def _token_field(params: FormParams, name: str) -> str | None:
    raw = params.get(name, "").strip().lower()
    if not raw:
        return None
    if not TOKEN.fullmatch(raw):
        raise BadRequestError(f"{name} is not a known value")
    return raw


def _timestamp_ms(params: FormParams, name: str, fallback: float) -> int:
    raw = params.get(name, "").strip()
    if raw:
        try:
            parsed = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return int(parsed.timestamp() * 1000)
    return int(fallback * 1000)


def _optional_sid(params: FormParams, name: str) -> str | None:
    value = params.get(name, "")
    return value if SID.fullmatch(value) else None


def _require_sid(params: FormParams, name: str) -> str:
    value = params.get(name, "")
    if not SID.fullmatch(value):
        raise BadRequestError(f"missing or malformed {name}")
    return value


class TwilioCallbackService:
    def __init__(
        self,
        *,
        tokens: SecretResolver,
        pepper: SecretResolver,
        base_url: str | None,
        store: EventStore,
        ledger: CallLedger,
        retention: RetentionPolicy,
        metrics: RoiMetrics,
        logger: Logger,
        max_body_bytes: int,
        pepper_fingerprints: PepperFingerprints | None = None,
        clock: Callable[[], float] = time.time,
        quarantine: Quarantine | None = None,
    ) -> None:
        self._quarantine = quarantine
        self._pepper_fingerprints = pepper_fingerprints
        self._tokens = tokens
        self._pepper = pepper
        self._base_url = base_url
        self._store = store
        self._ledger = ledger
        self._retention = retention
        self._metrics = metrics
        self._log = logger
        self._max_body_bytes = max_body_bytes
        self._clock = clock

    def handle(self, request: InboundRequest, kind: CallbackKind) -> Reply:
        if len(request.body) > self._max_body_bytes:
            raise PayloadTooLargeError()
        # After a cold start (or a cache expiry) the pepper is read while the signature is checked, and its
        # fingerprint recorded (once per process; the handler records it if this did not finish).
        with self._pepper.reading_ahead(then=partial(record_pepper_fingerprint, self._pepper_fingerprints)):
            return self._handle(request, kind)

    def _handle(self, request: InboundRequest, kind: CallbackKind) -> Reply:
        signature = request.headers.get(SIGNATURE_HEADER, "").strip()
        if not signature:
            self._reject(AuthFailure.MISSING)
        params = parse_form(request.body)
        algorithm = signature_algorithm(request.headers)
        if algorithm is None:
            self._reject(AuthFailure.MALFORMED)
        base_url = self._base_url or request.origin
        if not base_url:
            # Neither a configured URL nor API Gateway's domain: the signed URL cannot be known.
            raise BadRequestError("request carries no host to verify the signature against")
        url = public_url(base_url, request.path, request.raw_query)
        failure = verify(
            url=url,
            params=params,
            signature=signature,
            algorithm=algorithm or "",
            tokens=self._tokens.values(),
        )
        # A wrong signature may come from a token this process has not seen yet: re-read the store once.
        fresh = self._tokens.refresh() if failure is AuthFailure.INVALID else None
        if fresh is not None:
            failure = verify(
                url=url, params=params, signature=signature, algorithm=algorithm or "", tokens=fresh
            )
            if failure is None:
                self._metrics.secret_refreshed("twilio")
        if failure is not None:
            self._reject(failure)
        source = Source.TWILIO_RECORDING if kind is CallbackKind.RECORDING else Source.TWILIO_STATUS
        with kept_if_refused(self._quarantine, source, request, call_sid_hint):
            return self._apply(params, kind)

    def replay(self, body: bytes, kind: CallbackKind) -> Reply:
        """A quarantined callback, again (domain.quarantine): its signature was checked when it arrived."""
        return self._apply(parse_form(body), kind)

    def _apply(self, params: FormParams, kind: CallbackKind) -> Reply:
        now = self._clock()
        if kind is CallbackKind.RECORDING:
            self._recording(params, now)
        else:
            self._status(params, now)
        return Reply(status=204, body="")

    def _reject(self, reason: AuthFailure) -> None:
        self._metrics.auth_rejected("twilio", reason)
        self._log.warning("request rejected", extra={"reason": reason.value, "source": "twilio"})
        raise AuthenticationError(reason)

    # -- voice status callbacks --------------------------------------------------------------------

    def _status(self, params: FormParams, now: float) -> None:
        call_sid = _require_sid(params, "CallSid")
        status = _token_field(params, "CallStatus")
        if status is None:
            raise BadRequestError("missing CallStatus")
        sequence = _int_field(params, "SequenceNumber", upper=1_000_000)
        duration = _int_field(params, "CallDuration", upper=MAX_DURATION_S)
        hasher = CallerHasher(self._pepper.values()[0])
        outcome = self._store_event(CallbackKind.STATUS, call_sid, params, hasher, now)
        transition = self._ledger.apply_twilio(
            TwilioCallUpdate(
                call_sid=call_sid,
                status=status,
                sequence=sequence,
                event_ts_ms=_timestamp_ms(params, "Timestamp", now),
                account_sid=_optional_sid(params, "AccountSid"),
                direction=_token_field(params, "Direction"),
                answered_by=_token_field(params, "AnsweredBy"),
                duration_s=duration,
                from_hash=_hash(hasher, params.get("From")),
                to_hash=_hash(hasher, params.get("To")),
                parent_call_sid=params.get("ParentCallSid")
                if SID.fullmatch(params.get("ParentCallSid", ""))
                else None,
            ),
            now=now,
        )
        if transition.started:
            self._metrics.call_started()
        if transition.answered:
            self._metrics.call_answered()
        if transition.final_status:
            self._metrics.call_ended(transition.final_status, transition.duration_s)
        self._log.info(
            "callback processed",
            extra={
                "message_type": "twilio.status",
                "call_status": status,
                "outcome": outcome.value,
                "status_applied": transition.status_applied,
            },
        )

    # -- recording status callbacks ----------------------------------------------------------------

    def _recording(self, params: FormParams, now: float) -> None:
        call_sid = _require_sid(params, "CallSid")
        recording_sid = _require_sid(params, "RecordingSid")
        status = _token_field(params, "RecordingStatus")
        if status is None:
            raise BadRequestError("missing RecordingStatus")
        duration = _int_field(params, "RecordingDuration", upper=MAX_DURATION_S)
        channels = _int_field(params, "RecordingChannels", upper=16)
        hasher = CallerHasher(self._pepper.values()[0])
        outcome = self._store_event(CallbackKind.RECORDING, call_sid, params, hasher, now)
        is_new = self._ledger.index_recording(
            RecordingUpdate(
                call_sid=call_sid,
                recording_sid=recording_sid,
                status=status,
                event_ts_ms=_timestamp_ms(params, "RecordingStartTime", now),
                account_sid=_optional_sid(params, "AccountSid"),
                duration_s=duration,
                channels=channels,
                source=_token_field(params, "RecordingSource"),
                track=_token_field(params, "RecordingTrack"),
                error_code=params.get("ErrorCode")
                if ASCII_DIGITS.fullmatch(params.get("ErrorCode", ""))
                else None,
            ),
            now=now,
        )
        if is_new:
            self._metrics.recording_indexed()
        self._log.info(
            "callback processed",
            extra={"message_type": "twilio.recording", "recording_status": status, "outcome": outcome.value},
        )

    # -- raw callback event ------------------------------------------------------------------------

    def _store_event(
        self, kind: CallbackKind, call_sid: str, params: FormParams, hasher: CallerHasher, now: float
    ) -> PutOutcome:
        body: dict[str, str] = {}
        for key, value in params.items():
            if key in NUMBER_FIELDS:
                body[key] = hasher.hash(value) if value else value
            elif key in KEPT_FIELDS:
                body[key] = value
        direction = params.get("Direction", "inbound")
        caller = params.get("From") if direction == "inbound" else params.get("To")
        status = params.get("CallStatus") or params.get("RecordingStatus") or "-"
        if caller and self._pepper_fingerprints is not None:
            self._pepper.settle()  # a background record of it ends first: one write, not two
            self._pepper_fingerprints.record(hasher.fingerprint())  # lets erasure detect a wrong pepper
        # Raw callbacks are call metadata; the recording itself is the REC# index item (class `recording`).
        event = StoredEvent(
            call_id=twilio_call_key(call_sid),
            event_key=event_key(kind, params),
            source="twilio",
            event_type=f"twilio.{kind.value}",
            retention_class=RetentionClass.METADATA,
            expires_at=self._retention.expires_at(RetentionClass.METADATA, now),
            received_at_ms=int(now * 1000),
            body=body,
            event_ts_ms=_timestamp_ms(params, "Timestamp", now),
            caller_hash=hasher.hash(caller) if caller else None,
            attributes={"status": token_attribute(status)},
        )
        self._log.append_keys(call_id=event.call_id)
        outcome = self._store.put_event(event, now=now)
        if outcome is PutOutcome.DUPLICATE:
            self._metrics.duplicate("twilio", f"twilio.{kind.value}")
        return outcome


def call_sid_hint(body: bytes) -> str | None:
    """The call a callback names, when its CallSid is a well-formed SID (best effort, for the quarantine)."""
    try:
        sid = parse_form(body).get("CallSid", "")
    except BadRequestError:
        return None
    return twilio_call_key(sid) if SID.fullmatch(sid) else None


def _hash(hasher: CallerHasher, number: str | None) -> str | None:
    return hasher.hash(number) if number else None
