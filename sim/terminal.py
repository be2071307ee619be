"""Tables of figures by calendar year that fit the terminal they are printed to.

A figure with its range takes two lines of one cell (the mean, and beneath it the range), so a
column is as wide as its widest number, not as a sentence; money is shown in £k or £m. Where the
years do not fit the width side by side, they are split over as many tables as needed, each
with the measure names again, rather than wrapped or cut: piped output is 80 columns, and a
wide terminal gets every year in one table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich import box
from rich.table import Table
from rich.text import Text

from sim.measures import format_value, unit

PADDING = 3  # a column's padding, one space each side, and the space between columns


@dataclass(frozen=True)
class Row:
    label: str
    cells: Sequence[str]  # one per year; a range on a second line


def figure(measure: str, value: float | None, signed: bool = False) -> str:
    """A value as the terminal shows it: as sim.measures formats it, money in £k or £m."""
    if unit(measure) == "£" and value is not None and not math.isnan(value) and abs(value) >= 10_000:
        sign = "−" if value < 0 else ("+" if signed and value > 0 else "")
        size = abs(value)
        return f"{sign}£{size / 1e6:,.2f}m" if size >= 1e6 else f"{sign}£{size / 1e3:,.0f}k"
    return format_value(measure, value, signed)


def with_range(measure: str, middle: float, low: float, high: float, signed: bool = False) -> str:
    """The middle figure, and its range beneath it (`low–high`; `low to high` between signed figures,
    where a dash would read as a minus)."""
    between = " to " if signed else "–"
    return f"{figure(measure, middle, signed)}\n{figure(measure, low, signed)}{between}{figure(measure, high, signed)}"


def _width(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def year_tables(title: str, years: Sequence[str], rows: Sequence[Row], width: int) -> list[Table]:
    """`rows` by `years`, as one table or, where they do not fit `width`, several with fewer years."""
    label_width = max([_width(r.label) for r in rows] + [len("Measure")])
    year_width = max([_width(cell) for r in rows for cell in r.cells] + [len(y) for y in years] + [1])
    fit = max(1, (width - label_width - PADDING) // (year_width + PADDING))
    parts = math.ceil(len(years) / fit) if years else 1
    per_table = math.ceil(len(years) / parts) if years else 0
    tables = []
    for part in range(parts):
        columns = range(part * per_table, min(len(years), (part + 1) * per_table))
        suffix = f" ({part + 1} of {parts})" if parts > 1 else ""
        view = Table(title=title + suffix, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        view.add_column("Measure", no_wrap=True)
        for i in columns:
            view.add_column(years[i], justify="right", no_wrap=True)
        for row in rows:
            view.add_row(row.label, *(_cell(row.cells[i]) for i in columns))
        tables.append(view)
    return tables


def _cell(text: str) -> Text:
    """A figure, its range (the second line) dimmed."""
    first, _, second = text.partition("\n")
    cell = Text(first)
    if second:
        cell.append("\n" + second, style="dim")
    return cell
