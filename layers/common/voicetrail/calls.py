"""The call ledger: one summary record per call that joins the Twilio view and the Vapi view.

Items (same table as the events, see template.yaml):

  pk = CALL#<call key>   sk = SUMMARY        the call summary (retention class `metadata`)
  pk = CALL#<call key>   sk = REC#<RecSid>   one recording index item (retention class `recording`)
  pk = CALLS#<day>       sk = <call key>     day index: which calls were active that UTC day

The call key is `twilio:<CallSid>` for every call that has a Twilio leg (Twilio callbacks know the
CallSid; every Vapi message carries it as `call.phoneCallProviderId`), and the Vapi call id for calls
without one (web calls). The summary therefore lives in the same partition as the Twilio events, and
`vapi_call_id` points at the Vapi events (`CALL#<vapi call id>`). Both sides write it with UpdateItem,
so arrival order between Twilio and Vapi does not matter.

The Twilio status never regresses: the status is written by a conditional UpdateItem on a status rank
(queued < ringing < in-progress < terminal), ties broken by SequenceNumber. Facts that are true
whatever the order (direction, answered-by, duration, "was answered") are merged unconditionally.
Every write is idempotent, so a retried callback may be re-applied safely: metrics are derived from
what changed (ALL_OLD), never from the number of deliveries.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.errors import StoreUnavailableError
from voicetrail.retention import RetentionClass, RetentionPolicy, expiry_bucket

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from voicetrail.storage import StoredEvent

SUMMARY_SK = "SUMMARY"
RECORDING_SK_PREFIX = "REC#"
DAY_PK_PREFIX = "CALLS#"

# Twilio CallStatus -> rank. Terminal statuses share the top rank: a call ends once.
TERMINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
STATUS_RANK: Mapping[str, int] = {
    "queued": 1,
    "initiated": 1,
    "ringing": 2,
    "in-progress": 3,
    **dict.fromkeys(TERMINAL_STATUSES, 4),
}
# A call was answered if it was ever in progress, or ended as `completed` (Twilio's answered-and-ended).
ANSWERED_STATUSES = frozenset({"in-progress", "completed"})
RECORDING_RANK: Mapping[str, int] = {
    "in-progress": 1,
    "paused": 1,
    "stopped": 1,
    "processing": 1,
    "completed": 2,
    "absent": 2,
    "failed": 2,
    "deleted": 3,
}
CONSENT_OUTCOMES = frozenset({"granted", "denied", "unclear"})
TOPOLOGIES = frozenset({"owner", "observer"})
# Vapi ended reasons that mean the assistant handed the call to a human.
ESCALATION_ENDED_REASONS = frozenset({"assistant-forwarded-call"})


def status_rank(status: str | None) -> int:
    return STATUS_RANK.get(status or "", 0)


def twilio_call_key(call_sid: str) -> str:
    return f"twilio:{call_sid}"


def looks_like_call_sid(value: str | None) -> bool:
    return bool(value) and len(value or "") == 34 and (value or "").startswith("CA")


def summary_call_key(provider_call_id: str | None, vapi_call_id: str) -> str:
    """The one key of a call: its Twilio CallSid when it has one, else the Vapi call id."""
    if provider_call_id and looks_like_call_sid(provider_call_id):
        return twilio_call_key(provider_call_id)
    return vapi_call_id


def utc_day(ts_ms: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts_ms // 1000))


@dataclass(frozen=True)
class TwilioCallUpdate:
    """What one Twilio voice status callback says about its call (numbers already hashed)."""

    call_sid: str
    status: str | None
    sequence: int | None
    event_ts_ms: int
    account_sid: str | None = None
    direction: str | None = None
    answered_by: str | None = None
    duration_s: int | None = None
    from_hash: str | None = None
    to_hash: str | None = None
    parent_call_sid: str | None = None

    @property
    def rank(self) -> int:
        return status_rank(self.status)

    @property
    def implies_answered(self) -> bool:
        return self.status in ANSWERED_STATUSES


@dataclass(frozen=True)
class CallTransition:
    """What changed in the call's state because of one update (drives the ROI metrics, once per call)."""

    started: bool = False  # first Twilio callback ever seen for this call
    answered: bool = False  # the call became answered
    final_status: str | None = None  # the call reached a terminal status
    duration_s: int | None = None  # the call's duration, when it became terminal
    status_applied: bool = False  # this update's status became the call's status


