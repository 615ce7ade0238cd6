"""The one walk over a parsed JSON tree: an explicit stack, so no depth can exhaust Python's recursion.

Pure: it knows nothing of where the tree came from. The transport parses a sender's body within bounds
(voicetrail.transport.payload) and repairs it with this walk; the domain blanks a quarantined body with it
(voicetrail.domain.quarantine); the providers sanitise and fingerprint messages with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Generic, NamedTuple, TypeVar

Ctx = TypeVar("Ctx")


class Leaf(NamedTuple):
    """A value the walk keeps (or replaces) as is."""

    value: Any


class Branch(NamedTuple, Generic[Ctx]):
    """A container the walk descends into: an empty output container and its entries, each
    (key or index in the output, child value, the child's context)."""

    container: dict[Any, Any] | list[Any]
    entries: Iterable[tuple[Any, Any, Ctx]]


Step = Callable[[Any, Ctx], "Leaf | Branch[Ctx]"]


def rebuild(root: Any, ctx: Ctx, step: Step[Ctx]) -> Any:
    """A new tree from `root`: `step` maps each node to a Leaf or a Branch, visited in document order.

    Output containers are created when their node is visited and filled as their children are, so the
    result keeps the input's key order; a Branch may leave entries out (dropped keys).
    """
    holder: list[Any] = [None]
    stack: list[tuple[Any, Ctx, dict[Any, Any] | list[Any], Any]] = [(root, ctx, holder, 0)]
    while stack:
        value, context, parent, slot = stack.pop()
        result = step(value, context)
        if isinstance(result, Leaf):
            _put(parent, slot, result.value)
            continue
        container = result.container
        _put(parent, slot, container)
        children = list(result.entries)
        if isinstance(container, list):
            container.extend([None] * len(children))
            children = [(index, child, child_ctx) for index, (_, child, child_ctx) in enumerate(children)]
        else:
            container.update(dict.fromkeys(key for key, _, _ in children))
        stack.extend((child, child_ctx, container, key) for key, child, child_ctx in reversed(children))
    return holder[0]


def _put(container: dict[Any, Any] | list[Any], slot: Any, value: Any) -> None:
    container[slot] = value
