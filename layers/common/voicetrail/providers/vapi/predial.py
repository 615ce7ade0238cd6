"""The pre-dial compliance gate: Vapi's `campaign.predial` answered `{"eligible": true|false}`.

Vapi sends `campaign.predial` to the campaign's server before it dials each contact, and places the call
only on `{"eligible": true}` (anything else records a pre-dial failure). voicetrail decides, in order:

  invalid_number      the contact's number does not parse as a phone number
  do_not_call         the number's keyed hash is on the do-not-call list (no raw number is ever stored)
  unknown_timezone    the callee's local time cannot be told from the number (blocked by default)
  outside_hours       it is outside the permitted calling window in the callee's local time (default
                      08:00-21:00, the US TCPA rule; every time zone a number may be in must be inside it)
  no_prior_consent    the policy requires prior consent and none is on record for this caller hash
  eligible            none of the above

The reason is not part of the reply (the spec's response has `eligible` only and voicetrail answers
with exactly that); it goes to the audit trail (one `predial_decision` record per decision, in the
chain `SYS#predial.<campaignId>`) and to the `PredialDecision` metric.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from voicetrail.domain.audit.trail import AuditKind
from voicetrail.domain.callers import DEFAULT_REGION, CallerHasher
from voicetrail.domain.live.ports import DoNotCallList

Reason = Literal[
    "eligible", "invalid_number", "do_not_call", "unknown_timezone", "outside_hours", "no_prior_consent"
]
_UNKNOWN_ZONE = "Etc/Unknown"
_CHAIN_ID = re.compile(r"[A-Za-z0-9_.:-]{1,100}")


class PredialPolicy(BaseModel):
    """The deployment's pre-dial policy (setting PREDIAL_POLICY, a JSON object)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_start: time = time(8, 0)
    window_end: time = time(21, 0)
    require_prior_consent: bool = False
    prior_consent_days: int = Field(default=365, ge=1, le=3650)
    default_region: str = Field(default=DEFAULT_REGION, pattern=r"^[A-Z]{2}$")
    block_unknown_timezone: bool = True

    @model_validator(mode="after")
    def _window(self) -> PredialPolicy:
        if self.window_start >= self.window_end:
            raise ValueError("window_start must be before window_end")
        return self


class PriorConsent(Protocol):
    def granted_at(self, caller_hash: str) -> float | None:
        """Epoch seconds of the caller's last recorded grant, None when there is none."""
        ...


class _CallerConsentRecord(Protocol):
    @property
    def decision(self) -> str: ...

    @property
    def decided_at(self) -> int: ...


class _CallerConsentSource(Protocol):
    def get_caller_consent(self, caller_hash: str) -> _CallerConsentRecord | None: ...


class RecordedConsent:
    """Prior consent as the live consent flow records it per caller hash (voicetrail.domain.live.store)."""

    def __init__(self, source: _CallerConsentSource) -> None:
        self._source = source

    def granted_at(self, caller_hash: str) -> float | None:
        record = self._source.get_caller_consent(caller_hash)
        if record is None or record.decision != "granted":
            return None
        return float(record.decided_at)


class PredialAudit(Protocol):
    def append_system(
        self, name: str, kind: AuditKind, details: Mapping[str, int | str], now: float
    ) -> object: ...


@dataclass(frozen=True)
class PredialDecision:
    """The gate's answer for one contact, with the reason that decided it."""

    eligible: bool
    reason: Reason
    zones: tuple[str, ...] = ()

    def reply(self) -> dict[str, bool]:
        return {"eligible": self.eligible}


def local_zones(number: str, region: str) -> tuple[str, ...] | None:
    """The IANA zones the number may ring in; None when it is not a valid number."""
    # Imported on the first pre-dial check, not at cold start (phonenumbers ~15 ms, its time zone tables
    # ~10 ms more): most functions' processes never answer a pre-dial check.
    import phonenumbers
    from phonenumbers import timezone as phone_timezones

    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return tuple(z for z in phone_timezones.time_zones_for_number(parsed) if z != _UNKNOWN_ZONE)


def within_window(zones: tuple[str, ...], now: float, policy: PredialPolicy) -> bool | None:
    """True when the local time is inside the window in every zone; None when a zone is unknown."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    instant = datetime.fromtimestamp(now, tz=UTC)
    for zone in zones:
        try:
            local = instant.astimezone(ZoneInfo(zone)).time()
        except (ZoneInfoNotFoundError, ValueError):
            return None
        if not (policy.window_start <= local < policy.window_end):
            return False
    return True


class PredialGate:
    def __init__(
        self,
        *,
        policy: PredialPolicy,
        dnc: DoNotCallList,
        consent: PriorConsent,
        audit: PredialAudit | None,
        clock: Callable[[], float],
    ) -> None:
        self._policy = policy
        self._dnc = dnc
        self._consent = consent
        self._audit = audit
        self._clock = clock

    def decide(
        self, number: str | None, hasher: CallerHasher, *, now: float | None = None
    ) -> PredialDecision:
        at = self._clock() if now is None else now
        zones = local_zones(number, self._policy.default_region) if number else None
        if zones is None or not number:
            return PredialDecision(False, "invalid_number")
        number_hash = hasher.hash(number)
        if self._dnc.contains(number_hash):
            return PredialDecision(False, "do_not_call", zones)
        inside = within_window(zones, at, self._policy) if zones else None
        if inside is None and self._policy.block_unknown_timezone:
            return PredialDecision(False, "unknown_timezone", zones)
        if inside is False:
            return PredialDecision(False, "outside_hours", zones)
        if self._policy.require_prior_consent:
            granted = self._consent.granted_at(number_hash)
            if granted is None or at - granted > self._policy.prior_consent_days * 86_400:
                return PredialDecision(False, "no_prior_consent", zones)
        return PredialDecision(True, "eligible", zones)

    def audit(self, decision: PredialDecision, *, campaign_id: str | None, contact_id: str | None) -> None:
        """One audit record per decision: codes only (ids are Vapi's), never the number or its hash."""
        if self._audit is None:
            return
        chain = f"predial.{campaign_id}" if campaign_id and _CHAIN_ID.fullmatch(campaign_id) else "predial"
        details: dict[str, int | str] = {
            "eligible": "true" if decision.eligible else "false",
            "reason": decision.reason,
        }
        if contact_id and _CHAIN_ID.fullmatch(contact_id) and len(contact_id) <= 64:
            details["contact_id"] = contact_id
        self._audit.append_system(chain, AuditKind.PREDIAL_DECISION, details, self._clock())
