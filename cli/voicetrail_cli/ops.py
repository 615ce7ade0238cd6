"""Compliance operations: `voicetrail erase`, `voicetrail purge`, `voicetrail audit verify|export`.

They work against AWS (your credentials; `--table` from the stack output EventsTableName) or any
DynamoDB endpoint (`--dynamodb-endpoint`, e.g. a local moto server). `erase --api-url` calls the
operator route instead (SigV4-signed unless the URL is loopback), which uses the deployment's own pepper
and provider credentials: that is the way to erase on `voicetrail serve`, whose pepper is random.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

import typer

from voicetrail_cli.local import LOCAL_TABLE

audit_app = typer.Typer(help="Verify and export the hash-chained audit trail.", no_args_is_help=True)

TableOpt = Annotated[str, typer.Option("--table", envvar="TABLE_NAME", help="Events table name.")]
EndpointOpt = Annotated[
    str | None,
    typer.Option("--dynamodb-endpoint", envvar="AWS_ENDPOINT_URL_DYNAMODB", help="DynamoDB endpoint."),
]
NowOpt = Annotated[float | None, typer.Option("--now", hidden=True, help="Epoch seconds (tests).")]


def register(app: typer.Typer) -> None:
    app.command("erase")(erase)
    app.command("purge")(purge)
    app.add_typer(audit_app, name="audit")


def _client(endpoint: str | None) -> Any:
    if endpoint:
        from voicetrail_cli.local import dynamodb_admin_client

        return dynamodb_admin_client(endpoint)
    import boto3

    return boto3.client("dynamodb")


def _resolver(ref: str | None) -> Any:
    if not ref:
        return None
    from voicetrail.secrets import SecretRef, SecretResolver

    return SecretResolver(SecretRef.parse(ref, allow_env=True), max_age=0)


def _providers(
    twilio_account_sid: str | None,
    twilio_token_ref: str | None,
    vapi_key_ref: str | None,
    twilio_api_base_url: str | None,
    vapi_api_base_url: str,
) -> tuple[Any, Any]:
    from voicetrail.retention_purge.external import TwilioRecordingDeleter, VapiCallDeleter

    twilio = TwilioRecordingDeleter(
        twilio_account_sid, _resolver(twilio_token_ref), base_url=twilio_api_base_url or None
    )
    vapi = VapiCallDeleter(_resolver(vapi_key_ref), base_url=vapi_api_base_url)
    return twilio, vapi


def _emit(payload: Any) -> None:
    print(json.dumps(payload, indent=2, sort_keys=True))


TwilioSidOpt = Annotated[
    str | None, typer.Option(envvar="TWILIO_ACCOUNT_SID", help="Twilio Account SID (recording deletes).")
]
TwilioTokenOpt = Annotated[
    str | None,
    typer.Option(envvar="TWILIO_AUTH_TOKEN_REF", help="Twilio auth token ref: secretsmanager:<id>|ssm:|env:"),
]
VapiKeyOpt = Annotated[
    str | None, typer.Option(envvar="VAPI_API_KEY_REF", help="Vapi private API key ref (DELETE /call).")
]
TwilioBaseOpt = Annotated[str | None, typer.Option(envvar="TWILIO_API_BASE_URL", hidden=True)]
VapiBaseOpt = Annotated[str, typer.Option(envvar="VAPI_API_BASE_URL", hidden=True)]


def erase(
    phone: Annotated[str, typer.Option("--phone", help="The caller's number (E.164) or SIP address.")],
    table: TableOpt = LOCAL_TABLE,
    dynamodb_endpoint: EndpointOpt = None,
    pepper_ref: Annotated[
        str | None,
        typer.Option(envvar="HASH_PEPPER_REF", help="Pepper ref: secretsmanager:<arn>|ssm:<name>|env:<VAR>."),
    ] = None,
    api_url: Annotated[
        str | None, typer.Option(help="Call POST <api-url>/operator/erase instead (IAM, SigV4).")
    ] = None,
    region: Annotated[str | None, typer.Option(help="Region for SigV4 signing (--api-url).")] = None,
    twilio_account_sid: TwilioSidOpt = None,
    twilio_token_ref: TwilioTokenOpt = None,
    vapi_key_ref: VapiKeyOpt = None,
    twilio_api_base_url: TwilioBaseOpt = None,
    vapi_api_base_url: VapiBaseOpt = "https://api.vapi.ai",
) -> None:
    """Erase every call of a caller (content, metadata, recordings at Twilio and Vapi); print the counts."""
    if api_url:
        result = _erase_via_api(api_url, phone, region)
    else:
        if not pepper_ref:
            raise typer.BadParameter("--pepper-ref is required without --api-url", param_hint="--pepper-ref")
        from voicetrail.audit import AuditTrail
        from voicetrail.erasure import ErasureService
        from voicetrail.storage.audit import DynamoAuditStore
        from voicetrail.storage.erasure import DynamoCallerItems

        client = _client(dynamodb_endpoint)
        twilio, vapi = _providers(
            twilio_account_sid, twilio_token_ref, vapi_key_ref, twilio_api_base_url, vapi_api_base_url
        )
        service = ErasureService(
            DynamoCallerItems(client, table),
            pepper=_resolver(pepper_ref),
            recordings=twilio,
            calls=vapi,
            audit=AuditTrail(DynamoAuditStore(client, table)),
        )
        result = service.erase(phone).as_dict()
    _emit(result)
    if not result.get("complete"):
        raise typer.Exit(2)


def _erase_via_api(api_url: str, phone: str, region: str | None) -> dict[str, Any]:
    import httpx

    url = api_url.rstrip("/") + "/operator/erase"
    body = json.dumps({"phone": phone}).encode()
    headers = {"content-type": "application/json"}
    host = urlparse(url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        import boto3
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        session = boto3.Session(region_name=region)
        credentials = session.get_credentials()
        if credentials is None:
            raise typer.BadParameter("no AWS credentials to sign the request", param_hint="--api-url")
        request = AWSRequest(method="POST", url=url, data=body, headers=headers)
        SigV4Auth(credentials, "execute-api", session.region_name or "us-east-1").add_auth(request)
        headers = dict(request.headers.items())
    response = httpx.post(url, content=body, headers=headers, timeout=60)
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if response.status_code != 200 or not isinstance(payload, dict):
        print(f"operator API answered {response.status_code}", file=sys.stderr)
        raise typer.Exit(1)
    return payload


def purge(
    table: TableOpt = LOCAL_TABLE,
    dynamodb_endpoint: EndpointOpt = None,
    dry_run: Annotated[bool, typer.Option(help="Count what has expired; change nothing.")] = False,
    from_days: Annotated[
        int | None, typer.Option(help="Walk this many days of expiry buckets, ignoring the cursor.")
    ] = None,
    twilio_account_sid: TwilioSidOpt = None,
    twilio_token_ref: TwilioTokenOpt = None,
    vapi_key_ref: VapiKeyOpt = None,
    twilio_api_base_url: TwilioBaseOpt = None,
    vapi_api_base_url: VapiBaseOpt = "https://api.vapi.ai",
) -> None:
    """Run the retention purge once from here (the scheduled function does the same)."""
    from voicetrail.audit import AuditTrail
    from voicetrail.retention_purge.wiring import dynamo_purger
    from voicetrail.storage.audit import DynamoAuditStore

    client = _client(dynamodb_endpoint)
    twilio, vapi = _providers(
        twilio_account_sid, twilio_token_ref, vapi_key_ref, twilio_api_base_url, vapi_api_base_url
    )
    audit = AuditTrail(DynamoAuditStore(client, table))
    purger = dynamo_purger(client, table, recordings=twilio, calls=vapi, audit=audit)
    _emit(purger.run(dry_run=dry_run, from_days=from_days).as_dict())


def _since_epoch(value: str) -> float:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise typer.BadParameter("use YYYY-MM-DD", param_hint="--since") from None


@audit_app.command("verify")
def audit_verify(
    table: TableOpt = LOCAL_TABLE,
    dynamodb_endpoint: EndpointOpt = None,
    call: Annotated[str | None, typer.Option("--call", help="Verify this call's chain only.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Chains with records since YYYY-MM-DD (default: audit retention).")
    ] = None,
    audit_days: Annotated[int, typer.Option(envvar="RETENTION_DAYS_AUDIT", help="Audit retention.")] = 2190,
    now: NowOpt = None,
) -> None:
    """Recompute every chain's hashes and links; exit 1 and list the breaks if any."""
    from voicetrail.audit import AuditReader
    from voicetrail.storage.audit import DynamoAuditStore
    from voicetrail.storage.model import call_pk, system_pk

    current = now if now is not None else time.time()
    reader = AuditReader(DynamoAuditStore(_client(dynamodb_endpoint), table))
    if call:
        pks = [call_pk(call)]
    else:
        start = _since_epoch(since) if since else current - audit_days * 86_400
        pks = reader.chains_since(start, now=current)
        pks += [p for p in (system_pk("purge"), system_pk("erasure")) if p not in pks]
    report = reader.verify(pks, now=current)
    _emit(report.as_dict())
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    table: TableOpt = LOCAL_TABLE,
    dynamodb_endpoint: EndpointOpt = None,
    call: Annotated[str | None, typer.Option("--call", help="Export this call's records.")] = None,
    since: Annotated[str | None, typer.Option(help="Export records since YYYY-MM-DD.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="json | csv")] = "json",
    out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
    now: NowOpt = None,
) -> None:
    """Write audit records as JSON or CSV for an auditor (hashes included, so they can re-verify)."""
    from voicetrail.audit import AuditReader
    from voicetrail.storage.audit import DynamoAuditStore

    if (call is None) == (since is None):
        raise typer.BadParameter("give exactly one of --call and --since")
    if output_format not in ("json", "csv"):
        raise typer.BadParameter("json or csv", param_hint="--format")
    reader = AuditReader(DynamoAuditStore(_client(dynamodb_endpoint), table))
    current = now if now is not None else time.time()
    if call:
        records = reader.call_records(call)
    else:
        records = list(reader.records_since(_since_epoch(since or ""), now=current))
    rows = [r.as_dict() for r in sorted(records, key=lambda r: (r.at_ms, r.pk, r.seq))]
    if output_format == "json":
        text = json.dumps(rows, indent=2) + "\n"
    else:
        buffer = io.StringIO()
        columns = ["chain", "seq", "kind", "at", "at_ms", "details", "prev_hash", "hash", "expires_at"]
        writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "details": json.dumps(row["details"], sort_keys=True)})
        text = buffer.getvalue()
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"{len(rows)} records -> {out}", file=sys.stderr)
