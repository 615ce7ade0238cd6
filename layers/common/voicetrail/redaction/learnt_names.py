"""The pattern that redacts names learnt in a message everywhere else in it ("Maria Gonzalez", "Maria",
"Gonzalez"), built so that its cost is linear in the text and bounded in size.

A plain alternation of every learnt name (`Maria Gonzalez|Gonzalez|Maria|...`) makes the regex engine try
every name at every word start: a transcript that teaches a thousand names costs a thousand times its length.
Here the names form a trie and the pattern follows it (`(?:gonzalez|mar(?:ia(?:\\ gonzalez)?|k))`), so a
position costs at most the length of the longest name, whatever their number. Longer continuations are
tried first, which gives the longest name at each position, as the alternation sorted longest-first did.
Patterns are cached by their set of names: the messages of one call learn the same names, so a warm
function builds each pattern once. The number of names is bounded (`MAX_NAMES`); a name beyond it was
still redacted where a detector found it, it is only not looked for again elsewhere in the message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MIN_PART = 3  # shorter parts ("Al", "Jo") are too often ordinary words to be redacted everywhere
MAX_NAMES = 2_000  # names and parts per pattern: bounds the pattern's size and build time
MAX_NAME_LENGTH = 80  # characters; a longer "name" is not a name worth propagating
_CACHE_SIZE = 32
_SPLIT = re.compile(r"[\s,.]+")
_cache: dict[frozenset[str], re.Pattern[str]] = {}

_Trie = dict[str, "_Trie"]
_END = ""  # the key that marks the end of a name in the trie (no character is empty)


def name_parts(names: Iterable[str]) -> set[str]:
    """Whole names and the words they are made of, lower-cased, each at least MIN_PART characters."""
    parts = {
        p.lower()
        for name in names
        if len(name) <= MAX_NAME_LENGTH
        for p in [name.strip(), *_SPLIT.split(name)]
        if len(p) >= MIN_PART
    }
    if len(parts) > MAX_NAMES:  # keep the longest (whole names first): a deterministic choice
        parts = set(sorted(parts, key=lambda p: (-len(p), p))[:MAX_NAMES])
    return parts


def learnt_names_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """A case-insensitive pattern matching any learnt name or name part as whole words; None if none."""
    parts = frozenset(name_parts(names))
    if not parts:
        return None
    pattern = _cache.get(parts)
    if pattern is None:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        pattern = _cache[parts] = re.compile(rf"(?<!\w)(?:{_trie_regex(parts)})(?!\w)", re.IGNORECASE)
    return pattern


def _trie_regex(parts: Iterable[str]) -> str:
    root: _Trie = {}
    for part in parts:
        node = root
        for ch in part:
            node = node.setdefault(ch, {})
        node[_END] = {}
    # iterative post-order walk (no recursion: names are outside input): each node's regex from its children
    done: dict[int, str] = {}
    stack: list[tuple[_Trie, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if not expanded:
            stack.append((node, True))
            stack.extend((child, False) for key, child in node.items() if key != _END)
            continue
        branches = [re.escape(ch) + done[id(child)] for ch, child in sorted(node.items()) if ch != _END]
        if not branches:
            done[id(node)] = ""
        elif _END in node:  # a name ends here and longer ones go on: try the longer ones first
            done[id(node)] = "(?:" + "|".join(branches) + ")?"
        elif len(branches) == 1:
            done[id(node)] = branches[0]
        else:
            done[id(node)] = "(?:" + "|".join(branches) + ")"
    return done[id(root)]
