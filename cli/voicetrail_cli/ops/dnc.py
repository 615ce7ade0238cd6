"""`voicetrail dnc add|remove|check`: the do-not-call list of the pre-dial gate.

Numbers are hashed here with the deployment's pepper (HMAC-SHA256, the same keyed hash as every caller
hash) and only the hashes are written; no number is stored, printed or logged. Each change appends a
`dnc_change` record (counts only) to the audit chain `SYS#dnc`. Numbers come from `--phone` (repeatable)
or `--file` (one per line; `#` starts a comment), in E.164 or national format (`--region`, default US).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from voicetrail_cli.failures import CliError
from voicetrail_cli.output import emit_json
from voicetrail_cli.target import EndpointOpt, JsonOpt, PepperOpt, StackOpt, TableOpt, resolve
from voicetrail_cli.target import secret_resolver as _resolver

dnc_app = typer.Typer(help="Manage the do-not-call list (keyed hashes, never numbers).", no_args_is_help=True)

PhoneOpt = Annotated[list[str] | None, typer.Option("--phone", help="A number (repeatable).")]
FileOpt = Annotated[Path | None, typer.Option("--file", help="A file with one number per line.")]
RegionOpt = Annotated[str, typer.Option(help="Region of numbers written without a country code.")]


def _numbers(phones: list[str] | None, file: Path | None) -> list[str]:
    numbers = list(phones or [])
    if file is not None:
        for line in file.read_text(encoding="utf-8").splitlines():
            text = line.split("#", 1)[0].strip()
            if text:
                numbers.append(text)
    if not numbers:
        raise typer.BadParameter("give --phone or --file", param_hint="--phone")
    return numbers


def _e164(numbers: list[str], region: str) -> tuple[list[str], int]:
    """(the valid numbers in E.164, count of invalid ones): checked before anything else is asked for."""
    import phonenumbers

    valid, invalid = [], 0
    for number in numbers:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            invalid += 1
            continue
        if not phonenumbers.is_valid_number(parsed):
            invalid += 1
            continue
        valid.append(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    return valid, invalid


def _hashes(numbers: list[str], pepper_ref: str | None) -> list[str]:
    """Keyed hashes of E.164 numbers with the deployment's pepper."""
    from voicetrail.domain.callers import CallerHasher

    resolver = _resolver(pepper_ref)
    if resolver is None:
        raise typer.BadParameter("--pepper-ref (or HASH_PEPPER_REF) is required", param_hint="--pepper-ref")
    hasher = CallerHasher(resolver.values()[0])
    return sorted({hasher.hash(number) for number in numbers})


def _emit(payload: dict[str, Any], as_json: bool) -> None:
    """JSON with --json; else one line of counts (never a number: the list holds hashes only)."""
    if as_json:
        emit_json(payload)
    else:
        print(", ".join(f"{key.replace('_', ' ')}: {value}" for key, value in payload.items()))


def _target(table: str | None, stack: str | None, endpoint: str | None) -> tuple[Any, str]:
    """The deployment, pointed at like every operator command (voicetrail_cli.target)."""
    target = resolve(table=table, dynamodb_endpoint=endpoint, stack=stack, region=None)
    return target.dynamodb(), target.table


def _list(client: Any, table: str) -> Any:
    from voicetrail.domain.retention.classes import RetentionPolicy
    from voicetrail.storage.dnc import DynamoDoNotCallList

    return DynamoDoNotCallList(client, table, RetentionPolicy())


def _audit(client: Any, table: str, action: str, changed: int, now: float) -> None:
    from voicetrail.domain.audit.trail import AuditKind, AuditTrail
    from voicetrail.storage.audit import DynamoAuditStore

    AuditTrail(DynamoAuditStore(client, table)).append_system(
        "dnc", AuditKind.DNC_CHANGE, {"action": action, "count": changed}, now
    )


def _change(
    action: str,
    numbers: list[str],
    table: str | None,
    stack: str | None,
    endpoint: str | None,
    pepper_ref: str | None,
    region: str,
    as_json: bool,
) -> None:
    """Add or remove hashed numbers, audit the count, print counts (exit 2 when a line was not a number)."""
    valid, invalid = _e164(numbers, region)
    hashes = _hashes(valid, pepper_ref)
    client, table_name = _target(table, stack, endpoint)
    dnc, now = _list(client, table_name), time.time()
    if action == "add":
        changed, labels = sum(1 for h in hashes if dnc.add(h, now=now)), ("added", "already_listed")
    else:
        changed, labels = sum(1 for h in hashes if dnc.remove(h)), ("removed", "not_listed")
    _audit(client, table_name, action, changed, now)
    _emit({labels[0]: changed, labels[1]: len(hashes) - changed, "invalid": invalid}, as_json)
    if invalid:
        raise typer.Exit(2)


@dnc_app.command("add")
def add(
    phone: PhoneOpt = None,
    file: FileOpt = None,
    table: TableOpt = None,
    stack: StackOpt = None,
    dynamodb_endpoint: EndpointOpt = None,
    pepper_ref: PepperOpt = None,
    region: RegionOpt = "US",
    as_json: JsonOpt = False,
) -> None:
    """Put numbers on the do-not-call list; print counts only."""
    _change("add", _numbers(phone, file), table, stack, dynamodb_endpoint, pepper_ref, region, as_json)


@dnc_app.command("remove")
def remove(
    phone: PhoneOpt = None,
    file: FileOpt = None,
    table: TableOpt = None,
    stack: StackOpt = None,
    dynamodb_endpoint: EndpointOpt = None,
    pepper_ref: PepperOpt = None,
    region: RegionOpt = "US",
    as_json: JsonOpt = False,
) -> None:
    """Take numbers off the do-not-call list; print counts only."""
    _change("remove", _numbers(phone, file), table, stack, dynamodb_endpoint, pepper_ref, region, as_json)


@dnc_app.command("check")
def check(
    phone: Annotated[str, typer.Option("--phone", help="The number to look up.")],
    table: TableOpt = None,
    stack: StackOpt = None,
    dynamodb_endpoint: EndpointOpt = None,
    pepper_ref: PepperOpt = None,
    region: RegionOpt = "US",
    as_json: JsonOpt = False,
) -> None:
    """Whether a number is on the list (exit 0 listed, 1 not listed, 2 invalid)."""
    valid, _ = _e164([phone], region)
    if not valid:
        if as_json:
            _emit({"on_list": None, "invalid": 1}, as_json)
            raise typer.Exit(2)
        # The number itself is not repeated: the list and its messages never carry numbers.
        raise CliError(
            f"--phone is not a valid phone number for region {region}: give it in E.164 (+14155550123) "
            "or in national format with --region",
            exit_code=2,
        )
    (hashed,) = _hashes(valid, pepper_ref)
    client, table_name = _target(table, stack, dynamodb_endpoint)
    listed = _list(client, table_name).contains(hashed)
    _emit({"on_list": listed}, as_json)
    raise typer.Exit(0 if listed else 1)
