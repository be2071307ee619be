"""The study's HTML page, in the report's style: the answer in a sentence, its uncertainty, the
candidates run again, the chart, the trials and how the numbers were made."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from sim.optimise.spec import Problem
from sim.outputs.report import STYLE, embed_figure


def money(value: float) -> str:
    return f"£{value / 1e6:,.2f}m" if abs(value) >= 1e5 else f"£{value:,.0f}"


def table_html(table: pd.DataFrame, columns: dict[str, str]) -> str:
    """A table of the named columns, headed by their labels; shares as percentages, £ as money."""
    head = "".join(f"<th>{html.escape(label)}</th>" for label in columns.values())
    rows = []
    for _, row in table.iterrows():
        cells = []
        for column in columns:
            value = row[column]
            if column.startswith("probability"):
                shown = f"{value:.0%}"
            elif column == "cost":
                shown = money(float(value))
            elif isinstance(value, bool):
                shown = "yes" if value else ""
            elif isinstance(value, float):
                shown = f"{value:,.4g}"
            else:
                shown = str(value)
            cells.append(f"<td>{html.escape(shown)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def document(problem: Problem, title: str, headline: list[str], sections: list[str], prov: dict, plots: Path) -> str:
    spec = problem.spec
    levers = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{html.escape(lever.kind)}</td>"
        f"<td>{html.escape(lever.shown(0))} to {html.escape(lever.shown(lever.steps))}</td>"
        f"<td>{lever.steps + 1}</td></tr>"
        for name, lever in spec.levers.items()
    )
    parts = [
        f"<h1>{html.escape(title)}: {html.escape(problem.config.name)}</h1>",
        f"<p class='sub'>Target: {html.escape(spec.target.words())}. {problem.months} months from "
        f"{problem.config.start_date:%B %Y}, seed {problem.seed}.</p>",
        "<h2>In brief</h2><ul class='headline'>",
        *[f"<li>{html.escape(line)}</li>" for line in headline],
        "</ul>",
        "<h2>The levers</h2><table><thead><tr><th>lever</th><th>kind</th><th>range</th><th>values</th></tr></thead>"
        f"<tbody>{levers}</tbody></table>",
        *sections,
    ]
    chart = plots / "pareto.png"
    if chart.exists():
        parts.append(embed_figure(chart, "Each plan's cost against its probability of meeting the target"))
    parts.append(
        f"<h2>How these numbers were made</h2><pre>{html.escape(json.dumps(prov, indent=2, default=str))}</pre>"
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}: {html.escape(problem.config.name)}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(parts)}</body></html>"
    )
