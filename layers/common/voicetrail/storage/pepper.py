"""DynamoDB adapter of `PepperFingerprints`: which peppers this table's caller hashes were made with,
as keyed fingerprints (never the pepper).

  pk = SYS#pepper   sk = FP#<fingerprint>   first_seen_ms (N)

The webhook functions record the fingerprint of their pepper the first time a process hashes a caller
(one conditional write per process, not per request). Erasure compares the fingerprint of the pepper it
was given with these before it looks anything up: with a wrong pepper the CallerIndex would find
nothing, and "0 calls, complete" would be certified for a caller who has calls. No expiry: the item
holds no personal data and is needed as long as any hash made with that pepper may exist.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.storage.failures import store_error
from voicetrail.storage.table import FINGERPRINT_SK_PREFIX, PEPPER_PK, fingerprint_sk


class DynamoPepperFingerprints:
    def __init__(self, client: Any, table: str, clock: Any = time.time) -> None:
        self._client = client
        self._table = table
        self._clock = clock
        self._recorded: set[str] = set()
        self._lock = threading.Lock()

    def record(self, fingerprint: str) -> None:
        with self._lock:
            if fingerprint in self._recorded:
                return
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": PEPPER_PK},
                    "sk": {"S": fingerprint_sk(fingerprint)},
                    "first_seen_ms": {"N": str(int(self._clock() * 1000))},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise store_error(exc, "pepper fingerprint write") from None
        except BotoCoreError as exc:
            raise store_error(exc, "pepper fingerprint write") from None
        with self._lock:
            self._recorded.add(fingerprint)

    def known(self) -> set[str]:
        try:
            page = self._client.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :fp)",
                ExpressionAttributeValues={":pk": {"S": PEPPER_PK}, ":fp": {"S": FINGERPRINT_SK_PREFIX}},
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as exc:
            raise store_error(exc, "pepper fingerprint read") from None
        return {str(i["sk"]["S"]).removeprefix(FINGERPRINT_SK_PREFIX) for i in page.get("Items", [])}
