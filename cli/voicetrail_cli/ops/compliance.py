"""Compliance operations: `voicetrail erase`, `purge`, `audit verify|export`, `evidence`.

Every command points at a deployment the same way (voicetrail_cli.target: --stack, --table /
VOICETRAIL_TABLE, --dynamodb-endpoint, --region) and prints tables, or JSON with --json.
`erase --api-url` (or `--stack`, which reads OperatorEraseUrl) calls the operator route instead,
SigV4-signed unless the URL is loopback: it uses the deployment's own pepper and provider credentials,
which is the way to erase on `voicetrail serve`, whose pepper is random.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

import typer
from rich.table import Table

from voicetrail_cli.failures import CliError
from voicetrail_cli.output import emit_json, show
from voicetrail_cli.target import (
    Deployment,
    EndpointOpt,
    JsonOpt,
    NowOpt,
    PepperOpt,
    RegionOpt,
    StackOpt,
    TableOpt,
    resolve,
    secret_resolver,
)

audit_app = typer.Typer(help="Verify and export the hash-chained audit trail.", no_args_is_help=True)

EXIT_INCOMPLETE = 3  # erase: something is still pending (the output lists what and why)
ERASE_PATH = "/operator/erase"
_EXECUTE_API_HOST = re.compile(r"^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


def register(app: typer.Typer) -> None:
    app.command("erase")(erase)
    app.command("purge")(purge)
    app.command("evidence")(evidence)
    app.add_typer(audit_app, name="audit")


def _providers(
    target: Deployment,
    twilio_account_sid: str | None,
    twilio_token_ref: str | None,
    vapi_key_ref: str | None,
    twilio_api_base_url: str | None,
    vapi_api_base_url: str,
) -> tuple[Any, Any]:
    from voicetrail.domain.erasure.deleters import TwilioRecordingDeleter, VapiCallDeleter

    twilio_token_ref = twilio_token_ref or target.secret_ref("TwilioAuthTokenSecretArn")
    vapi_key_ref = vapi_key_ref or target.secret_ref("VapiApiKeySecretArn")
    twilio = TwilioRecordingDeleter(
        twilio_account_sid, _credential(twilio_token_ref), base_url=twilio_api_base_url or None
    )
    vapi = VapiCallDeleter(_credential(vapi_key_ref), base_url=vapi_api_base_url)
    return twilio, vapi


def _platforms(target: Deployment, retell_key_ref: str | None, elevenlabs_key_ref: str | None) -> list[Any]:
    """The Retell and ElevenLabs deleters (unconfigured, so skipped, without a key)."""
    from voicetrail.providers.elevenlabs.deleter import ElevenLabsConversationDeleter
    from voicetrail.providers.retell.deleter import RetellCallDeleter
    from voicetrail.settings import ExternalDeletionSettings

    defaults = ExternalDeletionSettings.model_fields
    retell = RetellCallDeleter(
        _credential(retell_key_ref or target.secret_ref("RetellApiKeySecretArn")),
        base_url=os.environ.get("RETELL_API_BASE_URL") or str(defaults["retell_api_base_url"].default),
    )
    elevenlabs = ElevenLabsConversationDeleter(
        _credential(elevenlabs_key_ref or target.secret_ref("ElevenLabsApiKeySecretArn")),
        base_url=os.environ.get("ELEVENLABS_API_BASE_URL")
        or str(defaults["elevenlabs_api_base_url"].default),
    )
    return [retell, elevenlabs]


def _large_bodies(target: Deployment, bucket: str | None) -> Any:
    """The large-events bucket (kept audio, large bodies), whose objects go with their items; None
    without one."""
    bucket = bucket or target.output("LargeEventsBucketName")
    if not bucket:
        return None
    from voicetrail.storage.large_bodies import S3BodyStore

    return S3BodyStore(target.s3(), bucket)


def _credential(ref: str | None) -> Any:
    """A provider credential, or None (not configured): an `env:` ref to an unset variable is none."""
    if ref and ref.startswith("env:") and not os.environ.get(ref.removeprefix("env:")):
        return None
    return secret_resolver(ref)


TwilioSidOpt = Annotated[
    str | None, typer.Option(envvar="TWILIO_ACCOUNT_SID", help="Twilio Account SID (recording deletes).")
]
TwilioTokenOpt = Annotated[
    str | None,
    typer.Option(
        envvar="TWILIO_AUTH_TOKEN_REF",
        help="Twilio auth token ref: secretsmanager:<id>|ssm:|env: (default with --stack: its secret).",
    ),
]
RetellKeyOpt = Annotated[
    str | None,
    typer.Option(
        envvar="RETELL_DELETION_KEY_REF",
        help="Retell API key ref (call deletes; default with --stack: its secret).",
    ),
]
ElevenLabsKeyOpt = Annotated[
    str | None,
    typer.Option(
        envvar="ELEVENLABS_API_KEY_REF",
        help="ElevenLabs API key ref (conversation deletes; default with --stack: its secret).",
    ),
]
BucketOpt = Annotated[
    str | None,
    typer.Option(
        "--large-events-bucket",
        envvar="LARGE_EVENTS_BUCKET",
        help="The large-events bucket (stack output LargeEventsBucketName): kept audio and large bodies "
        "are deleted with their items.",
    ),
]
VapiKeyOpt = Annotated[
    str | None,
    typer.Option(
        envvar="VAPI_API_KEY_REF", help="Vapi private API key ref (default with --stack: its secret)."
    ),
]
TwilioBaseOpt = Annotated[str | None, typer.Option(envvar="TWILIO_API_BASE_URL", hidden=True)]
VapiBaseOpt = Annotated[str, typer.Option(envvar="VAPI_API_BASE_URL", hidden=True)]


# ---- erase ------------------------------------------------------------------------------------------


def erase(
    phone: Annotated[str, typer.Option("--phone", help="The caller's number (E.164) or SIP address.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be erased; change nothing.")
    ] = False,
    table: TableOpt = None,
    stack: StackOpt = None,
    dynamodb_endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    pepper_ref: PepperOpt = None,
    api_url: Annotated[
        str | None,
        typer.Option(help="Call the operator route (stack output OperatorEraseUrl, or the API base URL)."),
    ] = None,
    twilio_account_sid: TwilioSidOpt = None,
    twilio_token_ref: TwilioTokenOpt = None,
    vapi_key_ref: VapiKeyOpt = None,
    twilio_api_base_url: TwilioBaseOpt = None,
    vapi_api_base_url: VapiBaseOpt = "https://api.vapi.ai",
    retell_key_ref: RetellKeyOpt = None,
    elevenlabs_key_ref: ElevenLabsKeyOpt = None,
    large_events_bucket: BucketOpt = None,
    deadline: Annotated[
        int,
        typer.Option(
            "--deadline",
            envvar="ERASURE_DEADLINE_DAYS",
            min=1,
            max=30,
            help="Days within which deletions at providers must be done (retried until then, then alarmed).",
        ),
    ] = 25,
    as_json: JsonOpt = False,
) -> None:
    """Erase every call of a caller: our copy at once (events, summaries, name memory, consent and live
    state, recording pointers, day index), then deletions at the providers (Twilio recordings, Vapi calls)
    as follow-ups retried by the scheduled purge until done.

    The receipt lists what was erased here, what is pending at which provider (due by --deadline) and what
    was skipped (provider not configured). Exit 0 when nothing is pending, 3 when provider deletions are
    pending (our copy is gone; the purge retries them), 1 on an error (a wrong pepper, an invalid number).
    """
    from voicetrail.domain.callers import caller_id

    caller_id(phone)  # refuse "abc" here too, before any AWS call (the route and the service check again)
    if api_url is None and pepper_ref is None and stack:
        target = resolve(table=table, dynamodb_endpoint=dynamodb_endpoint, stack=stack, region=region)
        api_url = target.output("OperatorEraseUrl")
    if api_url:
        result = _erase_via_api(api_url, phone, region, dry_run=dry_run, deadline_days=deadline)
    else:
        if not pepper_ref:
            raise CliError(
                "erasing from here needs the pepper: pass --pepper-ref secretsmanager:<HashPepperSecretArn>, "
                "or --api-url / --stack to use the operator route"
            )
        from voicetrail.domain.audit.trail import AuditTrail
        from voicetrail.domain.erasure.eraser import ErasureService
        from voicetrail.domain.erasure.providers import ProviderRegistry, standard_providers
        from voicetrail.storage.audit import DynamoAuditStore
        from voicetrail.storage.erasure import DynamoCallerItems
        from voicetrail.storage.erasure_tasks import DynamoErasureTasks
        from voicetrail.storage.pepper import DynamoPepperFingerprints

        target = resolve(table=table, dynamodb_endpoint=dynamodb_endpoint, stack=stack, region=region)
        client = target.dynamodb()
        twilio, vapi = _providers(
            target, twilio_account_sid, twilio_token_ref, vapi_key_ref, twilio_api_base_url, vapi_api_base_url
        )
        from voicetrail.wiring.deletion import platform_provider

        platforms = _platforms(target, retell_key_ref, elevenlabs_key_ref)
        service = ErasureService(
            DynamoCallerItems(client, target.table, large_bodies=_large_bodies(target, large_events_bucket)),
            pepper=secret_resolver(pepper_ref),
            fingerprints=DynamoPepperFingerprints(client, target.table),
            providers=ProviderRegistry(
                [*standard_providers(twilio, vapi), *(platform_provider(d) for d in platforms)]
            ),
            tasks=DynamoErasureTasks(client, target.table),
            audit=AuditTrail(DynamoAuditStore(client, target.table)),
        )
        result = service.erase(phone, dry_run=dry_run, deadline_days=deadline).as_dict()
    if as_json:
        emit_json(result)
    else:
        _show_erasure(result)
    if not dry_run and not result.get("complete"):
        raise typer.Exit(EXIT_INCOMPLETE)


def _show_erasure(result: dict[str, Any]) -> None:
    """The receipt: erased here (per call and class), each provider target's fate, one verdict line."""
    calls = Table(title="dry run: would erase" if result.get("dry_run") else "erased here")
    for column in ("call", "items by class", "at providers"):
        calls.add_column(column)
    for call in result.get("calls", []):
        held = call.get("providers") or {}
        calls.add_row(
            call["call_id"],
            ", ".join(f"{k} {v}" for k, v in call["items"].items()),
            ", ".join(f"{name} {len(ids)}" for name, ids in held.items()) or "-",
        )
    renderables: list[Any] = [calls]
    if result.get("providers"):
        providers = Table(title="at providers")
        for column in ("call", "provider", "target", "status", "reason / due"):
            providers.add_column(column)
        for item in result["providers"]:
            note = item.get("reason") or "-"
            if item["status"] == "pending":
                note = f"{note}, due {item.get('due_at', '?')[:10]}"
            providers.add_row(item["call_id"], item["provider"], item["target"], item["status"], note)
        renderables.append(providers)
    here = [p for p in result.get("pending", []) if p["provider"] in ("dynamodb", "pepper")]
    if here:
        left = Table(title="NOT erased here (repeat the request)")
        for column in ("call", "where", "what", "reason"):
            left.add_column(column)
        for item in here:
            left.add_row(item["call_id"], item["provider"], item["target"], item["reason"])
        renderables.append(left)
    renderables.append(_erasure_verdict(result))
    show(*renderables)


