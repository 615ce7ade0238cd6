"""Write rate per index partition key (ExpiryIndex, AuditIndex) at 10k and 1M calls a day, before and after
sharding the day buckets.

DynamoDB serves at most ~1,000 write units per second per partition, and a single partition key value of a
global secondary index cannot be split further when its sort key only grows (expiry and audit sort keys
start with a timestamp). A throttled GSI throttles the writes to the base table. So the figure that matters
is the write rate of the busiest index partition key at the busiest hour.

Method (measured, then scaled):

1. One whole call goes through the real handlers on moto (the table from template.yaml): the Vapi messages
   of voicetrail_cli.dev.scenario.CallScript (status updates, speech updates, partial and final transcripts, a
   tool call, the end-of-call report) and Twilio's four status callbacks plus one recording callback.
2. After every DynamoDB write the table's index entries are compared with the previous state, the way
   DynamoDB bills a GSI: a new entry, a removed entry and a changed projected attribute are one index write
   each; a changed index key is two (delete + put). Each write is attributed to its partition key value.
3. All calls of one UTC day land in the same day buckets, so at C calls a day the busiest key receives
   C x (its writes per call) x (its shard's share of the calls) / 86,400 writes a second on average, times
   the peak factor at the busiest hour. The shard share is measured by hashing C random call ids with the
   real shard function (the largest shard, not the average).

    .venv/bin/python benchmarks/partition_model.py [--peak-factor 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import emit_summary

TABLE = "voicetrail-bench"
PARTITION_WCU_PER_S = 1_000
VOLUMES = (10_000, 1_000_000)
# index name -> (partition key attribute, attributes that are part of the index entry)
INDEXES = {
    "ExpiryIndex": (
        "exp_bucket",
        ("exp_bucket", "exp_sk", "retention_class", "recording_sid", "vapi_call_id", "purge_attempts"),
    ),
    "AuditIndex": ("audit_day", ("audit_day", "audit_sk")),
}
SHARD_SUFFIX = re.compile(r"#(\d+)$")


def index_entries(client: Any) -> dict[tuple[str, str, str], tuple[str, tuple[Any, ...]]]:
    """(index, pk, sk) -> (partition key value, projected values) for every item in each sparse index."""
    entries = {}
    for page in client.get_paginator("scan").paginate(TableName=TABLE):
        for item in page["Items"]:
            for index, (key, attributes) in INDEXES.items():
                if key in item:
                    projected = tuple(json.dumps(item.get(a), sort_keys=True) for a in attributes)
                    entries[(index, item["pk"]["S"], item["sk"]["S"])] = (item[key]["S"], projected)
    return entries


class IndexWriteCounter:
    """Diffs the index entries after every write call: GSI writes per (index, partition key value)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.before = index_entries(client)
        self.writes: Counter[tuple[str, str]] = Counter()

    def after_write(self, **_: Any) -> None:
        now = index_entries(self.client)
        for entry in self.before.keys() | now.keys():
            old, new = self.before.get(entry), now.get(entry)
            if old == new:
                continue
            index = entry[0]
            if old and new and old[0] == new[0]:
                self.writes[(index, new[0])] += 1  # an attribute of the entry changed
                continue
            if old:
                self.writes[(index, old[0])] += 1  # removed, or moved to another key
            if new:
                self.writes[(index, new[0])] += 1
        self.before = now


@contextmanager
def one_call_through_the_handlers(turns: int) -> Iterator[IndexWriteCounter]:
    from moto import mock_aws

    from tests.conftest import function_env
    from voicetrail_cli.dev.local import ensure_table

    os.environ.update(function_env(TABLE_NAME=TABLE))
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
    )
    with mock_aws():
        import boto3

        from voicetrail.infra import aws

        client = boto3.client("dynamodb", region_name="us-east-1")
        ensure_table(client, TABLE)
        counter = IndexWriteCounter(client)
        # Registered before the handlers build their clients: a client copies the session's hooks.
        for operation in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"):
            aws.session().events.register(f"after-call.dynamodb.{operation}", counter.after_write)
        with contextlib.redirect_stdout(io.StringIO()):  # the handlers' log lines and EMF metrics
            run_call(load("vapi_webhook"), load("twilio_status"), turns)
        yield counter


