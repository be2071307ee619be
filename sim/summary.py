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
        rows.append(row)
    return pd.DataFrame(rows).set_index("year")
