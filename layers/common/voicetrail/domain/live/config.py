"""Per-number live-call configuration: the model, where it is kept, and how it is looked up.

An operator changes it without a deploy, in one of two sources (setting LIVE_CONFIG_SOURCE):
  table            an item in the events table, attribute `config` (a JSON string):
                   pk = CONFIG#phone#<phoneNumberId> | CONFIG#assistant#<assistantId> | CONFIG#default,
                   sk = CONFIG (voicetrail.storage.table; adapter voicetrail.storage.live.TableConfigSource)
  ssm:<prefix>     SSM parameters <prefix>/phone/<id>, <prefix>/assistant/<id>, <prefix>/default

The first of phone -> assistant -> default that exists wins (no merging: an item is a whole config, and
fields it leaves out take the defaults below). Nothing found = the built-in default. Lookups are cached
in the Lambda (LIVE_CONFIG_CACHE_SECONDS, at most 60 s); when the source is down the last known value is
used. An item that exists but does not parse or validate is *broken*: the assistant-request is answered
with `{"error": ...}` (spoken to the caller), never a 5xx.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from voicetrail.domain.identity import DEFAULT_CONFIG_PK, config_pk
from voicetrail.domain.live.cache import TtlCache
from voicetrail.domain.live.ports import ConfigSource as ConfigSource
from voicetrail.infra.observability import MetricsRecorder

_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
_E164 = r"^\+[1-9]\d{6,14}$"


class _Strict(BaseModel):
    # defer_build: the schemas are built when a stored config is first parsed, not at every cold start.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


def _one_line(value: str) -> str:
    return " ".join(value.split())


class TransferTarget(_Strict):
    """Where a human is reached: a phone number or a SIP URI, blind or warm."""

    type: Literal["number", "sip"] = "number"
    number: str | None = Field(default=None, pattern=_E164)
    sip_uri: str | None = Field(default=None, pattern=r"^sips?:[^\s]{3,250}$")
    extension: str | None = Field(default=None, pattern=r"^[0-9*#,]{1,20}$")
    caller_id: str | None = Field(default=None, max_length=64)
    message: str = Field(default="Connecting you to a member of our team now.", max_length=500)
    mode: Literal["blind", "warm-message", "warm-summary"] = "blind"
    warm_message: str = Field(
        default="A caller from the voice assistant needs help. Connecting them now.", max_length=500
    )
    description: str = Field(default="A member of the support team", max_length=200)

    @model_validator(mode="after")
    def _address(self) -> TransferTarget:
        if self.type == "number" and not self.number:
            raise ValueError("a number destination needs `number`")
        if self.type == "sip" and not self.sip_uri:
            raise ValueError("a sip destination needs `sip_uri`")
        return self


class HandoffTarget(_Strict):
    """Where a `handoff-destination-request` hands the call: Vapi's HandoffDestinationAssistant."""

    assistant_name: str | None = Field(default=None, min_length=1, max_length=100)
    assistant_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,128}$")
    description: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _one_assistant(self) -> HandoffTarget:
        if (self.assistant_name is None) == (self.assistant_id is None):
            raise ValueError("give exactly one of `assistant_name` and `assistant_id`")
        return self


ConsentPolicy = Literal["continue", "end-call", "transfer"]
# What an observer (voicetrail does not run the call's assistant) does with caller content:
#   store-redacted      keep it, redacted (voicetrail could not ask for consent; the assistant's owner did)
#   trust-vapi-consent  keep it only when the message carries Vapi's consent evidence
#                       (`compliance.recordingConsent.grantedAt`, from the assistant's recordingConsentPlan)
#   withhold            never keep it
ObserverPolicy = Literal["store-redacted", "trust-vapi-consent", "withhold"]


