"""`voicetrail config`: a config is validated before it is written, so a typo cannot take a line down."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import TABLE
from voicetrail.domain.live.config import ConfigResolver
from voicetrail.storage.live import TableConfigSource
from voicetrail_cli.main import app

pytestmark = pytest.mark.integration
GOOD = {
    "escalation_keywords": ["billing emergency"],
    "transfer": {"type": "number", "number": "+14155550100"},
}


def write(tmp_path: Path, document: Any, name: str = "config.json") -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ({"escalation_keyword": ["x"]}, "escalation_keyword: unknown setting (a typo?)"),
        (
            {"escalation_min_confidence": 7},
            "escalation_min_confidence: Input should be less than or equal to 1",
        ),
        ({"transfer": {"type": "number"}}, "transfer: Value error, a number destination needs `number`"),
        (
            {"consent_policy": "hang-up"},
            "consent_policy: Input should be 'continue', 'end-call' or 'transfer'",
        ),
        ('{"name": "x",}', "not JSON: "),
        ("[1]", "a config is a JSON object"),
    ],
    ids=["typo", "out-of-range", "incomplete-transfer", "bad-choice", "bad-json", "not-an-object"],
)
def test_a_broken_config_is_refused_and_nothing_is_written(
    moto_table: Any, tmp_path: Path, document: Any, says: str
) -> None:
    path = write(tmp_path, document)
    checked = CliRunner().invoke(app, ["config", "validate", path])
    assert checked.exit_code == 1 and says in checked.stderr, checked.output
    put = CliRunner().invoke(app, ["config", "put", path, "--phone-number-id", "pn-1", "--table", TABLE])
    assert put.exit_code == 1 and says in put.stderr
    assert "Item" not in moto_table.get_item(
        TableName=TABLE, Key={"pk": {"S": "CONFIG#phone#pn-1"}, "sk": {"S": "CONFIG"}}
    )


def test_put_get_list_and_the_webhook_reads_it(moto_table: Any, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    runner = CliRunner()
    assert runner.invoke(app, ["config", "validate", path]).exit_code == 0
    put = runner.invoke(app, ["config", "put", path, "--phone-number-id", "pn-1", "--table", TABLE, "--json"])
    assert put.exit_code == 0 and json.loads(put.stdout)["key"] == "CONFIG#phone#pn-1", put.output
    got = runner.invoke(app, ["config", "get", "--phone-number-id", "pn-1", "--table", TABLE])
    assert got.exit_code == 0 and json.loads(got.stdout) == GOOD
    listed = json.loads(runner.invoke(app, ["config", "list", "--table", TABLE, "--json"]).stdout)["configs"]
    assert [(c["key"], c["valid"]) for c in listed] == [("CONFIG#phone#pn-1", True)]
    resolved = ConfigResolver(TableConfigSource(moto_table, TABLE)).resolve("pn-1", None)
    assert resolved.key == "phone" and resolved.config.escalation_keywords == ("billing emergency",)
    missing = runner.invoke(app, ["config", "get", "--assistant-id", "a-1", "--table", TABLE])
    assert missing.exit_code == 1 and "no config at CONFIG#assistant#a-1" in missing.stderr
    both = runner.invoke(app, ["config", "get", "--assistant-id", "a-1", "--default", "--table", TABLE])
    assert both.exit_code == 1 and "exactly one of" in both.stderr


def test_ssm_source(moto_table: Any, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    runner = CliRunner()
    common = ["--source", "ssm:/voicetrail/live", "--table", TABLE]
    assert runner.invoke(app, ["config", "put", path, "--default", *common]).exit_code == 0
    got = runner.invoke(app, ["config", "get", "--default", *common])
    assert got.exit_code == 0 and json.loads(got.stdout) == GOOD, got.output
    listed = json.loads(runner.invoke(app, ["config", "list", *common, "--json"]).stdout)["configs"]
    assert [c["key"] for c in listed] == ["CONFIG#default"]


def test_a_calls_configs_are_read_in_one_batch(moto_table: Any) -> None:
    """Phone, assistant and default in one BatchGetItem; a non-string item reads as present-but-broken."""
    source = TableConfigSource(moto_table, TABLE)
    source.store("CONFIG#phone#pn-1", json.dumps(GOOD))
    moto_table.put_item(
        TableName=TABLE, Item={"pk": {"S": "CONFIG"}, "sk": {"S": "CONFIG"}, "config": {"N": "1"}}
    )
    keys = ["CONFIG#phone#pn-1", "CONFIG#assistant#a-1", "CONFIG"]
    calls: list[str] = []
    moto_table.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    fetched = source.fetch_many(keys)
    assert calls == ["BatchGetItem"]
    assert fetched == {
        "CONFIG#phone#pn-1": json.dumps(GOOD),
        "CONFIG#assistant#a-1": None,
        "CONFIG": "<not a string>",
    }
    assert fetched == {k: source.fetch(k) for k in keys}
