"""Charts of an experiment: fan charts of one scenario, and overlays of several.

Fan charts show the median month by month with the 50% and 90% bands across replications, so
the spread of outcomes is as visible as the middle. Every chart has its units and dates. Where
they are known, a chart also shows what the forecast is read against: the target on-time rate,
and what was published for the years before the start (the configuration's history), so a
reader sees how the forecast continues the past; and it shades the first months, while the run
settles from its starting census (sim/outputs/settling.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import matplotlib

matplotlib.use("Agg")  # files only: no screen needed, in CI or on a server

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter, PercentFormatter  # noqa: E402

COLOURS = ["#1f4e79", "#c0504d", "#4f8f3a", "#8064a2", "#d98c1f", "#2c9fa8"]


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    unit: str  # the y axis label
    metrics: tuple[str, ...]  # one line per metric (a single metric for fan charts of a scenario)
    percent: bool = False
    money: bool = False


@dataclass(frozen=True)
class Reference:
    """What a forecast is read against on its charts."""

    target_on_time_rate: float | None = None
    # chart metric -> the published past: (first day, last day, value) of each period
    actual: Mapping[str, tuple[tuple[dt.date, dt.date, float], ...]] = field(default_factory=dict)
    # the months the forecast spends settling from its starting census (sim/outputs/settling.py):
    # the first month, and the first month after them
    settling: tuple[dt.date, dt.date] | None = None


def reference_for(config, target_on_time_rate: float | None) -> Reference:
    """The target and the configuration's published history (SEN2's calendar years): each year's
    on-time rate across its months, and each January's census of plans in force."""
    on_time, in_force = [], []
    for year, figures in sorted(config.history.items()):
        if figures.plans_issued and figures.plans_issued_within_20_weeks is not None:
            rate = figures.plans_issued_within_20_weeks / figures.plans_issued
            on_time.append((dt.date(year, 1, 1), dt.date(year, 12, 31), rate))
        if figures.plans_in_force_january is not None:
            day = dt.date(year, 1, 1)
            in_force.append((day, day, float(figures.plans_in_force_january)))
    actual = {"on_time_rate": tuple(on_time), "plans_in_force": tuple(in_force)}
    return Reference(target_on_time_rate, {k: v for k, v in actual.items() if v})


def charts_for(summary: pd.DataFrame) -> list[Chart]:
    """The charts a planner reads first, for the metrics this experiment has."""
    available = set(summary["metric"].unique())
    teams = sorted(m.split(".", 1)[1] for m in available if m.startswith("caseload_per_fte_mean."))
    charts = [
        Chart(
            "on_time_rate",
            "20-week on-time rate (plans issued in the month)",
            "Plans issued within 20 weeks (%)",
            ("on_time_rate",),
            percent=True,
        ),
        Chart(
            "open_over_20_weeks",
            "Open assessments over 20 weeks old",
            "Open assessments (cases)",
            ("assessments_open_over_20_weeks",),
        ),
        Chart(
            "open_over_30_weeks",
            "Open assessments over 30 weeks old",
            "Open assessments (cases)",
            ("assessments_open_over_30_weeks",),
        ),
        Chart(
            "open_over_52_weeks",
            "Open assessments over 52 weeks old",
            "Open assessments (cases)",
            ("assessments_open_over_52_weeks",),
        ),
        Chart(
            "reviews_overdue",
            "Annual reviews overdue at the month's end",
            "Reviews overdue (plans)",
            ("reviews_overdue",),
        ),
        Chart("plans_in_force", "EHC plans in force at the month's end", "Plans in force (plans)", ("plans_in_force",)),
        *[
            Chart(
                f"caseload_{team}",
                f"Caseload per FTE: {team} team",
                "Items per FTE (cases or plans)",
                (f"caseload_per_fte_mean.{team}",),
            )
            for team in teams
        ],
        Chart(
            "caseworkers_in_post",
            "Caseworkers in post (permanent and agency)",
            "Caseworkers in post (FTE)",
            ("caseworkers_in_post",),
        ),
        Chart(
            "vacancies",
            "Vacant posts at the month's end (all teams)",
            "Vacancies (FTE)",
            ("vacancies_fte_all_teams",),
        ),
        Chart("cost", "Staff and recruitment cost per month", "Cost (£ per month)", ("cost_total",), money=True),
    ]
    return [c for c in charts if all(m in available for m in c.metrics)]


# per-replication sums that charts need: name -> the metrics added month by month
DERIVED = {
    "caseworkers_in_post": lambda m: m.isin(["fte_in_post.caseworker.permanent", "fte_in_post.caseworker.agency"]),
    "vacancies_fte_all_teams": lambda m: m.str.startswith("vacancies_fte."),
}


def chart_sources(metrics: Iterable[str]) -> set[str]:
    """The monthly measures among `metrics` that the charts are drawn from, directly or through a
    sum in DERIVED: what needs summarising for the charts and no more."""
    names = pd.Series(sorted(set(metrics)), dtype=object)
    parts = {name: set(names[which(names)]) for name, which in DERIVED.items()}
    available = pd.DataFrame({"metric": [*names, *(name for name, found in parts.items() if found)]})
    drawn = {metric for chart in charts_for(available) for metric in chart.metrics}
    return (drawn & set(names)) | {m for name, found in parts.items() if name in drawn for m in found}


