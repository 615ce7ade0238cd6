"""Transfer destinations in Vapi's shape (TransferDestinationNumber / TransferDestinationSip)."""

from __future__ import annotations

from typing import Any

from voicetrail.domain.live.config import TransferTarget

_MODES = {
    "blind": "blind-transfer",
    "warm-message": "warm-transfer-say-message",
    "warm-summary": "warm-transfer-say-summary",
}


def destination(target: TransferTarget) -> dict[str, Any]:
    plan: dict[str, Any] = {"mode": _MODES[target.mode]}
    if target.mode == "warm-message":
        plan["message"] = target.warm_message
    out: dict[str, Any]
    if target.type == "number":
        out = {"type": "number", "number": target.number}
        if target.extension:
            out["extension"] = target.extension
    else:
        out = {"type": "sip", "sipUri": target.sip_uri}
    if target.caller_id:
        out["callerId"] = target.caller_id
    out["message"] = target.message
    out["description"] = target.description
    out["transferPlan"] = plan
    return out