def _erasure_verdict(result: dict[str, Any]) -> str:
    if result.get("dry_run"):
        return f"dry run: {result['calls_found']} calls found, nothing changed"
    statuses: dict[str, int] = {}
    for item in result.get("providers", []):
        statuses[item["status"]] = statuses.get(item["status"], 0) + 1
    at_providers = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items())) or "nothing held"
    here = (
        f"erased here: {result['calls_erased']} of {result['calls_found']} calls, "
        f"{result['items_deleted_total']} items"
    )
    if not result.get("erased_here", result.get("complete")):
        return f"INCOMPLETE here: {here}, see above; receipt {result['request_id']}"
    if result.get("complete"):
        return f"complete: {here}; at providers: {at_providers}; receipt {result['request_id']}"
    return (
        f"{here}; at providers: {at_providers}: PENDING deletions are retried by the scheduled purge until "
        f"done (due {str(result.get('due_at'))[:10]}, alarmed after); receipt {result['request_id']}"
    )


def operator_url(api_url: str) -> str:
    """The erase route from either the stack output OperatorEraseUrl or the API base URL."""
    url = api_url.rstrip("/")
    return url if url.endswith(ERASE_PATH) else url + ERASE_PATH


def signing_region(host: str, fallback: str | None) -> str | None:
    """The region of an execute-api host (abc.execute-api.eu-west-1.amazonaws.com), else `fallback`."""
    match = _EXECUTE_API_HOST.match(host)
    return match.group(1) if match else fallback


