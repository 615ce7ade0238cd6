"""Live-call scenarios (consent granted / denied / unclear, urgent barge-in, "wait wait wait", retried tool
call, broken config) for the demo and the end-to-end tests, plus a fake Live Call Control server.

`run_live_demo(api, console)` replays a consent-denied call and an escalated call against a running
`LocalApi`, with `call.monitor.controlUrl` pointing at a fake control server on 127.0.0.1, and shows
what reached the control server and what was stored.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from voicetrail_cli.output import show

if TYPE_CHECKING:
    from rich.console import Console

    from voicetrail_cli.dev.local import LocalApi

HUMAN_DESK = {"type": "number", "number": "+14155550100", "mode": "warm-summary"}


class FakeControlServer:
    """Vapi's Live Call Control endpoint, faked: records every POST, answers `statuses` in turn then 200."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.statuses = list(statuses or [])
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                with server._lock:
                    try:
                        payload = json.loads(body or b"{}")
                    except ValueError:
                        payload = {"__invalid__": True}
                    server.requests.append((self.path, payload))
                    status = server.statuses.pop(0) if server.statuses else 200
                reply = b"{}"
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-control", daemon=True)

    def url(self, call_id: str) -> str:
        return f"http://127.0.0.1:{self.port}/{call_id}/control"

    def for_call(self, call_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [body for path, body in self.requests if path == f"/{call_id}/control"]

    def start(self) -> FakeControlServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeControlServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class LiveCall:
    """Builds the messages Vapi sends during one call (shapes as in tests/fixtures/vapi)."""

    control_url: str
    call_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    phone_number_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    customer_number: str = "+14155550123"
    # The call just happened: its simulated offsets stay in the past, where reports look.
    start_ms: int = field(default_factory=lambda: int(time.time() * 1000) - 600_000)

    def _message(self, offset_ms: int, **fields: Any) -> dict[str, Any]:
        return {
            "message": {
                "timestamp": self.start_ms + offset_ms,
                "call": {
                    "id": self.call_id,
                    "type": "inboundPhoneCall",
                    "status": "in-progress",
                    "phoneCallProvider": "twilio",
                    "phoneCallProviderId": "CA" + self.call_id.replace("-", "")[:32],
                    "phoneNumberId": self.phone_number_id,
                    "customer": {"number": self.customer_number},
                    "monitor": {
                        "listenUrl": f"wss://127.0.0.1/{self.call_id}/listen",
                        "controlUrl": self.control_url,
                    },
                },
                "customer": {"number": self.customer_number},
                **fields,
            }
        }

    def assistant_request(self) -> dict[str, Any]:
        return self._message(0, type="assistant-request")

    def transfer_destination_request(self, offset_ms: int) -> dict[str, Any]:
        return self._message(offset_ms, type="transfer-destination-request")

    def user(
        self, text: str, offset_ms: int, *, final: bool = True, confidence: float | None = None
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "type": "transcript",
            "role": "user",
            "transcriptType": "final" if final else "partial",
            "transcript": text,
        }
        if confidence is not None:
            fields["confidence"] = confidence
        return self._message(offset_ms, **fields)

    def speech(self, role: str, status: str, turn: int, offset_ms: int) -> dict[str, Any]:
        return self._message(offset_ms, type="speech-update", role=role, status=status, turn=turn)

    def tool_call(self, tool_call_id: str, name: str, arguments: Any, offset_ms: int) -> dict[str, Any]:
        call = {"id": tool_call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
        return self._message(offset_ms, type="tool-calls", toolCallList=[call])

    def end_of_call_report(
        self, offset_ms: int, transcript: str, reason: str, *, cost: float = 0.03
    ) -> dict[str, Any]:
        return self._message(
            offset_ms,
            type="end-of-call-report",
            endedReason=reason,
            artifact={"transcript": transcript, "messages": []},
            analysis={"summary": transcript[:80]},
            durationSeconds=offset_ms / 1000,
            cost=cost,
        )


def put_config(client: Any, table: str, key: str, config: dict[str, Any] | str) -> None:
    """An operator's config item: pk CONFIG#phone#<id> | CONFIG#assistant#<id> | CONFIG#default."""
    from voicetrail.storage.live import TableConfigSource

    text = config if isinstance(config, str) else json.dumps(config)
    TableConfigSource(client, table).store(key, text)


def consent_denied_call(control: FakeControlServer) -> tuple[LiveCall, list[tuple[str, dict[str, Any]]]]:
    call = LiveCall(control_url="")
    call.control_url = control.url(call.call_id)
    card = "My card is 4111 1111 1111 1111."
    return call, [
        ("assistant-request", call.assistant_request()),
        (
            "caller: denies consent",
            call.user(f"No, I don't want this recorded. {card}", 4000, confidence=0.94),
        ),
        (
            "end-of-call-report",
            call.end_of_call_report(
                9000, f"User: No, I don't want this recorded. {card}", "assistant-ended-call"
            ),
        ),
    ]


def escalated_call(control: FakeControlServer) -> tuple[LiveCall, list[tuple[str, dict[str, Any]]]]:
    call = LiveCall(control_url="")
    call.control_url = control.url(call.call_id)
    return call, [
        ("assistant-request", call.assistant_request()),
        ("caller: grants consent", call.user("Yes, that's fine.", 3000, confidence=0.95)),
        ("assistant starts speaking", call.speech("assistant", "started", 1, 4000)),
        ("caller barges in (partial)", call.user("this is an emergency", 4300, final=False, confidence=0.9)),
        (
            "caller barges in (partial)",
            call.user("this is an emergency I need a human", 4600, final=False, confidence=0.92),
        ),
        (
            "caller barges in (final)",
            call.user("This is an emergency, I need a human.", 5200, confidence=0.96),
        ),
        (
            "duplicate delivery of the final",
            call.user("This is an emergency, I need a human.", 5200, confidence=0.96),
        ),
        (
            "end-of-call-report",
            call.end_of_call_report(
                21_000, "User: This is an emergency, I need a human.", "assistant-forwarded-call", cost=0.02
            ),
        ),
    ]


def run_live_demo(api: LocalApi, console: Console) -> int:
    """Replay a consent-denied call and an escalated call; print what happened. Returns the failures."""
    import httpx
    from rich.table import Table

    from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request
    from voicetrail.storage.dynamo import DynamoEventStore
    from voicetrail.storage.table import config_pk
    from voicetrail_cli.target import dynamodb_admin_client

    client = dynamodb_admin_client(api.dynamodb_endpoint)
    url = f"{api.base_url}/vapi/webhook"
    failures = 0
    with FakeControlServer() as control:
        denied, denied_messages = consent_denied_call(control)
        escalated, escalated_messages = escalated_call(control)
        put_config(
            client, api.table, config_pk("phone", denied.phone_number_id), {"consent_policy": "end-call"}
        )
        put_config(client, api.table, config_pk("phone", escalated.phone_number_id), {"transfer": HUMAN_DESK})
        for title, call, messages, expect in (
            ("consent denied: closing line, then the call is ended", denied, denied_messages, ["say"]),
            ("urgent barge-in: one transfer to a human", escalated, escalated_messages, ["transfer"]),
        ):
            table = Table(title=f"{title} (call {call.call_id[:8]})")
            for column in ("delivery", "status", "reply"):
                table.add_column(column, overflow="fold")
            for label, payload in messages:
                body = json.dumps(payload, separators=(",", ":")).encode()
                headers = {
                    "content-type": "application/json",
                    **sign_request(VapiAuthConfig(), body, api.secrets.vapi),
                }
                response = httpx.post(url, content=body, headers=headers, timeout=30)
                reply = response.text if len(response.text) < 80 else response.text[:77] + "..."
                failures += response.status_code != 200
                table.add_row(label, str(response.status_code), reply)
            show(table, out=console)
            sent = control.for_call(call.call_id)
            actions = [p.get("type") for p in sent]
            ok = actions == expect
            failures += not ok
            style = "green" if ok else "red"
            detail = ", ".join(
                f"{p.get('type')}"
                + (" (end call after)" if p.get("endCallAfterSpoken") else "")
                + (f" -> {p['destination'].get('type')}" if "destination" in p else "")
                for p in sent
            )
            expected = ", ".join(expect)
            console.print(
                f"Live Call Control received: [{style}]{detail or 'nothing'}[/] (expected {expected})"
            )
            events = DynamoEventStore(client, api.table).call_events(call.call_id, now=time.time())
            raw = json.dumps([e.body for e in events])
            leaked = "4111" in raw or "don't want this recorded" in raw
            failures += leaked
            kept = "yes" if "emergency" in raw else "no"
            console.print(
                f"stored {len(events)} events; caller content kept: [bold]{kept}[/]; "
                f"card number stored: [bold]{'YES' if leaked else 'no'}[/]"
            )
    return failures