@dataclass(frozen=True)
class RecordingUpdate:
    call_sid: str
    recording_sid: str
    status: str
    event_ts_ms: int
    account_sid: str | None = None
    duration_s: int | None = None
    channels: int | None = None
    source: str | None = None
    track: str | None = None
    error_code: str | None = None


@dataclass(frozen=True)
class VapiCallView:
    """The Vapi side of a call, as far as one Vapi message tells it."""

    vapi_call_id: str
    event_ts_ms: int
    provider_call_id: str | None = None
    ended: bool = False
    ended_reason: str | None = None
    cost_usd: float | None = None
    duration_s: float | None = None
    escalated: bool = False
    consent: str | None = None  # granted | denied | unclear
    topology: str | None = None  # owner | observer (voicetrail.vapi.topology)

    @property
    def call_key(self) -> str:
        return summary_call_key(self.provider_call_id, self.vapi_call_id)


@dataclass(frozen=True)
class CallSummary:
    """One call, both views. Read by the report."""

    call_key: str
    first_ts_ms: int
    expires_at: int
    twilio_call_sid: str | None = None
    vapi_call_id: str | None = None
    status: str | None = None
    final_status: str | None = None
    answered: bool = False
    direction: str | None = None
    answered_by: str | None = None
    duration_s: int | None = None
    vapi_duration_s: float | None = None
    vapi_ended: bool = False
    ended_reason: str | None = None
    cost_usd: float | None = None
    escalated: bool = False
    consent: str | None = None
    topology: str | None = None
    recordings: tuple[str, ...] = ()
    days: tuple[str, ...] = ()

    @property
    def handle_time_s(self) -> float | None:
        """Seconds the call lasted: Twilio's CallDuration, else Vapi's durationSeconds."""
        if self.duration_s is not None:
            return float(self.duration_s)
        return self.vapi_duration_s

    @property
    def was_answered(self) -> bool:
        if self.answered:
            return True
        # No Twilio status for this call (a web call, or status callbacks not configured): the call was
        # answered if the assistant talked at all, so the report works from Vapi's view alone.
        return self.status is None and (self.vapi_duration_s or 0) > 0


class CallLedger(Protocol):
    def apply_twilio(self, update: TwilioCallUpdate, *, now: float) -> CallTransition: ...

    def index_recording(self, update: RecordingUpdate, *, now: float) -> bool:
        """Index a recording; True when this recording was seen for the first time."""
        ...

    def merge_vapi(self, view: VapiCallView, *, now: float) -> None: ...

    def get_summary(self, call_key: str, *, now: float) -> CallSummary | None: ...

    def summaries_for_days(self, days: Iterable[str], *, now: float) -> list[CallSummary]: ...


def vapi_view_from_event(event: StoredEvent) -> VapiCallView | None:
    """The Vapi side of a call from a stored Vapi event, or None when it tells nothing worth a write.

    Status updates, transfers and the end-of-call-report are merged; other message types are not
    (they carry nothing the summary needs, and merging every transcript would cost a write each).
    """
    if event.source != "vapi" or event.call_id in ("", "no-call"):
        return None
    if event.event_type not in ("status-update", "end-of-call-report", "transfer-update"):
        return None
    attrs = event.attributes
    provider = attrs.get("provider_call_id")
    reason = attrs.get("ended_reason")
    cost = attrs.get("cost_usd")
    duration = attrs.get("duration_s")
    ended = event.event_type == "end-of-call-report" or attrs.get("status") == "ended"
    topology = attrs.get("topology")
    return VapiCallView(
        vapi_call_id=event.call_id,
        event_ts_ms=event.event_ts_ms or event.received_at_ms,
        provider_call_id=str(provider) if provider else None,
        ended=ended,
        ended_reason=str(reason) if reason else None,
        cost_usd=float(cost) if isinstance(cost, int | float) else None,
        duration_s=float(duration) if isinstance(duration, int | float) else None,
        escalated=event.event_type == "transfer-update" or reason in ESCALATION_ENDED_REASONS,
        topology=str(topology) if topology in TOPOLOGIES else None,
    )


def merge_vapi_event(ledger: CallLedger | None, event: StoredEvent, *, now: float) -> None:
    """The one call the Vapi side makes after storing an event: joins it to its Twilio call."""
    if ledger is None:
        return
    view = vapi_view_from_event(event)
    if view is not None:
        ledger.merge_vapi(view, now=now)


