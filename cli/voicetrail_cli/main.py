"""The `voicetrail` command."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from voicetrail_cli import ops
from voicetrail_cli.calls import calls_app
from voicetrail_cli.configs import config_app
from voicetrail_cli.dnc import dnc_app
from voicetrail_cli.failures import DEBUG_ENV, CliError, VoicetrailGroup
from voicetrail_cli.output import show
from voicetrail_cli.quarantine import quarantine_app
from voicetrail_cli.report import report as report_command
from voicetrail_cli.simulate import simulate as simulate_command

if TYPE_CHECKING:
    from voicetrail_cli.scenario import CallScript

app = typer.Typer(
    name="voicetrail",
    cls=VoicetrailGroup,  # ordinary mistakes: one line and a non-zero exit code (voicetrail_cli.failures)
    help="voicetrail: compliance backbone for Vapi + Twilio webhooks (local API, signing, demo, operations).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console()


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", envvar=DEBUG_ENV, help="Show the traceback of an error.")
    ] = False,
) -> None:
    ctx.obj = {"debug": debug}


app.command("report")(report_command)  # ROI report (docs/operations/dashboards.md)
app.command("simulate")(simulate_command)  # load/fault/attack proof (docs/proof/index.md)
ops.register(app)  # erase, purge, evidence, audit verify|export
app.add_typer(calls_app, name="calls")  # calls list|show
app.add_typer(config_app, name="config")  # config validate|put|get|list
app.add_typer(quarantine_app, name="quarantine")  # quarantine list|replay (voicetrail_cli/quarantine.py)
app.add_typer(dnc_app, name="dnc")  # the pre-dial gate's do-not-call list (voicetrail_cli/dnc.py)


@app.command()
def serve(
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port of the local API (0: any free port).")
    ] = 3000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Lambda-like worker processes.")] = 2,
    dynamodb_endpoint: Annotated[
        str | None, typer.Option(help="Use this DynamoDB endpoint instead of the embedded moto server.")
    ] = None,
    aws: Annotated[
        bool, typer.Option(help="Use real AWS DynamoDB (your credentials) instead of moto.")
    ] = False,
    parameter_overrides: Annotated[
        list[str] | None,
        typer.Option(help="Template parameters, Key=Value (as sam local), e.g. VapiAuthScheme=hmac."),
    ] = None,
    config_env: Annotated[
        str | None,
        typer.Option(help="Use samconfig.toml's parameter_overrides of this environment (dev...)."),
    ] = None,
    env_vars: Annotated[
        Path | None, typer.Option(help='SAM env-vars JSON: {"Parameters": {...}, "<LogicalId>": {...}}.')
    ] = None,
    log_file: Annotated[Path | None, typer.Option(help="Write the functions' logs here.")] = None,
    vapi_secret: Annotated[str, typer.Option(help="Local Vapi secret (or HMAC key / bearer token).")] = (
        "local-vapi-secret"  # noqa: S107 - the local stack's documented secret
    ),
    twilio_auth_token: Annotated[
        str,
        typer.Option(
            envvar="VOICETRAIL_TWILIO_AUTH_TOKEN", help="Twilio auth token callbacks are signed with."
        ),
    ] = "local-twilio-token",  # noqa: S107 - the local stack's documented token
    public_base_url: Annotated[
        str | None,
        typer.Option(
            help="The public URL Twilio calls (a tunnel, e.g. https://abc.ngrok.app): it signs that URL."
        ),
    ] = None,
) -> None:
    """Run the real Lambda handlers behind a local HTTP API, configured like a deployment (`sam local`)."""
    from voicetrail_cli.local import LocalApi, LocalSecrets
    from voicetrail_cli.stackconfig import stack_settings
    from voicetrail_cli.template import load_template

    settings = stack_settings(
        template=load_template(),
        parameter_overrides=parameter_overrides or (),
        config_env=config_env,
        env_vars=env_vars,
        public_base_url=public_base_url,
    )
    api = LocalApi(
        port=port,
        workers=workers,
        dynamodb_endpoint=dynamodb_endpoint,
        use_aws=aws,
        log_path=str(log_file) if log_file else None,
        local_secrets=LocalSecrets(vapi=vapi_secret, twilio=twilio_auth_token),
        settings=settings,
    )
    with console.status("starting local API (DynamoDB, workers)..."):
        try:
            api.start()
        except BaseException:
            api.stop()
            raise
    table = Table(title="voicetrail local API", show_header=True)
    table.add_column("route")
    table.add_column("function")
    for spec in api.specs:
        for route in spec.routes:
            table.add_row(f"{route.method} {api.base_url}{route.path}", spec.name)
    show(table, out=console)
    console.print(f"DynamoDB: [bold]{api.dynamodb_endpoint or 'AWS'}[/] table [bold]{api.table}[/]")
    for line in banner_lines(api.environments, api.secrets):
        console.print(line)
    console.print("Ctrl-C to stop.")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        api.stop()


def banner_lines(environments: dict[str, dict[str, str]], secrets: Any) -> list[str]:
    """What a sender must do to be accepted, read from the functions' effective environment."""
    import os

    vapi = environments.get("vapi_webhook", {})
    scheme = vapi.get("VAPI_AUTH_SCHEME", "shared-secret")
    if scheme == "hmac":
        fmt = vapi.get("VAPI_PAYLOAD_FORMAT", "{timestamp}.{body}")
        auth = (
            f"HMAC-{vapi.get('VAPI_HMAC_ALGORITHM', 'sha256').upper()} of {fmt!r} "
            f"in {vapi.get('VAPI_SIGNATURE_HEADER')} ({vapi.get('VAPI_SIGNATURE_ENCODING')}, "
            f"prefix {vapi.get('VAPI_SIGNATURE_PREFIX') or 'none'}), "
            f"timestamp in {vapi.get('VAPI_TIMESTAMP_HEADER')}"
        )
    elif scheme == "bearer":
        auth = f"bearer token in {vapi.get('VAPI_BEARER_HEADER', 'authorization')}"
    else:
        auth = f"shared secret in {vapi.get('VAPI_SECRET_HEADER', 'x-vapi-secret')}"
    twilio = environments.get("twilio_status", {})
    lines = [
        f"Vapi auth: [bold]{scheme}[/] - {escape(auth)}; secret [bold]{escape(secrets.vapi)}[/] "
        f"(voicetrail sign --scheme {scheme} ...)",
        f"Twilio: signatures over [bold]{escape(twilio.get('TWILIO_WEBHOOK_BASE_URL', '?'))}[/]<path> "
        f"with auth token [bold]{escape(secrets.twilio)}[/] (voicetrail sign --twilio ...)",
    ]
    # As in sam local, the shell's variables do not reach the functions: say so instead of ignoring silently.
    ignored = sorted(
        {
            name
            for env in environments.values()
            for name, value in env.items()
            if name in os.environ
            and os.environ[name] != value
            and not name.startswith(("AWS_", "POWERTOOLS_"))
        }
    )
    if ignored:
        lines.append(
            f"[yellow]ignored from your shell: {', '.join(ignored)}[/] (as in sam local: "
            "use --parameter-overrides, --config-env or --env-vars)"
        )
    return lines


