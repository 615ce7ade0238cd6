"""The layer's layout figures (docs/concepts/architecture.md): import circles, modules at the root, the
largest hand-written module, generated modules over 200 KB, domain modules importing the table model, and
test doubles in the layer. Stdlib only; TYPE_CHECKING imports count.

    python tools/layout_figures.py [REPO_ROOT]      (default: this checkout)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOUBLE_PREFIXES = ("InMemory", "Memory", "Fake", "Static")
# Where the domain lived before the layout (issue 23), so that an older checkout is measured the same way.
OLD_DOMAIN = (
    "voicetrail.audit",
    "voicetrail.calls",
    "voicetrail.erasure",
    "voicetrail.live.config",
    "voicetrail.retention_purge.external",
    "voicetrail.retention_purge.purge",
    "voicetrail.vapi.service",
)
TABLE_MODULES = ("voicetrail.storage.model", "voicetrail.storage.table")


def layer_modules(package: Path) -> dict[str, Path]:
    modules = {}
    for path in package.rglob("*.py"):
        name = ".".join(path.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    return modules


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in known}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(sorted(graph[root])))]
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def main(root: Path) -> None:
    package = root / "layers" / "common" / "voicetrail"
    modules = layer_modules(package)
    graph = {name: imports(path, modules) - {name} for name, path in modules.items()}
    print("import circles:", len(circles(graph)), circles(graph)[:3])
    print("modules at the layer root:", len(list(package.glob("*.py"))))
    sources = [
        p for d in ("layers/common/voicetrail", "cli", "functions", "tools") for p in (root / d).rglob("*.py")
    ]
    hand_written = [p for p in sources if not p.name.startswith("_name_model")]
    largest = max(hand_written, key=lambda p: len(p.read_text(encoding="utf-8").splitlines()))
    print("largest hand-written module:", largest.relative_to(root), len(largest.read_text().splitlines()))
    big = [
        (str(p.relative_to(root)), p.stat().st_size)
        for p in package.rglob("*.py")
        if p.stat().st_size > 200_000
    ]
    print("Python modules over 200 KB in the layer:", big)
    domain = [m for m in modules if m.startswith("voicetrail.domain.") or m in OLD_DOMAIN]
    on_table = sorted(m for m in domain if any(x.startswith(TABLE_MODULES) for x in graph[m]))
    print("domain modules importing the table model:", len(on_table), on_table)
    doubles = [
        f"{path.relative_to(package)}:{node.name}"
        for path in package.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef) and node.name.startswith(DOUBLE_PREFIXES)
    ]
    print("test doubles in the layer:", len(doubles), doubles[:8])


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])
