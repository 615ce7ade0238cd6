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


def test_the_redaction_data_files_ship() -> None:
    """The name tagger's weights and gazetteer are data files: the layer build copies the whole package
    (no filter that could drop them) and the package data of pyproject.toml names every one of them."""
    import fnmatch
    import tomllib

    makefile = (ROOT / "layers" / "common" / "Makefile").read_text()
    assert "shutil.copytree('voicetrail'" in makefile
    assert "ignore_patterns('__pycache__')" in makefile
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    data = sorted((ROOT / "layers" / "common" / "voicetrail" / "redaction" / "data").iterdir())
    assert {p.name for p in data} >= {"name_tagger.bin", "name_gazetteer.txt"}
    for path in data:
        relative = f"redaction/data/{path.name}"
        assert any(fnmatch.fnmatch(relative, p) for p in patterns["voicetrail"]), relative
    assert not (ROOT / "layers" / "common" / "voicetrail" / "redaction" / "_name_model.py").exists()


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


def test_the_gazetteer_reads_the_same_gzipped_as_the_layer_ships_it(tmp_path: Path) -> None:
    import gzip

    from voicetrail.redaction._names import GAZETTEER_PATH, read_gazetteer

    plain = Path(GAZETTEER_PATH).read_bytes()
    packed = tmp_path / "name_gazetteer.txt"
    Path(str(packed) + ".gz").write_bytes(gzip.compress(plain, 9, mtime=0))
    assert read_gazetteer(str(packed)) == plain == read_gazetteer(GAZETTEER_PATH)
    assert "name_gazetteer.txt'" in (ROOT / "layers" / "common" / "Makefile").read_text().replace('"', "'")
