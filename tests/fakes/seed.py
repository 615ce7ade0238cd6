"""Items as the real writers store them (events via to_item, the call ledger's SUMMARY and REC# items)."""

from __future__ import annotations

from typing import Any

from voicetrail.domain.calls.ports import StoredEvent
from voicetrail.domain.retention.classes import RetentionClass
from voicetrail.storage.dynamo import to_item
from voicetrail.storage.table import expiry_bucket

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "fake-twilio-token"
VAPI_KEY = "fake-vapi-key"


def recording_sid(n: int) -> str:
    return f"RE{n:032x}"


def call_sid(n: int) -> str:
    return f"CA{n:032x}"


def event_item(
    call_id: str,
    key: str,
    rclass: RetentionClass,
    expires_at: int,
    *,
    caller_hash: str | None = None,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    source = "twilio" if call_id.startswith("twilio:") else "vapi"
    return to_item(
        StoredEvent(
            call_id=call_id,
            event_key=key,
            source=source,
            event_type="transcript" if rclass is RetentionClass.CONTENT else "status-update",
            retention_class=rclass,
            expires_at=expires_at,
            received_at_ms=(expires_at - 86_400 * 30) * 1000,
            body=body or {"n": key},
            caller_hash=caller_hash,
        )
    )


def _expiry(pk: str, sk: str, rclass: RetentionClass, expires_at: int) -> dict[str, Any]:
    return {
        "pk": {"S": pk},
        "sk": {"S": sk},
        "retention_class": {"S": rclass.value},
        "expires_at": {"N": str(expires_at)},
        "exp_bucket": {"S": expiry_bucket(expires_at, pk)},
        "exp_sk": {"S": f"{expires_at:012d}#{pk}#{sk}"},
    }


def recording_item(sid_of_call: str, rec_sid: str, expires_at: int) -> dict[str, Any]:
    """The call ledger's recording index item (domain.calls.state): CALL#twilio:<CallSid> / REC#<RecSid>."""
    pk = f"CALL#twilio:{sid_of_call}"
    item = _expiry(pk, f"REC#{rec_sid}", RetentionClass.RECORDING, expires_at)
    item.update(
        recording_sid={"S": rec_sid},
        call_sid={"S": sid_of_call},
        call_key={"S": f"twilio:{sid_of_call}"},
        account_sid={"S": ACCOUNT_SID},
        rec_status={"S": "completed"},
    )
    return item


def summary_item(sid_of_call: str, vapi_call_id: str | None, expires_at: int) -> dict[str, Any]:
    pk = f"CALL#twilio:{sid_of_call}"
    item = _expiry(pk, "SUMMARY", RetentionClass.METADATA, expires_at)
    item["call_key"] = {"S": f"twilio:{sid_of_call}"}
    if vapi_call_id:
        item["vapi_call_id"] = {"S": vapi_call_id}
    return item


def put_all(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        client.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
        )


def all_keys(client: Any, table: str) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    kwargs: dict[str, Any] = {"TableName": table, "ProjectionExpression": "pk, sk"}
    while True:
        page = client.scan(**kwargs)
        keys.update((i["pk"]["S"], i["sk"]["S"]) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return keys
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
