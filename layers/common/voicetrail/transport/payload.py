"""Outside JSON, parsed within bounds and walked without recursion.

Every JSON document a sender controls (a webhook body, tool-call arguments inside it) is parsed by `loads`
and nothing else. Its bounds (docs/reference/limits.md):

  * nesting: at most MAX_DEPTH levels of objects and arrays, else BadRequestError (400);
  * numbers: `NaN`, `Infinity` and `-Infinity` (not JSON, but Python's parser accepts them) and literals
    beyond a double's range (`1e400`) are a 400. No JavaScript sender can produce either: JSON.stringify
    writes NaN and the infinities as `null`, and a JS number is a double;
  * lone surrogates: `"\\ud800"` is valid JSON, but no UTF-8 encoder (DynamoDB's, the logger's, the
    hasher's) can write it. Each is replaced with U+FFFD at parse, before anything else sees the text:
    a JavaScript string cut inside an emoji produces exactly this, and the rest of the message is good.

`voicetrail.domain.tree.rebuild` is the one walk over a parsed payload: an explicit stack, so no depth can
exhaust Python's.

`key_part` (voicetrail.domain.identity) bounds what a sender chose and a key is built from (call ids,
types, roles, statuses, campaign and tool-call ids): past MAX_KEY_PART_BYTES it becomes `h~<digest>`. The
original is kept in the stored body, sanitised and redacted like any other field.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

# Up the floors on purpose: a closed-set token that is not one is bounded exactly as a key part is, by
# the domain's one rule for naming what a sender chose (identity.key_part), never by a second copy.
from voicetrail.domain.identity import key_part
from voicetrail.domain.tree import Branch, Leaf, rebuild
from voicetrail.errors import PayloadBoundsError

MAX_DEPTH = 64
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
# A JSON \u escape of a surrogate: only a body containing one can hold a lone surrogate after parsing
# (strict UTF-8 decoding refuses encoded surrogates), so other bodies skip the repair walk.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def depth(value: Any) -> int:
    """The nesting depth of a parsed document (a scalar is 0), iteratively."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level) for child in children)
    return deepest


def _reject_constant(_: str) -> Any:
    raise PayloadBoundsError("NaN and Infinity are not JSON numbers")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise PayloadBoundsError("a number is out of range")
    return value


def _repair(value: Any) -> Any:
    """Every lone surrogate in keys and strings replaced with U+FFFD (iteratively)."""

    def step(node: Any, _: None) -> Leaf | Branch[None]:
        if isinstance(node, str):
            return Leaf(_LONE_SURROGATE.sub("\ufffd", node))
        if isinstance(node, dict):
            return Branch({}, ((_LONE_SURROGATE.sub("\ufffd", str(k)), v, None) for k, v in node.items()))
        if isinstance(node, list):
            return Branch([], ((i, v, None) for i, v in enumerate(node)))
        return Leaf(node)

    return rebuild(value, None, step)


def loads(text: str) -> Any:
    """A sender's JSON text, within the bounds above. Raises BadRequestError (fixed text, no content)."""
    try:
        document = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except PayloadBoundsError:
        raise
    except (ValueError, RecursionError):
        # RecursionError: nesting deeper than the C parser's own limit; ValueError includes an integer
        # literal over Python's 4,300-digit conversion limit.
        raise PayloadBoundsError("body is not valid JSON") from None
    # Cheap precheck: a document with fewer brackets than the limit cannot be nested past it.
    if text.count("{") + text.count("[") > MAX_DEPTH and depth(document) > MAX_DEPTH:
        raise PayloadBoundsError(f"JSON nested deeper than {MAX_DEPTH} levels")
    if _SURROGATE_ESCAPE.search(text):
        document = _repair(document)
    return document


def has_lone_surrogate(text: str) -> bool:
    return _LONE_SURROGATE.search(text) is not None


def scrub(text: str) -> str:
    """Text safe for any UTF-8 encoder: lone surrogates replaced with U+FFFD (for inputs `loads` did not
    parse, such as form fields or headers)."""
    return _LONE_SURROGATE.sub("\ufffd", text)


# Attribute values lifted out of a message for queries (statuses, roles, reasons, provider ids) are
# closed vocabularies or ids: anything else (free text, a planted phone number, 2,000 characters) is
# replaced with its digest, because attributes are not redacted like the body is.
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_.:\-]{0,63}")
# Costs and durations: a real value is far inside this; anything outside stays in the body only.
MAX_ATTRIBUTE_NUMBER = 1e9
MIN_ATTRIBUTE_NUMBER = 1e-9


def token_attribute(value: str) -> str:
    return value if _TOKEN.fullmatch(value) else key_part(value, 0)


def number_attribute(value: float) -> float | None:
    """The number when it is finite and within +-MAX_ATTRIBUTE_NUMBER, else None (the stored body keeps
    what was sent, as JSON text: a JavaScript sender can send 1e200, DynamoDB cannot hold it)."""
    if isinstance(value, bool) or not math.isfinite(value) or abs(value) > MAX_ATTRIBUTE_NUMBER:
        return None
    # Below DynamoDB's smallest magnitude (1e-130) a write fails: anything this small is no real cost.
    return value if value == 0 or abs(value) >= MIN_ATTRIBUTE_NUMBER else None


def bounded_attributes(attributes: dict[str, str | int | float]) -> dict[str, str | int | float]:
    """Message-derived attributes made safe to store and query (see token_attribute, number_attribute)."""
    bounded: dict[str, str | int | float] = {}
    for name, value in attributes.items():
        if isinstance(value, str):
            bounded[name] = token_attribute(value)
        elif (number := number_attribute(value)) is not None:
            bounded[name] = number
    return bounded
