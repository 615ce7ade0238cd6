"""`voicetrail quarantine`: the messages kept after they failed past authentication (domain.quarantine).

  voicetrail quarantine list   [--day YYYY-MM-DD]            what was kept that day, with each reason
  voicetrail quarantine replay [--day D] (--id ID ... | --all) feed kept bodies back through the webhook's
                                                             pipeline once the cause is fixed

A replay runs the webhook's own code in this process against the deployment's table (authentication
skipped: each message was authenticated when it arrived; the pepper is needed to hash caller ids). It is
idempotent: an event already stored is a duplicate. A record that stores is marked replayed; one that
still fails keeps its place and prints the new reason.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Annotated, Any

import typer
from rich.table import Table

from voicetrail_cli.failures import CliError
from voicetrail_cli.output import emit_json, show
from voicetrail_cli.target import (
    EndpointOpt,
    JsonOpt,
    NowOpt,
    PepperOpt,
    RegionOpt,
    StackOpt,
    TableOpt,
    resolve,
)

quarantine_app = typer.Typer(help="Messages kept after failing past authentication: list, replay.")
DayOpt = Annotated[str | None, typer.Option("--day", help="UTC day, YYYY-MM-DD (default: today).")]
# Never read by a replay (authentication is skipped), but the webhooks' settings require one.
_UNREAD_SECRET_REF = "ssm:/voicetrail/replay/unused"  # noqa: S105 - a parameter name, never a secret


class _NoMetrics:
    """A replay's metrics go nowhere: the webhook functions' own metrics count the traffic."""

    def count(self, name: str, value: float = 1, **dimensions: str) -> None:
        return None

    def value(self, name: str, value: float, unit: str = "None", **dimensions: str) -> None:
        return None


def _day(day: str | None, now: float) -> str:
    if day is None:
        return time.strftime("%Y-%m-%d", time.gmtime(now))
    try:
        time.strptime(day, "%Y-%m-%d")
    except ValueError:
        raise CliError(f"--day {day!r}: give a UTC day as YYYY-MM-DD") from None
    return day


def _store(target: Any) -> Any:
    from voicetrail.storage.quarantine import DynamoQuarantineStore

    return DynamoQuarantineStore(target.dynamodb(), target.table)


@quarantine_app.command("list")
def quarantine_list(
    day: DayOpt = None,
    table: TableOpt = None,
    stack: StackOpt = None,
    dynamodb_endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The messages kept on one UTC day: id, source, reason, call, when, whether replayed."""
    at = now if now is not None else time.time()
    target = resolve(table=table, dynamodb_endpoint=dynamodb_endpoint, stack=stack, region=region)
    records = _store(target).list_day(_day(day, at), now=at)
    rows = [
        {
            "id": r.record_id,
            "reason": r.reason,
            "detail": r.detail,
            "call_id": r.call_id,
            "received_at_ms": r.received_at_ms,
            "truncated": r.truncated,
            "replayed_at_ms": r.replayed_at_ms,
        }
        for r in sorted(records, key=lambda r: r.received_at_ms)
    ]
    if as_json:
        emit_json({"day": _day(day, at), "records": rows})
        return
    listing = Table(title=f"quarantine {_day(day, at)} ({len(rows)} kept)")
    for column in ("id", "reason", "detail", "call_id", "replayed"):
        listing.add_column(column, overflow="fold")
    for row in rows:
        replayed = "yes" if row["replayed_at_ms"] else "-"
        listing.add_row(row["id"], row["reason"], row["detail"], row["call_id"] or "-", replayed)
    show(listing)


def _services(target: Any, pepper: str) -> dict[str, Any]:
    """The two webhooks' services, built by their own wiring against the target's table."""
    from aws_lambda_powertools import Logger

    from voicetrail.infra.observability import RedactingFormatter
    from voicetrail.settings import TwilioStatusSettings, VapiWebhookSettings
    from voicetrail.wiring.twilio import build_twilio_service
    from voicetrail.wiring.vapi import build_vapi_service

    environ = {
        **os.environ,
        "TABLE_NAME": target.table,
        "HASH_PEPPER_REF": pepper,
        "VAPI_SECRET_REF": _UNREAD_SECRET_REF,
        "TWILIO_AUTH_TOKEN_REF": _UNREAD_SECRET_REF,
    }
    if target.dynamodb_endpoint:
        environ["AWS_ENDPOINT_URL_DYNAMODB"] = target.dynamodb_endpoint
    # The webhooks' log lines go to stderr: stdout is the command's answer (tables or --json).
    logger = Logger(service="voicetrail-replay", stream=sys.stderr, logger_formatter=RedactingFormatter())
    metrics = _NoMetrics()
    return {
        "vapi": build_vapi_service(VapiWebhookSettings.from_env(environ), logger=logger, metrics=metrics),
        "twilio": build_twilio_service(
            TwilioStatusSettings.from_env(environ), logger=logger, metrics=metrics
        ),
    }


def replay_record(services: dict[str, Any], record: Any) -> int:
    """Replay one kept record; the HTTP status its webhook answers (a domain error's status included)."""
    from voicetrail.domain.quarantine import Source
    from voicetrail.errors import VoicetrailError
    from voicetrail.providers.twilio.service import CallbackKind

    body = record.body.encode("utf-8")
    try:
        if record.source == Source.VAPI:
            return int(services["vapi"].replay(body).status)
        kind = CallbackKind.RECORDING if record.source == Source.TWILIO_RECORDING else CallbackKind.STATUS
        return int(services["twilio"].replay(body, kind).status)
    except VoicetrailError as exc:
        return exc.status


@quarantine_app.command("replay")
def quarantine_replay(
    ids: Annotated[list[str] | None, typer.Option("--id", help="A record id (repeatable).")] = None,
    replay_all: Annotated[
        bool, typer.Option("--all", help="Every record of the day not yet replayed.")
    ] = False,
    day: DayOpt = None,
    pepper_ref: PepperOpt = None,
    table: TableOpt = None,
    stack: StackOpt = None,
    dynamodb_endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Feed kept messages back through the webhook's pipeline (after the fix that refused them shipped)."""
    if not ids and not replay_all:
        raise CliError("which records? pass --id ID (from quarantine list) or --all")
    at = now if now is not None else time.time()
    target = resolve(table=table, dynamodb_endpoint=dynamodb_endpoint, stack=stack, region=region)
    pepper_ref = pepper_ref or target.secret_ref("HashPepperSecretArn")
    if not pepper_ref:
        raise CliError("no pepper: pass --pepper-ref (stack output HashPepperSecretArn) or --stack")
    store = _store(target)
    the_day = _day(day, at)
    records = store.list_day(the_day, now=at)
    wanted = [r for r in records if (r.record_id in (ids or [])) or (replay_all and not r.replayed_at_ms)]
    missing = set(ids or []) - {r.record_id for r in records}
    if missing:
        raise CliError(f"no record {sorted(missing)[0]!r} on {the_day}: see voicetrail quarantine list")
    services = _services(target, pepper_ref)
    results = []
    for record in wanted:
        status = replay_record(services, record)
        if status < 300:
            store.mark_replayed(the_day, record.record_id, at_ms=int(at * 1000))
        results.append({"id": record.record_id, "status": status, "replayed": status < 300})
    if as_json:
        emit_json({"day": the_day, "results": results})
    else:
        show(
            *(f"{r['id']}: {r['status']} {'replayed' if r['replayed'] else 'still refused'}" for r in results)
        )
    if any(not r["replayed"] for r in results):
        raise typer.Exit(1)