@app.command()
def sign(
    payload: Annotated[
        Path, typer.Argument(help="Body to sign ('-' for stdin): JSON, or form params for --twilio.")
    ],
    secret: Annotated[str, typer.Option(help="The secret (or token).")] = "local-vapi-secret",  # noqa: S107
    scheme: Annotated[str, typer.Option(help="shared-secret | bearer | hmac")] = "shared-secret",
    algorithm: Annotated[str, typer.Option(help="HMAC algorithm: sha256 | sha512 | sha1")] = "sha256",
    signature_header: Annotated[str, typer.Option()] = "x-signature",
    timestamp_header: Annotated[str, typer.Option()] = "x-timestamp",
    payload_format: Annotated[str, typer.Option()] = "{timestamp}.{body}",
    encoding: Annotated[str, typer.Option(help="hex | base64")] = "hex",
    prefix: Annotated[str, typer.Option(help="Signature prefix, e.g. sha256=")] = "",
    url: Annotated[
        str, typer.Option(help="Print a curl command for this URL (--twilio: the URL signed).")
    ] = "",
    twilio: Annotated[
        bool,
        typer.Option("--twilio", help="Sign a Twilio callback (X-Twilio-Signature) with --secret as token."),
    ] = False,
) -> None:
    """Print the headers Vapi (or Twilio, with --twilio) would send for a payload (for curl testing)."""
    body = sys.stdin.buffer.read() if str(payload) == "-" else payload.read_bytes()
    if twilio:
        _sign_twilio(body, secret, url, payload)
        return
    from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request

    config = VapiAuthConfig.model_validate(
        {
            "scheme": scheme,
            "algorithm": algorithm,
            "signature_header": signature_header,
            "timestamp_header": timestamp_header,
            "payload_format": payload_format,
            "signature_encoding": encoding,
            "signature_prefix": prefix,
        }
    )
    headers = sign_request(config, body, secret, timestamp=time.time())
    for name, value in headers.items():
        print(f"{name}: {value}")
    if url:
        flags = " ".join(f"-H '{k}: {v}'" for k, v in headers.items())
        print(
            f"\ncurl -sS -X POST {url} -H 'content-type: application/json' {flags} --data-binary @{payload}"
        )


