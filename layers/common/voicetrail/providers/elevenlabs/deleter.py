"""Deleting a conversation at ElevenLabs: `DELETE /v1/convai/conversations/{conversation_id}`.

The official SDK (elevenlabs 2.78.0, `conversational_ai.conversations.delete`) sends it with the
`xi-api-key` header and reads any 2xx as success and 422 as a validation error. 404 (an already deleted
conversation) is read as "gone" (success). The answer is an `ExternalOutcome`, never an exception; no body,
URL or key is logged or returned. httpx is imported only when a delete is sent.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from voicetrail.domain.erasure.deleters import CallDeleteSpec, PlatformCallDeleter
from voicetrail.providers.bounds import ID_PATTERN

if TYPE_CHECKING:
    import httpx

    from voicetrail.infra.secrets import SecretResolver

ELEVENLABS_API = "https://api.elevenlabs.io"
CONVERSATION_ID = re.compile(ID_PATTERN)
# The conversation id is the call id of an ElevenLabs call.
ELEVENLABS_DELETE = CallDeleteSpec(
    "elevenlabs", ELEVENLABS_API, "/v1/convai/conversations/{call_id}", "xi-api-key", "", CONVERSATION_ID
)


class ElevenLabsConversationDeleter(PlatformCallDeleter):
    """Deletes an ElevenLabs conversation (transcript, audio, analysis) at ElevenLabs."""

    def __init__(
        self,
        api_key: SecretResolver | None,
        *,
        base_url: str = ELEVENLABS_API,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(ELEVENLABS_DELETE, api_key, base_url=base_url, timeout=timeout, transport=transport)