def with_derived(summary: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """Add the per-replication sums that charts need (caseworkers in post = permanent + agency;
    vacancies over every team)."""
    from sim.outputs.stats import monthly_summary

    totals = []
    for name, which in DERIVED.items():
        parts = results[which(results["metric"])]
        if parts.empty:
            continue
        # as_index=False: a frame (pandas-stubs type the sum as a series)
        total = cast(pd.DataFrame, parts.groupby(["scenario", "rep", "month"], as_index=False)["value"].sum())
        total["metric"] = name
        totals.append(total)
    if not totals:
        return summary
    return pd.concat([summary, monthly_summary(pd.concat(totals, ignore_index=True))], ignore_index=True)


def _against(ax, chart: Chart, reference: Reference | None) -> None:
    """The target line and the published past, each labelled and with an id in the SVG."""
    if reference is None:
        return
    if reference.settling is not None:
        start, settled = (pd.Timestamp(day) for day in reference.settling)
        ax.axvspan(
            start, settled, color="#888", alpha=0.12, lw=0, label="settling from the starting census", gid="settling"
        )
    if chart.percent and chart.metrics[0] == "on_time_rate" and reference.target_on_time_rate is not None:
        target = reference.target_on_time_rate
        ax.axhline(target, color="#b35900", lw=1.2, ls="--", label=f"target ({target:.1%})", gid="target")
    points = reference.actual.get(chart.metrics[0])
    if points:
        starts = pd.to_datetime([p[0] for p in points])
        ends = pd.to_datetime([p[1] for p in points])
        values = [p[2] for p in points]
        middle = starts + (ends - starts) / 2
        if (ends > starts).any():  # a period's figure spans its months
            ax.hlines(values, starts, ends, color="black", lw=1.5, gid="actual_periods")
        label = "published (SEN2, calendar year)" if (ends > starts).any() else "published (SEN2, January census)"
        ax.plot(middle, values, "o", color="black", ms=4, label=label, gid="actual")


def _axes(ax, chart: Chart) -> None:
    ax.set_title(chart.title, loc="left", fontsize=11)
    ax.set_ylabel(chart.unit)
    low, high = (mdates.num2date(x) for x in ax.get_xlim())
    if (high - low).days > 4 * 366:  # a forecast shown with its years of history: a tick a year
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        ax.grid(True, alpha=0.3)
        _y_axis(ax, chart)
        return
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.grid(True, alpha=0.3)
    _y_axis(ax, chart)
    for label in ax.get_xticklabels():
        label.set_rotation(30)
        label.set_horizontalalignment("right")


def _y_axis(ax, chart: Chart) -> None:
    ax.set_ylim(bottom=0)
    if chart.percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylim(0, 1)
    elif chart.money:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"£{v / 1000:,.0f}k"))


def fan_chart(
    summary: pd.DataFrame, chart: Chart, scenario: str, path_stem: Path, reference: Reference | None = None
) -> list[Path]:
    rows = summary[(summary["scenario"] == scenario) & (summary["metric"] == chart.metrics[0])].sort_values("month")
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    colour = COLOURS[0]
    ax.fill_between(rows["month"], rows["p5"], rows["p95"], color=colour, alpha=0.15, label="90% of runs", lw=0)
    ax.fill_between(rows["month"], rows["p25"], rows["p75"], color=colour, alpha=0.3, label="50% of runs", lw=0)
    ax.plot(rows["month"], rows["median"], color=colour, lw=2, label="median")
    _against(ax, chart, reference)
    _axes(ax, chart)
    ax.legend(loc="best", fontsize=8, frameon=False)
    ax.text(1.0, -0.32, f"Scenario: {scenario}", transform=ax.transAxes, ha="right", fontsize=8, color="#555")
    return _save(fig, path_stem)


def overlay_chart(
    summary: pd.DataFrame, chart: Chart, scenarios: list[str], path_stem: Path, reference: Reference | None = None
) -> list[Path]:
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    for i, scenario in enumerate(scenarios):
        rows = summary[(summary["scenario"] == scenario) & (summary["metric"] == chart.metrics[0])].sort_values("month")
        colour = COLOURS[i % len(COLOURS)]
        ax.fill_between(rows["month"], rows["p25"], rows["p75"], color=colour, alpha=0.18, lw=0)
        ax.plot(rows["month"], rows["median"], color=colour, lw=2, label=f"{scenario} (median, 50% band)")
    _against(ax, chart, reference)
    _axes(ax, chart)
    ax.legend(loc="best", fontsize=8, frameon=False)
    return _save(fig, path_stem)


def _save(fig, path_stem: Path) -> list[Path]:
    fig.tight_layout()
    paths = [path_stem.with_suffix(".png"), path_stem.with_suffix(".svg")]
    for path in paths:
        fig.savefig(path, metadata={"Date": None} if path.suffix == ".svg" else None)
    plt.close(fig)
    return paths


def make_plots(
    summary: pd.DataFrame,
    results: pd.DataFrame,
    scenarios: list[str],
    out_dir: Path,
    reference: Reference | None = None,
) -> list[Path]:
    """Fan charts for every scenario and, with more than one, overlays; PNG and SVG each; with the
    target and the published past of `reference` where a chart's measure has them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = with_derived(summary, results)
    paths: list[Path] = []
    for chart in charts_for(summary):
        for scenario in scenarios:
            paths += fan_chart(summary, chart, scenario, out_dir / f"fan_{chart.name}_{scenario}", reference)
        if len(scenarios) > 1:
            paths += overlay_chart(summary, chart, scenarios, out_dir / f"compare_{chart.name}", reference)
    return paths