def _erase_via_api(
    api_url: str, phone: str, region: str | None, *, dry_run: bool, deadline_days: int
) -> dict[str, Any]:
    import httpx

    url = operator_url(api_url)
    body = json.dumps({"phone": phone, "dry_run": dry_run, "deadline_days": deadline_days}).encode()
    headers = {"content-type": "application/json"}
    host = urlparse(url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        import boto3
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        session = boto3.Session()
        sign_region = signing_region(host, region or session.region_name)
        if not sign_region:
            raise CliError(f"cannot tell the region of {host}: pass --region")
        credentials = session.get_credentials()
        if credentials is None:
            raise CliError("no AWS credentials to sign the request: set AWS_PROFILE or run `aws configure`")
        request = AWSRequest(method="POST", url=url, data=body, headers=headers)
        SigV4Auth(credentials, "execute-api", sign_region).add_auth(request)
        headers = dict(request.headers.items())
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=60)
    except httpx.HTTPError as exc:
        raise CliError(f"cannot reach {url}: {type(exc).__name__}") from None
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if response.status_code != 200 or not isinstance(payload, dict):
        message = payload.get("message") if isinstance(payload, dict) else None
        raise CliError(f"operator API answered {response.status_code}: {message or 'no details'} ({url})")
    return payload


# ---- purge ------------------------------------------------------------------------------------------


