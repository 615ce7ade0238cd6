"""An ElevenLabs conversation's latency in the terms of the call record (voicetrail.domain.latency).

What `post_call_transcription` carries (the SDK's `ConversationHistoryTranscriptCommonModelOutput`): per
turn `time_in_call_secs` (whole seconds from the start), `interrupted` and, on agent turns,
`conversation_turn_metrics.metrics`, a map of named `{"elapsed_time": <seconds>}` records. The names seen
in delivered payloads include `convai_llm_service_ttfb` (the model's time to first token),
`convai_tts_service_ttfb` (the voice's time to first audio), `convai_llm_service_ttf_sentence` and
`convai_llm_service_tt_last_sentence`.

What is not there: the end-to-end turn latency (the caller stops speaking -> the agent's audio starts),
which Vapi and Retell measure. So a turn's `turn_ms` stays None (no turn-latency percentiles, nothing in
`TurnLatency` or its alarm) and only the parts are mapped: model = `convai_llm_service_ttfb`, voice =
`convai_tts_service_ttfb`, per agent turn that answers the caller (as `turn_timeline` pairs them: an
opening greeting is no turn). Barge-ins are the agent turns marked `interrupted`. A conversation without
any of these figures has no latency (None), never made-up zeros.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from voicetrail.domain.latency import CallLatency, TurnTiming
from voicetrail.providers.bounds import MAX_TURNS

MODEL_METRIC = "convai_llm_service_ttfb"
VOICE_METRIC = "convai_tts_service_ttfb"
# No part of a live turn takes ten minutes: a larger number is not a latency.
_MAX_S = 600.0


def _elapsed_ms(metrics: Mapping[str, Any], name: str) -> float | None:
    record = metrics.get(name)
    value = record.get("elapsed_time") if isinstance(record, Mapping) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return value * 1000.0 if 0 <= value <= _MAX_S else None
    return None


def _metrics(turn: Mapping[str, Any]) -> Mapping[str, Any]:
    block = turn.get("conversation_turn_metrics")
    metrics = block.get("metrics") if isinstance(block, Mapping) else None
    return metrics if isinstance(metrics, Mapping) else {}


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def timeline_messages(transcript: Sequence[Any]) -> list[dict[str, Any]]:
    """The transcript as the per-call view's messages (role user/assistant, words, seconds from start)."""
    messages = []
    for turn in transcript[:MAX_TURNS]:
        if not isinstance(turn, Mapping) or turn.get("role") not in ("user", "agent"):
            continue
        at = turn.get("time_in_call_secs")
        messages.append(
            {
                "role": "user" if turn["role"] == "user" else "assistant",
                "message": turn.get("message") if isinstance(turn.get("message"), str) else "",
                "secondsFromStart": at if isinstance(at, int | float) and not isinstance(at, bool) else None,
            }
        )
    return messages


def elevenlabs_call_latency(data: Mapping[str, Any]) -> CallLatency | None:
    """From a stored `post_call_transcription`'s `data`: the parts of each answering agent turn."""
    transcript = data.get("transcript")
    if not isinstance(transcript, list):
        return None
    turns: list[TurnTiming] = []
    model: list[float] = []
    voice: list[float] = []
    barge_ins: int | None = None
    caller_spoke = False
    for turn in transcript[:MAX_TURNS]:
        if not isinstance(turn, Mapping):
            continue
        if turn.get("role") == "user":
            caller_spoke = True
            continue
        if turn.get("role") != "agent":
            continue
        if isinstance(turn.get("interrupted"), bool):
            barge_ins = (barge_ins or 0) + turn["interrupted"]
        metrics = _metrics(turn)
        model_ms, voice_ms = _elapsed_ms(metrics, MODEL_METRIC), _elapsed_ms(metrics, VOICE_METRIC)
        model.extend(v for v in (model_ms,) if v is not None)
        voice.extend(v for v in (voice_ms,) if v is not None)
        if caller_spoke:
            turns.append(TurnTiming(turn_ms=None, model_ms=model_ms, voice_ms=voice_ms))
            caller_spoke = False
    if not model and not voice:
        return None
    metadata = data.get("metadata")
    duration = metadata.get("call_duration_secs") if isinstance(metadata, Mapping) else None
    return CallLatency(
        turns=tuple(turns),
        model_avg_ms=_mean(model),
        voice_avg_ms=_mean(voice),
        assistant_interrupted=barge_ins,
        duration_s=float(duration)
        if isinstance(duration, int | float) and not isinstance(duration, bool) and duration >= 0
        else None,
    )
