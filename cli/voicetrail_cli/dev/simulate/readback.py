"""What the simulator reads back: the table's items (a scan, or the expected partitions through
`storage.batch.query_items`) and the functions' log lines, as searchable text."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


# ---- read-back and evaluation ------------------------------------------------------------------------------


def item_text(item: Mapping[str, Any]) -> str:
    """An item as searchable text (gzip bodies decompressed)."""
    flat: dict[str, Any] = {}
    for name, value in item.items():
        if isinstance(value, dict) and "B" in value:
            raw = value["B"]
            try:
                flat[name] = gzip.decompress(raw).decode("utf-8", "replace")
            except (OSError, EOFError):
                flat[name] = repr(raw)
        else:
            flat[name] = value
    return json.dumps(flat, ensure_ascii=False, default=str)


def scan_items(client: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = client.scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def query_partitions(client: Any, table: str, partitions: Iterable[str]) -> list[dict[str, Any]]:
    from voicetrail.storage.batch import query_items

    items: list[dict[str, Any]] = []
    for pk in sorted(partitions):
        kwargs: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
        }
        items.extend(query_items(client, kwargs))
    return items


def log_lines(path: str) -> Iterator[tuple[str, str]]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        for n, line in enumerate(handle, 1):
            yield f"line {n}", line
