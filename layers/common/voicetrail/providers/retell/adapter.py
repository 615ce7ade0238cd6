"""Retell AI as the webhook service sees it: verifier, parser, common event, sanitizer, consent keys."""

from __future__ import annotations

from voicetrail.domain.calls.ports import StoredEvent
from voicetrail.domain.identity import platform_call_key
from voicetrail.domain.latency import CallLatency
from voicetrail.pipeline.event import InboundEvent
from voicetrail.providers.retell.keys import semantic_key
from voicetrail.providers.retell.latency import retell_call_latency
from voicetrail.providers.retell.models import (
    CALL_ANALYZED,
    CALL_ENDED,
    CALL_STARTED,
    TRANSFER_ENDED,
    ParsedRetellEvent,
    metric_type,
    parse_event,
)
from voicetrail.providers.retell.sanitize import sanitizer_for_event
from voicetrail.providers.retell.signature import verify
from voicetrail.providers.webhook_service import ProviderAdapter

SOURCE = "retell"


def _event_ts_ms(parsed: ParsedRetellEvent) -> int | None:
    """When the event happened, where Retell says: the call's start, end, or the transfer leg's end."""
    call, name = parsed.event.call, parsed.event.event
    if name == CALL_STARTED:
        return call.start_timestamp
    if name in (CALL_ENDED, CALL_ANALYZED):
        return call.end_timestamp
    if name == TRANSFER_ENDED:
        return call.transfer_end_timestamp
    return None


def inbound_event(parsed: ParsedRetellEvent) -> InboundEvent:
    call, name = parsed.event.call, parsed.event.event
    attributes: dict[str, str | int | float] = {}
    for field, value in (
        ("agent_id", call.agent_id),
        ("call_type", call.call_type),
        ("direction", call.direction),
        ("status", call.call_status),
        ("ended_reason", call.disconnection_reason),
    ):
        if value:
            attributes[field] = value
    if call.duration_ms is not None:
        attributes["duration_s"] = call.duration_ms / 1000
    telephony = (call.model_extra or {}).get("telephony_identifier")
    call_sid = telephony.get("twilio_call_sid") if isinstance(telephony, dict) else None
    if isinstance(call_sid, str) and 0 < len(call_sid) <= 64:
        attributes["provider_call_id"] = call_sid  # joins the call to its Twilio callbacks
    cost = _cost_usd(parsed)
    if cost is not None:
        attributes["cost_usd"] = cost
    return InboundEvent(
        source=SOURCE,
        call_id=platform_call_key(SOURCE, call.call_id),
        event_type=name,
        event_key=semantic_key(parsed),
        raw=parsed.raw,
        metric_type=metric_type(name),
        event_ts_ms=_event_ts_ms(parsed),
        caller_number=call.caller_number,
        attributes=attributes,
        final_report=name == CALL_ANALYZED,
        # Counted once per call, on the event that ends it (call_analyzed repeats the same cost).
        cost_usd=cost if name == CALL_ENDED else None,
    )


def _cost_usd(parsed: ParsedRetellEvent) -> float | None:
    """`call_cost.combined_cost` is in cents (retell-sdk `CallCost`)."""
    cost = parsed.event.call.model_extra.get("call_cost") if parsed.event.call.model_extra else None
    combined = cost.get("combined_cost") if isinstance(cost, dict) else None
    if isinstance(combined, int | float) and not isinstance(combined, bool) and 0 <= combined < 10**9:
        return round(combined / 100, 6)
    return None


def _consent_keys(parsed: ParsedRetellEvent) -> tuple[str | None, str | None]:
    call = parsed.event.call
    ours = call.from_number if call.direction == "outbound" else call.to_number
    return ours, call.agent_id


def _latency(stored: StoredEvent) -> CallLatency | None:
    """From `call_ended` (the first event with the whole call): the figures Retell measured."""
    call = stored.body.get("call") or stored.body.get("data")
    if stored.event_type != CALL_ENDED or not isinstance(call, dict):
        return None
    return retell_call_latency(call)


RETELL = ProviderAdapter[ParsedRetellEvent](
    source=SOURCE,
    verify=verify,
    parse=parse_event,
    inbound=inbound_event,
    sanitizer=sanitizer_for_event,
    consent_keys=_consent_keys,
    latency=_latency,
)
