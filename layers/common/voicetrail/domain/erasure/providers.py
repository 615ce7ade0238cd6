"""The providers that hold copies of a call outside our table, and how erasure deletes them there.

A `Provider` is three things: its name (as receipts and follow-up tasks show it), how to find, in a call's
stored items, the ids of what it holds (`finds`), and how to delete one of them (`delete`, None when the
deployment has no credentials for it: then erasure reports it `skipped: not configured` and never leaves
it pending). The `ProviderRegistry` is the ordered set erasure and the follow-up runner consult.

Adding a provider (Retell, ElevenLabs) is one `Provider` built in voicetrail.wiring.deletion: a finder
over the pointers its webhook path stores on items (name them in storage.table.ERASURE_PROJECTION so the
erasure read carries them) and a deleter answering `ExternalOutcome` (deleted, gone, retry, failed) that
never raises for a remote failure. Nothing else changes: tasks, retries, deadlines and receipts are
per provider name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from voicetrail.domain.erasure.deleters import (
    ExternalOutcome,
    TwilioRecordingDeleter,
    VapiCallDeleter,
    recording_ref,
    vapi_call_id_of_pk,
)
from voicetrail.domain.items import RawItem

Finder = Callable[[str, RawItem], Iterable[str]]
Deleter = Callable[[str], ExternalOutcome]


@dataclass(frozen=True)
class Provider:
    """One provider: what erasure deletes there, found on our items, and the delete (None: unconfigured)."""

    name: str
    holds: str  # what one target is, for receipts: "recording", "call"
    finds: Finder
    delete: Deleter | None

    @property
    def configured(self) -> bool:
        return self.delete is not None


class ProviderRegistry:
    """The providers of a deployment, in the order erasure asks them."""

    def __init__(self, providers: Sequence[Provider]) -> None:
        names = [p.name for p in providers]
        if len(set(names)) != len(names):
            raise ValueError("provider names must be unique")
        self._providers = {p.name: p for p in providers}

    def __iter__(self) -> Iterator[Provider]:
        return iter(self._providers.values())

    def get(self, name: str) -> Provider | None:
        return self._providers.get(name)

    def targets(self, pk: str, items: Sequence[RawItem]) -> list[tuple[Provider, str]]:
        """Every (provider, id) the call's items point at, each once, in provider then item order."""
        found: list[tuple[Provider, str]] = []
        for provider in self._providers.values():
            seen: set[str] = set()
            for item in items:
                for target in provider.finds(pk, item):
                    if target and target not in seen:
                        seen.add(target)
                        found.append((provider, target))
        return found


def twilio_recordings_of(pk: str, item: RawItem) -> Iterable[str]:
    sid = recording_ref(item).twilio_recording_sid
    return (sid,) if sid else ()


def vapi_calls_of(pk: str, item: RawItem) -> Iterable[str]:
    # A Vapi call partition implies its call; a Twilio leg's summary or pointer names the Vapi call.
    own = vapi_call_id_of_pk(pk)
    named = recording_ref(item).vapi_call_id
    return tuple(dict.fromkeys(t for t in (own, named) if t))


def twilio_provider(deleter: TwilioRecordingDeleter) -> Provider:
    return Provider(
        "twilio", "recording", twilio_recordings_of, deleter.delete_recording if deleter.configured else None
    )


def vapi_provider(deleter: VapiCallDeleter) -> Provider:
    return Provider("vapi", "call", vapi_calls_of, deleter.delete_call if deleter.configured else None)


def standard_providers(twilio: TwilioRecordingDeleter, vapi: VapiCallDeleter) -> ProviderRegistry:
    """Twilio recordings, then Vapi calls: the providers voicetrail stores pointers for today."""
    return ProviderRegistry([twilio_provider(twilio), vapi_provider(vapi)])
