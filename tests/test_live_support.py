"""Shared test support for voicetrail.domain.live: Vapi's OpenAPI schemas, closed, and a fake control server.

Vapi rejects unknown properties ("property X should not exist"), but the spec leaves most objects
open. `vapi_schema(name)` returns a validator for a component schema in which every object that lists
`properties` forbids the others. Spec artifacts (NestJS/TypeScript generator output that no JSON Schema
validator reads the way Vapi's own TypeScript does) are repaired, each narrowly:
  * `serverMessages`/`clientMessages` carry `{"type": "array", "enum": [...]}`: the enum belongs to the
    items (which repeat it), so the array-level enum is dropped (or moved to `items`);
  * "open enums" `oneOf: [{type: string, enum: [...]}, {type: string}]` (TypeScript `Literal | string`):
    a known value matches both branches, which `oneOf` forbids; inline-only `oneOf`s become `anyOf`
    (`oneOf`s of `$ref`s, the real discriminated unions, stay strict);
  * JavaScript regex literals in `pattern` (`/^...$/`) lose their slashes;
  * OpenAPI 3.0 `nullable` is ignored (we never send null).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).resolve().parents[2] / "shared" / "reference" / "vapi-openapi" / "openapi.json"
if not SPEC_PATH.exists():  # the repo may sit elsewhere: fall back to the workspace copy
    SPEC_PATH = Path("/work/shared/reference/vapi-openapi/openapi.json")


def _close(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _close(v) for k, v in node.items()}
        if out.get("type") == "array" and "enum" in out:
            enum = out.pop("enum")
            out.setdefault("items", {"type": "string", "enum": enum})
        one_of = out.get("oneOf")
        if isinstance(one_of, list) and all(isinstance(b, dict) and "$ref" not in b for b in one_of):
            out["anyOf"] = out.pop("oneOf")
        pattern = out.get("pattern")
        if (
            isinstance(pattern, str)
            and len(pattern) > 2
            and pattern.startswith("/")
            and pattern.endswith("/")
        ):
            out["pattern"] = pattern[1:-1]
        if (
            "properties" in out
            and "additionalProperties" not in out
            and out.get("type", "object") == "object"
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_close(v) for v in node]
    return node


@cache
def _closed_spec() -> dict[str, Any]:
    spec = json.loads(SPEC_PATH.read_text())
    return {"components": {"schemas": _close(copy.deepcopy(spec["components"]["schemas"]))}}


@cache
def vapi_schema(name: str) -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    spec = _closed_spec()
    registry: Registry[Any] = Registry().with_resource(
        "urn:vapi", Resource(contents=spec, specification=DRAFT202012)
    )
    schema = {"$ref": f"urn:vapi#/components/schemas/{name}"}
    return Draft202012Validator(schema, registry=registry)


def schema_errors(name: str, document: Any) -> list[str]:
    """Readable errors: the deepest ones of a failed oneOf are the interesting ones."""
    validator = vapi_schema(name)
    messages: list[str] = []
    for error in validator.iter_errors(document):
        leaves = list(_leaves(error))
        messages.extend(f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in leaves[:6])
    return messages


def _leaves(error: Any) -> Iterator[Any]:
    if not error.context:
        yield error
        return
    for sub in error.context:
        yield from _leaves(sub)


def assert_valid(name: str, document: Any) -> None:
    errors = schema_errors(name, document)
    assert not errors, f"{name} rejects the document:\n" + "\n".join(errors[:20])


# The fake Live Call Control server lives with the demo scenarios (one implementation).
from voicetrail_cli.dev.live_scenarios import FakeControlServer  # noqa: E402

__all__ = ["FakeControlServer", "assert_valid", "schema_errors", "vapi_schema"]
