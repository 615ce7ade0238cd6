"""`voicetrail config validate|put|get|list`: per-number live configs, validated before they are written.

A config that does not validate is refused here, with the field and the reason, so a typo can no longer
take a line down (the webhook answers a broken config's calls with an error message). The target is the
deployment's config source: `table` (the events table, the default) or `ssm:/prefix` (SSM parameters),
the template's LiveConfigSource.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from voicetrail_cli.failures import CliError
from voicetrail_cli.output import emit_json, show
from voicetrail_cli.target import Deployment, EndpointOpt, JsonOpt, RegionOpt, StackOpt, TableOpt, resolve

config_app = typer.Typer(help="Validate, write, read and list per-number live configs.", no_args_is_help=True)

PhoneOpt = Annotated[
    str | None, typer.Option("--phone-number-id", help="Vapi phoneNumberId the config is for.")
]
AssistantOpt = Annotated[
    str | None, typer.Option("--assistant-id", help="Vapi assistantId the config is for.")
]
DefaultOpt = Annotated[bool, typer.Option("--default", help="The config of every other number.")]
SourceOpt = Annotated[
    str, typer.Option(envvar="LIVE_CONFIG_SOURCE", help="Where configs live: table | ssm:/prefix.")
]
FileArg = Annotated[Path, typer.Argument(help="The config, a JSON object ('-' for stdin).")]


def validate_text(raw: str) -> Any:
    """The LiveConfig, or a CliError naming every field that is wrong and why (never echoing values)."""
    from pydantic import ValidationError

    from voicetrail.domain.live.config import LiveConfig

    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        # json's messages for some errors end in "... starting at" / "... at": the position follows here.
        what = exc.msg.removesuffix(" at").removesuffix(" starting")
        raise CliError(f"not JSON: {what} (line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(document, dict):
        raise CliError("a config is a JSON object of settings")
    try:
        return LiveConfig.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'config'}: "
            f"{'unknown setting (a typo?)' if e['type'] == 'extra_forbidden' else e['msg']}"
            for e in exc.errors()
        )
        raise CliError(f"config does not validate: {problems}") from None


def config_key(phone_number_id: str | None, assistant_id: str | None, default: bool) -> str:
    from voicetrail.domain.live.config import config_keys
    from voicetrail.storage.table import DEFAULT_CONFIG_PK

    chosen = [x for x in (phone_number_id, assistant_id, default or None) if x]
    if len(chosen) != 1:
        raise CliError("name exactly one of --phone-number-id ID, --assistant-id ID and --default")
    if default:
        return DEFAULT_CONFIG_PK
    keys = config_keys(phone_number_id, assistant_id)
    if len(keys) != 2:
        raise CliError("ids are letters, digits and _.:- (at most 128 characters)")
    return keys[0]


def _read(path: Path) -> str:
    return sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")


class _Store:
    """The table store or SSM parameters, behind one face."""

    def __init__(self, source: str, target: Deployment) -> None:
        self._source = source
        self._target = target
        if source == "table":
            from voicetrail.storage.live import TableConfigSource

            self._table = TableConfigSource(target.dynamodb(), target.table)
        elif not source.startswith("ssm:/"):
            raise CliError(f"--source {source!r}: use table or ssm:/prefix")

    def _name(self, key: str) -> str:
        _, _, rest = key.partition("#")
        return f"{self._source.removeprefix('ssm:').rstrip('/')}/{rest.replace('#', '/')}"

    def _ssm(self) -> Any:
        import boto3

        return boto3.client("ssm", region_name=self._target.region)

    def put(self, key: str, raw: str) -> None:
        if self._source == "table":
            self._table.store(key, raw)
        else:
            self._ssm().put_parameter(Name=self._name(key), Value=raw, Type="String", Overwrite=True)

    def get(self, key: str) -> str | None:
        if self._source == "table":
            return self._table.read(key)
        client = self._ssm()
        try:
            return str(client.get_parameter(Name=self._name(key))["Parameter"]["Value"])
        except client.exceptions.ParameterNotFound:
            return None

    def list(self) -> list[tuple[str, int]]:
        if self._source == "table":
            return self._table.list()
        prefix = self._source.removeprefix("ssm:").rstrip("/")
        out: list[tuple[str, int]] = []
        for page in self._ssm().get_paginator("get_parameters_by_path").paginate(Path=prefix, Recursive=True):
            for parameter in page.get("Parameters", []):
                rest = str(parameter["Name"])[len(prefix) + 1 :].replace("/", "#")
                out.append((f"CONFIG#{rest}", int(parameter["LastModifiedDate"].timestamp() * 1000)))
        return out


@config_app.command("validate")
def config_validate(file: FileArg, as_json: JsonOpt = False) -> None:
    """Check a config without writing it (exit 1 and the reasons when it does not validate)."""
    config = validate_text(_read(file))
    if as_json:
        emit_json({"ok": True, "config": config.model_dump(mode="json")})
    else:
        show(f"{file}: valid ({len(config.model_fields_set)} settings given, the rest default)")


@config_app.command("put")
def config_put(
    file: FileArg,
    phone_number_id: PhoneOpt = None,
    assistant_id: AssistantOpt = None,
    default: DefaultOpt = False,
    source: SourceOpt = "table",
    table: TableOpt = None,
    stack: StackOpt = None,
    dynamodb_endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate a config, then write it for a number, an assistant or as the default (live within the
    functions' cache time, LIVE_CONFIG_CACHE_SECONDS)."""
    key = config_key(phone_number_id, assistant_id, default)
    raw = _read(file)
    validate_text(raw)  # before anything is written
    target = resolve(table=table, dynamodb_endpoint=dynamodb_endpoint, stack=stack, region=region)
    compact = json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False)
    _Store(source, target).put(key, compact)
    if as_json:
        emit_json({"ok": True, "key": key, "source": source})
    else:
        show(f"{key} written to {source} ({target.table if source == 'table' else source})")


