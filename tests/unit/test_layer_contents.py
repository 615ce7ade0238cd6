"""What layers/common/Makefile removes from the layer must never be imported by the code that runs on it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
# Module prefixes whose files the layer build deletes (layers/common/Makefile).
REMOVED = ("phonenumbers.geocoder", "phonenumbers.geodata", "phonenumbers.carrier", "pydantic.v1")


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_the_makefile_removes_what_this_test_guards() -> None:
    makefile = (ROOT / "layers" / "common" / "Makefile").read_text()
    for directory in ("phonenumbers/geodata", "phonenumbers/carrierdata", "pydantic/v1"):
        assert re.search(rf"rm -rf .*{re.escape(directory)}", makefile, re.S), directory


def test_nothing_on_the_layer_imports_what_the_build_removes() -> None:
    sources = [
        *(ROOT / "layers" / "common" / "voicetrail").rglob("*.py"),
        *(ROOT / "functions").glob("*/app.py"),
    ]
    assert len(sources) > 20
    for path in sources:
        bad = {m for m in imported_modules(path) if m.startswith(REMOVED)}
        assert not bad, (path, bad)


# Test doubles live in tests/support and tests/fakes: nothing in the layer is only for tests.
_DOUBLE_PREFIXES = ("InMemory", "Memory", "Fake", "Stub", "Dummy", "Static")


def test_no_test_double_ships_in_the_layer() -> None:
    doubles = []
    for path in (ROOT / "layers" / "common" / "voicetrail").rglob("*.py"):
        assert path.stem not in ("memory", "inmemory", "fakes"), path
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef) and node.name.startswith(_DOUBLE_PREFIXES):
                doubles.append(f"{path.name}:{node.name}")
    assert doubles == []


def test_the_layer_root_holds_few_modules() -> None:
    root = ROOT / "layers" / "common" / "voicetrail"
    assert len(list(root.glob("*.py"))) <= 8
