"""Deleting a conversation at ElevenLabs: `DELETE /v1/convai/conversations/{conversation_id}`.

The official SDK (elevenlabs 2.78.0, `conversational_ai.conversations.delete`) sends it with the
`xi-api-key` header and reads any 2xx as success and 422 as a validation error. 404 (an already deleted
conversation) is read as "gone" (success). The answer is an `ExternalOutcome`, never an exception; no body,
URL or key is logged or returned. httpx is imported only when a delete is sent.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from voicetrail.domain.erasure.deleters import ExternalOutcome, _AuthorisedDelete
from voicetrail.providers.bounds import ID_PATTERN

if TYPE_CHECKING:
    import httpx

    from voicetrail.infra.secrets import SecretResolver

ELEVENLABS_API = "https://api.elevenlabs.io"
CONVERSATION_ID = re.compile(ID_PATTERN)


class ElevenLabsConversationDeleter:
    """Deletes an ElevenLabs conversation (transcript, audio, analysis) at ElevenLabs."""

    provider = "elevenlabs"

    def __init__(
        self,
        api_key: SecretResolver | None,
        *,
        base_url: str = ELEVENLABS_API,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._delete = _AuthorisedDelete(api_key, base_url, timeout, transport) if api_key else None

    @property
    def configured(self) -> bool:
        return self._delete is not None

    def delete_call(self, call_id: str) -> ExternalOutcome:
        """Delete the conversation `call_id` (the conversation id is the call id of an ElevenLabs call)."""
        if self._delete is None:
            return ExternalOutcome.UNCONFIGURED
        if not CONVERSATION_ID.match(call_id):
            return ExternalOutcome.FAILED
        return self._delete(
            f"/v1/convai/conversations/{call_id}", lambda key: {"headers": {"xi-api-key": key}}
        )
