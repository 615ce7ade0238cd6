"""Every ordinary mistake gives one line on stderr that says what is wrong and what to do, a non-zero exit
code, and no traceback (a traceback only with --debug)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from voicetrail_cli.main import app

NO_AWS_FILES = {"AWS_CONFIG_FILE": "/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/creds"}


@dataclass(frozen=True)
class Mistake:
    args: list[str]
    says: str  # a substring of the one line
    exit_code: int = 1
    env: dict[str, str | None] = field(default_factory=dict)  # None: unset
    moto: bool = False


NO_REGION: dict[str, str | None] = {"AWS_REGION": None, "AWS_DEFAULT_REGION": None, **NO_AWS_FILES}
NO_CREDENTIALS: dict[str, str | None] = {
    "AWS_ACCESS_KEY_ID": None,
    "AWS_SECRET_ACCESS_KEY": None,
    "AWS_SESSION_TOKEN": None,
    "AWS_SECURITY_TOKEN": None,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": None,
    "AWS_CONTAINER_CREDENTIALS_FULL_URI": None,
    **NO_AWS_FILES,
}

MISTAKES: dict[str, Mistake] = {
    "serve --port 99999": Mistake(
        ["serve", "--port", "99999"], "'--port': Input should be less than or equal to 65535", 2
    ),
    "serve --workers 0": Mistake(
        ["serve", "--workers", "0", "--port", "0"],
        "'--workers': Input should be greater than or equal to 1",
        2,
    ),
    "serve, port in use": Mistake(["serve", "--port", "{busy_port}"], "port is already in use: pick another"),
    "serve, unreachable --dynamodb-endpoint": Mistake(
        ["serve", "--dynamodb-endpoint", "http://127.0.0.1:9", "--port", "0"],
        "cannot reach http://127.0.0.1:9",
    ),
    "serve --aws, no region": Mistake(
        ["serve", "--aws", "--port", "0"], "no AWS region: pass --region", env=NO_REGION
    ),
    "serve, unknown parameter": Mistake(
        ["serve", "--parameter-overrides", "VapiAuthSchema=hmac", "--port", "0"],
        "unknown template parameter 'VapiAuthSchema'",
    ),
    "serve, value not allowed": Mistake(
        ["serve", "--parameter-overrides", "VapiAuthScheme=hmca", "--port", "0"],
        "VapiAuthScheme='hmca' is not allowed",
    ),
    "serve, unknown --config-env": Mistake(
        ["serve", "--config-env", "qa", "--port", "0"], "--config-env 'qa'"
    ),
    "report, no region": Mistake(["report", "--table", "t"], "no AWS region", env=NO_REGION),
    "report, no credentials": Mistake(["report", "--table", "t"], "no AWS credentials", env=NO_CREDENTIALS),
    "purge --dry-run, no credentials": Mistake(
        ["purge", "--dry-run", "--table", "t"], "no AWS credentials", env=NO_CREDENTIALS
    ),
    "audit verify, no credentials": Mistake(
        ["audit", "verify", "--table", "t"], "no AWS credentials", env=NO_CREDENTIALS
    ),
    "no table against AWS": Mistake(["audit", "verify"], "which deployment? pass --stack NAME, --table NAME"),
    "a wrong --table": Mistake(["calls", "list", "--table", "nope"], "table does not exist", moto=True),
    "a wrong --stack": Mistake(["report", "--stack", "nope"], "stack 'nope' not found in us-east-1"),
    "report --since garbage": Mistake(
        ["report", "--table", "t", "--since", "tuesday"], "'tuesday' is not a time"
    ),
    "sign, missing file": Mistake(["sign", "missing.json"], "file not found: missing.json"),
    "sign --scheme hmca": Mistake(
        ["sign", "{payload}", "--scheme", "hmca"], "invalid scheme: Input should be"
    ),
    "sign --twilio without --url": Mistake(["sign", "{payload}", "--twilio"], "--twilio needs --url"),
    "erase --phone abc": Mistake(["erase", "--phone", "abc", "--table", "t"], "not a phone number"),
    "erase, a number too short": Mistake(
        ["erase", "--phone", "+1415555", "--table", "t"], "not a valid phone"
    ),
    "erase without a pepper": Mistake(
        ["erase", "--phone", "+14155550123", "--table", "t"], "needs the pepper"
    ),
    "erase, a bad secret ref": Mistake(
        ["erase", "--phone", "+14155550123", "--table", "t", "--pepper-ref", "vault:x"], "not a secret ref"
    ),
    "audit verify --file missing": Mistake(["audit", "verify", "--file", "nope.json"], "file not found"),
    "audit verify --file not JSON": Mistake(
        ["audit", "verify", "--file", "{payload_text}"], "is not valid JSON"
    ),
    "audit export without --call/--since": Mistake(["audit", "export", "--table", "t"], "give exactly one"),
    "calls list --outcome typo": Mistake(
        ["calls", "list", "--table", "t", "--outcome", "escalted"], "'escalted'"
    ),
    "an unknown command": Mistake(["verfiy"], "No such command 'verfiy'", 2),
    "dnc check, a bad number (named before the pepper)": Mistake(
        ["dnc", "check", "--phone", "555", "--table", "t"],
        "--phone is not a valid phone number for region US",
        2,
        env={"HASH_PEPPER_REF": None},
    ),
    "config validate, a control character": Mistake(
        ["config", "validate", "{control}"], "not JSON: Invalid control character (line 1, column 9)"
    ),
    "report, an inverted range": Mistake(
        ["report", "--since", "1d", "--until", "3d", "--table", "t"], "is not before --until"
    ),
}


@contextmanager
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("name", list(MISTAKES))
def test_a_mistake_is_one_line_and_a_non_zero_exit(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import boto3

    mistake = MISTAKES[name]
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # no credentials cached from another test
    for key, value in mistake.env.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps({"message": {"type": "status-update"}}))
    text = tmp_path / "notes.txt"
    text.write_text("not json")
    control = tmp_path / "control.json"
    control.write_text('{"a": "x\ty"}')
    monkeypatch.chdir(tmp_path)
    _stub_cloudformation(monkeypatch, {})  # no stacks
    with busy_port() as port, _maybe_moto(mistake.moto):
        args = [
            a.format(busy_port=port, payload=payload, payload_text=text, control=control)
            for a in mistake.args
        ]
        result = CliRunner().invoke(app, args)
    assert result.exit_code == mistake.exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert mistake.says in lines[0], lines[0]
    assert "Traceback" not in result.output and result.stdout == "", result.output


@contextmanager
def _maybe_moto(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    from moto import mock_aws

    with mock_aws():
        yield


def test_debug_shows_the_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["--debug", "sign", "missing.json"])
    assert result.exit_code == 1 and isinstance(result.exception, FileNotFoundError)


def test_version_is_one_line() -> None:
    from voicetrail_cli.main import version

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"voicetrail {version()}\n"
    assert version().count(".") >= 2


@pytest.mark.parametrize(
    ("path", "says"),
    [
        (
            "/nonexistent-dir/sub/x.json",
            "no such directory: /nonexistent-dir/sub (for /nonexistent-dir/sub/x.json)",
        ),
        ("missing.json", "file not found: missing.json"),
        ("{tmp}/missing.json", "file not found: {tmp}/missing.json"),
    ],
)
def test_a_missing_file_and_a_missing_directory_are_told_apart(path: str, says: str, tmp_path: Path) -> None:
    from voicetrail_cli.failures import explain

    error = FileNotFoundError(2, "No such file or directory", path.format(tmp=tmp_path))
    assert (explain(error) or "").startswith(says.format(tmp=tmp_path))


def test_explain_knows_nothing_of_a_bug() -> None:
    from voicetrail_cli.failures import explain

    assert explain(ZeroDivisionError()) is None


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("https://abc123.execute-api.eu-west-1.amazonaws.com/operator/erase", "/operator/erase"),
        ("https://abc123.execute-api.eu-west-1.amazonaws.com/", "/operator/erase"),
        ("https://abc123.execute-api.eu-west-1.amazonaws.com", "/operator/erase"),
    ],
)
def test_the_erase_url_output_and_the_base_url_both_work(given: str, url: str) -> None:
    from voicetrail_cli.ops.compliance import operator_url, signing_region

    assert operator_url(given) == "https://abc123.execute-api.eu-west-1.amazonaws.com" + url
    assert signing_region("abc123.execute-api.eu-west-1.amazonaws.com", "us-east-1") == "eu-west-1"
    assert signing_region("ops.example.com", "us-east-1") == "us-east-1"  # a custom domain: --region


def _stub_cloudformation(monkeypatch: pytest.MonkeyPatch, outputs: dict[str, dict[str, str]]) -> None:
    """boto3.client("cloudformation") answers DescribeStacks from `outputs` (stack -> its outputs)."""
    import boto3
    from botocore.stub import Stubber

    real = boto3.client

    def client(service: str, *args: Any, **kwargs: Any) -> Any:
        made = real(service, *args, **kwargs)
        if service != "cloudformation":
            return made
        stubber = Stubber(made)
        for name, values in outputs.items():
            stack = {
                "StackName": name,
                "CreationTime": "2026-11-27T00:00:00Z",
                "StackStatus": "CREATE_COMPLETE",
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in values.items()],
            }
            stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": name})
        stubber.add_client_error("describe_stacks", "ValidationError", "Stack with id nope does not exist")
        stubber.activate()
        return made

    monkeypatch.setattr(boto3, "client", client)


def test_stack_outputs_give_the_table_and_the_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from voicetrail_cli.target import resolve

    outputs = {
        "EventsTableName": "voicetrail-prod-EventsTable-1",
        "OperatorEraseUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/operator/erase",
        "HashPepperSecretArn": "arn:aws:secretsmanager:eu-west-1:1:secret:pepper",
    }
    _stub_cloudformation(monkeypatch, {"voicetrail-prod": outputs})
    target = resolve(table=None, dynamodb_endpoint=None, stack="voicetrail-prod", region="eu-west-1")
    assert (
        target.table == "voicetrail-prod-EventsTable-1"
        and target.output("OperatorEraseUrl") == outputs["OperatorEraseUrl"]
    )
    assert (
        target.secret_ref("HashPepperSecretArn")
        == "secretsmanager:arn:aws:secretsmanager:eu-west-1:1:secret:pepper"
    )
    assert (
        resolve(table="other", dynamodb_endpoint=None, stack="voicetrail-prod", region="eu-west-1").table
        == "other"
    )
