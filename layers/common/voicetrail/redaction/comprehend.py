"""Optional second pass through Amazon Comprehend `DetectPiiEntities`, for names and addresses.

Off by default: it adds a network round trip (tens of ms), so use it for end-of-call transcripts, not
per-utterance webhooks. It receives the already-redacted text, so digits and emails never leave the
function; only the words the local pass kept are sent. The client is built by the wiring
(`voicetrail.wiring.comprehend`): this module imports neither boto3 nor the AWS adapters.
"""

from __future__ import annotations

from collections.abc import Iterable

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for the type checker only (cold start)
    from typing import Any

# Comprehend entity type -> voicetrail kind (only those we can place; AGE, DATE_TIME, URL... are ignored).
ENTITY_KINDS: dict[str, str] = {
    "NAME": "name",
    "ADDRESS": "address",
    "EMAIL": "email",
    "PHONE": "phone",
    "SSN": "ssn",
    "CREDIT_DEBIT_NUMBER": "card",
    "CREDIT_DEBIT_CVV": "cvv",
    "CREDIT_DEBIT_EXPIRY": "expiry",
    "BANK_ACCOUNT_NUMBER": "account",
    "BANK_ROUTING": "routing",
    "PASSPORT_NUMBER": "passport",
    "DRIVER_ID": "license",
}
# DetectPiiEntities accepts at most 100 KB of UTF-8 per request.
MAX_REQUEST_BYTES = 100_000


class ComprehendPiiPass:
    """Adapter around a boto3 `comprehend` client (or anything with `detect_pii_entities`)."""

    def __init__(
        self,
        client: Any,
        *,
        kinds: Iterable[str] = ("name", "address"),
        min_score: float = 0.8,
        language_code: str = "en",
        max_request_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        self._client = client
        self._kinds = frozenset(kinds)
        self._min_score = min_score
        self._language_code = language_code
        self._max_bytes = max_request_bytes
        self.calls = 0
        self.failures = 0

    def detect(self, text: str) -> list[tuple[str, int, int]]:
        """(kind, start, end) character offsets into `text`. Raises what the client raises
        (the caller falls back to the local pass and counts `failures`)."""
        found: list[tuple[str, int, int]] = []
        for offset, chunk in _chunks(text, self._max_bytes):
            if not chunk.strip():
                continue
            self.calls += 1
            try:
                response = self._client.detect_pii_entities(Text=chunk, LanguageCode=self._language_code)
            except Exception:
                self.failures += 1
                raise
            for entity in response.get("Entities", []):
                kind = ENTITY_KINDS.get(str(entity.get("Type")))
                if (
                    kind is None
                    or kind not in self._kinds
                    or float(entity.get("Score", 0.0)) < self._min_score
                ):
                    continue
                start, end = int(entity["BeginOffset"]), int(entity["EndOffset"])
                if 0 <= start < end <= len(chunk):
                    found.append((kind, offset + start, offset + end))
        return found


def _chunks(text: str, max_bytes: int) -> list[tuple[int, str]]:
    """Split at line/space boundaries so each piece fits the request limit in UTF-8."""
    if len(text.encode("utf-8")) <= max_bytes:
        return [(0, text)]
    out: list[tuple[int, str]] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + max_bytes // 4)  # a code point is at most 4 bytes
        if end < len(text):
            cut = max(text.rfind("\n", start, end), text.rfind(" ", start, end))
            if cut > start:
                end = cut + 1
        out.append((start, text[start:end]))
        start = end
    return out
