"""Evidence bundles, and offline verification of bundles and audit exports (`audit verify --file`).

A bundle is one JSON document about one call: the stored events (redacted, as stored), the call's audit
chain with every field its hashes cover, the escalation rules as configured when they fired, the call
summary, and the verification result at the time it was written. Verification needs no AWS access:

  * each audit record's hash is recomputed and each link checked (domain.audit.trail.verify_chain), so any
    change to a record, a deleted record or a reordered chain is detected;
  * each escalation record names its rule snapshot by the hash of the configuration: the snapshot's
    configuration must hash to it;
  * `content_sha256` covers the whole bundle (events, chain, snapshots, summary): a changed byte
    anywhere is detected. It is a plain digest: it proves the bundle is the one written, not who wrote
    it; the audit chain is what ties the records together (docs/concepts/audit-and-evidence.md).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from voicetrail_cli.calls import CallView
from voicetrail_cli.failures import CliError

BUNDLE_FORMAT = "voicetrail-evidence"
BUNDLE_VERSION = 1
_COVERED = ("call_id", "vapi_call_id", "twilio_call_sid", "events", "audit", "config_snapshots", "summary")


def _digest(document: dict[str, Any]) -> str:
    covered = {k: document.get(k) for k in _COVERED}
    canonical = json.dumps(covered, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def build_bundle(view: CallView, *, source: str, now: float) -> dict[str, Any]:
    snapshots = view.rule_snapshots  # each keeps `config_json`, the exact text its hash covers
    bundle: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "generated_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
        "source": source,
        "call_id": view.call_id,
        "vapi_call_id": view.vapi_call_id,
        "twilio_call_sid": view.twilio_call_sid,
        "events": view.events,
        "audit": view.audit,
        "config_snapshots": snapshots,
        "summary": view.summary,
    }
    bundle["verification"] = verify_document(bundle, now=now, check_digest=False)
    bundle["content_sha256"] = _digest(bundle)
    return bundle


def _rows_from_csv(text: str) -> list[dict[str, Any]]:
    return list(csv.DictReader(io.StringIO(text)))


def load_document(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv" or text.startswith("chain,"):
        return _rows_from_csv(text)
    try:
        return json.loads(text)
    except ValueError:
        raise CliError(
            f"{path} is not valid JSON: was it changed? (evidence bundles and exports are JSON)"
        ) from None


def verify_records(rows: list[Any], *, now: float, whole_chains: bool) -> dict[str, Any]:
    from voicetrail.domain.audit.trail import ChainBreak, ExportFormatError, record_from_export, verify_chain

    chains: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        if not isinstance(row, dict):
            raise CliError("not an audit export: expected a list of records")
        try:
            record = record_from_export(row)
        except ExportFormatError as exc:
            raise CliError(f"not a complete audit export: {exc}") from None
        chains[record.pk].append(record)
    breaks: list[ChainBreak] = []
    notes: list[str] = []
    truncated = 0
    for _pk, records in sorted(chains.items()):
        records.sort(key=lambda r: r.seq)
        found, cut = verify_chain(records, now=now)
        first = records[0]
        head = ChainBreak(first.chain, first.seq, "missing_head")
        if not whole_chains and head in found:
            # An export --since starts where the range starts: the link before it is not in the file.
            found.remove(head)
            notes.append(f"{first.chain} starts at record {first.seq}: earlier records are not in the file")
        breaks.extend(found)
        truncated += cut
    return {
        "ok": not breaks,
        "chains": len(chains),
        "records": sum(len(r) for r in chains.values()),
        "truncated_by_retention": truncated,
        "breaks": [b.as_dict() for b in breaks],
        "notes": notes,
    }


def verify_document(document: Any, *, now: float, check_digest: bool = True) -> dict[str, Any]:
    if isinstance(document, list):
        return verify_records(document, now=now, whole_chains=False)
    if not isinstance(document, dict) or document.get("format") != BUNDLE_FORMAT:
        raise CliError("not an evidence bundle nor an audit export (voicetrail evidence / audit export)")
    if document.get("version") != BUNDLE_VERSION:
        raise CliError(
            f"evidence bundle version {document.get('version')!r} is not supported by this version"
        )
    result = verify_records(list(document.get("audit") or []), now=now, whole_chains=True)
    problems: list[dict[str, Any]] = []
    if check_digest and document.get("content_sha256") != _digest(document):
        problems.append({"chain": "bundle", "seq": 0, "problem": "content_digest_mismatch"})
    snapshots = {s.get("code"): s for s in document.get("config_snapshots") or [] if isinstance(s, dict)}
    for row in document.get("audit") or []:
        details = row.get("details") or {}
        if row.get("kind") != "escalation" or "config" not in details:
            continue
        snapshot = snapshots.get(details["config"])
        if snapshot is None:
            problems.append(
                {"chain": row.get("chain"), "seq": row.get("seq"), "problem": "rule_snapshot_missing"}
            )
            continue
        digest = hashlib.sha256(str(snapshot.get("config_json", "")).encode("utf-8")).hexdigest()
        if "c" + digest[:16] != details["config"]:
            problems.append(
                {"chain": row.get("chain"), "seq": row.get("seq"), "problem": "rule_snapshot_mismatch"}
            )
    if not document.get("audit"):
        result["notes"].append("the bundle holds no audit records")
    result["breaks"].extend(problems)
    result["ok"] = not result["breaks"]
    return result


def verify_file(path: Path, *, now: float) -> dict[str, Any]:
    return verify_document(load_document(path), now=now)