# ---- DynamoDB ------------------------------------------------------------------------------------


def _s(value: str) -> dict[str, Any]:
    return {"S": value}


def _n(value: float) -> dict[str, Any]:
    return {"N": str(int(value)) if float(value).is_integer() else repr(float(value))}


def _bool(value: bool) -> dict[str, Any]:
    return {"BOOL": value}


class _Update:
    """Builds one UpdateItem: names and values are always placeholders (no reserved-word surprises)."""

    def __init__(self) -> None:
        self.sets: list[str] = []
        self.adds: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self.condition: str | None = None

    def _name(self, attr: str) -> str:
        placeholder = f"#a{len(self.names)}"
        self.names[placeholder] = attr
        return placeholder

    def _value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def set(self, attr: str, value: Any) -> None:
        self.sets.append(f"{self._name(attr)} = {self._value(value)}")

    def set_present(self, texts: Mapping[str, str | None], numbers: Mapping[str, float | None]) -> None:
        """SET each attribute that has a value (empty texts and None numbers are left as they are)."""
        for attr, text in texts.items():
            if text:
                self.set(attr, _s(text))
        for attr, number in numbers.items():
            if number is not None:
                self.set(attr, _n(number))

    def set_if_absent(self, attr: str, value: Any) -> None:
        name = self._name(attr)
        self.sets.append(f"{name} = if_not_exists({name}, {self._value(value)})")

    def add(self, attr: str, value: Any) -> None:
        self.adds.append(f"{self._name(attr)} {self._value(value)}")

    def value(self, value: Any) -> str:
        return self._value(value)

    def name(self, attr: str) -> str:
        return self._name(attr)

    def expression(self) -> str:
        parts = []
        if self.sets:
            parts.append("SET " + ", ".join(self.sets))
        if self.adds:
            parts.append("ADD " + ", ".join(self.adds))
        return " ".join(parts)


def _expiry_sets(update: _Update, pk: str, sk: str, expires_at: int, *, if_absent: bool = False) -> None:
    setter = update.set_if_absent if if_absent else update.set
    setter("expires_at", _n(expires_at))
    setter("exp_bucket", _s(expiry_bucket(expires_at)))
    setter("exp_sk", _s(f"{expires_at:012d}#{pk}#{sk}"))


