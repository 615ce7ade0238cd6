"""Deleting what lives outside DynamoDB: recordings at Twilio, calls at Vapi (and, through the same
`PlatformCallDeleter` with their own `CallDeleteSpec`, at Retell and ElevenLabs:
providers.<platform>.deleter).

Both adapters answer with an `ExternalOutcome` and never raise for a remote failure: the caller decides
what a failure means (keep the pointer item, count an attempt, alarm after repeated failures).
`httpx` is imported lazily, inside the adapters, so nothing on the webhook path pays for it.
Neither adapter logs or returns response bodies, URLs or credentials.

Pointers on stored items (the contract with the writers; docs/concepts/retention.md):
  recording_sid     Twilio RecordingSid (RE + 32 hex) of a `recording` item (the ledger's
                    `CALL#twilio:<CallSid>` / `REC#<RecordingSid>` items; `a_recording_sid` or a body
                    `RecordingSid` are read too)
  vapi_call_id      Vapi call id whose artifacts go with it (`a_vapi_call_id` too). For a Twilio call the
                    call's SUMMARY item holds it; a `CALL#<id>` partition that is not `CALL#twilio:...`
                    is a Vapi call, so its id is implied.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from voicetrail.domain.calls.ports import is_kept_audio
from voicetrail.domain.identity import (
    CALL_PREFIX,
    OBSERVED_PLATFORMS,
    call_key_of_pk,
    is_twilio_call_pk,
    platform_call_of_pk,
)
from voicetrail.errors import SecretUnavailableError
from voicetrail.infra.secrets import SecretResolver

if TYPE_CHECKING:
    import httpx

TWILIO_API = "https://api.twilio.com"
VAPI_API = "https://api.vapi.ai"
RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")
VAPI_CALL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]{0,127}")


class ExternalOutcome(StrEnum):
    DELETED = "deleted"
    GONE = "gone"  # already deleted (404): success for an idempotent delete
    RETRY = "retry"  # transient (503, 429, 5xx, network, secret store): try again next run
    FAILED = "failed"  # needs a human (401/403, bad pointer)
    UNCONFIGURED = "unconfigured"  # no credentials for this provider in this deployment

    @property
    def ok(self) -> bool:
        return self in (ExternalOutcome.DELETED, ExternalOutcome.GONE)


class RecordingDeleter(Protocol):
    def delete_recording(self, recording_sid: str) -> ExternalOutcome: ...


class CallArtifactDeleter(Protocol):
    def delete_call(self, call_id: str) -> ExternalOutcome: ...


@dataclass(frozen=True)
class RecordingRef:
    """What to delete outside DynamoDB for one stored item."""

    twilio_recording_sid: str | None = None
    vapi_call_id: str | None = None
    # (platform, its call id) of a Retell or ElevenLabs call: its `CALL#<platform>:<id>` partition.
    platform_call: tuple[str, str] | None = None

    def with_vapi(self, call_id: str | None) -> RecordingRef:
        return RecordingRef(self.twilio_recording_sid, self.vapi_call_id or call_id, self.platform_call)

    @property
    def empty(self) -> bool:
        return not self.twilio_recording_sid and not self.vapi_call_id and not self.platform_call


def is_twilio_pk(pk: str) -> bool:
    return is_twilio_call_pk(pk)


def vapi_call_id_of_pk(pk: str) -> str | None:
    if not pk.startswith(CALL_PREFIX) or is_twilio_call_pk(pk):
        return None
    call_id = call_key_of_pk(pk)
    return call_id if VAPI_CALL_ID.fullmatch(call_id) and call_id != "no-call" else None


def recording_ref(item: Mapping[str, Any]) -> RecordingRef:
    """Pointers of a `recording` item, from projected attributes, else from its body (RecordingSid)."""
    sid = _s(item, "recording_sid") or _s(item, "a_recording_sid")
    if not sid and "body" in item:
        try:
            body = json.loads(item["body"]["S"])
        except (ValueError, KeyError, TypeError):
            body = {}
        candidate = body.get("RecordingSid") if isinstance(body, dict) else None
        sid = candidate if isinstance(candidate, str) else None
    pk = _s(item, "pk") or ""
    vapi = _s(item, "vapi_call_id") or _s(item, "a_vapi_call_id") or vapi_call_id_of_pk(pk)
    # Audio we keep ourselves goes with its item (its object first): it points at nothing a platform holds.
    kept_audio = is_kept_audio(_s(item, "sk") or "")
    platform_call = next(
        ((name, call) for name in OBSERVED_PLATFORMS if (call := platform_call_of_pk(pk, name))), None
    )
    if kept_audio:
        platform_call = None
    return RecordingRef(
        twilio_recording_sid=sid or None, vapi_call_id=vapi or None, platform_call=platform_call
    )


def _s(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return value.get("S") if isinstance(value, dict) else None


class _AuthorisedDelete:
    """HTTP DELETE signed with a secret from the store, over one pooled httpx client per adapter.

    After a 401 the request is sent once more with the store's current secret (rate-limited by the
    resolver): the key may have been rotated since this process cached it.
    """

    def __init__(
        self, secret: SecretResolver, base_url: str, timeout: float, transport: httpx.BaseTransport | None
    ) -> None:
        self._secret = secret
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._transport = transport
        self._http: httpx.Client | None = None

    def __call__(self, path: str, authorise: Callable[[str], dict[str, Any]]) -> ExternalOutcome:
        import httpx

        try:
            secret = self._secret.values()[0]
        except SecretUnavailableError:
            return ExternalOutcome.RETRY
        if self._http is None:
            self._http = httpx.Client(
                base_url=self._base_url, timeout=self._timeout, transport=self._transport
            )
        http = self._http
        try:
            status = http.delete(path, **authorise(secret)).status_code
            if status == 401 and (fresh := self._secret.refresh()) is not None:
                status = http.delete(path, **authorise(fresh[0])).status_code
        except httpx.HTTPError:
            return ExternalOutcome.RETRY  # connection error or timeout: transient
        return ExternalOutcome.DELETED if status < 300 else _from_status(status)


class TwilioRecordingDeleter:
    """`DELETE /2010-04-01/Accounts/{AccountSid}/Recordings/{RecordingSid}.json`, Basic AccountSid:token.

    The same request `twilio.rest.Client(...).recordings(sid).delete()` sends, over the layer's httpx: the
    twilio REST client would add twilio's 200+ generated API modules, requests and aiohttp (about 37 MB
    unzipped, ~120 ms of import) to each function that deletes recordings, for this one call.
    """

    def __init__(
        self,
        account_sid: str | None,
        token: SecretResolver | None,
        *,
        base_url: str | None = None,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._account_sid = account_sid or None
        self._delete = _AuthorisedDelete(token, base_url or TWILIO_API, timeout, transport) if token else None

    @property
    def configured(self) -> bool:
        """An account SID and a token ref: without both no recording can ever be deleted from here."""
        return bool(self._account_sid) and self._delete is not None

    def delete_recording(self, recording_sid: str) -> ExternalOutcome:
        if not self._account_sid or self._delete is None:
            return ExternalOutcome.UNCONFIGURED
        if not RECORDING_SID.fullmatch(recording_sid):
            return ExternalOutcome.FAILED
        sid = self._account_sid
        path = f"/2010-04-01/Accounts/{sid}/Recordings/{recording_sid}.json"
        return self._delete(path, lambda token: {"auth": (sid, token)})


@dataclass(frozen=True)
class CallDeleteSpec:
    """How one platform deletes a call: `DELETE <path>` with the API key in one header, for a call id
    that fully matches `call_id` (anything else is FAILED without a request)."""

    provider: str
    base_url: str
    path: str  # with `{call_id}`
    auth_header: str
    auth_prefix: str  # "Bearer " or ""
    call_id: re.Pattern[str]


VAPI_DELETE = CallDeleteSpec("vapi", VAPI_API, "/call/{call_id}", "Authorization", "Bearer ", VAPI_CALL_ID)


class PlatformCallDeleter:
    """Deletes a call at a platform (Vapi, Retell, ElevenLabs) as its spec says, over `_AuthorisedDelete`:
    unconfigured without a key; a 2xx is deleted, 404 gone, 408/409/423/425/429/5xx retry, else failed."""

    def __init__(
        self,
        spec: CallDeleteSpec,
        api_key: SecretResolver | None,
        *,
        base_url: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._spec = spec
        url = base_url or spec.base_url
        self._delete = _AuthorisedDelete(api_key, url, timeout, transport) if api_key else None

    @property
    def provider(self) -> str:
        return self._spec.provider

    @property
    def configured(self) -> bool:
        return self._delete is not None

    def delete_call(self, call_id: str) -> ExternalOutcome:
        if self._delete is None:
            return ExternalOutcome.UNCONFIGURED
        spec = self._spec
        if not spec.call_id.fullmatch(call_id):
            return ExternalOutcome.FAILED
        header, prefix = spec.auth_header, spec.auth_prefix
        return self._delete(
            spec.path.format(call_id=call_id), lambda key: {"headers": {header: f"{prefix}{key}"}}
        )


class VapiCallDeleter(PlatformCallDeleter):
    """`DELETE /call/{id}` with the private API key (Bearer). 503 means: erase failed, retry later."""

    def __init__(
        self,
        api_key: SecretResolver | None,
        *,
        base_url: str = VAPI_API,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(VAPI_DELETE, api_key, base_url=base_url, timeout=timeout, transport=transport)


def _from_status(status: int) -> ExternalOutcome:
    if status == 404:
        return ExternalOutcome.GONE
    if status in (408, 409, 423, 425, 429) or status >= 500:
        return ExternalOutcome.RETRY
    return ExternalOutcome.FAILED


class Unconfigured:
    """Both deleters for deployments without provider credentials: every external delete is pending."""

    def delete_recording(self, recording_sid: str) -> ExternalOutcome:
        return ExternalOutcome.UNCONFIGURED

    def delete_call(self, call_id: str) -> ExternalOutcome:
        return ExternalOutcome.UNCONFIGURED


_SEVERITY = {
    ExternalOutcome.GONE: 0,
    ExternalOutcome.DELETED: 0,
    ExternalOutcome.RETRY: 1,
    ExternalOutcome.UNCONFIGURED: 2,
    ExternalOutcome.FAILED: 3,
}


class ExternalDeletions:
    """One run's external deletes: each recording / Vapi call is asked for at most once per run."""

    def __init__(
        self,
        recordings: RecordingDeleter,
        calls: CallArtifactDeleter,
        platforms: Mapping[str, CallArtifactDeleter] | None = None,
    ) -> None:
        """`platforms`: the Retell and ElevenLabs deleters by platform name (a missing one: unconfigured)."""
        self._recordings = recordings
        self._calls = calls
        self._platforms = dict(platforms or {})
        self._twilio: dict[str, ExternalOutcome] = {}
        self._vapi: dict[str, ExternalOutcome] = {}
        self._platform: dict[tuple[str, str], ExternalOutcome] = {}

    def delete(self, ref: RecordingRef) -> ExternalOutcome:
        """The worst outcome over the item's pointers; DELETED when there is nothing to delete."""
        outcomes = [ExternalOutcome.DELETED]
        if ref.twilio_recording_sid:
            sid = ref.twilio_recording_sid
            if sid not in self._twilio:
                self._twilio[sid] = self._recordings.delete_recording(sid)
            outcomes.append(self._twilio[sid])
        if ref.vapi_call_id:
            call_id = ref.vapi_call_id
            if call_id not in self._vapi:
                self._vapi[call_id] = self._calls.delete_call(call_id)
            outcomes.append(self._vapi[call_id])
        if ref.platform_call:
            if ref.platform_call not in self._platform:
                name, call = ref.platform_call
                deleter = self._platforms.get(name)
                self._platform[ref.platform_call] = (
                    deleter.delete_call(call) if deleter is not None else ExternalOutcome.UNCONFIGURED
                )
            outcomes.append(self._platform[ref.platform_call])
        return max(outcomes, key=lambda o: _SEVERITY[o])

    def delete_each(self, ref: RecordingRef) -> list[tuple[str, str, ExternalOutcome]]:
        """Every pointer of the item tried (none skipped after a failure): (provider, id, outcome)."""
        done: list[tuple[str, str, ExternalOutcome]] = []
        if ref.twilio_recording_sid:
            outcome = self.delete(RecordingRef(twilio_recording_sid=ref.twilio_recording_sid))
            done.append(("twilio", ref.twilio_recording_sid, outcome))
        if ref.vapi_call_id:
            outcome = self.delete(RecordingRef(vapi_call_id=ref.vapi_call_id))
            done.append(("vapi", ref.vapi_call_id, outcome))
        return done

    @property
    def twilio_deleted(self) -> int:
        return sum(o.ok for o in self._twilio.values())

    @property
    def vapi_deleted(self) -> int:
        return sum(o.ok for o in self._vapi.values())

    def platform_deleted(self, name: str) -> int:
        return sum(o.ok for (platform, _), o in self._platform.items() if platform == name)

    @property
    def failed(self) -> int:
        outcomes = (*self._twilio.values(), *self._vapi.values(), *self._platform.values())
        return sum(not o.ok for o in outcomes)
