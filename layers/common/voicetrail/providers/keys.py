"""Building blocks of the providers' semantic idempotency keys.

Neither Retell nor ElevenLabs sends an event id, and a retried delivery need not be byte-identical (the
call snapshot's short-lived URLs and costs may be refreshed). So each provider's key is built from what
identifies the event within its call: its type, and where a type can occur more than once in a call, a
mark of the conversation so far or of the event's own content. Links (`*_url`) never enter a digest.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from voicetrail.errors import BadRequestError


def _stable(value: Any) -> Any:
    """`value` without link fields, walked with an explicit stack (no recursion on outside input)."""
    if not isinstance(value, dict | list):
        return value
    root: list[Any] = [None]
    stack: list[tuple[Any, list[Any] | dict[str, Any], Any]] = [(value, root, 0)]
    while stack:
        source, target, slot = stack.pop()
        if isinstance(source, dict):
            copied: dict[str, Any] = {}
            for key, child in source.items():
                if isinstance(key, str) and key.lower().endswith("url"):
                    continue
                copied[key] = None
                stack.append((child, copied, key))
            target[slot] = copied
        elif isinstance(source, list):
            items: list[Any] = [None] * len(source)
            stack.extend((child, items, index) for index, child in enumerate(source))
            target[slot] = items
        else:
            target[slot] = source
    return root[0]


def digest(value: Any) -> str:
    """A short, stable digest of a JSON value (keys sorted, link fields left out)."""
    try:
        canonical = json.dumps(_stable(value), sort_keys=True, separators=(",", ":"), default=str)
    except (RecursionError, ValueError):
        raise BadRequestError("body is nested too deeply") from None
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def part(value: object) -> str:
    """One key part: `-` for a missing value, never the text `None`, never a `#`."""
    if value is None or value == "":
        return "-"
    return str(value).replace("#", "_")
