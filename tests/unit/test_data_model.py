"""The data-model module against template.yaml, the stored key formats, the layering, and the docs page."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tools import docgen_datamodel
from voicetrail.domain.retention.classes import RetentionClass
from voicetrail.storage import table as model
from voicetrail_cli.ops.template import load_template

pytestmark = pytest.mark.unit
PACKAGE = Path(model.__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def table() -> dict[str, Any]:
    resources = load_template()["Resources"]
    (found,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table"]
    return dict(found)


def test_key_attributes_are_the_template_attribute_definitions(table: dict[str, Any]) -> None:
    defined = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
    assert defined == model.KEY_ATTRIBUTES
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {
        model.PK: "HASH",
        model.SK: "RANGE",
    }
    assert table["TimeToLiveSpecification"]["AttributeName"] == model.TTL_ATTRIBUTE


def test_indexes_match_the_template_keys_and_projections(table: dict[str, Any]) -> None:
    deployed = {}
    for gsi in table["GlobalSecondaryIndexes"]:
        keys = {k["KeyType"]: k["AttributeName"] for k in gsi["KeySchema"]}
        projection = gsi["Projection"]
        deployed[gsi["IndexName"]] = (
            keys["HASH"],
            keys["RANGE"],
            projection["ProjectionType"],
            tuple(projection.get("NonKeyAttributes", ())),
        )
    described = {i.name: (i.hash_key, i.range_key, i.projection, i.non_key_attributes) for i in model.INDEXES}
    assert described == deployed


def test_every_index_key_is_carried_by_some_item_type_and_only_known_ones_are() -> None:
    carried = {a for item in model.ITEM_TYPES for a in item.index_attributes}
    index_keys = {a for i in model.INDEXES for a in (i.hash_key, i.range_key)} - {model.PK}
    assert carried == index_keys
    assert all(item.retention or not item.index_attributes for item in model.ITEM_TYPES)
    # Every item that carries an expiry bucket has a retention class, so the purge can count it.
    assert all(item.retention for item in model.ITEM_TYPES if "exp_bucket" in item.index_attributes)
    assert {r for item in model.ITEM_TYPES for r in item.retention} == set(RetentionClass)


@pytest.mark.parametrize(
    ("built", "stored"),
    [
        # The formats of items already in deployed tables: a change here strands them.
        (model.call_pk("vapi-1"), "CALL#vapi-1"),
        (model.call_pk("twilio:CA1"), "CALL#twilio:CA1"),
        (model.event_sk("EVT", "vapi", "k1"), "EVT#vapi#k1"),
        (model.recording_sk("RE1"), "REC#RE1"),
        (model.day_pk("2026-11-27"), "CALLS#2026-11-27"),
        (model.tool_sk("t1"), "LIVE#tool#t1"),
        (model.caller_pk("h"), "CALLER#h"),
        (model.config_pk("phone", "p1"), "CONFIG#phone#p1"),
        (model.system_pk("purge"), "SYS#purge"),
        (model.audit_sk(7), "AUDIT#00000007"),
        (model.expiry_bucket(1_790_000_000, "CALL#a"), "EXP#2026-09-21#06"),  # CRC-32 of the pk mod 16
        (model.expiry_day(1_790_000_000), "EXP#2026-09-21"),  # the unsharded key of items before sharding
        (model.expiry_sk(1_790_000_000, "CALL#a", "EVT#vapi#k"), "001790000000#CALL#a#EVT#vapi#k"),
        (model.expiry_upper_bound(5), "000000000005#"),
        (model.audit_day(1_790_000_000.5, "CALL#a"), "AUD#2026-09-21#06"),
        (model.audit_index_sk(1_790_000_000_123, "CALL#a", 3), "1790000000123#CALL#a#00000003"),
        (model.CURSOR_PK + "/" + model.CURSOR_SK, "SYS#purge/STATE#cursor"),
        (model.DEFAULT_CONFIG_PK, "CONFIG#default"),
    ],
)
def test_key_builders_keep_the_stored_formats(built: str, stored: str) -> None:
    assert built == stored


def test_index_shards_are_stable_and_every_reader_covers_every_writer() -> None:
    day = 1_790_000_000 - 1_790_000_000 % 86_400
    pks = [model.call_pk(f"call-{n}") for n in range(2_000)] + [model.system_pk("purge")]
    buckets = set(model.expiry_buckets(day))
    audit_days = set(model.audit_days(day))
    assert len(buckets) == len(audit_days) == model.INDEX_SHARDS + 1  # every shard and the unsharded day
    assert "EXP#2026-09-21" in buckets and "AUD#2026-09-21" in audit_days  # items written before sharding
    for pk in pks:
        assert model.expiry_bucket(day + 3_600, pk) in buckets
        assert model.audit_day(day + 3_600, pk) in audit_days
    # All shards are used, evenly enough: the largest holds well under twice its fair share.
    counts = Counter(model.index_shard(pk) for pk in pks)
    assert set(counts) == set(range(model.INDEX_SHARDS))
    assert max(counts.values()) < 2 * len(pks) / model.INDEX_SHARDS


def test_key_parsers_invert_the_builders() -> None:
    assert model.call_key_of_pk(model.call_pk("twilio:CA1")) == "twilio:CA1"
    assert model.is_twilio_call_pk(model.call_pk("twilio:CA1")) and not model.is_twilio_call_pk("CALL#vapi")
    assert model.record_of_sk(model.event_sk("REC", "vapi", "recording")) == "REC"
    assert model.tool_call_id_of_sk(model.tool_sk("call_1")) == "call_1"


_DYNAMODB_MODULES = ("boto3", "botocore", "mypy_boto3_dynamodb")
# The shared session (every AWS client of the process) is not a DynamoDB adapter.
_SESSION_MODULE = PACKAGE / "infra" / "aws.py"
# The evidence signer talks to KMS (its botocore errors), not to DynamoDB.
_KMS_SIGNER_MODULE = PACKAGE / "infra" / "signing.py"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_only_the_storage_package_imports_the_dynamodb_client() -> None:
    offenders = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "storage" not in path.relative_to(PACKAGE).parts
        and path not in (_SESSION_MODULE, _KMS_SIGNER_MODULE)
        and any(name.split(".")[0] in _DYNAMODB_MODULES for name in _imports(path))
    )
    assert offenders == []


def _layer_modules(*parts: str) -> list[Path]:
    return sorted((PACKAGE.joinpath(*parts)).rglob("*.py"))


# What the domain may never import: the table and its adapters, a provider, the composition root, the
# outside world's clients. Found by folder, so a new domain module is checked without being listed.
_NOT_IN_DOMAIN = (
    "voicetrail.storage",
    "voicetrail.providers",
    "voicetrail.transport",
    "voicetrail.pipeline",
    "voicetrail.wiring",
    "voicetrail.settings",
    "boto3",
    "botocore",
    "twilio",
)


@pytest.mark.parametrize("path", _layer_modules("domain"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_domain_modules_import_no_storage_provider_or_client(path: Path) -> None:
    bad = sorted(n for n in _imports(path) if n.startswith(_NOT_IN_DOMAIN))
    assert bad == []


@pytest.mark.parametrize("path", _layer_modules("redaction"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_redaction_imports_nothing_of_voicetrail_but_itself(path: Path) -> None:
    # pure: the log formatter (infra) and every provider use it, and it uses none of them; the optional
    # Comprehend pass gets its client from the wiring
    bad = sorted(
        n for n in _imports(path) if n.startswith("voicetrail.") and not n.startswith("voicetrail.redaction")
    )
    assert bad == []
    assert not any(n.split(".")[0] in ("boto3", "botocore") for n in _imports(path))


def test_only_the_storage_package_imports_the_table_model() -> None:
    offenders = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "storage" not in path.relative_to(PACKAGE).parts
        and any(
            n == "voicetrail.storage.table" or n.startswith("voicetrail.storage.table.")
            for n in _imports(path)
        )
    )
    assert offenders == []


def test_there_is_a_domain_to_check() -> None:
    assert len(_layer_modules("domain")) >= 20


def test_the_data_model_page_is_generated_from_the_model() -> None:
    page = docgen_datamodel.PAGE
    assert page.read_text(encoding="utf-8") == docgen_datamodel.render(), "run make docs-ref-data-model"
    assert docgen_datamodel.main(["--check"]) == 0


def test_the_check_fails_on_a_stale_page(tmp_path: Path) -> None:
    stale = tmp_path / "data-model.md"
    stale.write_text(docgen_datamodel.render().replace("CALLS#", "DAYS#"), encoding="utf-8")
    assert docgen_datamodel.main(["--check", "--out", str(stale)]) == 1
    assert docgen_datamodel.main(["--out", str(stale)]) == 0
    assert docgen_datamodel.main(["--check", "--out", str(stale)]) == 0


def test_every_aggregate_names_its_port_and_adapters_and_owns_item_types() -> None:
    import importlib
    import pkgutil

    import voicetrail.domain
    from tests.support import memory

    # Every port is declared somewhere in the domain, beside its types: found, not listed.
    port_modules = [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(voicetrail.domain.__path__, "voicetrail.domain.")
    ]

    for aggregate in model.AGGREGATES:
        module, cls = aggregate.adapter.split(":")
        assert hasattr(importlib.import_module(f"voicetrail.storage.{module}"), cls), aggregate
        assert any(hasattr(m, aggregate.port) for m in port_modules), aggregate
        assert hasattr(memory, aggregate.memory), aggregate
        importlib.import_module(aggregate.rules)
    owners = {a.name for a in model.AGGREGATES}
    assert {item.aggregate for item in model.ITEM_TYPES} <= owners
