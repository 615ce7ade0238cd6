"""tool-calls: one result per tool call, in call order, always single-line strings, never an exception.

A retried delivery (the event store reports DUPLICATE for the same toolCall ids) gets the results that
were persisted on the first run, so a side effect is never repeated.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from voicetrail.domain.live.store import LiveStore, ToolResult
from voicetrail.providers.vapi.messages import ToolCall

MAX_RESULT_CHARS = 1000
PENDING_TEXT = "This request is already being processed."
UNKNOWN_TOOL_TEXT = "Unknown tool."


@dataclass(frozen=True)
class ParsedCall:
    """One tool call of a tool-calls message: its id, name and arguments."""

    id: str
    name: str
    arguments: dict[str, Any]


def single_line(text: str) -> str:
    return " ".join(str(text).split())[:MAX_RESULT_CHARS]


def _arguments(value: Any) -> dict[str, Any] | None:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            decoded = json.loads(value)
        except ValueError:
            return None
        return dict(decoded) if isinstance(decoded, dict) else None
    return {} if value is None else None


def parse_call(call: ToolCall) -> ParsedCall | None:
    """Name from function.name or name; arguments from function.arguments, arguments or parameters."""
    if not call.id:
        return None
    name = (call.function.name if call.function else None) or call.name or ""
    raw: Any = None
    for candidate in (call.function.arguments if call.function else None, call.arguments, call.parameters):
        if candidate is not None:
            raw = candidate
            break
    args = _arguments(raw)
    return ParsedCall(id=call.id, name=name, arguments=args if args is not None else {"__invalid__": True})


# A tool handler: (call id, arguments) -> (result text, is_error). It may have side effects.
ToolHandler = Callable[[ParsedCall], tuple[str, bool]]


def to_reply(result: ToolResult) -> dict[str, str]:
    out = {"name": result.name or "unknown", "toolCallId": result.tool_call_id}
    out["error" if result.is_error else "result"] = single_line(result.text)
    return out


class ToolRunner:
    def __init__(
        self,
        store: LiveStore,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        retry_wait_seconds: float = 1.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._sleep = sleep
        self._retry_wait = retry_wait_seconds

    def run(
        self,
        call_id: str,
        calls: list[ToolCall],
        *,
        duplicate: bool,
        handlers: Mapping[str, ToolHandler],
    ) -> list[dict[str, str]]:
        parsed = [(c, parse_call(c)) for c in calls]
        ids = [p.id for _, p in parsed if p is not None]
        stored = self._wait_for_stored(call_id, ids) if duplicate else {}
        results: list[dict[str, str]] = []
        for raw, call in parsed:
            if call is None:
                name = (raw.function.name if raw.function else None) or raw.name or "unknown"
                results.append({"name": name, "toolCallId": raw.id or "", "error": "Missing tool call id."})
                continue
            if call.id in stored:
                results.append(to_reply(stored[call.id]))
                continue
            if duplicate:
                results.append(to_reply(ToolResult(call.id, call.name, PENDING_TEXT, is_error=True)))
                continue
            result = self._execute(call, handlers)
            self._store.put_tool_result(call_id, result, now=self._clock())
            results.append(to_reply(result))
        return results

    def _execute(self, call: ParsedCall, handlers: Mapping[str, ToolHandler]) -> ToolResult:
        handler = handlers.get(call.name)
        if handler is None:
            return ToolResult(call.id, call.name, UNKNOWN_TOOL_TEXT, is_error=True)
        if call.arguments.get("__invalid__"):
            return ToolResult(call.id, call.name, "Arguments are not a JSON object.", is_error=True)
        try:
            text, is_error = handler(call)
        except Exception:  # a tool must answer, never raise into the webhook
            return ToolResult(call.id, call.name, "The tool failed. Please try again.", is_error=True)
        return ToolResult(call.id, call.name, single_line(text), is_error=is_error)

    def _wait_for_stored(self, call_id: str, ids: list[str]) -> dict[str, ToolResult]:
        """A retry may overtake the first delivery: wait briefly for its persisted results."""
        deadline = self._clock() + self._retry_wait
        while True:
            stored = self._store.get_tool_results(call_id, ids)
            if len(stored) >= len(set(ids)) or self._clock() >= deadline:
                return stored
            self._sleep(0.1)
