"""The Retell and ElevenLabs part of `make demo`: one generated call per platform through the local API.

Each event of the call is sent signed with the local key (as `voicetrail serve` configures the functions),
then resent (a retry), and once forged: the table shows every answer, and what was stored (once, redacted).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.table import Table

from voicetrail_cli.output import show

if TYPE_CHECKING:
    from rich.console import Console

    from voicetrail_cli.dev.local import LocalApi


@dataclass(frozen=True)
class PlatformCall:
    """One platform's call for the demo: where to send it, how to sign it, its events in order."""

    platform: str
    path: str
    call_id: str
    events: list[dict[str, Any]]
    resend: Callable[[dict[str, Any]], dict[str, Any]]
    sign: Callable[[bytes, str], dict[str, str]]
    key: str

    @property
    def call_key(self) -> str:
        """How voicetrail names the call (`voicetrail calls show <this>`): `<platform>:<platform's id>`."""
        return f"{self.platform}:{self.call_id}"


def platform_calls(api: LocalApi, seed: int = 27) -> list[PlatformCall]:
    from voicetrail.providers.elevenlabs.signature import sign as sign_elevenlabs
    from voicetrail.providers.retell.signature import sign as sign_retell
    from voicetrail_cli.dev import elevenlabs_events, retell_events

    rng = random.Random(seed)  # noqa: S311 - synthetic calls, not crypto
    retell = retell_events.script(rng, start_ms=int(time.time() * 1000) - 90_000)
    eleven = elevenlabs_events.script(rng, start_s=int(time.time()) - 90)
    return [
        PlatformCall(
            "retell",
            "/retell/webhook",
            retell.call_id,
            retell_events.call_stream(retell, transfer=True),
            lambda payload: retell_events.resend(payload, rng),
            lambda body, key: sign_retell(body, key, timestamp_ms=int(time.time() * 1000)),
            api.secrets.retell,
        ),
        PlatformCall(
            "elevenlabs",
            "/elevenlabs/webhook",
            eleven.conversation_id,
            elevenlabs_events.call_stream(eleven),
            elevenlabs_events.resend,
            lambda body, key: sign_elevenlabs(body, key, timestamp=int(time.time())),
            api.secrets.elevenlabs,
        ),
    ]


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    import httpx

    response = httpx.post(
        url, content=body, headers={"content-type": "application/json", **headers}, timeout=30
    )
    return response.status_code


def run_provider_demo(api: LocalApi, console: Console) -> int:
    """Replays one call per platform; returns how many answers were not the expected ones."""
    from voicetrail.storage.dynamo import DynamoEventStore
    from voicetrail_cli.target import dynamodb_admin_client

    store = DynamoEventStore(dynamodb_admin_client(api.dynamodb_endpoint), api.table)
    failures = 0
    for call in platform_calls(api):
        url = f"{api.base_url}{call.path}"
        answers = Table(title=f"{call.platform}: replaying {call.call_id} to {call.path}")
        for column in ("event", "signed", "resent", "forged"):
            answers.add_column(column)
        for payload in call.events:
            body = json.dumps(payload).encode()
            again = json.dumps(call.resend(payload)).encode()
            statuses = (
                _post(url, body, call.sign(body, call.key)),
                _post(url, again, call.sign(again, call.key)),
                _post(url, body, call.sign(body, "forged-key")),
            )
            ok = statuses == (200, 200, 401)
            failures += not ok
            style = "green" if ok else "red"
            kind = str(payload.get("event", payload.get("type")))
            answers.add_row(kind, *(f"[{style}]{s}[/]" for s in statuses))
        show(answers, out=console)
        events = store.call_events(call.call_key, now=time.time())
        stored = Table(title=f"stored for call {call.call_key}: {len(events)} events (audio dropped)")
        for column in ("type", "semantic key", "class", "redactions"):
            stored.add_column(column, overflow="fold")
        for event in sorted(events, key=lambda e: (e.event_ts_ms or 0, e.received_at_ms)):
            redactions = ", ".join(f"{k} x{v}" for k, v in sorted(event.redactions.items()))
            stored.add_row(event.event_type, event.event_key, event.retention_class.value, redactions or "-")
        show(stored, out=console)
    return failures
