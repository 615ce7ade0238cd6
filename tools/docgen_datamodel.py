"""Writes docs/reference/data-model.md from voicetrail.storage.table (the single-table data model).

    python -m tools.docgen_datamodel            # rewrite the page
    python -m tools.docgen_datamodel --check    # exit 1 when the checked-in page is stale

`make docs-ref-data-model` runs the first; a unit test runs the equivalent of the second. The page is
never edited by hand: change the model module and regenerate.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from voicetrail.domain.retention.classes import RetentionClass
from voicetrail.storage import table as model

REPO_ROOT = Path(__file__).resolve().parents[1]
PAGE = REPO_ROOT / "docs" / "reference" / "data-model.md"

_RETENTION_NOTES = {
    RetentionClass.CONTENT: "anything a caller said (transcripts, messages, reports)",
    RetentionClass.METADATA: "statuses, timings, costs: no caller content",
    RetentionClass.RECORDING: "pointers to audio held at Twilio or Vapi",
    RetentionClass.AUDIT: "the compliance trail itself",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    return " \\| ".join(f"`{part.strip()}`" for part in text.split("|"))


def render() -> str:
    """The page, as Markdown."""
    lines = [
        "# Data model",
        "",
        "<!-- Generated from layers/common/voicetrail/storage/table.py by `make docs-ref-data-model`."
        " Do not edit by hand. -->",
        "",
        "voicetrail keeps everything in one DynamoDB table (`EventsTable` in `template.yaml`):"
        " key `pk` (hash) and `sk` (range), TTL attribute `expires_at`. Every item that expires also carries"
        " `retention_class` and the ExpiryIndex keys `exp_bucket` / `exp_sk`, so the retention purge finds"
        " it without a Scan. Key formats and attribute names are a contract with the items already stored:"
        " they are never renamed.",
        "",
        "## Item types",
        "",
        "| Item | pk | sk | Retention class | Indexes | Written by |",
        "|---|---|---|---|---|---|",
    ]
    for item in model.ITEM_TYPES:
        retention = ", ".join(f"`{r.value}`" for r in item.retention) or "never expires"
        indexes = ", ".join(item.indexes) or "-"
        keys = f"{_code(item.pk)} | {_code(item.sk)}"
        lines.append(f"| {item.name} | {keys} | {retention} | {indexes} | {item.aggregate} |")
    lines += ["", "## Item attributes", ""]
    for item in model.ITEM_TYPES:
        index_attributes = ", ".join(f"`{a}`" for a in item.index_attributes) or "none"
        attributes = ", ".join(f"`{a}`" for a in item.attributes)
        lines += [
            f"### {item.name}",
            "",
            _cell(item.description),
            "",
            f"- Keys: `pk` = {_code(item.pk)}, `sk` = {_code(item.sk)}",
            f"- Index attributes: {index_attributes}",
            f"- Attributes: {attributes}",
            "",
        ]
    lines += [
        "## Indexes",
        "",
        "All three are sparse: an item is in an index only when it carries the index's hash key.",
        "",
        "| Index | Hash key | Range key | Projection | Used for |",
        "|---|---|---|---|---|",
    ]
    for index in model.INDEXES:
        projection = index.projection
        if index.non_key_attributes:
            projection += ": " + ", ".join(f"`{a}`" for a in index.non_key_attributes)
        keys = f"`{index.hash_key}` | `{index.range_key}`"
        lines.append(f"| {index.name} | {keys} | {projection} | {_cell(index.purpose)} |")
    lines += [
        "",
        "Index key formats:",
        "",
        f"- `exp_bucket` = `{model.expiry_day(0).replace('1970-01-01', 'YYYY-MM-DD')}#<shard:02d>` (UTC day"
        f" of `expires_at`; shard = CRC-32 of `pk` mod {model.INDEX_SHARDS}; items written before sharding"
        " carry the day alone), `exp_sk` = `<expires_at:012d>#<pk>#<sk>`",
        "- `caller_hash` = the keyed hash (HMAC with the deployment's pepper) of the caller's number",
        f"- `audit_day` = `{model.AUDIT_DAY_PREFIX}YYYY-MM-DD#<shard:02d>` (UTC day of the record, shard as"
        " above), `audit_sk` = `<at_ms:013d>#<pk>#<seq:08d>`",
        "",
        "## Where the code lives",
        "",
        "Every key above is built in `voicetrail/storage/table.py` and nowhere else; only"
        " `voicetrail/storage/` talks to DynamoDB. Each aggregate has a port (a Protocol in the domain,"
        " beside its types: `domain/*/ports.py`), a DynamoDB adapter and an in-memory adapter"
        " (`tests/support/memory.py`, never shipped) with the same behaviour; the rules live in the domain"
        " module. Calls, callers and system jobs are named by `voicetrail/domain/identity.py`: those names"
        " are in every audit hash, and the table's partition keys are built from them.",
        "",
        "| Aggregate | Port | DynamoDB adapter | In-memory adapter | Rules |",
        "|---|---|---|---|---|",
    ]
    for aggregate in model.AGGREGATES:
        module, cls = aggregate.adapter.split(":")
        adapters = f"`storage/{module}.py` `{cls}` | `{aggregate.memory}`"
        lines.append(f"| {aggregate.name} | `{aggregate.port}` | {adapters} | `{aggregate.rules}` |")
    lines += [
        "",
        "## Retention classes",
        "",
        "| Class | What it holds |",
        "|---|---|",
    ]
    lines += [f"| `{rclass.value}` | {_RETENTION_NOTES[rclass]} |" for rclass in RetentionClass]
    lines += [
        "",
        "The period of each class is a setting of the deployment (`RETENTION_DAYS_<CLASS>`); an item keeps"
        " the expiry it was written with.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when the page differs")
    parser.add_argument("--out", type=Path, default=PAGE)
    args = parser.parse_args(argv)
    page = render()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != page:
            print(f"{args.out} is stale: run make docs-ref-data-model", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
