"""`voicetrail demo`: the local stack, a realistic signed call replayed over HTTP, and what was stored."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from voicetrail_cli.output import show

if TYPE_CHECKING:
    from voicetrail_cli.dev.scenario import CallScript

console = Console()


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    import httpx

    response = httpx.post(
        url, content=body, headers={"content-type": "application/json", **headers}, timeout=30
    )
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


def demo(
    workers: Annotated[int, typer.Option(help="Lambda-like worker processes.")] = 2,
) -> None:
    """Start the local stack, replay a realistic signed call over HTTP, and show what was stored."""
    import tempfile

    from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request
    from voicetrail_cli.dev.local import LocalApi
    from voicetrail_cli.dev.scenario import CallScript, demo_deliveries
    from voicetrail_cli.target import dynamodb_admin_client

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
        from voicetrail_cli.dev.live_scenarios import run_live_demo
        from voicetrail_cli.dev.twilio_demo import demo_twilio_and_report

        failures += run_live_demo(api, console)  # a consent-denied call and an escalated call
        from voicetrail_cli.dev.provider_demo import run_provider_demo

        failures += run_provider_demo(api, console)  # one Retell call and one ElevenLabs call
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
