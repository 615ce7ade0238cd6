"""DynamoDB attribute values and the one update-expression builder every adapter uses.

Pure Python: builds the request parameters, never calls DynamoDB. Names and values in an expression are
always placeholders (`#a0`, `:v0`), so a reserved word (`status`, `name`, `source`...) is never a surprise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from voicetrail.domain.retention.classes import RetentionClass
from voicetrail.storage.table import PK, SK, expiry_bucket, expiry_sk

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]


def s(value: str) -> AttributeValue:
    return {"S": value}


# What a DynamoDB number can be: a magnitude from 1E-130 to below 1E+126, at most 38 significant digits
# (DynamoDB developer guide, "Data types: Number"). Anything else fails the write with a ValidationException.
_NUMBER_MAX = 1e126
_NUMBER_MIN = 1e-130
_NUMBER_DIGITS = 38


def is_dynamo_number(value: float) -> bool:
    """Whether DynamoDB can store this number (NaN, the infinities and out-of-range magnitudes it cannot)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return len(str(abs(value)).rstrip("0")) <= _NUMBER_DIGITS and abs(value) < _NUMBER_MAX
    return math.isfinite(value) and (value == 0 or _NUMBER_MIN <= abs(value) < _NUMBER_MAX)


def n(value: float) -> AttributeValue:
    """A number; integral values are written without a fraction (as every writer always did).
    Raises ValueError for a number DynamoDB cannot hold: a permanent failure (voicetrail.storage.failures)."""
    if not is_dynamo_number(value):
        raise ValueError("not a number DynamoDB can store")
    if isinstance(value, int):
        return {"N": str(value)}
    # A large integral float is written in exponent form: int(1e100) would print 101 digits.
    return {"N": str(int(value)) if value.is_integer() and abs(value) < 1e18 else repr(value)}


def boolean(value: bool) -> AttributeValue:
    return {"BOOL": value}


def string_set(values: list[str] | tuple[str, ...] | frozenset[str] | set[str]) -> AttributeValue:
    return {"SS": sorted(values)}


def key(pk: str, sk: str) -> Item:
    return {PK: s(pk), SK: s(sk)}


def get_s(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return str(value["S"]) if isinstance(value, dict) and "S" in value else None


def get_n(item: Mapping[str, Any], name: str) -> float | None:
    value = item.get(name)
    return float(value["N"]) if isinstance(value, dict) and "N" in value else None


def get_bool(item: Mapping[str, Any], name: str) -> bool:
    value = item.get(name)
    return bool(value.get("BOOL")) if isinstance(value, dict) else False


def get_ss(item: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = item.get(name)
    return tuple(sorted(value.get("SS", []))) if isinstance(value, dict) else ()


def expiry_attributes(pk: str, sk: str, retention_class: RetentionClass, expires_at: int) -> Item:
    """What every purgeable item carries: its class, its TTL and its ExpiryIndex keys."""
    return {
        "retention_class": s(retention_class.value),
        "expires_at": n(expires_at),
        "exp_bucket": s(expiry_bucket(expires_at, pk)),
        "exp_sk": s(expiry_sk(expires_at, pk, sk)),
    }


class UpdateBuilder:
    """Builds the parameters of one UpdateItem: SET and ADD clauses and an optional condition."""

    def __init__(self) -> None:
        self.sets: list[str] = []
        self.adds: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self.condition: str | None = None
        self.expiry_values: Item = {}  # what `expiry` set: the writer records its bucket first (note_expiry)

    def name(self, attr: str) -> str:
        for placeholder, existing in self.names.items():
            if existing == attr:
                return placeholder
        placeholder = f"#a{len(self.names)}"
        self.names[placeholder] = attr
        return placeholder

    def value(self, value: AttributeValue) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def set(self, attr: str, value: AttributeValue) -> None:
        self.sets.append(f"{self.name(attr)} = {self.value(value)}")

    def set_all(self, attributes: Mapping[str, AttributeValue]) -> None:
        for attr, value in attributes.items():
            self.set(attr, value)

    def set_present(self, texts: Mapping[str, str | None], numbers: Mapping[str, float | None]) -> None:
        """SET each attribute that has a value (empty texts and None numbers are left as they are)."""
        for attr, text in texts.items():
            if text:
                self.set(attr, s(text))
        for attr, number in numbers.items():
            if number is not None:
                self.set(attr, n(number))

    def set_if_absent(self, attr: str, value: AttributeValue) -> None:
        name = self.name(attr)
        self.sets.append(f"{name} = if_not_exists({name}, {self.value(value)})")

    def set_if_absent_from(self, attr: str, source_attr: str) -> None:
        """SET attr to another attribute's current value, unless attr is already there."""
        name = self.name(attr)
        self.sets.append(f"{name} = if_not_exists({name}, {self.name(source_attr)})")

    def increment(self, attr: str, by: int = 1) -> None:
        name = self.name(attr)
        self.sets.append(f"{name} = if_not_exists({name}, {self.value(n(0))}) + {self.value(n(by))}")

    def add(self, attr: str, value: AttributeValue) -> None:
        self.adds.append(f"{self.name(attr)} {self.value(value)}")

    def expiry(self, pk: str, sk: str, retention_class: RetentionClass, expires_at: int) -> None:
        self.expiry_values = expiry_attributes(pk, sk, retention_class, expires_at)
        self.set_all(self.expiry_values)

    def expression(self) -> str:
        parts = []
        if self.sets:
            parts.append("SET " + ", ".join(self.sets))
        if self.adds:
            parts.append("ADD " + ", ".join(self.adds))
        return " ".join(parts)

    def params(self) -> dict[str, Any]:
        """UpdateExpression, names, values and the condition, ready for `update_item(**params)`."""
        params: dict[str, Any] = {
            "UpdateExpression": self.expression(),
            "ExpressionAttributeNames": self.names,
            "ExpressionAttributeValues": self.values,
        }
        if self.condition:
            params["ConditionExpression"] = self.condition
        if not self.values:
            del params["ExpressionAttributeValues"]
        return params