@config_app.command("get")
def config_get(
    phone_number_id: PhoneOpt = None,
    assistant_id: AssistantOpt = None,
    default: DefaultOpt = False,
    source: SourceOpt = "table",
    table: TableOpt = None,
    stack: StackOpt = None,
    dynamodb_endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="The config is printed as JSON either way.")
    ] = False,
) -> None:
    """Print a stored config (JSON), and whether it still validates."""
    key = config_key(phone_number_id, assistant_id, default)
    target = resolve(table=table, dynamodb_endpoint=dynamodb_endpoint, stack=stack, region=region)
    raw = _Store(source, target).get(key)
    if raw is None:
        raise CliError(f"no config at {key} in {source}: calls there use the next one (assistant, default)")
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise CliError(
            f"{key} holds text that is not JSON: the line answers with its error message"
        ) from None
    print(json.dumps(parsed, indent=2, sort_keys=True, ensure_ascii=False))
    validate_text(raw)


@config_app.command("list")
def config_list(
    source: SourceOpt = "table",
    table: TableOpt = None,
    stack: StackOpt = None,
    dynamodb_endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every config written with `config put`, with when it changed and whether it validates."""
    target = resolve(table=table, dynamodb_endpoint=dynamodb_endpoint, stack=stack, region=region)
    store = _Store(source, target)
    rows: list[dict[str, Any]] = []
    for key, updated_ms in sorted(store.list()):
        raw = store.get(key)
        try:
            valid = raw is not None and bool(validate_text(raw))
        except CliError:
            valid = False
        rows.append(
            {
                "key": key,
                "updated": datetime.fromtimestamp(updated_ms / 1000, UTC).isoformat(timespec="seconds"),
                "valid": valid,
            }
        )
    if as_json:
        emit_json({"configs": rows})
        return
    view = Table(title=f"live configs ({source})")
    for column in ("key", "updated (UTC)", "valid"):
        view.add_column(column)
    for row in rows:
        view.add_row(row["key"], row["updated"], "yes" if row["valid"] else "[red]NO[/]")
    show(view)
