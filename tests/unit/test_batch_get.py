"""storage.batch.batch_get: unprocessed keys are resent, and a key never read raises (never "absent")."""

from __future__ import annotations

from typing import Any

import pytest

from voicetrail.errors import StoreUnavailableError
from voicetrail.storage.batch import batch_get

pytestmark = pytest.mark.unit


def key(i: int) -> dict[str, Any]:
    return {"pk": {"S": f"P#{i}"}, "sk": {"S": "S"}}


class FlakyClient:
    """Answers `stubborn` BatchGetItems with `processed` keys found and the rest unprocessed."""

    def __init__(self, stubborn: int, processed: int = 1) -> None:
        self.stubborn = stubborn
        self.processed = processed
        self.requests: list[list[dict[str, Any]]] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        keys = RequestItems["t"]["Keys"]
        self.requests.append(keys)
        if self.stubborn > 0:
            self.stubborn -= 1
            done, left = keys[: self.processed], keys[self.processed :]
            return {"Responses": {"t": done}, "UnprocessedKeys": {"t": {"Keys": left}}}
        return {"Responses": {"t": keys}, "UnprocessedKeys": {}}


@pytest.mark.parametrize(
    ("count", "stubborn", "expected_calls"),
    [
        (3, 0, 1),
        (3, 2, 3),  # two partial answers, then the rest
        (250, 0, 3),  # 100 keys per call
    ],
)
def test_every_key_is_read(count: int, stubborn: int, expected_calls: int) -> None:
    client = FlakyClient(stubborn)
    keys = [key(i) for i in range(count)] + [key(0)]  # a duplicate is read once
    items = batch_get(client, "t", keys, sleep=lambda _: None)
    assert sorted(i["pk"]["S"] for i in items) == sorted(f"P#{i}" for i in range(count))
    assert len(client.requests) == expected_calls
    assert max(len(r) for r in client.requests) <= 100


def test_keys_left_unprocessed_raise() -> None:
    with pytest.raises(StoreUnavailableError, match="unprocessed"):
        batch_get(
            FlakyClient(stubborn=100, processed=0),
            "t",
            [key(1), key(2)],
            max_attempts=3,
            sleep=lambda _: None,
        )
