"""`voicetrail serve`: the local stack in the foreground, and the banner that says how to sign for it."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from voicetrail_cli.output import show

console = Console()


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
    from voicetrail_cli.dev.local import LocalApi, LocalSecrets
    from voicetrail_cli.ops.stackconfig import stack_settings
    from voicetrail_cli.ops.template import load_template

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

    from voicetrail_cli.dev.local import LOCAL_PEPPER_ENV

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
        f"Caller hashes: pepper [bold]{escape(secrets.pepper)}[/]; for calls list --caller, dnc and erase: "
        f"export {LOCAL_PEPPER_ENV}={escape(secrets.pepper)} HASH_PEPPER_REF=env:{LOCAL_PEPPER_ENV}",
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
