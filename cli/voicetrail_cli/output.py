"""How operator commands print: JSON with --json, else rich tables.

Piped (`| tail`, `> file`), rich would assume 80 columns and squeeze a wide table into `per… cal…`.
`show` measures what the table needs and prints it at that width when stdout is not a terminal; on a
terminal the terminal's width wins, as usual. On a terminal (or with COLUMNS set) a wide table does not
squeeze its cells: `fitted_table` leaves out its least important columns until it fits, says which in its
caption, and `--wide` keeps them all. Identifiers, times and money are never cut.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.cells import cell_len
from rich.console import Console, JustifyMethod, RenderableType
from rich.measure import Measurement
from rich.table import Table

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


# ---- tables that fit the terminal ------------------------------------------------------------------------

WRAP_WIDTH = 24  # a free-text column that may wrap is counted at most this wide
WideOpt = Annotated[
    bool, typer.Option("--wide", help="Every column, whatever the terminal's width (--json for machines).")
]


@dataclass(frozen=True)
class Column:
    """A table column. `priority` 1 is never left out; higher numbers go first when the terminal is narrow.
    `wrap`: free text that may wrap onto more lines instead of being left out."""

    name: str
    priority: int = 1
    justify: JustifyMethod = "left"
    wrap: bool = False


def target_width(out: Console | None = None) -> int | None:
    """The width to fit tables to: the terminal's, or COLUMNS when set; None when piped (full width)."""
    out = out or console()
    if out.is_terminal or os.environ.get("COLUMNS", "").isdigit():
        return out.width
    return None


def fit_columns(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int | None
) -> tuple[list[int], list[str]]:
    """(indexes of the columns to keep, names of those left out) so the table fits in `width` columns."""
    natural = [
        max([cell_len(column.name), *(cell_len(row[n]) for row in rows)]) for n, column in enumerate(columns)
    ]
    counted = [min(w, WRAP_WIDTH) if c.wrap else w for w, c in zip(natural, columns, strict=True)]
    kept = list(range(len(columns)))
    if width is None:
        return kept, []

    def total() -> int:  # cell padding (1 + 1) and one border per column, plus the closing border
        return sum(counted[n] + 3 for n in kept) + 1

    dropped: list[str] = []
    droppable = sorted(
        (n for n, c in enumerate(columns) if c.priority > 1), key=lambda n: -columns[n].priority
    )
    for n in droppable:
        if total() <= width:
            break
        kept.remove(n)
        dropped.append(columns[n].name)
    return kept, dropped


def fitted_table(
    title: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    width: int | None,
    wide: bool = False,
    total: Sequence[str] | None = None,
    after_total: Sequence[Sequence[str]] = (),
) -> Table:
    """A table of `rows` (and a bold `total` row after a rule, then `after_total` rows after another) with
    the columns that fit `width`; the caption names the columns left out and how to see them."""
    every = [*rows, *([total] if total is not None else []), *after_total]
    kept, dropped = fit_columns(columns, every, None if wide else width)
    caption = (
        f"left out to fit {width} columns: {', '.join(dropped)} (--wide shows them)" if dropped else None
    )
    table = Table(title=title, caption=caption)
    for n in kept:
        column = columns[n]
        table.add_column(column.name, justify=column.justify, no_wrap=not column.wrap, overflow="fold")
    for row in rows:
        table.add_row(*(row[n] for n in kept))
    if total is not None:
        table.add_section()
        table.add_row(*(total[n] for n in kept), style="bold")
    if after_total:
        table.add_section()
        for row in after_total:
            table.add_row(*(row[n] for n in kept))
    return table