def _sign_twilio(body: bytes, token: str, url: str, payload: Path) -> None:
    """X-Twilio-Signature by twilio's own RequestValidator: the URL + sorted POST params, HMAC-SHA1."""
    from urllib.parse import parse_qsl, urlencode

    from twilio.request_validator import RequestValidator

    if not url:
        raise CliError("--twilio needs --url: the exact URL Twilio calls (it is part of the signature)")
    text = body.decode("utf-8").strip()
    params: dict[str, str]
    if text.startswith("{"):
        try:
            decoded = json.loads(text)
        except ValueError:
            raise CliError(f"{payload} is not JSON nor form parameters") from None
        params = {str(k): str(v) for k, v in decoded.items()}
    else:
        params = dict(parse_qsl(text, keep_blank_values=True))
    if not params:
        raise CliError(f"{payload}: no callback parameters (give form params a=1&b=2 or a JSON object)")
    signature = RequestValidator(token).compute_signature(url, params)
    print(f"X-Twilio-Signature: {signature}")
    form = urlencode(params)
    print(
        f"\ncurl -sS -X POST '{url}' -H 'content-type: application/x-www-form-urlencoded' "
        f"-H 'X-Twilio-Signature: {signature}' --data '{form}'"
    )


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    import httpx

    response = httpx.post(
        url, content=body, headers={"content-type": "application/json", **headers}, timeout=30
    )
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


@app.command()
def demo(
    workers: Annotated[int, typer.Option(help="Lambda-like worker processes.")] = 2,
) -> None:
    """Start the local stack, replay a realistic signed call over HTTP, and show what was stored."""
    import tempfile

    from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request
    from voicetrail_cli.local import LocalApi, dynamodb_admin_client
    from voicetrail_cli.scenario import CallScript, demo_deliveries

    log_path = Path(tempfile.gettempdir()) / "voicetrail-demo-functions.log"
    log_path.write_text("")
    with console.status("starting the local API: embedded DynamoDB (moto server) + real Lambda handlers..."):
        api = LocalApi(workers=workers, log_path=str(log_path)).start()
    try:
        url = f"{api.base_url}/vapi/webhook"
        console.print(
            Panel.fit(
                f"local API on [bold]{api.base_url}[/], DynamoDB at {api.dynamodb_endpoint}",
                title="voicetrail demo",
            )
        )
        script = CallScript()
        auth = VapiAuthConfig()
        sent = Table(title=f"replaying call {script.call_id} (signed, x-vapi-secret)")
        for column in ("#", "delivery", "status", "expected"):
            sent.add_column(column)
        failures = 0
        for n, delivery in enumerate(demo_deliveries(script), 1):
            secret = "forged-secret" if delivery.forged else api.secrets.vapi
            status, _ = _post(url, delivery.body, sign_request(auth, delivery.body, secret))
            ok = status == delivery.expect_status
            failures += not ok
            style = "green" if ok else "red"
            sent.add_row(str(n), delivery.label, f"[{style}]{status}[/]", str(delivery.expect_status))
        show(sent, out=console)
        _show_stored(dynamodb_admin_client(api.dynamodb_endpoint), api.table, script)
        from voicetrail_cli.live_scenarios import run_live_demo
        from voicetrail_cli.twilio_demo import demo_twilio_and_report

        failures += run_live_demo(api, console)  # a consent-denied call and an escalated call
        failures += demo_twilio_and_report(api, script.provider_call_id, console)  # ends with the ROI report
        console.print(f"functions' logs (JSON, redacted): {log_path}")
        if failures:
            console.print(f"[red]{failures} deliveries got an unexpected status[/]")
            raise typer.Exit(1)
    finally:
        api.stop()


def _show_stored(client: Any, table_name: str, script: CallScript) -> None:
    from voicetrail.storage.dynamo import DynamoEventStore

    store = DynamoEventStore(client, table_name)
    events = store.call_events(script.call_id, now=time.time())
    table = Table(title=f"stored for call {script.call_id}: {len(events)} events", show_lines=False)
    for column in ("type", "semantic key", "class", "redactions", "stored text (redacted)"):
        table.add_column(column, overflow="fold")
    for event in sorted(events, key=lambda e: e.event_ts_ms or 0):
        text = event.body.get("transcript") or (event.body.get("analysis") or {}).get("summary") or ""
        redactions = ", ".join(f"{k} x{v}" for k, v in sorted(event.redactions.items()))
        table.add_row(
            event.event_type,
            event.event_key[:48],
            event.retention_class.value,
            redactions,
            escape(str(text)[:90]),
        )
    show(table, out=console)
    raw = json.dumps([e.body for e in events])
    leaked = [
        pii
        for pii in ("123-45-6789", "4111 1111", "maria", "gonzalez", "415 555", "+14155550123")
        if pii.lower() in raw.lower()
    ]
    console.print(
        f"caller number stored as keyed hash: [bold]{events[0].caller_hash if events else '-'}[/]; "
        f"PII found in stored items: [bold]{'none' if not leaked else ', '.join(leaked)}[/]"
    )
    console.print(
        "retry with new presigned URLs collapsed into one item; forged request answered 401, not stored."
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