def _get_s(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return str(value["S"]) if isinstance(value, dict) and "S" in value else None


def _get_n(item: Mapping[str, Any], name: str) -> float | None:
    value = item.get(name)
    return float(value["N"]) if isinstance(value, dict) and "N" in value else None


def _get_bool(item: Mapping[str, Any], name: str) -> bool:
    value = item.get(name)
    return bool(value.get("BOOL")) if isinstance(value, dict) else False


def _get_ss(item: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = item.get(name)
    return tuple(sorted(value.get("SS", []))) if isinstance(value, dict) else ()


def summary_from_item(item: Mapping[str, Any]) -> CallSummary:
    duration = _get_n(item, "duration_s")
    return CallSummary(
        call_key=_get_s(item, "call_key") or str(item["pk"]["S"]).removeprefix("CALL#"),
        first_ts_ms=int(_get_n(item, "first_ts_ms") or 0),
        expires_at=int(_get_n(item, "expires_at") or 0),
        twilio_call_sid=_get_s(item, "twilio_call_sid"),
        vapi_call_id=_get_s(item, "vapi_call_id"),
        status=_get_s(item, "call_status"),
        final_status=_get_s(item, "final_status"),
        answered=_get_bool(item, "answered"),
        direction=_get_s(item, "direction"),
        answered_by=_get_s(item, "answered_by"),
        duration_s=int(duration) if duration is not None else None,
        vapi_duration_s=_get_n(item, "vapi_duration_s"),
        vapi_ended=_get_bool(item, "vapi_ended"),
        ended_reason=_get_s(item, "ended_reason"),
        cost_usd=_get_n(item, "cost_usd"),
        escalated=_get_bool(item, "escalated"),
        consent=_get_s(item, "consent"),
        topology=_get_s(item, "topology"),
        recordings=_get_ss(item, "recording_sids"),
        days=_get_ss(item, "days"),
    )


class DynamoCallLedger:
    def __init__(self, client: DynamoDBClient, table_name: str, retention: RetentionPolicy) -> None:
        self._client = client
        self._table = table_name
        self._retention = retention

    # -- writes ------------------------------------------------------------------------------------

    def apply_twilio(self, update: TwilioCallUpdate, *, now: float) -> CallTransition:
        call_key = twilio_call_key(update.call_sid)
        applied = False
        old: Mapping[str, Any]
        if update.rank:
            try:
                old = self._update_summary(call_key, update.event_ts_ms, now, self._twilio_sets(update, True))
                applied = True
            except _ConditionFailedError:
                old = self._update_summary(
                    call_key, update.event_ts_ms, now, self._twilio_sets(update, False)
                )
        else:
            old = self._update_summary(call_key, update.event_ts_ms, now, self._twilio_sets(update, False))
        final = update.status if applied and update.status in TERMINAL_STATUSES else None
        became_final = final is not None and "final_status" not in old
        return CallTransition(
            started="tw_first_ms" not in old,
            answered=update.implies_answered and not _get_bool(old, "answered"),
            final_status=final if became_final else None,
            duration_s=update.duration_s if became_final else None,
            status_applied=applied,
        )

    def _twilio_sets(self, update: TwilioCallUpdate, with_status: bool) -> _Update:
        u = _Update()
        u.set("twilio_call_sid", _s(update.call_sid))
        u.set_if_absent("tw_first_ms", _n(update.event_ts_ms))
        u.set_present(
            {
                "account_sid": update.account_sid,
                "direction": update.direction,
                "answered_by": update.answered_by,
                "from_hash": update.from_hash,
                "to_hash": update.to_hash,
                "parent_call_sid": update.parent_call_sid,
            },
            {"duration_s": update.duration_s},
        )
        if update.implies_answered:
            u.set("answered", _bool(True))
        if with_status and update.status:
            sequence = update.sequence if update.sequence is not None else -1
            u.set("call_status", _s(update.status))
            u.set("status_seq", _n(sequence))
            u.set("status_ts_ms", _n(update.event_ts_ms))
            if update.status in TERMINAL_STATUSES:
                u.set("final_status", _s(update.status))
            rank = u.name("status_rank")
            seq = u.name("status_seq")
            r = u.value(_n(update.rank))
            s = u.value(_n(sequence))
            u.sets.append(f"{rank} = {r}")
            u.condition = f"attribute_not_exists({rank}) OR {rank} < {r} OR ({rank} = {r} AND {seq} < {s})"
        return u

    def index_recording(self, update: RecordingUpdate, *, now: float) -> bool:
        pk = f"CALL#{twilio_call_key(update.call_sid)}"
        sk = f"{RECORDING_SK_PREFIX}{update.recording_sid}"
        expires_at = self._retention.expires_at(RetentionClass.RECORDING, now)

        def build(with_status: bool) -> _Update:
            u = _Update()
            u.set("retention_class", _s(RetentionClass.RECORDING.value))
            _expiry_sets(u, pk, sk, expires_at, if_absent=True)
            u.set("call_key", _s(twilio_call_key(update.call_sid)))
            u.set("recording_sid", _s(update.recording_sid))
            u.set("call_sid", _s(update.call_sid))
            u.set_if_absent("first_ts_ms", _n(update.event_ts_ms))
            u.set("updated_ms", _n(int(now * 1000)))
            u.set_present(
                {
                    "account_sid": update.account_sid,
                    "source": update.source,
                    "track": update.track,
                    "error_code": update.error_code,
                },
                {"duration_s": update.duration_s, "channels": update.channels},
            )
            if with_status:
                rank = u.name("rec_rank")
                r = u.value(_n(RECORDING_RANK.get(update.status, 0)))
                u.set("rec_status", _s(update.status))
                u.sets.append(f"{rank} = {r}")
                u.condition = f"attribute_not_exists({rank}) OR {rank} < {r}"
            return u

        key = {"pk": _s(pk), "sk": _s(sk)}
        try:
            old = self._update(key, build(True))
        except _ConditionFailedError:
            old = self._update(key, build(False))
        summary = _Update()
        summary.set("twilio_call_sid", _s(update.call_sid))
        summary.add("recording_sids", {"SS": [update.recording_sid]})
        self._update_summary(twilio_call_key(update.call_sid), update.event_ts_ms, now, summary)
        return "recording_sid" not in old

    def merge_vapi(self, view: VapiCallView, *, now: float) -> None:
        u = _Update()
        u.set("vapi_call_id", _s(view.vapi_call_id))
        if view.provider_call_id and looks_like_call_sid(view.provider_call_id):
            u.set("twilio_call_sid", _s(view.provider_call_id))
        if view.ended:
            u.set("vapi_ended", _bool(True))
        if view.ended_reason:
            u.set("ended_reason", _s(view.ended_reason))
        if view.cost_usd is not None:
            u.set("cost_usd", _n(view.cost_usd))
        if view.duration_s is not None:
            u.set("vapi_duration_s", _n(view.duration_s))
        if view.escalated:
            u.set("escalated", _bool(True))
        if view.consent in CONSENT_OUTCOMES:
            u.set("consent", _s(view.consent or ""))
        if view.topology in TOPOLOGIES:
            u.set("topology", _s(view.topology or ""))
        self._update_summary(view.call_key, view.event_ts_ms, now, u)

    def _update_summary(self, call_key: str, ts_ms: int, now: float, u: _Update) -> Mapping[str, Any]:
        pk = f"CALL#{call_key}"
        day = utc_day(ts_ms)
        u.set("call_key", _s(call_key))
        u.set("retention_class", _s(RetentionClass.METADATA.value))
        expires_at = self._retention.expires_at(RetentionClass.METADATA, now)
        _expiry_sets(u, pk, SUMMARY_SK, expires_at)
        u.set("updated_ms", _n(int(now * 1000)))
        u.set_if_absent("first_ts_ms", _n(ts_ms))
        u.add("days", {"SS": [day]})
        old = self._update({"pk": _s(pk), "sk": _s(SUMMARY_SK)}, u)
        old_first = _get_n(old, "first_ts_ms")
        if old_first is not None and ts_ms < old_first:
            self._lower_first_ts(pk, ts_ms)
        if day not in _get_ss(old, "days"):
            self._put_day_marker(day, call_key, expires_at)
        return old

    def _lower_first_ts(self, pk: str, ts_ms: int) -> None:
        # Callbacks arrive out of order: the call started at the earliest timestamp seen.
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": _s(pk), "sk": _s(SUMMARY_SK)},
                UpdateExpression="SET first_ts_ms = :ts",
                ConditionExpression="first_ts_ms > :ts",
                ExpressionAttributeValues={":ts": _n(ts_ms)},
            )
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise StoreUnavailableError(f"update_item failed: {_code(exc)}") from None
        except BotoCoreError as exc:
            raise StoreUnavailableError(f"update_item failed: {type(exc).__name__}") from None

    def _put_day_marker(self, day: str, call_key: str, expires_at: int) -> None:
        pk = f"{DAY_PK_PREFIX}{day}"
        item = {
            "pk": _s(pk),
            "sk": _s(call_key),
            "call_key": _s(call_key),
            "retention_class": _s(RetentionClass.METADATA.value),
            "expires_at": _n(expires_at),
            "exp_bucket": _s(expiry_bucket(expires_at)),
            "exp_sk": _s(f"{expires_at:012d}#{pk}#{call_key}"),
        }
        try:
            self._client.put_item(TableName=self._table, Item=item)
        except ClientError as exc:
            raise StoreUnavailableError(f"put_item failed: {_code(exc)}") from None
        except BotoCoreError as exc:
            raise StoreUnavailableError(f"put_item failed: {type(exc).__name__}") from None

    def _update(self, key: dict[str, Any], u: _Update) -> Mapping[str, Any]:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "Key": key,
            "UpdateExpression": u.expression(),
            "ExpressionAttributeNames": u.names,
            "ExpressionAttributeValues": u.values,
            "ReturnValues": "ALL_OLD",
        }
        if u.condition:
            kwargs["ConditionExpression"] = u.condition
        try:
            response = self._client.update_item(**kwargs)
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                raise _ConditionFailedError() from None
            raise StoreUnavailableError(f"update_item failed: {_code(exc)}") from None
        except BotoCoreError as exc:
            raise StoreUnavailableError(f"update_item failed: {type(exc).__name__}") from None
        return response.get("Attributes", {})

    # -- reads -------------------------------------------------------------------------------------

    def get_summary(self, call_key: str, *, now: float) -> CallSummary | None:
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key={"pk": _s(f"CALL#{call_key}"), "sk": _s(SUMMARY_SK)},
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(f"get_item failed: {type(exc).__name__}") from None
        item = response.get("Item")
        if not item or int(_get_n(item, "expires_at") or 0) <= now:
            return None
        return summary_from_item(item)

    def recordings(self, call_sid: str, *, now: float) -> list[dict[str, Any]]:
        """The recording index items of a call (plain values), unexpired."""
        items = self._query(f"CALL#{twilio_call_key(call_sid)}", RECORDING_SK_PREFIX, now)
        out = []
        for item in items:
            out.append(
                {
                    "recording_sid": _get_s(item, "recording_sid"),
                    "call_sid": _get_s(item, "call_sid"),
                    "status": _get_s(item, "rec_status"),
                    "duration_s": _get_n(item, "duration_s"),
                    "channels": _get_n(item, "channels"),
                    "retention_class": _get_s(item, "retention_class"),
                    "expires_at": int(_get_n(item, "expires_at") or 0),
                }
            )
        return out

    def summaries_for_days(self, days: Iterable[str], *, now: float) -> list[CallSummary]:
        keys: list[str] = []
        seen: set[str] = set()
        for day in days:
            for item in self._query(f"{DAY_PK_PREFIX}{day}", "", now):
                call_key = item["sk"]["S"]
                if call_key not in seen:
                    seen.add(call_key)
                    keys.append(call_key)
        summaries: list[CallSummary] = []
        for start in range(0, len(keys), 100):
            chunk = keys[start : start + 100]
            request: dict[str, Any] = {
                self._table: {"Keys": [{"pk": _s(f"CALL#{k}"), "sk": _s(SUMMARY_SK)} for k in chunk]}
            }
            delay = 0.05
            for _attempt in range(8):
                try:
                    response = self._client.batch_get_item(RequestItems=request)
                except (ClientError, BotoCoreError) as exc:
                    raise StoreUnavailableError(f"batch_get_item failed: {type(exc).__name__}") from None
                for item in response.get("Responses", {}).get(self._table, []):
                    if int(_get_n(item, "expires_at") or 0) > now:
                        summaries.append(summary_from_item(item))
                request = dict(response.get("UnprocessedKeys") or {})
                if not request:
                    break
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        return sorted(summaries, key=lambda s: (s.first_ts_ms, s.call_key))

    def _query(self, pk: str, sk_prefix: str, now: float) -> list[dict[str, Any]]:
        condition = "pk = :pk AND begins_with(sk, :prefix)" if sk_prefix else "pk = :pk"
        values: dict[str, Any] = {":pk": _s(pk), ":now": _n(int(now))}
        if sk_prefix:
            values[":prefix"] = _s(sk_prefix)
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "FilterExpression": "expires_at > :now",
            "ExpressionAttributeValues": values,
        }
        items: list[dict[str, Any]] = []
        try:
            while True:
                page = self._client.query(**kwargs)
                items.extend(page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    return items
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(f"query failed: {type(exc).__name__}") from None


class _ConditionFailedError(Exception):
    pass


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))