def purge(
    table: TableOpt = None,
    stack: StackOpt = None,
    dynamodb_endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    dry_run: Annotated[bool, typer.Option(help="Count what has expired; change nothing.")] = False,
    from_days: Annotated[
        int | None, typer.Option(help="Walk this many days of expiry buckets, ignoring the cursor.")
    ] = None,
    twilio_account_sid: TwilioSidOpt = None,
    twilio_token_ref: TwilioTokenOpt = None,
    vapi_key_ref: VapiKeyOpt = None,
    twilio_api_base_url: TwilioBaseOpt = None,
    vapi_api_base_url: VapiBaseOpt = "https://api.vapi.ai",
    retell_key_ref: RetellKeyOpt = None,
    elevenlabs_key_ref: ElevenLabsKeyOpt = None,
    large_events_bucket: BucketOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the retention purge once from here (the scheduled function does the same): expired items,
    their kept audio and large bodies in S3, and the calls at Twilio, Vapi, Retell and ElevenLabs."""
    from voicetrail.domain.audit.trail import AuditTrail
    from voicetrail.storage.audit import DynamoAuditStore
    from voicetrail.wiring.deletion import dynamo_purger

    target = resolve(table=table, dynamodb_endpoint=dynamodb_endpoint, stack=stack, region=region)
    client = target.dynamodb()
    twilio, vapi = _providers(
        target, twilio_account_sid, twilio_token_ref, vapi_key_ref, twilio_api_base_url, vapi_api_base_url
    )
    audit = AuditTrail(DynamoAuditStore(client, target.table))
    platforms = _platforms(target, retell_key_ref, elevenlabs_key_ref)
    purger = dynamo_purger(
        client,
        target.table,
        recordings=twilio,
        calls=vapi,
        platforms={d.provider: d for d in platforms if d.configured},
        audit=audit,
        large_bodies=_large_bodies(target, large_events_bucket),
    )
    result = purger.run(dry_run=dry_run, from_days=from_days).as_dict()
    if as_json:
        emit_json(result)
        return
    table_view = Table(title=f"purge {'(dry run) ' if dry_run else ''}of {target.table}")
    table_view.add_column("measure")
    table_view.add_column("value", justify="right")
    for label, value in purge_summary(result):
        table_view.add_row(label, value)
    show(table_view)


def purge_summary(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The purge report as labelled rows: counts per class spelled out, zero classes left out."""

    def by_class(counts: dict[str, int]) -> str:
        parts = [f"{rclass} {count:,}" for rclass, count in sorted(counts.items()) if count]
        return f"{sum(counts.values()):,}" + (f" ({', '.join(parts)})" if parts else "")

    buckets = f"{result['buckets']:,}"
    if result["every_bucket"]:
        buckets += " (every bucket: the expiry day records are not complete yet)"
    rows = [
        ("days in range", f"{result['days']:,}"),
        ("buckets queried", buckets),
        ("day record reads", f"{result['index_reads']:,}"),
        ("items read", f"{result['items_read']:,}"),
        ("expired", by_class(result["expired"])),
    ]
    if not result["dry_run"]:
        rows += [
            ("deleted", by_class(result["deleted"])),
            ("left for the next run", f"{result['failures']:,}"),
            ("recordings pending", f"{result['recordings_pending']:,}"),
            ("recordings stuck", f"{result['recordings_stuck']:,}"),
            ("Twilio recordings deleted", f"{result['twilio_recordings_deleted']:,}"),
            ("Vapi calls deleted", f"{result['vapi_calls_deleted']:,}"),
        ]
    rows += [
        ("stopped early", "yes" if result["stopped_early"] else "no"),
        ("took", f"{result['duration_ms'] / 1000:.1f} s"),
        ("next run starts at", result["cursor"]),
    ]
    return rows


# ---- audit ------------------------------------------------------------------------------------------


def _since_epoch(value: str, now: float) -> float:
    """--since of the audit commands: the forms every command takes (voicetrail_cli.timerange)."""
    from voicetrail_cli.timerange import parse_time

    return parse_time(value, now, option="--since")


def _show_verification(report: dict[str, Any], source: str) -> None:
    status = "[green]intact[/]" if report["ok"] else "[red]BROKEN[/]"
    lines: list[Any] = [
        f"{source}: {status} - {report['chains']} chains, {report['records']} records, "
        f"{report.get('truncated_by_retention', 0)} heads removed by retention"
    ]
    key = report.get("key")
    if isinstance(key, dict):
        verdict = "valid" if key.get("signature_valid") else "[red]NOT valid[/]"
        lines.append(
            f"signature {verdict} with public key {key.get('fingerprint')}; "
            f"{report.get('signed_records', 0)} signed records"
        )
    if report["breaks"]:
        breaks = Table(title="breaks")
        for column in ("chain / kind", "seq / position", "record", "problem"):
            breaks.add_column(column)
        for item in report["breaks"]:
            breaks.add_row(item["chain"], str(item["seq"]), item.get("record", "-"), item["problem"])
        lines.append(breaks)
    for note in report.get("notes", []):
        lines.append(f"note: {note}")
    show(*lines)


@audit_app.command("verify")
def audit_verify(
    table: TableOpt = None,
    stack: StackOpt = None,
    dynamodb_endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    call: Annotated[str | None, typer.Option("--call", help="Verify this call's chain only.")] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Chains with records since then: 7d, 2026-11-01, ... (default: audit retention)."),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Verify an evidence bundle or an audit export offline (no AWS access)."),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", help="The signer's public key (PEM) a bundle is verified with."),
    ] = None,
    audit_days: Annotated[int, typer.Option(envvar="RETENTION_DAYS_AUDIT", help="Audit retention.")] = 2190,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recompute every chain's hashes and links; exit 1 and list the breaks if any."""
    from voicetrail.domain.audit.trail import AuditReader
    from voicetrail.storage.audit import DynamoAuditStore
    from voicetrail.storage.table import call_pk, system_pk

    current = now if now is not None else time.time()
    if file is not None:
        from voicetrail_cli.ops.evidence import verify_file

        result = verify_file(file, now=current, public_key=public_key)
        source = str(file)
    else:
        target = resolve(table=table, dynamodb_endpoint=dynamodb_endpoint, stack=stack, region=region)
        reader = AuditReader(DynamoAuditStore(target.dynamodb(), target.table))
        if call:
            pks = [call_pk(call)]
        else:
            start = _since_epoch(since, current) if since else current - audit_days * 86_400
            pks = reader.chains_since(start, now=current)
            pks += [p for p in (system_pk("purge"), system_pk("erasure")) if p not in pks]
        report = reader.verify(pks, now=current)
        if call and report.records == 0:
            raise CliError(f"no audit records for call {call!r} in {target.table}: check the call id")
        result = report.as_dict()
        source = target.table
    if as_json:
        emit_json(result)
    else:
        _show_verification(result, source)
    if not result["ok"]:
        raise typer.Exit(1)


SigningKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--signing-key",
        envvar="VOICETRAIL_SIGNING_KEY",
        help="kms:<key id|ARN|alias> or file:<PEM> (default: stack output EvidenceSigningKey with "
        "--stack, else the local key file ~/.config/voicetrail/evidence-signing-key.pem).",
    ),
]


@audit_app.command("public-key")
def audit_public_key(
    signing_key: SigningKeyOpt = None,
    stack: StackOpt = None,
    region: RegionOpt = None,
    out: Annotated[Path | None, typer.Option(help="Write the PEM here instead of stdout.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the evidence signing key's public key (PEM), its id and fingerprint: what an auditor needs,
    with the bundle, to verify evidence offline. Hand it over on a channel the bundle does not travel on."""
    from voicetrail.infra.signing import fingerprint
    from voicetrail_cli.ops.evidence import public_key_pem, resolve_signer
    from voicetrail_cli.target import Deployment, stack_outputs

    outputs = stack_outputs(stack, region) if stack else {}
    signer = resolve_signer(signing_key, Deployment(table="-", region=region, stack=stack, outputs=outputs))
    pem = public_key_pem(signer)
    facts = {"key_id": signer.key_id, "fingerprint": fingerprint(signer.public_key_der()), "pem": pem}
    if out is not None:
        _write(out, pem)
    if as_json:
        emit_json({k: v for k, v in facts.items() if out is None or k != "pem"})
        return
    if out is None:
        sys.stdout.write(pem)
    print(f"key {facts['key_id']} fingerprint {facts['fingerprint']}", file=sys.stderr)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except FileNotFoundError:
        raise CliError(
            f"no such directory: {path.parent} (for {path}): create it or pick another path"
        ) from None


@audit_app.command("export")
def audit_export(
    table: TableOpt = None,
    stack: StackOpt = None,
    dynamodb_endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    call: Annotated[str | None, typer.Option("--call", help="Export this call's records.")] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Export records since then: 7d, 24h, 2026-11-01, 2026-11-01T09:30Z, ..."),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="json | csv")] = "json",
    out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
    now: NowOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
) -> None:
    """Write audit records as JSON or CSV for an auditor, with every field needed to re-verify them
    offline (`voicetrail audit verify --file`)."""
    from voicetrail.domain.audit.trail import EXPORT_COLUMNS, AuditReader
    from voicetrail.storage.audit import DynamoAuditStore

    if (call is None) == (since is None):
        raise CliError("give exactly one of --call CALL_ID and --since TIME (7d, 2026-11-01, ...)")
    if as_json:
        output_format = "json"
    if output_format not in ("json", "csv"):
        raise CliError(f"--format {output_format!r}: use json or csv")
    target = resolve(table=table, dynamodb_endpoint=dynamodb_endpoint, stack=stack, region=region)
    reader = AuditReader(DynamoAuditStore(target.dynamodb(), target.table))
    current = now if now is not None else time.time()
    if call:
        records = reader.call_records(call)
        if not records:
            raise CliError(f"no audit records for call {call!r} in {target.table}: check the call id")
    else:
        records = list(reader.records_since(_since_epoch(since or "", current), now=current))
    rows = [r.as_dict() for r in sorted(records, key=lambda r: (r.at_ms, r.pk, r.seq))]
    if output_format == "json":
        text = json.dumps(rows, indent=2) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "details": json.dumps(row["details"], sort_keys=True)})
        text = buffer.getvalue()
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"{len(rows)} records -> {out}", file=sys.stderr)


# ---- evidence ---------------------------------------------------------------------------------------


def evidence(
    call_id: Annotated[
        str, typer.Argument(help="The call (Vapi call id, Twilio CallSid or twilio:<CallSid>).")
    ],
    out: Annotated[Path | None, typer.Option(help="Bundle file (default: evidence-<call>.json).")] = None,
    table: TableOpt = None,
    stack: StackOpt = None,
    dynamodb_endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    now: NowOpt = None,
    signing_key: SigningKeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write one call's signed evidence bundle: events, audit chain, rule snapshots, summary, all bound
    into one signed hash chain. An auditor re-verifies it offline with the bundle and the public key:
    `voicetrail audit verify --file BUNDLE --public-key KEY.pem`."""
    from voicetrail_cli.ops.calls import load_call
    from voicetrail_cli.ops.evidence import build_bundle, resolve_signer

    target = resolve(table=table, dynamodb_endpoint=dynamodb_endpoint, stack=stack, region=region)
    current = now if now is not None else time.time()
    signer = resolve_signer(signing_key, target)
    view = load_call(target, call_id, now=current)
    bundle = build_bundle(view, source=target.stack or target.table, now=current, signer=signer)
    path = out or Path(f"evidence-{re.sub(r'[^A-Za-z0-9_.-]', '_', view.call_id)}.json")
    _write(path, json.dumps(bundle, indent=2, sort_keys=True) + "\n")
    key = bundle["signature"]["statement"]["key"]
    summary = {
        "file": str(path),
        "call_id": view.call_id,
        "events": len(bundle["events"]),
        "audit_records": len(bundle["audit"]),
        "signed_records": bundle["signature"]["statement"]["records"],
        "key_id": key["key_id"],
        "fingerprint": key["fingerprint"],
        "verification": bundle["verification"],
    }
    if as_json:
        emit_json(summary)
        return
    verdict = "intact" if bundle["verification"]["ok"] else "BROKEN"
    show(
        f"evidence for {view.call_id} -> {path}: {summary['events']} events, "
        f"{summary['audit_records']} audit records, chain {verdict}; {summary['signed_records']} records "
        f"signed by {key['key_id']}, public key fingerprint {key['fingerprint']}. "
        f"Re-verify offline: voicetrail audit verify --file {path} --public-key KEY.pem "
        "(voicetrail audit public-key --out KEY.pem)"
    )
