"""The hash-chained audit trail on moto: conditional appends, concurrent writers, verify and export."""

from __future__ import annotations

import csv
import io
import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import TABLE
from voicetrail.domain.audit.trail import AuditKind, AuditReader, AuditTrail
from voicetrail.domain.retention.classes import RetentionPolicy
from voicetrail.storage.audit import DynamoAuditStore
from voicetrail.storage.table import audit_sk, call_pk
from voicetrail_cli.main import app

pytestmark = pytest.mark.integration
NOW = 1_790_000_000.0


def trail(client: Any, **kwargs: Any) -> AuditTrail:
    return AuditTrail(DynamoAuditStore(client, TABLE), sleep=lambda _: None, **kwargs)


def test_records_chain_per_call_with_their_own_retention(moto_table: Any) -> None:
    t = trail(moto_table, retention=RetentionPolicy(audit_days=2190))
    a = t.append("call-1", AuditKind.CONSENT_ASKED, {"asks": 1}, NOW)
    b = t.append("call-1", AuditKind.CONSENT_GIVEN, {"source": "disclosure"}, NOW + 1)
    other = t.append("call-2", AuditKind.PII_REDACTED, {"ssn": 1, "card": 2}, NOW + 2)
    assert (a.seq, b.seq, other.seq) == (1, 2, 1)
    assert b.prev_hash == a.hash and other.prev_hash == "0" * 64
    item = moto_table.get_item(TableName=TABLE, Key={"pk": {"S": "CALL#call-1"}, "sk": {"S": audit_sk(2)}})
    assert item["Item"]["retention_class"]["S"] == "audit"
    assert int(item["Item"]["expires_at"]["N"]) == int(NOW + 1) + 2190 * 86_400
    report = AuditReader(DynamoAuditStore(moto_table, TABLE)).verify(["CALL#call-1", "CALL#call-2"], now=NOW)
    assert report.ok and report.records == 3


class RacingClient:
    """Lets a competitor take the next link between our tail read and our write, `races` times."""

    def __init__(self, inner: Any, races: int) -> None:
        self._inner = inner
        self.races = races
        self.puts = 0

    def put_item(self, **kwargs: Any) -> Any:
        self.puts += 1
        if self.races:
            self.races -= 1
            trail(self._inner).append("call-r", AuditKind.TRANSFER, {"outcome": "competitor"}, NOW)
        return self._inner.put_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_one_successor_per_link_under_concurrent_appends(moto_table: Any) -> None:
    trail(moto_table).append("call-r", AuditKind.ESCALATION, {"rule": "keyword"}, NOW)
    racing = RacingClient(moto_table, races=2)
    mine = trail(racing).append("call-r", AuditKind.TRANSFER, {"outcome": "transferred"}, NOW + 1)
    records = AuditReader(DynamoAuditStore(moto_table, TABLE)).call_records("call-r")
    # Three attempts at the record, then the day's marker (once per process and day).
    assert [r.seq for r in records] == [1, 2, 3, 4] and mine.seq == 4 and racing.puts == 4
    assert all(r.prev_hash == p.hash for p, r in pairwise(records))


def test_audit_verify_reports_a_tampered_record(moto_table: Any) -> None:
    t = trail(moto_table)
    for n in range(3):
        t.append("call-t", AuditKind.PII_REDACTED, {"ssn": n}, NOW + n)
    t.append("call-ok", AuditKind.CONSENT_GIVEN, {"source": "disclosure"}, NOW)
    runner = CliRunner()
    since = ["--since", "2026-09-20", "--now", str(NOW + 10)]
    clean = runner.invoke(app, ["audit", "verify", "--table", TABLE, "--json", *since])
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.output)["ok"] is True

    moto_table.update_item(  # someone lowers a redaction count after the fact
        TableName=TABLE,
        Key={"pk": {"S": call_pk("call-t")}, "sk": {"S": audit_sk(2)}},
        UpdateExpression="SET details.ssn = :n",
        ExpressionAttributeValues={":n": {"N": "0"}},
    )
    tampered = runner.invoke(app, ["audit", "verify", "--table", TABLE, "--json", *since])
    assert tampered.exit_code == 1
    report = json.loads(tampered.output)
    assert report["breaks"] == [{"chain": "call-t", "seq": 2, "problem": "hash_mismatch"}]
    assert report["chains"] == 2


def test_export_writes_json_and_csv(moto_table: Any, tmp_path: Path) -> None:
    t = trail(moto_table)
    t.append("call-e", AuditKind.CONSENT_ASKED, {"asks": 1}, NOW)
    t.append("call-e", AuditKind.CONSENT_DENIED, {"source": "disclosure"}, NOW + 5)
    runner = CliRunner()
    out = tmp_path / "audit.json"
    result = runner.invoke(app, ["audit", "export", "--table", TABLE, "--call", "call-e", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())
    assert [r["kind"] for r in rows] == ["consent_asked", "consent_denied"] and rows[1]["seq"] == 2
    result = runner.invoke(
        app,
        [
            "audit",
            "export",
            "--table",
            TABLE,
            "--since",
            "2026-09-20",
            "--now",
            str(NOW + 10),
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    parsed = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["kind"] for r in parsed] == ["consent_asked", "consent_denied"]
    assert json.loads(parsed[0]["details"]) == {"asks": 1}