# ---- in memory (unit tests) ------------------------------------------------------------------------


class InMemoryCallLedger:
    """The same semantics as DynamoCallLedger, in a dict (unit tests, the contract test runs both)."""

    def __init__(self, retention: RetentionPolicy | None = None) -> None:
        self._retention = retention or RetentionPolicy()
        self.summaries: dict[str, dict[str, Any]] = {}
        self.recording_items: dict[tuple[str, str], dict[str, Any]] = {}

    def _summary(self, call_key: str, ts_ms: int, now: float) -> tuple[dict[str, Any], dict[str, Any]]:
        item = self.summaries.setdefault(call_key, {"call_key": call_key, "days": set()})
        old = {k: (set(v) if isinstance(v, set) else v) for k, v in item.items()}
        item["expires_at"] = self._retention.expires_at(RetentionClass.METADATA, now)
        item["first_ts_ms"] = min(item.get("first_ts_ms", ts_ms), ts_ms)
        item["days"].add(utc_day(ts_ms))
        return item, old

    def apply_twilio(self, update: TwilioCallUpdate, *, now: float) -> CallTransition:
        item, old = self._summary(twilio_call_key(update.call_sid), update.event_ts_ms, now)
        item["twilio_call_sid"] = update.call_sid
        item.setdefault("tw_first_ms", update.event_ts_ms)
        for attr in ("account_sid", "direction", "answered_by", "from_hash", "to_hash", "parent_call_sid"):
            value = getattr(update, attr)
            if value:
                item[attr] = value
        if update.duration_s is not None:
            item["duration_s"] = update.duration_s
        if update.implies_answered:
            item["answered"] = True
        sequence = update.sequence if update.sequence is not None else -1
        applied = False
        if update.rank:
            rank, seq = old.get("status_rank"), old.get("status_seq", -1)
            if rank is None or rank < update.rank or (rank == update.rank and seq < sequence):
                applied = True
                item.update(call_status=update.status, status_rank=update.rank, status_seq=sequence)
                if update.status in TERMINAL_STATUSES:
                    item["final_status"] = update.status
        final = update.status if applied and update.status in TERMINAL_STATUSES else None
        became_final = final is not None and "final_status" not in old
        return CallTransition(
            started="tw_first_ms" not in old,
            answered=update.implies_answered and not old.get("answered", False),
            final_status=final if became_final else None,
            duration_s=update.duration_s if became_final else None,
            status_applied=applied,
        )

    def index_recording(self, update: RecordingUpdate, *, now: float) -> bool:
        key = (update.call_sid, update.recording_sid)
        new = key not in self.recording_items
        item = self.recording_items.setdefault(
            key,
            {
                "recording_sid": update.recording_sid,
                "call_sid": update.call_sid,
                "retention_class": RetentionClass.RECORDING.value,
                "expires_at": self._retention.expires_at(RetentionClass.RECORDING, now),
            },
        )
        for attr in ("account_sid", "source", "track", "error_code", "duration_s", "channels"):
            value = getattr(update, attr)
            if value is not None:
                item[attr] = value
        rank = RECORDING_RANK.get(update.status, 0)
        if item.get("rec_rank") is None or item["rec_rank"] < rank:
            item.update(status=update.status, rec_rank=rank)
        summary, _ = self._summary(twilio_call_key(update.call_sid), update.event_ts_ms, now)
        summary["twilio_call_sid"] = update.call_sid
        summary.setdefault("recording_sids", set()).add(update.recording_sid)
        return new

    def merge_vapi(self, view: VapiCallView, *, now: float) -> None:
        item, _ = self._summary(view.call_key, view.event_ts_ms, now)
        item["vapi_call_id"] = view.vapi_call_id
        if view.provider_call_id and looks_like_call_sid(view.provider_call_id):
            item["twilio_call_sid"] = view.provider_call_id
        if view.ended:
            item["vapi_ended"] = True
        for attr, target in (
            ("ended_reason", "ended_reason"),
            ("cost_usd", "cost_usd"),
            ("duration_s", "vapi_duration_s"),
        ):
            value = getattr(view, attr)
            if value is not None:
                item[target] = value
        if view.escalated:
            item["escalated"] = True
        if view.consent in CONSENT_OUTCOMES:
            item["consent"] = view.consent
        if view.topology in TOPOLOGIES:
            item["topology"] = view.topology

    def get_summary(self, call_key: str, *, now: float) -> CallSummary | None:
        item = self.summaries.get(call_key)
        if item is None or item["expires_at"] <= now:
            return None
        return self._to_summary(item)

    def summaries_for_days(self, days: Iterable[str], *, now: float) -> list[CallSummary]:
        wanted = set(days)
        found = [
            self._to_summary(item)
            for item in self.summaries.values()
            if item["expires_at"] > now and item["days"] & wanted
        ]
        return sorted(found, key=lambda s: (s.first_ts_ms, s.call_key))

    @staticmethod
    def _to_summary(item: Mapping[str, Any]) -> CallSummary:
        return CallSummary(
            call_key=item["call_key"],
            first_ts_ms=int(item.get("first_ts_ms", 0)),
            expires_at=int(item["expires_at"]),
            twilio_call_sid=item.get("twilio_call_sid"),
            vapi_call_id=item.get("vapi_call_id"),
            status=item.get("call_status"),
            final_status=item.get("final_status"),
            answered=bool(item.get("answered", False)),
            direction=item.get("direction"),
            answered_by=item.get("answered_by"),
            duration_s=item.get("duration_s"),
            vapi_duration_s=item.get("vapi_duration_s"),
            vapi_ended=bool(item.get("vapi_ended", False)),
            ended_reason=item.get("ended_reason"),
            cost_usd=item.get("cost_usd"),
            escalated=bool(item.get("escalated", False)),
            consent=item.get("consent"),
            topology=item.get("topology"),
            recordings=tuple(sorted(item.get("recording_sids", ()))),
            days=tuple(sorted(item["days"])),
        )
