"""Yearly key figures from the monthly metrics: what the run prints and a committee reads."""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from sim.measures import ON_TIME, YEARLY, Figure


def wide(metrics: pd.DataFrame) -> pd.DataFrame:
    """Months as rows, metrics as columns."""
    return metrics.pivot(index="month", columns="metric", values="value").sort_index()


def _monthly(w: pd.DataFrame, values: np.ndarray, figure: Figure) -> list[np.ndarray]:
    """The monthly series a figure is made from: for a ratio its numerator and denominator,
    otherwise its sources added month by month ("prefix.*": every id of the family)."""

    def summed(sources) -> np.ndarray:
        columns = [i for s in sources for i, c in enumerate(w.columns)
                   if (c.startswith(s[:-1]) if s.endswith(".*") else c == s)]  # fmt: skip
        return values[:, columns].sum(axis=1) if columns else np.full(len(w), np.nan)

    return [summed([s]) for s in figure.sources] if figure.over_months == "ratio" else [summed(figure.sources)]


def _by_year(series: list[np.ndarray], over_months: str, years: list[slice]) -> list[float]:
    """Each year's figure; a sum leaves out months nobody measured, as pandas' sum does."""

    def total(x: np.ndarray) -> float:
        return float(np.where(np.isnan(x), 0.0, x).sum())

    if over_months == "sum":
        return [total(series[0][year]) for year in years]
    if over_months == "last":
        return [float(series[0][year][-1]) for year in years]
    out = []
    for year in years:  # a rate of the year's counts, missing where nothing was completed
        num, den = total(series[0][year]), total(series[1][year])
        out.append(num / den if den else np.nan)
    return out


def yearly_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per calendar year and one column per yearly figure (sim/measures.py, by id):
    flows summed over the year, stocks at its last month's end, rates from the year's counts."""
    w = wide(metrics)
    index = cast(pd.DatetimeIndex, w.index)  # the months are timestamps, in order
    each, starts = np.unique(np.asarray(index.year), return_index=True)
    years = [slice(start, end) for start, end in zip(starts, [*starts[1:], len(index)])]
    values = w.to_numpy(dtype=float)
    table = pd.DataFrame(index=pd.Index(each.tolist(), name="year"))
    table["to"] = [index[year][-1].strftime("%b %Y") for year in years]
    for figure in YEARLY:
        if figure.per_team:
            prefix = figure.sources[0].removesuffix("*")
            for i, column in enumerate(w.columns):
                if column.startswith(prefix):
                    team = column[len(prefix) :]
                    table[f"{figure.id}.{team}"] = _by_year([values[:, i]], figure.over_months, years)
        else:
            table[figure.id] = _by_year(_monthly(w, values, figure), figure.over_months, years)
    return table


# --- over replications ---------------------------------------------------------------------------

NATIONAL_ON_TIME_2022 = 0.492  # docs/domain.md: England's 20-week rate, 2022


def yearly_by_rep(reps: pd.DataFrame) -> pd.DataFrame:
    """The yearly table of every (scenario, replication): scenario, rep, year, measure columns."""
    frames = []
    for (scenario, rep), metrics in reps.groupby(["scenario", "rep"], sort=True):
        table = yearly_table(metrics[["month", "metric", "value"]]).reset_index()
        # the group's keys, typed only as hashable: a replication number and a scenario name
        table.insert(0, "rep", cast(int, rep))
        table.insert(0, "scenario", cast(str, scenario))
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def kpi_table(
    reps: pd.DataFrame,
    target: float = NATIONAL_ON_TIME_2022,
    confidence: float = 0.95,
    yearly: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per scenario, year and measure: mean, CI of the mean, median, 5th-95th percentiles; and the
    share of replications whose on-time rate reaches `target`. `yearly` is `yearly_by_rep(reps)`,
    if the caller has it already."""
    from sim.outputs.stats import describe

    yearly = yearly_by_rep(reps) if yearly is None else yearly
    measures = [c for c in yearly.columns if c not in ("scenario", "rep", "year", "to")]
    rows = []
    for (scenario, year), group in yearly.groupby(["scenario", "year"], sort=True):
        for measure in measures:
            row = {"scenario": scenario, "year": year, "to": group["to"].iloc[0], "measure": measure}
            row.update(describe(group[measure].to_numpy(dtype=float), confidence))
            if measure == ON_TIME:
                rates = group[measure].to_numpy(dtype=float)
                row["p_reaches_target"] = float(np.mean(rates >= target)) if len(rates) else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def scenario_differences(
    reps: pd.DataFrame, base: str = "base", confidence: float = 0.95, yearly: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Each scenario minus the base, paired by replication (common random numbers), with its CI.
    `yearly` is `yearly_by_rep(reps)`, if the caller has it already."""
    from sim.outputs.stats import mean_ci

    yearly = yearly_by_rep(reps) if yearly is None else yearly
    measures = [c for c in yearly.columns if c not in ("scenario", "rep", "year", "to")]
    base_rows = yearly[yearly["scenario"] == base].set_index(["rep", "year"])
    rows = []
    for scenario, group in yearly[yearly["scenario"] != base].groupby("scenario", sort=True):
        paired = group.set_index(["rep", "year"]).merge(
            base_rows[measures].add_suffix(" (base)"), left_index=True, right_index=True, how="inner"
        )
        for year, by_year in paired.groupby(level="year"):
            for measure in measures:
                diff = by_year[measure].to_numpy(float) - by_year[f"{measure} (base)"].to_numpy(float)
                mean, low, high = mean_ci(diff, confidence)
                rows.append(
                    {
                        "scenario": scenario,
                        "year": year,
                        "measure": measure,
                        "difference": mean,
                        "ci_low": low,
                        "ci_high": high,
                        "n": int(np.sum(~np.isnan(diff))),
                    }
                )
    return pd.DataFrame(rows)
