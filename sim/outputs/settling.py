"""How long a forecast takes to settle from its starting state: the months its charts mark.

A run starts from a census (plans in force, open assessments by age, reviews overdue) laid out by
rules, not from a service that has been running: every open assessment is placed at a stage by
its age on day one, the EPs are handed every advice request of those cases at once, and so on.
Until those cases have gone through, the stocks they sit in (open assessments, the EPs' and the
teams' caseloads, and the on-time rate of the plans they become) show how the census was laid
out as much as how the service runs. So the months marked are those until three in four of the
assessments open at the start have ended (the median across the runs of the first plan), which a
reader can check against the monthly measure `assessments_open_from_start`. Three in four, not
all: the census's cases are real work, and its oldest go through as late as the real ones did;
it is the layout that misleads, and on Devon's 36-month comparison (4 runs) three in four
covers the months the layout shows in: the EPs' caseload falls from 11.6 to 0.7 per FTE by
September 2023 and turns, and the months marked are January to October 2023. Nine in ten
would mark the whole of 2023.

A statistical truncation rule (MSER, White 1997) was tried first and rejected: these services grow
and curve for years, and on Devon's 36-month comparison MSER with a linear trend marked 18 months
(the most it may) for every plan, as plain MSER did on the EPs' caseload.
"""

from __future__ import annotations

import pandas as pd

SHARE_LEFT = 0.25  # settled once at most this share of the assessments open at the start are still open
FROM_START = "assessments_open_from_start"
AT_START = "assessments_open_at_start"


def settling_months(results: pd.DataFrame, scenario: str) -> int:
    """The months from the start until at most SHARE_LEFT of the assessments open at the start
    are still open, in the median of `results`' runs of `scenario` (0 where the runs started with
    none open, or do not record it); the whole horizon where they never go through."""
    rows = results[(results["scenario"] == scenario) & results["metric"].isin([AT_START, FROM_START])]
    at_start = rows.loc[rows["metric"] == AT_START, "value"].median()
    left = rows[rows["metric"] == FROM_START].groupby("month")["value"].median().sort_index().to_numpy(dtype=float)
    if not at_start > 0 or len(left) == 0:
        return 0
    settled = (left <= SHARE_LEFT * at_start).nonzero()[0]
    return int(settled[0]) + 1 if len(settled) else len(left)
