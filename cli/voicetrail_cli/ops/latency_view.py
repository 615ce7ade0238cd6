"""The per-call latency view: each turn's latency next to the (redacted) words around it.

Data first (`latency_view`, JSON-ready), then renderers (`render_latency`), so `voicetrail calls show`
prints it as a table and `--json` carries the same content.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from voicetrail.domain.latency import SLOW_TURN_MS, CallLatency, turn_timeline


def _report_messages(report_body: Mapping[str, Any] | None) -> Sequence[Any]:
    artifact = (report_body or {}).get("artifact")
    messages = artifact.get("messages") if isinstance(artifact, Mapping) else None
    return messages if isinstance(messages, list) else []


def latency_view(
    latency: CallLatency | None,
    report_body: Mapping[str, Any] | None,
    *,
    slow_turn_ms: float = SLOW_TURN_MS,
    messages: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """The call's latency figures and its turns, each with the caller's words, the reply and the timing.

    `report_body` is the stored (already redacted) end-of-call-report body; the words come from it, or
    from `messages` (role, message, secondsFromStart) for a platform without one (ElevenLabs).
    """
    words = messages if messages is not None else _report_messages(report_body)
    rows = turn_timeline(words, latency, slow_turn_ms=slow_turn_ms)
    return {
        "figures": latency.figures() if latency else None,
        "slow_turn_ms": slow_turn_ms,
        "turns": [
            {
                "turn": row.turn,
                "seconds_from_start": row.seconds_from_start,
                "caller": row.caller,
                "assistant": row.assistant,
                "turn_ms": row.timing.turn_ms if row.timing else None,
                "model_ms": row.timing.model_ms if row.timing else None,
                "voice_ms": row.timing.voice_ms if row.timing else None,
                "transcriber_ms": row.timing.transcriber_ms if row.timing else None,
                "endpointing_ms": row.timing.endpointing_ms if row.timing else None,
                "slow": row.slow,
            }
            for row in rows
        ],
    }


def _ms(value: Any) -> str:
    return "-" if value is None else f"{float(value):,.0f}"


def _count(value: Any) -> str:
    return "-" if value is None else str(value)


def render_latency(view: Mapping[str, Any]) -> Group:
    """A summary line and a turn table (slow turns in bold red)."""
    figures = view.get("figures")
    if not figures:
        summary = Text("No performance metrics for this call (older payload, or the report has not arrived).")
    else:
        summary = Text(
            f"turn latency p50 {_ms(figures['turn_p50_ms'])} ms, p95 {_ms(figures['turn_p95_ms'])} ms, "
            f"max {_ms(figures['turn_max_ms'])} ms over {figures['turns']} turns; model avg "
            f"{_ms(figures['model_avg_ms'])} ms, voice {_ms(figures['voice_avg_ms'])} ms, transcriber "
            f"{_ms(figures['transcriber_avg_ms'])} ms, endpointing {_ms(figures['endpointing_avg_ms'])} ms; "
            f"interruptions {_count(figures['interruptions'])} (caller barge-ins "
            f"{_count(figures['assistant_interrupted'])}, "
            f"assistant talk-overs {_count(figures['user_interrupted'])})"
        )
    table = Table(title=f"Turns (slow: above {float(view['slow_turn_ms']):,.0f} ms)", expand=False)
    # A column that no turn has a value for (no timing in the report, no message times) is left out.
    columns = [
        (name, justify, key)
        for name, justify, key in _TURN_COLUMNS
        if key in ("turn", "caller", "assistant") or any(t[key] is not None for t in view["turns"])
    ]
    for name, justify, _ in columns:
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for turn in view["turns"]:
        table.add_row(
            *(_turn_cell(key, turn[key]) for _, _, key in columns), style="bold red" if turn["slow"] else None
        )
    return Group(summary, table)


_TURN_COLUMNS = (
    ("#", "right", "turn"),
    ("at (s from start)", "right", "seconds_from_start"),
    ("caller", "left", "caller"),
    ("assistant", "left", "assistant"),
    ("turn ms", "right", "turn_ms"),
    ("model", "right", "model_ms"),
    ("voice", "right", "voice_ms"),
    ("transcriber", "right", "transcriber_ms"),
    ("endpointing", "right", "endpointing_ms"),
)


def _turn_cell(key: str, value: Any) -> str:
    if key == "seconds_from_start":
        return "-" if value is None else f"{value:.1f}"
    if key in ("turn", "caller", "assistant"):
        return "" if value is None else str(value)
    return _ms(value)
