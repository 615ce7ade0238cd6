"""The documentation's generated reference pages match the code, and the hand-written pages keep the
promises the generated ones rely on (a runbook entry per alarm, words for users, a short README)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from tools import docgen
from voicetrail_cli.ops.template import REPO_ROOT, load_template

pytestmark = pytest.mark.unit
DOCS = REPO_ROOT / "docs"
TEMPLATE = load_template()
ALARMS = docgen.alarms(TEMPLATE)


@pytest.mark.parametrize("name", sorted(docgen.PAGES))
def test_generated_page_is_current(name: str) -> None:
    page = DOCS / name
    assert page.exists(), f"docs/{name} is missing: run make docs-ref"
    assert page.read_text(encoding="utf-8") == docgen.PAGES[name](), (
        f"docs/{name} differs from the code: run make docs-ref and commit the result"
    )


def test_check_mode_names_a_stale_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two cheap pages stand for all of them (the CLI and metrics pages take longer to render).
    pages = {n: docgen.PAGES[n] for n in ("reference/parameters.md", "runbook/index.md")}
    monkeypatch.setattr(docgen, "PAGES", pages)
    monkeypatch.setattr(docgen, "DOCS", tmp_path)
    assert docgen.main(["--check"]) == 1  # missing pages are stale too
    assert docgen.main([]) == 0
    assert docgen.main(["--check"]) == 0
    (tmp_path / "reference/parameters.md").write_text("# Parameters\n\nout of date\n", encoding="utf-8")
    assert docgen.main(["--check"]) == 1
    assert docgen.main([]) == 0  # rewrites it
    assert docgen.main(["--check"]) == 0


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_every_alarm_has_a_runbook_entry(alarm: str) -> None:
    entry = DOCS / "runbook" / f"{alarm}.md"
    assert entry.exists(), f"alarm {alarm} has no runbook entry docs/runbook/{alarm}.md"
    text = entry.read_text(encoding="utf-8")
    headings = {
        "what it means": r"^## What it means\s*$",
        "the first checks": r"^## First (three )?checks\s*$",
        "the fix": r"^## (The )?[Ff]ix\s*$",
    }
    for what, pattern in headings.items():
        assert re.search(pattern, text, flags=re.MULTILINE), f"{entry.name}: no section for {what}"
    checks = re.split(r"^## First (?:three )?checks\s*$", text, flags=re.MULTILINE)[1]
    checks = re.split(r"^## ", checks, flags=re.MULTILINE)[0]
    numbered = re.findall(r"^([0-9]+)\. ", checks, flags=re.MULTILINE)
    assert numbered[:3] == ["1", "2", "3"], f"{entry.name}: the first three checks are not numbered 1-3"


def test_every_alarm_on_our_namespace_watches_a_metric_the_code_emits() -> None:
    emitted = docgen.collect_metrics()
    for alarm, props in ALARMS.items():
        namespace = props.get("Namespace")
        if isinstance(namespace, str) and namespace.startswith("AWS/"):
            continue
        for metric in docgen.alarm_metric_names(props):
            assert metric in emitted, f"{alarm} watches {metric}, which no code emits"


def test_metric_scan_resolves_constants_dicts_and_wrappers(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "mod.py").write_text(
        textwrap.dedent(
            """
            STARTED = "CallsStarted"
            FINAL = {"completed": "CallsCompleted", "busy": "CallsBusy"}

            class Emitter:
                def started(self):
                    self._metrics.count(STARTED)

                def ended(self, status):
                    name = FINAL.get(status)
                    self._recorder.count(name)
                    self._recorder.value("CallDuration", 3.0, "Seconds")

                def decided(self, granted):
                    self._metrics.count("ConsentGranted" if granted else "ConsentDenied", source="vapi")

                def _count(self, name):
                    self._metrics.count(name, source="vapi")

                def broken(self):
                    self._count("LiveConfigBroken")

                def not_a_metric(self, text):
                    return text.count("x")

                def per_call(self, p95, avg):
                    for name, value in ((STARTED, p95), ("ModelLatency", avg)):
                        self._recorder.value(name, value, "Milliseconds")
            """
        ),
        encoding="utf-8",
    )
    metrics = docgen.collect_metrics(package)
    assert sorted(metrics) == [
        "CallDuration",
        "CallsBusy",
        "CallsCompleted",
        "CallsStarted",
        "ConsentDenied",
        "ConsentGranted",
        "LiveConfigBroken",
        "ModelLatency",
    ]
    assert metrics["CallDuration"].unit == "Seconds"
    assert metrics["ConsentGranted"].dimensions == {"source"}
    assert metrics["LiveConfigBroken"].dimensions == {"source"}  # from the wrapper


def test_metric_scan_refuses_a_name_it_cannot_resolve(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text(
        "def emit(metrics, suffix):\n    name = 'Calls' + suffix\n    metrics.count(name)\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="cannot tell which metric name"):
        docgen.collect_metrics(tmp_path)


def test_reference_pages_cover_the_template() -> None:
    parameters = (DOCS / "reference/parameters.md").read_text(encoding="utf-8")
    environment = (DOCS / "reference/environment.md").read_text(encoding="utf-8")
    for name in TEMPLATE["Parameters"]:
        assert f"| `{name}` |" in parameters
    for fn in docgen_functions():
        for var in fn:
            assert f"| `{var}` |" in environment


def docgen_functions() -> list[dict[str, object]]:
    globals_env = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    return [globals_env] + [
        r["Properties"].get("Environment", {}).get("Variables", {})
        for r in TEMPLATE["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    ]


# Words written for the team rather than for users. Checked in every page, the README and the
# repository's user-facing Markdown files.
INTERNAL_WORDING = [
    r"\bissue \d+",
    r"\(issue \d",
    r"\bthe lead\b",
    r"this 2-core machine",
    r"fixed by their owners",
    r"required floor",
    r"\bREADME\.md, \"",
]
USER_FACING = [
    REPO_ROOT / "README.md",
    REPO_ROOT / "CONTRIBUTING.md",
    REPO_ROOT / "SECURITY.md",
    REPO_ROOT / "CHANGELOG.md",
    *sorted(DOCS.rglob("*.md")),
]


@pytest.mark.parametrize("path", USER_FACING, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_words_for_users(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for pattern in INTERNAL_WORDING:
        match = re.search(pattern, text, flags=re.IGNORECASE)
        assert match is None, f"{path.name}: team wording {match.group(0)!r}"


def test_readme_is_short_and_keeps_the_two_commands() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode("utf-8")) < 10_000
    assert "make demo" in readme and "make test" in readme
    assert "LICENSE" in readme and "MIT" in (REPO_ROOT / "LICENSE").read_text(encoding="utf-8")
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, flags=re.MULTILINE), "CI must run make test"


def _nav_pages(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [page for value in node.values() for page in _nav_pages(value)]
    if isinstance(node, list):
        return [page for item in node for page in _nav_pages(item)]
    return []


def test_every_page_is_in_the_navigation() -> None:
    """Runbook entries are reached from the runbook index; every other page needs a place in the nav."""
    import yaml

    config = yaml.safe_load((REPO_ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    in_nav = set(_nav_pages(config["nav"]))
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    missing = sorted(p for p in pages - in_nav if not p.startswith("runbook/") or p == "runbook/index.md")
    assert not missing, f"add these pages to the nav in mkdocs.yml: {missing}"
    assert not in_nav - pages, f"the nav names pages that do not exist: {sorted(in_nav - pages)}"
