"""Value types of the redaction API: findings, results, turns and the per-deployment policy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from types import MappingProxyType

# Every kind the detectors can emit. The identifier kinds are split so a deployment can count (and
# choose) them separately; `number` is a long digit string nothing else explains.
KINDS: tuple[str, ...] = (
    "ssn",
    "card",
    "cvv",
    "expiry",
    "phone",
    "email",
    "dob",
    "member_id",
    "mrn",
    "medicare",
    "account",
    "routing",
    "license",
    "passport",
    "name",
    "address",
    "zip",
    "number",
    "location",
)
# Redacted unless a deployment chooses otherwise. `location` (a city, town or county tied to a person) is
# off: most deployments need "calling from Fresno" to stay readable, and HIPAA Safe Harbor deployments turn
# it on with the `phi` group.
DEFAULT_KINDS: frozenset[str] = frozenset(KINDS) - {"location"}

# Groups accepted in VOICETRAIL_REDACT_KINDS next to single kinds.
KIND_GROUPS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "all": frozenset(KINDS),
        "default": DEFAULT_KINDS,
        "phi": frozenset(KINDS),  # HIPAA Safe Harbor: every identifier, geographic subdivisions included
        "pci": frozenset({"card", "cvv", "expiry"}),
        "ids": frozenset({"member_id", "mrn", "medicare", "account", "routing", "license", "passport"}),
    }
)

DEFAULT_PLACEHOLDERS: Mapping[str, str] = MappingProxyType(
    {
        "ssn": "[SSN]",
        "card": "[CARD]",
        "cvv": "[CVV]",
        "expiry": "[EXPIRY]",
        "phone": "[PHONE]",
        "email": "[EMAIL]",
        "dob": "[DOB]",
        "member_id": "[MEMBER_ID]",
        "mrn": "[MRN]",
        "medicare": "[MEDICARE_ID]",
        "account": "[ACCOUNT]",
        "routing": "[ROUTING]",
        "license": "[LICENSE]",
        "passport": "[PASSPORT]",
        "name": "[NAME]",
        "address": "[ADDRESS]",
        "zip": "[ZIP]",
        "number": "[NUMBER]",
        "location": "[LOCATION]",
    }
)

# Placeholders replace spans of at least a few characters, so a short cap keeps growth linear.
MAX_PLACEHOLDER_LEN = 32


class _Frozen:
    """Immutable value object without importing dataclasses (~7 ms of cold start)."""

    __slots__ = ()

    def _values(self) -> tuple[object, ...]:
        slots: tuple[str, ...] = self.__slots__
        return tuple(getattr(self, name) for name in slots)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Frozen) and type(other) is type(self) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *self._values()))

    def __repr__(self) -> str:
        slots: tuple[str, ...] = self.__slots__
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in slots)
        return f"{type(self).__name__}({fields})"


class Finding(_Frozen):
    """One redacted span: offsets index the ORIGINAL text; the value itself is never kept."""

    __slots__ = ("end", "kind", "start")
    kind: str
    start: int
    end: int

    def __init__(self, kind: str, start: int, end: int) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)


class Redaction(_Frozen):
    __slots__ = ("findings", "text")
    text: str
    findings: tuple[Finding, ...]

    def __init__(self, text: str, findings: tuple[Finding, ...] = ()) -> None:
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "findings", tuple(findings))

    def counts(self) -> dict[str, int]:
        return dict(Counter(f.kind for f in self.findings))


class Turn(_Frozen):
    __slots__ = ("role", "text")
    role: str
    text: str

    def __init__(self, role: str, text: str) -> None:
        object.__setattr__(self, "role", role)
        object.__setattr__(self, "text", text)


def _parse_kinds(names: Iterable[str]) -> frozenset[str]:
    kinds: set[str] = set()
    for raw in names:
        name = raw.strip().lower().replace("-", "_")
        if not name:
            continue
        if name in KIND_GROUPS:
            kinds |= KIND_GROUPS[name]
        elif name in DEFAULT_PLACEHOLDERS:
            kinds.add(name)
        else:
            raise ValueError(
                f"unknown redaction kind {name!r}; known: {', '.join(KINDS)}, {', '.join(KIND_GROUPS)}"
            )
    return frozenset(kinds)


class RedactionPolicy(_Frozen):
    """Which kinds are redacted and what replaces each. The default redacts every kind but `location`."""

    __slots__ = ("kinds", "placeholders")
    kinds: frozenset[str]
    placeholders: Mapping[str, str]

    def __init__(
        self, kinds: Iterable[str] = DEFAULT_KINDS, placeholders: Mapping[str, str] | None = None
    ) -> None:
        merged = {**DEFAULT_PLACEHOLDERS, **(placeholders or {})}
        for kind, text in merged.items():
            if kind not in DEFAULT_PLACEHOLDERS:
                raise ValueError(f"placeholder for unknown kind {kind!r}")
            if not 0 < len(text) <= MAX_PLACEHOLDER_LEN:
                raise ValueError(f"placeholder for {kind!r} must be 1..{MAX_PLACEHOLDER_LEN} characters")
        object.__setattr__(self, "kinds", _parse_kinds(kinds))
        object.__setattr__(self, "placeholders", MappingProxyType(merged))

    def __hash__(self) -> int:
        return hash((self.kinds, tuple(sorted(self.placeholders.items()))))

    @classmethod
    def from_env_value(cls, value: str, placeholders: Mapping[str, str] | None = None) -> RedactionPolicy:
        """`"ssn,card,cvv"` or groups (`pci`, `ids`, `default`, `phi`, `all`). Raises ValueError on an
        unknown kind or an empty list, so a typo fails the cold start instead of silently redacting less."""
        kinds = _parse_kinds(value.split(","))
        if not kinds:
            raise ValueError("VOICETRAIL_REDACT_KINDS names no kind")
        return cls(kinds=kinds, placeholders=placeholders)

    def placeholder(self, kind: str) -> str:
        return self.placeholders[kind]


DEFAULT_POLICY = RedactionPolicy()