class LiveConfig(_Strict):
    """Everything the live features read for one phone number or assistant."""

    name: str = Field(default="voicetrail-compliance", max_length=40)
    first_message: str = Field(
        default=(
            "Hi, thanks for calling. This call is recorded for quality and compliance. Is that okay with you?"
        ),
        max_length=1000,
    )
    returning_first_message: str = Field(
        default=(
            "Welcome back. As before, this call is recorded for quality and compliance. How can I help?"
        ),
        max_length=1000,
    )
    system_prompt: str = Field(
        default=(
            "You are a helpful, concise phone assistant. The call opens with a recording disclosure. "
            "When the caller answers it, call record_consent with decision granted, denied or unclear. "
            "Never repeat back card numbers, social security numbers or other identifiers. "
            "If the caller asks for a person or the matter is urgent, use transferCall."
        ),
        max_length=20_000,
    )
    llm_provider: Literal["openai", "anthropic"] = "openai"
    llm_model: str = Field(default="gpt-4.1-mini", max_length=80)
    voice_provider: Literal["vapi", "azure", "cartesia", "11labs", "deepgram"] | None = None
    voice_id: str | None = Field(default=None, max_length=120)
    transcriber_model: str = Field(default="nova-3", max_length=40)
    # Redaction at the source: Deepgram replaces these categories in the transcript before anyone sees
    # it, the assistant's model included (so it can no longer read back or act on those values).
    transcriber_redaction: tuple[Literal["pci", "pii", "phi", "numbers"], ...] = Field(
        default=(), max_length=4
    )
    language: str = Field(default="en", max_length=12)
    # Deployment policy (Vapi's compliancePlan / artifactPlan).
    hipaa_enabled: bool = False
    pci_enabled: bool = False
    recording_enabled: bool | None = None  # None: on, unless HIPAA or PCI mode
    transcript_enabled: bool = True
    logging_enabled: bool = True
    max_duration_seconds: int = Field(default=1800, ge=10, le=43_200)
    # Endpointing and barge-in. >= 0.8 s endpointing avoids false interruptions on mobile networks.
    endpointing_seconds: float = Field(default=0.8, ge=0, le=3)
    stop_num_words: int = Field(default=2, ge=0, le=10)
    stop_voice_seconds: float = Field(default=0.3, ge=0, le=0.5)
    stop_backoff_seconds: float = Field(default=1.0, ge=0, le=10)
    # Consent.
    consent_required: bool = True
    consent_policy: ConsentPolicy = "end-call"
    consent_max_reasks: int = Field(default=2, ge=0, le=5)
    reask_message: str = Field(
        default="Sorry, I didn't catch that. Is it okay if this call is recorded? Please say yes or no.",
        max_length=500,
    )
    closing_message: str = Field(
        default="Understood. We can't continue this call without recording consent. Goodbye.",
        max_length=500,
    )
    consent_transfer_message: str = Field(
        default="Understood. Let me connect you with a member of our team.", max_length=500
    )
    content_before_consent: Literal["withhold", "keep"] = "withhold"
    reuse_prior_consent: bool = False
    prior_consent_days: int = Field(default=365, ge=1, le=3650)
    # Escalation.
    escalation_enabled: bool = True
    escalation_keywords: tuple[str, ...] = Field(
        default=("urgent", "emergency", "i need a human", "supervisor"), min_length=0, max_length=50
    )
    escalation_debounce_ms: int = Field(default=800, ge=0, le=10_000)
    escalation_min_confidence: float = Field(default=0.7, ge=0, le=1)
    escalation_message: str = Field(default="I'm connecting you with a person right away.", max_length=500)
    transfer: TransferTarget | None = None
    handoff: HandoffTarget | None = None
    # Calls voicetrail only observes (voicetrail.providers.vapi.topology).
    observer_policy: ObserverPolicy = "store-redacted"
    error_message: str = Field(
        default="We're sorry, this line is temporarily unavailable. Please call back later.", max_length=500
    )

    @field_validator("escalation_keywords")
    @classmethod
    def _keywords(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(k for k in (_one_line(v).lower() for v in value) if k)
        if any(len(k) > 60 for k in cleaned):
            raise ValueError("keywords are at most 60 characters")
        return cleaned

    @property
    def recording_on(self) -> bool:
        if self.recording_enabled is not None:
            return self.recording_enabled
        return not (self.hipaa_enabled or self.pci_enabled)


@functools.cache
def builtin_default() -> LiveConfig:
    """The config of a line that has none stored: the field defaults, set without running the validator,
    so that a deployment without stored configs never builds LiveConfig's schema (a test checks that
    this equals a validated `LiveConfig()`)."""
    return LiveConfig.model_construct()


class BrokenConfigError(Exception):
    """A configuration item exists but cannot be used. Carries no item content."""


class ConfigUnavailableError(Exception):
    """The configuration source failed and nothing is cached."""


def config_keys(phone_number_id: str | None, assistant_id: str | None) -> list[str]:
    keys = []
    if phone_number_id and _ID.fullmatch(phone_number_id):
        keys.append(config_pk("phone", phone_number_id))
    if assistant_id and _ID.fullmatch(assistant_id):
        keys.append(config_pk("assistant", assistant_id))
    keys.append(DEFAULT_CONFIG_PK)
    return keys


def parse_config(raw: str) -> LiveConfig:
    try:
        document = json.loads(raw)
        if not isinstance(document, dict):
            raise BrokenConfigError("config is not a JSON object")
        return LiveConfig.model_validate(document)
    except (ValueError, ValidationError, RecursionError):
        # pydantic's message could quote the item: keep only a fixed text.
        raise BrokenConfigError("config does not validate") from None


@dataclass(frozen=True)
class _Broken:
    """A stored config that exists but cannot be used."""


_BROKEN = _Broken()
_Entry = LiveConfig | _Broken | None


@dataclass(frozen=True)
class _Unavailable:
    """A config that could not be read (the source failed) and is not cached."""

    error: str  # the exception's type name


@dataclass(frozen=True)
class ResolvedConfig:
    """The config that applies to a call, and which item it came from."""

    config: LiveConfig
    key: str  # which item was used ("builtin" when none)


class ConfigResolver:
    def __init__(
        self,
        source: ConfigSource,
        *,
        cache_seconds: float = 30,
        metrics: MetricsRecorder | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._source = source
        kwargs: dict[str, Any] = {"clock": clock} if clock else {}
        self._cache: TtlCache[_Entry] = TtlCache(min(cache_seconds, 60.0), **kwargs)
        self._metrics = metrics

    def resolve(self, phone_number_id: str | None, assistant_id: str | None) -> ResolvedConfig:
        """The config for a call. Raises BrokenConfigError or ConfigUnavailableError."""
        for key, entry in self._entries(config_keys(phone_number_id, assistant_id)):
            if isinstance(entry, _Unavailable):
                raise ConfigUnavailableError(f"config source failed ({entry.error})")
            if isinstance(entry, _Broken):
                self._count("LiveConfigBroken")
                raise BrokenConfigError("configuration item is broken")
            if entry is not None:
                return ResolvedConfig(config=entry, key=key.split("#")[1])
        return ResolvedConfig(config=builtin_default(), key="builtin")

    def invalidate(self) -> None:
        self._cache.clear()

    def _entries(self, keys: list[str]) -> list[tuple[str, _Entry | _Unavailable]]:
        """Each key's entry, in precedence order, up to the first cached one that is set. The keys not in
        the cache are read together: one round trip for a call's phone, assistant and default configs."""
        known: dict[str, _Entry | _Unavailable] = {}
        missing: list[str] = []
        for key in keys:
            hit, cached = self._cache.get(key)
            if not hit:
                missing.append(key)
                continue
            known[key] = cached
            if cached is not None:
                break
        if missing:
            known.update(self._read(missing))
        return [(key, known[key]) for key in keys if key in known]

    def _read(self, keys: list[str]) -> dict[str, _Entry | _Unavailable]:
        try:
            raws = self._source.fetch_many(keys)
        except Exception as exc:
            self._count("LiveConfigSourceError")
            # A stale entry serves while the source is down; without one the error's type is kept (never
            # its message, which could quote an item) and raised if resolution reaches that key.
            unavailable = _Unavailable(type(exc).__name__)
            stale = {key: self._cache.get_stale(key) for key in keys}
            return {key: cached if hit else unavailable for key, (hit, cached) in stale.items()}
        entries: dict[str, _Entry | _Unavailable] = {}
        for key in keys:
            raw = raws.get(key)
            entry: _Entry
            if raw is None:
                entry = None
            else:
                try:
                    entry = parse_config(raw)
                except BrokenConfigError:
                    entry = _BROKEN
            self._cache.put(key, entry)
            entries[key] = entry
        return entries

    def _count(self, name: str) -> None:
        if self._metrics is not None:
            self._metrics.count(name, source="vapi")
