"""Fake Retell (call delete) and ElevenLabs (conversation delete) APIs on 127.0.0.1, port 0.

They check credentials like the real APIs (Retell: `Authorization: Bearer <api key>`; ElevenLabs:
`xi-api-key: <key>`), answer a delete as the real ones document it (Retell 204 with no body; ElevenLabs
200 with a JSON body), 404 for what is already gone, and can be told to fail a resource with a queue of
status codes, like the Twilio and Vapi fakes they extend.
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.servers import FakeApi

_RETELL_PATH = re.compile(r"^/v2/delete-call/([A-Za-z0-9][A-Za-z0-9_\-.:]{0,127})$")
_ELEVENLABS_PATH = re.compile(r"^/v1/convai/conversations/([A-Za-z0-9][A-Za-z0-9_\-.:]{0,127})$")


class FakeRetell(FakeApi):
    def __init__(self, api_key: str) -> None:
        super().__init__()
        self._auth = f"Bearer {api_key}"

    def authorized(self, headers: Any) -> bool:
        return bool(headers.get("Authorization") == self._auth)

    def resource(self, path: str) -> str | None:
        match = _RETELL_PATH.match(path)
        return match.group(1) if match else None


class FakeElevenLabs(FakeApi):
    def __init__(self, api_key: str) -> None:
        super().__init__()
        self._key = api_key

    def authorized(self, headers: Any) -> bool:
        return bool(headers.get("xi-api-key") == self._key)

    def resource(self, path: str) -> str | None:
        match = _ELEVENLABS_PATH.match(path)
        return match.group(1) if match else None

    def deleted_status(self) -> int:
        return 200

    def deleted_body(self, resource: str) -> bytes:
        return b"{}"
