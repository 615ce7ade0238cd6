"""The consent step: whether caller content of this event may be kept, asked at most once and lazily.

Most in-call messages carry no caller content, so the policy (which may cost a read) is asked only when the
sanitizer meets content. The answer is recorded on the stored event (`content` attribute), so a resend
re-applies the first delivery's decision, never its own.
"""

from __future__ import annotations

from collections.abc import Callable

CONTENT_KEPT, CONTENT_WITHHELD, NO_CONTENT = "kept", "withheld", "none"


class ContentDecision:
    """The content policy's answer for one event, asked at most once and only if needed."""

    def __init__(self, ask: Callable[[], bool]) -> None:
        self._ask = ask
        self._answer: bool | None = None

    def __call__(self) -> bool:
        if self._answer is None:
            self._answer = bool(self._ask())
        return self._answer

    @property
    def label(self) -> str:
        if self._answer is None:
            return NO_CONTENT
        return CONTENT_KEPT if self._answer else CONTENT_WITHHELD
