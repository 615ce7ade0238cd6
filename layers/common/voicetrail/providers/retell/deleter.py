"""Deleting a call at Retell: `DELETE /v2/delete-call/{call_id}` with the API key as a Bearer token.

Retell's API reference (docs.retellai.com/api-references/delete-call; retell-sdk 6.2.13 `call.delete`)
documents 204 for a deleted call and 400/401/422/500 for failures. It does not document what an already
deleted call answers: 404 is read as "gone" (success), anything else in 4xx needs a human. The answer
is an `ExternalOutcome`, never an exception; no body, URL or key is logged or returned. httpx is imported
only when a delete is sent (by the shared `_AuthorisedDelete`), so the webhook path never pays for it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from voicetrail.domain.erasure.deleters import CallDeleteSpec, PlatformCallDeleter
from voicetrail.providers.bounds import ID_PATTERN

if TYPE_CHECKING:
    import httpx

    from voicetrail.infra.secrets import SecretResolver

RETELL_API = "https://api.retellai.com"
CALL_ID = re.compile(ID_PATTERN)
RETELL_DELETE = CallDeleteSpec(
    "retell", RETELL_API, "/v2/delete-call/{call_id}", "Authorization", "Bearer ", CALL_ID
)


class RetellCallDeleter(PlatformCallDeleter):
    """Deletes a Retell call and its data (recording, transcript, logs) at Retell."""

    def __init__(
        self,
        api_key: SecretResolver | None,
        *,
        base_url: str = RETELL_API,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(RETELL_DELETE, api_key, base_url=base_url, timeout=timeout, transport=transport)