def run_call(vapi: Any, twilio: Any, turns: int) -> None:
    """Every Vapi message of a scripted call (`turns` caller turns), then Twilio's status callbacks and a
    recording callback."""
    from tests.conftest import TWILIO_TOKEN, VAPI_SECRET, FakeContext, http_event
    from tests.twilio_support import call_lifecycle, recording_params, signed_form
    from voicetrail_cli.dev.scenario import CallScript

    lines = CallScript().user_lines
    script = CallScript(user_lines=tuple(lines[i % len(lines)] for i in range(turns)))
    for _, payload in script.messages():
        body = json.dumps(payload).encode()
        headers = {"x-vapi-secret": VAPI_SECRET, "content-type": "application/json"}
        answer = vapi.lambda_handler(http_event("/vapi/webhook", body, headers), FakeContext())
        assert answer["statusCode"] == 200, answer
    start, sid = script.start_ms / 1000, script.provider_call_id
    callbacks = [(p, "/twilio/status") for _, p in call_lifecycle(sid, start=start)]
    rec = recording_params(sid, "RE" + uuid.uuid4().hex, "completed", ts=start + 100, duration=95)
    callbacks.append((rec, "/twilio/recording"))
    for pairs, path in callbacks:
        body, headers = signed_form(f"https://hooks.example.com{path}", pairs, TWILIO_TOKEN)
        answer = twilio.lambda_handler(http_event(path, body, headers, base64_body=True), FakeContext())
        assert answer["statusCode"] == 204, answer


def load(name: str) -> Any:
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"bench_fn_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def day_of(key: str) -> str:
    """The partition key without its shard: what it was before sharding."""
    return SHARD_SUFFIX.sub("", key)


def largest_shard_share(calls: int) -> tuple[int, float]:
    """(shard count, largest shard's share of the calls) for `calls` random call ids and the real function."""
    try:
        from voicetrail.storage.table import INDEX_SHARDS, index_shard  # type: ignore[attr-defined]
    except ImportError:
        return 1, 1.0
    counts = Counter(index_shard(str(uuid.uuid4())) for _ in range(calls))
    return INDEX_SHARDS, max(counts.values()) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peak-factor", type=float, default=3.0, help="busiest hour / average hour")
    parser.add_argument("--turns", type=int, default=5, help="caller turns per call (the script has 5)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    with one_call_through_the_handlers(args.turns) as counter:
        writes = counter.writes
    per_index: dict[str, Counter[str]] = {}
    for (index, key), n in writes.items():
        per_index.setdefault(index, Counter())[day_of(key)] += n
    print(
        f"one scripted call ({args.turns} caller turns) through vapi_webhook and twilio_status on moto "
        f"({time.perf_counter() - t0:.1f} s):"
    )
    for index, keys in sorted(per_index.items()):
        print(f"  {index:12} index writes per call, by day bucket: {dict(sorted(keys.items()))}")

    figures: dict[str, Any] = {"peak_factor": args.peak_factor, "turns": args.turns}
    print(
        f"\nbusiest index partition key at the busiest hour (average x {args.peak_factor:g}), writes/s; "
        f"a partition takes {PARTITION_WCU_PER_S}/s"
    )
    print(f"  {'index':12} {'calls/day':>10} {'before: one key a day':>22} {'after: day#shard':>18}  shards")
    for calls in VOLUMES:
        shards, share = largest_shard_share(calls)
        for index, keys in sorted(per_index.items()):
            before = calls * max(keys.values()) / 86_400 * args.peak_factor
            after = before * share
            over = " OVER" if before > PARTITION_WCU_PER_S else ""
            print(
                f"  {index:12} {calls:>10,} {before:>17.1f}/s{over:5} {after:>16.1f}/s  {shards} "
                f"(largest shard {share:.2%} of the calls)"
            )
            figures[f"{index}_{calls}_before_per_s"] = round(before, 1)
            figures[f"{index}_{calls}_after_per_s"] = round(after, 1)
    shards, share = largest_shard_share(1_000_000)
    print(
        f"\nceiling: calls/day at which the busiest key reaches {PARTITION_WCU_PER_S}/s at the busiest hour"
    )
    for index, keys in sorted(per_index.items()):
        ceiling = PARTITION_WCU_PER_S * 86_400 / (max(keys.values()) * args.peak_factor)
        print(f"  {index:12} before {ceiling:>14,.0f}   after {ceiling / share:>14,.0f}")
        figures[f"{index}_ceiling_calls_per_day_before"] = round(ceiling)
        figures[f"{index}_ceiling_calls_per_day_after"] = round(ceiling / share)
    emit_summary("partition_model", figures)


if __name__ == "__main__":
    main()
