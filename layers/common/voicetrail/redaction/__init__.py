"""PII/PHI redaction for call transcripts (baseline: numeric forms; voice-grade engine follows)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

KINDS: tuple[str, ...] = (
    "ssn",
    "card",
    "cvv",
    "expiry",
    "phone",
    "email",
    "dob",
    "member_id",
    "name",
    "address",
    "zip",
)
DEFAULT_PLACEHOLDERS: Mapping[str, str] = {k: f"[{k.upper()}]" for k in KINDS}


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Redaction:
    text: str
    findings: tuple[Finding, ...] = ()

    def counts(self) -> dict[str, int]:
        return dict(Counter(f.kind for f in self.findings))


@dataclass(frozen=True, slots=True)
class Turn:
    role: str
    text: str


@dataclass(frozen=True, slots=True)
class RedactionPolicy:
    kinds: frozenset[str] = frozenset(KINDS)
    placeholders: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PLACEHOLDERS))

    @classmethod
    def from_env_value(cls, value: str) -> RedactionPolicy:
        kinds = frozenset(k.strip().lower() for k in value.split(",") if k.strip())
        unknown = kinds - set(KINDS)
        if unknown:
            raise ValueError(f"unknown redaction kinds: {sorted(unknown)}")
        return cls(kinds=kinds)

    def placeholder(self, kind: str) -> str:
        return self.placeholders.get(kind, f"[{kind.upper()}]")


DEFAULT_POLICY = RedactionPolicy()

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("ssn", re.compile(r"\b\d{3}[- ]\d{2}[- ]\d{4}\b")),
    ("card", re.compile(r"\b(?:\d[ -]?){12,18}\d\b")),
    ("phone", re.compile(r"(?:\+?1[ .-]?)?\(?\b\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}\b")),
    ("cvv", re.compile(r"(?i)(?<=\b(?:cvv|cvc)\W)\s*\d{3,4}\b")),
)


def redact(text: str, policy: RedactionPolicy = DEFAULT_POLICY) -> Redaction:
    spans: list[Finding] = []
    for kind, pattern in _PATTERNS:
        if kind not in policy.kinds:
            continue
        for m in pattern.finditer(text):
            if not any(f.start < m.end() and m.start() < f.end for f in spans):
                spans.append(Finding(kind, m.start(), m.end()))
    spans.sort(key=lambda f: f.start)
    out: list[str] = []
    pos = 0
    for f in spans:
        out.append(text[pos : f.start])
        out.append(policy.placeholder(f.kind))
        pos = f.end
    out.append(text[pos:])
    return Redaction("".join(out), tuple(spans))


def redact_turns(turns: Sequence[Turn], policy: RedactionPolicy = DEFAULT_POLICY) -> list[Redaction]:
    return [redact(t.text, policy) for t in turns]


def redact_log_value(value: object) -> object:
    if isinstance(value, str):
        return redact(value).text if any(c.isdigit() or c == "@" for c in value) else value
    if isinstance(value, dict):
        return {k: redact_log_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        items: Iterable[object] = (redact_log_value(v) for v in value)
        return list(items) if isinstance(value, list) else tuple(items)
    return value
