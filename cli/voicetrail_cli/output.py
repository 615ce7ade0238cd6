"""How operator commands print: JSON with --json, else rich tables whose width comes from their content.

Piped (`| tail`, `> file`), rich would assume 80 columns and squeeze a wide table into `per… cal…`.
`show` measures what the table needs and prints it at that width when stdout is not a terminal; on a
terminal the terminal's width wins, as usual.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console, RenderableType
from rich.measure import Measurement

MAX_PIPED_WIDTH = 400


def emit_json(payload: Any) -> None:
    print(json.dumps(payload, indent=2, sort_keys=True, default=str))


def console(*, stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False)


def show(*renderables: RenderableType, stderr: bool = False, out: Console | None = None) -> None:
    """Print; when not on a terminal, at the width the content needs (up to MAX_PIPED_WIDTH)."""
    out = out or console(stderr=stderr)
    if out.is_terminal:
        for renderable in renderables:
            out.print(renderable)
        return
    wide = out.options.update(max_width=MAX_PIPED_WIDTH)
    widths = [Measurement.get(out, wide, r).maximum for r in renderables if not isinstance(r, str)]
    original = out.width
    out.width = min(max([original, *widths]), MAX_PIPED_WIDTH)  # print() alone cannot go wider
    try:
        for renderable in renderables:
            out.print(renderable)
    finally:
        out.width = original
