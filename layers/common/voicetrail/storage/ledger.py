"""DynamoDB adapter of the call ledger (port: `CallLedger`; rules: voicetrail.domain.calls.state).

Items (see voicetrail.storage.table): the call summary `CALL#<call key>` / `SUMMARY`, recording pointers
`CALL#twilio:<CallSid>` / `REC#<RecordingSid>`, day markers `CALLS#<day>` / `<call key>`. Every write is
an UpdateItem returning ALL_OLD, so the domain learns what changed whatever the delivery count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.domain.calls.state import (
    CONSENT_OUTCOMES,
    RECORDING_RANK,
    TERMINAL_STATUSES,
    TOPOLOGIES,
    CallSummary,
    CallTransition,
    RecordingUpdate,
    TwilioCallUpdate,
    VapiCallView,
    looks_like_call_sid,
    twilio_call_key,
    utc_day,
)
from voicetrail.domain.retention.classes import RetentionClass, RetentionPolicy
from voicetrail.storage.batch import batch_get, query_items
from voicetrail.storage.expiry_days import note_expiry
from voicetrail.storage.expressions import (
    UpdateBuilder,
    boolean,
    expiry_attributes,
    get_bool,
    get_n,
    get_s,
    get_ss,
    key,
    n,
    s,
)
from voicetrail.storage.failures import error_code, store_error
from voicetrail.storage.table import (
    RECORDING_SK_PREFIX,
    SUMMARY_SK,
    call_key_of_pk,
    call_pk,
    day_pk,
    recording_sk,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def summary_from_item(item: Mapping[str, Any]) -> CallSummary:
    # Only readers (reports, the CLI) decode latency: the webhooks' cold start does without the module.
    from voicetrail.domain.latency import CallLatency

    duration = get_n(item, "duration_s")
    return CallSummary(
        call_key=get_s(item, "call_key") or call_key_of_pk(str(item["pk"]["S"])),
        first_ts_ms=int(get_n(item, "first_ts_ms") or 0),
        expires_at=int(get_n(item, "expires_at") or 0),
        twilio_call_sid=get_s(item, "twilio_call_sid"),
        vapi_call_id=get_s(item, "vapi_call_id") or get_s(item, "platform_call_id"),
        status=get_s(item, "call_status"),
        final_status=get_s(item, "final_status"),
        answered=get_bool(item, "answered"),
        direction=get_s(item, "direction"),
        answered_by=get_s(item, "answered_by"),
        duration_s=int(duration) if duration is not None else None,
        vapi_duration_s=get_n(item, "vapi_duration_s"),
        vapi_ended=get_bool(item, "vapi_ended"),
        ended_reason=get_s(item, "ended_reason"),
        cost_usd=get_n(item, "cost_usd"),
        escalated=get_bool(item, "escalated"),
        consent=get_s(item, "consent"),
        topology=get_s(item, "topology"),
        recordings=get_ss(item, "recording_sids"),
        days=get_ss(item, "days"),
        latency=CallLatency.from_record(get_s(item, "latency")),
        platform=get_s(item, "platform"),
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
            answered=update.implies_answered and not get_bool(old, "answered"),
            final_status=final if became_final else None,
            duration_s=update.duration_s if became_final else None,
            status_applied=applied,
        )

    def _twilio_sets(self, update: TwilioCallUpdate, with_status: bool) -> UpdateBuilder:
        u = UpdateBuilder()
        u.set("twilio_call_sid", s(update.call_sid))
        u.set_if_absent("tw_first_ms", n(update.event_ts_ms))
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
            u.set("answered", boolean(True))
        if with_status and update.status:
            sequence = update.sequence if update.sequence is not None else -1
            u.set("call_status", s(update.status))
            u.set("status_seq", n(sequence))
            u.set("status_ts_ms", n(update.event_ts_ms))
            if update.status in TERMINAL_STATUSES:
                u.set("final_status", s(update.status))
            rank = u.name("status_rank")
            seq = u.name("status_seq")
            r = u.value(n(update.rank))
            seq_value = u.value(n(sequence))
            u.sets.append(f"{rank} = {r}")
            u.condition = (
                f"attribute_not_exists({rank}) OR {rank} < {r} OR ({rank} = {r} AND {seq} < {seq_value})"
            )
        return u

    def index_recording(self, update: RecordingUpdate, *, now: float) -> bool:
        pk = call_pk(twilio_call_key(update.call_sid))
        sk = recording_sk(update.recording_sid)
        expires_at = self._retention.expires_at(RetentionClass.RECORDING, now)
        expiry = expiry_attributes(pk, sk, RetentionClass.RECORDING, expires_at)
        note_expiry(self._client, self._table, expiry)

        def build(with_status: bool) -> UpdateBuilder:
            u = UpdateBuilder()
            for attr, value in expiry.items():
                # A held pointer (purge_attempts) keeps the expiry the purge gave it.
                if attr == "retention_class":
                    u.set(attr, value)
                else:
                    u.set_if_absent(attr, value)
            u.set("call_key", s(twilio_call_key(update.call_sid)))
            u.set("recording_sid", s(update.recording_sid))
            u.set("call_sid", s(update.call_sid))
            u.set_if_absent("first_ts_ms", n(update.event_ts_ms))
            u.set("updated_ms", n(int(now * 1000)))
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
                r = u.value(n(RECORDING_RANK.get(update.status, 0)))
                u.set("rec_status", s(update.status))
                u.sets.append(f"{rank} = {r}")
                u.condition = f"attribute_not_exists({rank}) OR {rank} < {r}"
            return u

        item_key = key(pk, sk)
        try:
            old = self._update(item_key, build(True))
        except _ConditionFailedError:
            old = self._update(item_key, build(False))
        summary = UpdateBuilder()
        summary.set("twilio_call_sid", s(update.call_sid))
        summary.add("recording_sids", {"SS": [update.recording_sid]})
        self._update_summary(twilio_call_key(update.call_sid), update.event_ts_ms, now, summary)
        return "recording_sid" not in old

    def merge_vapi(self, view: VapiCallView, *, now: float) -> None:
        u = UpdateBuilder()
        # Another platform's call id is never written where erasure looks for Vapi calls to delete.
        u.set("platform_call_id" if view.platform else "vapi_call_id", s(view.vapi_call_id))
        if view.provider_call_id and looks_like_call_sid(view.provider_call_id):
            u.set("twilio_call_sid", s(view.provider_call_id))
        if view.ended:
            u.set("vapi_ended", boolean(True))
        if view.ended_reason:
            u.set("ended_reason", s(view.ended_reason))
        if view.cost_usd is not None:
            u.set("cost_usd", n(view.cost_usd))
        if view.duration_s is not None:
            u.set("vapi_duration_s", n(view.duration_s))
        if view.escalated:
            u.set("escalated", boolean(True))
        if view.consent in CONSENT_OUTCOMES:
            u.set("consent", s(view.consent or ""))
        if view.topology in TOPOLOGIES:
            u.set("topology", s(view.topology or ""))
        if view.latency is not None:
            u.set("latency", s(view.latency.to_record()))
        if view.platform:
            u.set("platform", s(view.platform))
        self._update_summary(view.call_key, view.event_ts_ms, now, u)

    def _update_summary(self, call_key: str, ts_ms: int, now: float, u: UpdateBuilder) -> Mapping[str, Any]:
        pk = call_pk(call_key)
        day = utc_day(ts_ms)
        u.set("call_key", s(call_key))
        expires_at = self._retention.expires_at(RetentionClass.METADATA, now)
        u.expiry(pk, SUMMARY_SK, RetentionClass.METADATA, expires_at)
        u.set("updated_ms", n(int(now * 1000)))
        u.set_if_absent("first_ts_ms", n(ts_ms))
        u.add("days", {"SS": [day]})
        note_expiry(self._client, self._table, u.expiry_values)
        old = self._update(key(pk, SUMMARY_SK), u)
        old_first = get_n(old, "first_ts_ms")
        if old_first is not None and ts_ms < old_first:
            self._lower_first_ts(pk, ts_ms)
        if day not in get_ss(old, "days"):
            self._put_day_marker(day, call_key, expires_at)
        return old

    def _lower_first_ts(self, pk: str, ts_ms: int) -> None:
        # Callbacks arrive out of order: the call started at the earliest timestamp seen.
        u = UpdateBuilder()
        u.set("first_ts_ms", n(ts_ms))
        u.condition = f"{u.name('first_ts_ms')} > {u.value(n(ts_ms))}"
        try:
            self._client.update_item(TableName=self._table, Key=key(pk, SUMMARY_SK), **u.params())
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise store_error(exc, "update_item") from None
        except BotoCoreError as exc:
            raise store_error(exc, "update_item") from None

    def _put_day_marker(self, day: str, call_key: str, expires_at: int) -> None:
        pk = day_pk(day)
        item = {
            **key(pk, call_key),
            "call_key": s(call_key),
            **expiry_attributes(pk, call_key, RetentionClass.METADATA, expires_at),
        }
        note_expiry(self._client, self._table, item)
        try:
            self._client.put_item(TableName=self._table, Item=item)
        except ClientError as exc:
            raise store_error(exc, "put_item") from None
        except BotoCoreError as exc:
            raise store_error(exc, "put_item") from None

    def _update(self, item_key: dict[str, Any], u: UpdateBuilder) -> Mapping[str, Any]:
        try:
            response = self._client.update_item(
                TableName=self._table, Key=item_key, ReturnValues="ALL_OLD", **u.params()
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise _ConditionFailedError() from None
            raise store_error(exc, "update_item") from None
        except BotoCoreError as exc:
            raise store_error(exc, "update_item") from None
        return response.get("Attributes", {})

    # -- reads -------------------------------------------------------------------------------------

    def get_summary(self, call_key: str, *, now: float) -> CallSummary | None:
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key=key(call_pk(call_key), SUMMARY_SK),
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as exc:
            raise store_error(exc, "get_item") from None
        item = response.get("Item")
        if not item or int(get_n(item, "expires_at") or 0) <= now:
            return None
        return summary_from_item(item)

    def recordings(self, call_sid: str, *, now: float) -> list[dict[str, Any]]:
        """The recording index items of a call (plain values), unexpired."""
        items = self._query(call_pk(twilio_call_key(call_sid)), RECORDING_SK_PREFIX, now)
        out = []
        for item in items:
            out.append(
                {
                    "recording_sid": get_s(item, "recording_sid"),
                    "call_sid": get_s(item, "call_sid"),
                    "status": get_s(item, "rec_status"),
                    "duration_s": get_n(item, "duration_s"),
                    "channels": get_n(item, "channels"),
                    "retention_class": get_s(item, "retention_class"),
                    "expires_at": int(get_n(item, "expires_at") or 0),
                }
            )
        return out

    def summaries_for_days(self, days: Iterable[str], *, now: float) -> list[CallSummary]:
        keys: list[str] = []
        seen: set[str] = set()
        for day in days:
            for item in self._query(day_pk(day), "", now):
                call_key = item["sk"]["S"]
                if call_key not in seen:
                    seen.add(call_key)
                    keys.append(call_key)
        items = batch_get(self._client, self._table, [key(call_pk(k), SUMMARY_SK) for k in keys])
        summaries = [summary_from_item(i) for i in items if int(get_n(i, "expires_at") or 0) > now]
        return sorted(summaries, key=lambda s: (s.first_ts_ms, s.call_key))

    def _query(self, pk: str, sk_prefix: str, now: float) -> list[dict[str, Any]]:
        condition = "pk = :pk AND begins_with(sk, :prefix)" if sk_prefix else "pk = :pk"
        values: dict[str, Any] = {":pk": s(pk), ":now": n(int(now))}
        if sk_prefix:
            values[":prefix"] = s(sk_prefix)
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "FilterExpression": "expires_at > :now",
            "ExpressionAttributeValues": values,
        }
        try:
            return list(query_items(self._client, kwargs))
        except (ClientError, BotoCoreError) as exc:
            raise store_error(exc, "query") from None


class _ConditionFailedError(Exception):
    pass
