"""The page's charts and key figures, drawn from an experiment's summaries.

The same charts as the report (sim.outputs.plots.charts_for), as plotly figures: the what-if's fan
(50% and 90% of runs, and the median) in front of the base's median and 50% band, dates on the x
axis, units on the y axis, and on the on-time chart the target line.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sim.experiments.experiment import ExperimentResults
from sim.experiments.replications import BASE
from sim.measures import ON_TIME, format_value, label
from sim.outputs.plots import Chart, charts_for, with_derived
from sim.outputs.summary import NATIONAL_ON_TIME_2022

BASE_COLOUR, WHAT_IF_COLOUR = "#7f7f7f", "#1f4e79"
# the key figures of the page, in order (the report's, and the workforce the room is moving)
KEY_FIGURES = (
    ON_TIME,
    "plans_issued",
    "assessments_open_over_20_weeks",
    "assessments_open_over_30_weeks",
    "assessments_open_over_52_weeks",
    "reviews_overdue",
    "caseworker_fte_in_post",
    "vacancies_fte_all_teams",
    "cost_total",
)


def _months(rows: pd.DataFrame) -> list[str]:
    return [m.isoformat() for m in pd.to_datetime(rows["month"]).dt.date]


def _band(rows: pd.DataFrame, low: str, high: str, colour: str, opacity: float, name: str) -> dict[str, Any]:
    months = _months(rows)
    return {
        "type": "scatter", "x": months + months[::-1], "y": list(rows[high]) + list(rows[low])[::-1],
        "fill": "toself", "fillcolor": colour, "opacity": opacity, "line": {"width": 0}, "name": name,
        "hoverinfo": "skip", "mode": "lines",
    }  # fmt: skip


def _line(rows: pd.DataFrame, colour: str, name: str, dash: str = "solid") -> dict[str, Any]:
    return {"type": "scatter", "x": _months(rows), "y": list(rows["median"]), "mode": "lines", "name": name,
            "line": {"color": colour, "dash": dash, "width": 2}}  # fmt: skip


def figure(summary: pd.DataFrame, chart: Chart, what_if: str | None, target: float) -> dict[str, Any]:
    """A plotly figure as plain data: built in milliseconds, and what the browser is sent anyway."""
    metric = chart.metrics[0]
    rows = summary[summary["metric"] == metric]
    base = rows[rows["scenario"] == BASE].sort_values("month")
    traces = [_band(base, "p25", "p75", BASE_COLOUR, 0.25, "base: 50% of runs"),
              _line(base, BASE_COLOUR, "base: median", "dash")]  # fmt: skip
    if what_if is not None:
        mine = rows[rows["scenario"] == what_if].sort_values("month")
        traces += [
            _band(mine, "p5", "p95", WHAT_IF_COLOUR, 0.15, "what-if: 90% of runs"),
            _band(mine, "p25", "p75", WHAT_IF_COLOUR, 0.3, "what-if: 50% of runs"),
            _line(mine, WHAT_IF_COLOUR, "what-if: median"),
        ]
    layout: dict[str, Any] = {
        "title": {"text": chart.title, "x": 0, "font": {"size": 14}},
        "yaxis": {"title": {"text": chart.unit}, "rangemode": "tozero"},
        "xaxis": {"title": {"text": "Month"}, "tickformat": "%b %Y", "type": "date"},
        "height": 300, "margin": {"l": 60, "r": 10, "t": 40, "b": 40}, "legend": {"font": {"size": 10}},
        "template": "plotly_white", "uirevision": chart.name, "plot_bgcolor": "white",
    }  # fmt: skip
    if chart.percent:
        layout["yaxis"].update(tickformat=".0%", range=[0, 1])
    if chart.money:
        layout["yaxis"].update(tickprefix="£", tickformat=",.0f")
    if metric == ON_TIME:
        layout["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": target, "y1": target,
                             "line": {"color": "#c0504d", "dash": "dot"}}]  # fmt: skip
        layout["annotations"] = [{"xref": "paper", "x": 1, "y": target, "text": f"target {target:.1%}",
                                  "showarrow": False, "yanchor": "bottom", "xanchor": "right"}]  # fmt: skip
    return {"data": traces, "layout": layout}


def charts(experiment: ExperimentResults, what_if: str | None) -> list[tuple[Chart, dict[str, Any]]]:
    summary = with_derived(experiment.summary, experiment.results)
    target = float(experiment.provenance.get("target_on_time_rate", NATIONAL_ON_TIME_2022))
    return [(chart, figure(summary, chart, what_if, target)) for chart in charts_for(summary)]


def key_figures(experiment: ExperimentResults, what_if: str | None) -> list[dict[str, Any]]:
    """One row per year and key figure: base, what-if, the paired difference and its 95% CI, and
    for the on-time rate the share of runs reaching the target."""
    kpis = experiment.kpis
    diffs = experiment.differences
    rows = []
    for year in sorted(kpis["year"].unique()):
        for measure in KEY_FIGURES:
            at = kpis[(kpis["year"] == year) & (kpis["measure"] == measure)]
            base = at[at["scenario"] == BASE]
            if base.empty:
                continue
            row: dict[str, Any] = {
                "year": int(year),
                "measure": measure,
                "figure": label(measure),
                "base": float(base["mean"].iloc[0]),
                "base_shown": format_value(measure, float(base["mean"].iloc[0])),
            }
            mine = at[at["scenario"] == what_if] if what_if else at.iloc[0:0]
            if not mine.empty:
                row["what_if"] = float(mine["mean"].iloc[0])
                row["what_if_shown"] = format_value(measure, row["what_if"])
                d = diffs[(diffs["year"] == year) & (diffs["measure"] == measure) & (diffs["scenario"] == what_if)]
                if not d.empty:
                    r = d.iloc[0]
                    row["difference"] = float(r["difference"])
                    row["difference_shown"] = (
                        f"{format_value(measure, r['difference'], signed=True)} "
                        f"[{format_value(measure, r['ci_low'], signed=True)}, "
                        f"{format_value(measure, r['ci_high'], signed=True)}]"
                    )
            if measure == ON_TIME:
                row["base_reaches_target"] = float(base["p_reaches_target"].iloc[0])
                if not mine.empty:
                    row["what_if_reaches_target"] = float(mine["p_reaches_target"].iloc[0])
            rows.append(row)
    return rows


def key_figures_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The key figures as a table, for the CSV download: every column, with or without a what-if."""
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    for column in ("what_if_shown", "difference_shown", "what_if", "difference"):
        if column not in table:
            table[column] = None
    return table
