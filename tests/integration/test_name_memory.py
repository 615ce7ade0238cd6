"""The call's name memory in DynamoDB (moto): hashes only, retention attributes for the purge."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import TABLE
from voicetrail.domain.retention.classes import RetentionPolicy
from voicetrail.errors import StoreUnavailableError
from voicetrail.storage.names import DynamoNameMemory

pytestmark = pytest.mark.integration


def test_remembered_hashes_accumulate_and_carry_content_retention(moto_table: Any) -> None:
    memory = DynamoNameMemory(moto_table, TABLE, RetentionPolicy(content_days=7))
    memory.remember("call-1", frozenset({"nm_a", "nm_b"}), now=1_000)
    memory.remember("call-1", frozenset({"nm_b", "nm_c"}), now=2_000)
    assert memory.known("call-1") == {"nm_a", "nm_b", "nm_c"}
    assert memory.known("other-call") == frozenset()
    item = moto_table.get_item(TableName=TABLE, Key={"pk": {"S": "CALL#call-1"}, "sk": {"S": "NAMES"}})[
        "Item"
    ]
    assert item["retention_class"]["S"] == "content"
    assert int(item["expires_at"]["N"]) == 2_000 + 7 * 86_400
    assert item["exp_bucket"]["S"].startswith("EXP#")
    assert "maria" not in json.dumps(item).lower()


def test_a_store_failure_is_retryable(moto_table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    memory = DynamoNameMemory(moto_table, TABLE, RetentionPolicy())

    def throttled(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "GetItem")

    monkeypatch.setattr(moto_table, "get_item", throttled)
    with pytest.raises(StoreUnavailableError):
        memory.known("call-1")
