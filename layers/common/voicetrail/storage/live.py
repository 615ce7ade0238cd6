"""DynamoDB adapters of the live features: per-call live state (`LiveStore`) and live-call configs
(`ConfigSource`). Items and keys: voicetrail.storage.table (consent state, escalation claim, tool result,
caller consent, live config)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from voicetrail.domain.live.store import (
    CallerConsent,
    ClaimResult,
    ConsentRecord,
    ConsentState,
    RuleSnapshot,
    ToolResult,
)
from voicetrail.domain.retention.classes import RetentionClass, RetentionPolicy
from voicetrail.storage.batch import batch_get, query_items
from voicetrail.storage.expiry_days import note_expiry
from voicetrail.storage.expressions import UpdateBuilder, boolean, expiry_attributes, key, n, s
from voicetrail.storage.failures import store_error
from voicetrail.storage.table import (
    CALLER_CONSENT_SK,
    CONFIG_INDEX_PK,
    CONFIG_SK,
    CONSENT_SK,
    ESCALATION_SK,
    PK,
    SK,
    call_pk,
    caller_pk,
    rule_sk,
    tool_call_id_of_sk,
    tool_sk,
)


class DynamoLiveStore:
    def __init__(self, client: Any, table_name: str, retention: RetentionPolicy) -> None:
        self._client = client
        self._table = table_name
        self._retention = retention

    # -- helpers ---------------------------------------------------------------------------------
    def _expiry(self, pk: str, sk: str, retention_class: RetentionClass, now: float) -> dict[str, Any]:
        """The expiry attributes of an item about to be written, its bucket recorded first (note_expiry)."""
        attributes = expiry_attributes(
            pk, sk, retention_class, self._retention.expires_at(retention_class, now)
        )
        note_expiry(self._client, self._table, attributes)
        return attributes

    def _call(self, operation: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._client, operation)(TableName=self._table, **kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise _ConditionFailedError() from None
            raise store_error(exc, operation) from None
        except BotoCoreError as exc:
            raise store_error(exc, operation) from None

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self._call("get_item", Key=key(pk, sk), ConsistentRead=True).get("Item")
        return dict(item) if item else None

    # -- consent ---------------------------------------------------------------------------------
    def get_consent(self, call_id: str) -> ConsentRecord | None:
        item = self._get(call_pk(call_id), CONSENT_SK)
        if not item:
            return None
        return ConsentRecord(
            state=ConsentState(item["state"]["S"]),
            asks=int(item["asks"]["N"]),
            version=int(item["version"]["N"]),
            source=item.get("source", {}).get("S", "-"),
            updated_ms=int(item.get("updated_ms", {}).get("N", "0")),
            action=item.get("action", {}).get("S", "none"),
        )

    def save_consent(
        self, call_id: str, record: ConsentRecord, *, expected_version: int | None, now: float
    ) -> bool:
        pk = call_pk(call_id)
        item = {
            **key(pk, CONSENT_SK),
            "call_id": s(call_id),
            "state": s(record.state.value),
            "asks": n(record.asks),
            "version": n(record.version),
            "source": s(record.source),
            "updated_ms": n(record.updated_ms),
            "action": s(record.action),
            **self._expiry(pk, CONSENT_SK, RetentionClass.METADATA, now),
        }
        if expected_version is None:
            condition: dict[str, Any] = {"ConditionExpression": f"attribute_not_exists({PK})"}
        else:
            condition = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": n(expected_version)},
            }
        try:
            self._call("put_item", Item=item, **condition)
        except _ConditionFailedError:
            return False
        return True

    # -- escalation ------------------------------------------------------------------------------
    def claim_escalation(self, call_id: str, *, now_ms: int, debounce_ms: int, now: float) -> ClaimResult:
        pk = call_pk(call_id)
        u = UpdateBuilder()
        u.set("status", s("claimed"))
        u.set("last_ms", n(now_ms))
        u.set("call_id", s(call_id))
        u.set_all(self._expiry(pk, ESCALATION_SK, RetentionClass.METADATA, now))
        u.add("attempts", n(1))
        status, last_ms = u.name("status"), u.name("last_ms")
        u.condition = (
            f"attribute_not_exists({u.name(PK)}) "
            f"OR ({status} = {u.value(s('failed'))} AND {last_ms} < {u.value(n(now_ms - debounce_ms))})"
        )
        try:
            self._call("update_item", Key=key(pk, ESCALATION_SK), **u.params())
        except _ConditionFailedError:
            item = self._get(pk, ESCALATION_SK) or {}
            last = int(item.get("last_ms", {}).get("N", "0"))
            return ClaimResult.DEBOUNCED if now_ms - last < debounce_ms else ClaimResult.ALREADY
        return ClaimResult.CLAIMED

    def save_rule_snapshot(self, call_id: str, snapshot: RuleSnapshot, *, now: float) -> None:
        pk, sk = call_pk(call_id), rule_sk(snapshot.code)
        item = {
            **key(pk, sk),
            "config_key": s(snapshot.config_key),
            "config": s(snapshot.config_json),
            "rule": n(snapshot.rule),
            "keyword": s(snapshot.keyword),
            "fired_at_ms": n(snapshot.fired_at_ms),
            **self._expiry(pk, sk, RetentionClass.METADATA, now),
        }
        self._call("put_item", Item=item)

    def finish_escalation(self, call_id: str, *, ok: bool, now: float) -> None:
        u = UpdateBuilder()
        u.set("status", s("done" if ok else "failed"))
        self._call("update_item", Key=key(call_pk(call_id), ESCALATION_SK), **u.params())

    # -- tool results ----------------------------------------------------------------------------
    def get_tool_results(self, call_id: str, ids: list[str]) -> dict[str, ToolResult]:
        if not ids:
            return {}
        pk = call_pk(call_id)
        keys = [key(pk, tool_sk(i)) for i in ids]
        found: dict[str, ToolResult] = {}
        for item in batch_get(self._client, self._table, keys, consistent=True):
            tool_id = tool_call_id_of_sk(item["sk"]["S"])
            found[tool_id] = ToolResult(
                tool_call_id=tool_id,
                name=item.get("name", {}).get("S", ""),
                text=item.get("result", {}).get("S", ""),
                is_error=bool(item.get("is_error", {}).get("BOOL", False)),
            )
        return found

    def put_tool_result(self, call_id: str, result: ToolResult, *, now: float) -> None:
        pk = call_pk(call_id)
        sk = tool_sk(result.tool_call_id)
        self._call(
            "put_item",
            Item={
                **key(pk, sk),
                "call_id": s(call_id),
                "name": s(result.name),
                "result": s(result.text),
                "is_error": boolean(result.is_error),
                **self._expiry(pk, sk, RetentionClass.METADATA, now),
            },
        )

    # -- returning callers -----------------------------------------------------------------------
    def get_caller_consent(self, caller_hash: str) -> CallerConsent | None:
        item = self._get(caller_pk(caller_hash), CALLER_CONSENT_SK)
        if not item:
            return None
        return CallerConsent(decision=item["decision"]["S"], decided_at=int(item["decided_at"]["N"]))

    def put_caller_consent(self, caller_hash: str, consent: CallerConsent, *, now: float) -> None:
        pk = caller_pk(caller_hash)
        self._call(
            "put_item",
            Item={
                **key(pk, CALLER_CONSENT_SK),
                "caller_hash": s(caller_hash),
                "decision": s(consent.decision),
                "decided_at": n(consent.decided_at),
                **self._expiry(pk, CALLER_CONSENT_SK, RetentionClass.AUDIT, now),
            },
        )


class _ConditionFailedError(Exception):
    pass


def _config_text(item: dict[str, Any] | None) -> str | None:
    if not item:
        return None
    value = item.get("config", {})
    if "S" not in value:
        return "<not a string>"  # present but unusable: reported as broken
    return str(value["S"])


class TableConfigSource:
    """Live-call configs kept as items of the table (`CONFIG#...` / `CONFIG`, attribute `config`)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def fetch(self, key: str) -> str | None:
        response = self._client.get_item(
            TableName=self._table,
            Key={PK: s(key), SK: s(CONFIG_SK)},
            ProjectionExpression="#c",
            ExpressionAttributeNames={"#c": "config"},
            ConsistentRead=False,
        )
        return _config_text(response.get("Item"))

    def fetch_many(self, keys: Sequence[str]) -> dict[str, str | None]:
        """The phone, assistant and default configs of a call in one round trip, not three."""
        items = batch_get(
            self._client,
            self._table,
            [key(k, CONFIG_SK) for k in keys],
            projection={"#c": "config"},
        )
        by_key = {item[PK]["S"]: item for item in items}
        return {k: _config_text(by_key.get(k)) for k in keys}

    def store(self, key: str, text: str, *, now: float | None = None) -> None:
        """Write a config item and its entry in the config index, in one transaction (operators and the
        demo scenarios; the webhook only reads). The index lets `voicetrail config list` avoid a Scan."""
        updated = str(int((now if now is not None else time.time()) * 1000))
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {PK: s(key), SK: s(CONFIG_SK), "config": s(text)},
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {PK: s(CONFIG_INDEX_PK), SK: s(key), "updated_ms": {"N": updated}},
                    }
                },
            ]
        )

    def read(self, key: str) -> str | None:
        """A config item's text, read consistently (operators check what they just wrote)."""
        item = self._client.get_item(
            TableName=self._table, Key={PK: s(key), SK: s(CONFIG_SK)}, ConsistentRead=True
        ).get("Item")
        return str(item["config"]["S"]) if item and "S" in item.get("config", {}) else None

    def list(self) -> list[tuple[str, int]]:
        """(key, updated_ms) of every config written with `store`: one query of the index partition."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": s(CONFIG_INDEX_PK)},
        }
        return [(i[SK]["S"], int(i["updated_ms"]["N"])) for i in query_items(self._client, kwargs)]
