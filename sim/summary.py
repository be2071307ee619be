"""Yearly key figures from the monthly metrics: what the run prints and a committee reads."""

from __future__ import annotations

import numpy as np
import pandas as pd

STOCKS_AT_YEAR_END = {
    "assessments_open_over_20_weeks": "Open > 20 wks",
    "assessments_open_over_30_weeks": "Open > 30 wks",
    "assessments_open_over_52_weeks": "Open > 52 wks",
    "reviews_overdue": "Reviews overdue",
    "plans_in_force": "Plans in force",
}


def format_measure(measure: str, value: float, signed: bool = False) -> str:
    """A measure as a person reads it: rates as percentages, £ with thousands, counts whole
    above 10; `signed` puts + before gains (differences)."""
    if value is None or value != value:
        return "–"
    sign = "−" if value < 0 else ("+" if signed and value > 0 else "")
    if "rate" in measure or "share" in measure:
        return f"{sign}{abs(value):.1%}"
    if "£" in measure:
        return f"{sign}£{abs(value):,.0f}"
    if abs(value) >= 10 or float(value).is_integer():
        return f"{sign}{abs(value):,.0f}"
    return f"{sign}{abs(value):,.1f}"


def wide(metrics: pd.DataFrame) -> pd.DataFrame:
    """Months as rows, metrics as columns."""
    return metrics.pivot(index="month", columns="metric", values="value").sort_index()


def yearly_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per calendar year: flows summed over the year, stocks at its last month's end."""
    w = wide(metrics)
    year = w.index.year
    rows = []
    for y, months in w.groupby(year):
        last = months.iloc[-1]
        issued = months["plans_issued"].sum()
        on_time = months["plans_issued_within_20_weeks"].sum()
        issued_x = months["plans_issued_excluding_exceptions"].sum()
        on_time_x = months["plans_issued_within_20_weeks_excluding_exceptions"].sum()
        row = {
            "year": int(y),
            "to": months.index[-1].strftime("%b %Y"),
            "Requests": months["requests_received"].sum(),
            "Plans issued": issued,
            "On-time rate": on_time / issued if issued else np.nan,
            "On-time rate excl. exceptions": on_time_x / issued_x if issued_x else np.nan,
        }
        for metric, label in STOCKS_AT_YEAR_END.items():
            row[label] = last[metric]
        for column in w.columns:
            if column.startswith("caseload_per_fte_mean."):
                row[f"Caseload per FTE ({column.split('.', 1)[1]})"] = last[column]
        cw = "caseworker"
        row["Caseworker FTE in post"] = last[f"fte_in_post.{cw}.permanent"] + last[f"fte_in_post.{cw}.agency"]
        row["  of which agency"] = last[f"fte_in_post.{cw}.agency"]
        row["Agency share of caseworkers"] = last[f"agency_share.{cw}"]
        row["Vacancies (FTE, all teams)"] = sum(last[c] for c in w.columns if c.startswith("vacancies_fte."))
        row["Caseworker starters (FTE)"] = months[f"starters_fte.{cw}.permanent"].sum()
        row["Caseworker leavers (FTE)"] = months[f"leavers_fte.{cw}.permanent"].sum()
        row["Caseworker turnover rate (12 months)"] = last.get(f"turnover_12_months.{cw}", np.nan)
        row["EP FTE in post"] = sum(last[f"fte_in_post.educational_psychologist.{c}"] for c in ("permanent", "agency"))
        cost = months["cost_total"].sum()
        row["Cost (£)"] = cost
        row["Cost per plan issued (£)"] = cost / issued if issued else np.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index("year")


# --- over replications ---------------------------------------------------------------------------

NATIONAL_ON_TIME_2022 = 0.492  # docs/domain.md: England's 20-week rate, 2022
HEADLINE = ("On-time rate", "Open > 30 wks", "Reviews overdue")


def yearly_by_rep(reps: pd.DataFrame) -> pd.DataFrame:
    """The yearly table of every (scenario, replication): scenario, rep, year, measure columns."""
    frames = []
    for (scenario, rep), metrics in reps.groupby(["scenario", "rep"], sort=True):
        table = yearly_table(metrics[["month", "metric", "value"]]).reset_index()
        table.insert(0, "rep", rep)
        table.insert(0, "scenario", scenario)
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
    from sim.stats import describe

    yearly = yearly_by_rep(reps) if yearly is None else yearly
    measures = [c for c in yearly.columns if c not in ("scenario", "rep", "year", "to")]
    rows = []
    for (scenario, year), group in yearly.groupby(["scenario", "year"], sort=True):
        for measure in measures:
            row = {"scenario": scenario, "year": year, "to": group["to"].iloc[0], "measure": measure}
            row.update(describe(group[measure].to_numpy(dtype=float), confidence))
            if measure == "On-time rate":
                rates = group[measure].to_numpy(dtype=float)
                row["p_reaches_target"] = float(np.mean(rates >= target)) if len(rates) else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def scenario_differences(
    reps: pd.DataFrame, base: str = "base", confidence: float = 0.95, yearly: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Each scenario minus the base, paired by replication (common random numbers), with its CI.
    `yearly` is `yearly_by_rep(reps)`, if the caller has it already."""
    from sim.stats import mean_ci

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
