"""The open assessments at the start of a year, estimated from a year of published flows.

SEN2 publishes each year's requests, refusals, plans issued and the share issued within 20
weeks, but not the cases still open at the year's end. Little's law gives their number from the
flows, and the on-time rate their ages:

- requests of the last 6 weeks wait for the decision;
- the assessments flow through at the rate they were completed (plans issued and assessments
  ending with no plan, λ a week; requests less refusals where completions are not published: SEN2
  counts requests neither refused nor assessed, withdrawn or undecided, that never reach the
  pipeline); those of 6-12 weeks wait for advice. Of those of 12-20 weeks, the on-time share q is
  on track, issued evenly from 12 to 20 weeks: waiting for the draft at 12-16 weeks, for the final
  plan (the draft's 15 days of comment, then the final) at 16-20, less those already issued; the
  rest, 1 - q, are behind and still wait for the draft (putting them at the final stage would
  issue a late service's young cases on time in its first month: Devon's January 2023 at 50% on
  time against Table 1a's 17%);
- the share 1 - q not issued on time waits past 20 weeks. When a service is late it works its
  backlog roughly oldest first, so late cases wait about equally long: their ages are spread
  evenly from 20 weeks to 20 + L, with L = LATENESS_WEEKS x (1 - q). So λ x (1 - q) x L cases are
  late, split between those waiting for advice, for the draft and for the final plan.

LATENESS_WEEKS = 30 reproduces Devon's January 2023 (on time 11.8% in 2022; the task group
seed's Table 1a: 304 open over 30 weeks and 4 over 52): λ = 25 a week, L = 26.5 weeks gives 570
late cases aged 20-46 weeks, 355 of them over 30 and none over 52. It is an assumption elsewhere;
calibration fits each year's capacity from this starting point, so its errors are absorbed by
the fitted capacity rather than carried into the forecast.
"""

from __future__ import annotations

LATENESS_WEEKS = 30.0
LATE_STAGES = (("advice", 0.5), ("draft_plan", 0.4), ("final_plan", 0.1))


def open_assessments(
    requests: float, refusals: float, on_time_rate: float, completed: float | None = None
) -> list[dict]:
    """Open assessments on 1 January after a year with these flows, as initial_state bands;
    `completed` is the year's plans issued and assessments ended with no plan."""
    per_week = requests / 52.0
    agreed = max((completed if completed is not None else requests - refusals) / 52.0, 0.0)
    q = min(max(on_time_rate, 0.0), 1.0)
    lateness = LATENESS_WEEKS * (1.0 - q)
    bands: list[tuple[float, int, float, str]] = [  # count, youngest and oldest age in weeks, stage
        (6 * per_week, 0, 6, "decision"),
        (6 * agreed, 6, 12, "advice"),
        (agreed * (4 - q), 12, 16, "draft_plan"),  # 3 weeks' worth on track, 4 behind
        (4 * agreed * (1 - q), 16, 20, "draft_plan"),  # behind
        (agreed * q, 16, 20, "final_plan"),  # on track: 1 week's worth not yet issued
    ]
    if lateness > 0:
        late = agreed * (1 - q) * lateness
        for stage, share in LATE_STAGES:
            bands.append((late * share, 20, round(20 + lateness, 1), stage))
    return [
        {"count": int(round(n)), "min_age_weeks": lo, "max_age_weeks": hi, "stage": stage}
        for n, lo, hi, stage in bands
        if round(n) > 0
    ]


def withdrawal_share(requests: float, refusals: float, completed: float) -> float:
    """Of the requests not refused, the share SEN2 shows neither refused nor assessed in the year:
    1 - completed / (requests - refusals), within 0 and 0.95."""
    agreed = requests - refusals
    return round(min(max(1.0 - completed / agreed, 0.0), 0.95), 4) if agreed > 0 else 0.0
