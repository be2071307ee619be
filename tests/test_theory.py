"""The model against queueing theory that nobody here wrote: Erlang C and Little's law.

A single-stage service (every request is refused at the decision, so the decision is the only
work) with c caseworkers, a caseload cap of one case each, exponential effort and Poisson
arrivals is an M/M/c queue served first come, first served: the unallocated pool is the queue.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import sim
from sim.config import parse_config
from sim.engine.clock import DAYS_PER_MONTH

FIXED_ZERO = {"dist": "fixed", "value": 0}


def erlang_c_wait(c: int, arrival_rate: float, service_rate: float) -> float:
    """Mean time in system, W = Wq + 1/mu, for M/M/c."""
    a = arrival_rate / service_rate
    top = a**c / math.factorial(c) * c / (c - a)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * service_rate - arrival_rate) + 1 / service_rate


def single_stage(c: int, arrivals_per_day: float, mean_effort_days: float, months: int):
    return parse_config(
        {
            "name": "M/M/c check",
            "start_date": "2023-01-01",
            "months": months,
            "demand": {"requests_per_month": arrivals_per_day * DAYS_PER_MONTH},
            "assessment": {
                # one hour of casework a day, so hours of effort are days of service
                "decision_hours": {"dist": "exponential", "mean": mean_effort_days},
                "refusal_probability": 1.0,
                "ep_advice_hours": FIXED_ZERO,
                "other_advice_weeks": FIXED_ZERO,
                "exception_probability": 0.0,
                "exception_delay_weeks": FIXED_ZERO,
                "draft_plan_hours": FIXED_ZERO,
                "no_plan_probability": 0.0,
                "final_plan_hours": FIXED_ZERO,
                # far-off deadlines so that the deadline policy is first come, first served
                "decision_deadline_weeks": 520,  # the schema's longest: ten years
            },
            "plans": {
                "ceasing_rate_per_year": 0.0,
                "transfers_in_rate_per_year": 0.0,
                "review_hours": FIXED_ZERO,
                "review_decision_hours": FIXED_ZERO,
                "outcomes": {"maintain": 1, "amend": 0, "cease": 0},
                "amendment_hours": FIXED_ZERO,
                "amendment_final_hours": FIXED_ZERO,
            },
            "policy": {"priority": "fifo"},
            "teams": {
                "solo": {"handles": ["assessments", "plans"], "caseload_cap_per_fte": 1},
                "psychology": {"role": "educational_psychologist", "handles": ["ep_advice"]},
            },
            "staff": [{"team": "solo", "count": c, "hours_per_week": 7, "casework_share": 1.0}],
        },
        "M/M/c check",
    )


@pytest.mark.slow
@pytest.mark.parametrize("c, utilisation", [(1, 0.7), (3, 0.85)])
def test_mean_time_in_system_matches_erlang_c_and_littles_law(c, utilisation):
    """Mean wait within a 99% CI of Erlang C; work in progress equals lambda * W (Little)."""
    mean_effort = 1.0
    lam = utilisation * c / mean_effort
    months, warm_up = 120, 6
    config = single_stage(c, lam, mean_effort, months)
    theory_w = erlang_c_wait(c, lam, 1 / mean_effort)

    waits, in_system = [], []
    for rep in range(30):
        result = sim.run(config, seed=1000 + rep)
        cases = result.cases
        start = result.metrics["month"].min() + np.timedelta64(warm_up * 30, "D")
        done = cases[(cases["request_date"] >= start) & cases["decision_date"].notna()]
        waits.append(((done["decision_date"] - done["request_date"]).dt.total_seconds() / 86400).mean())
        open_ = result.series("assessments_open")
        in_system.append(open_.iloc[warm_up:].mean())
        assert result.series("refusals").sum() == result.series("decisions_made").sum()

    def ci99(sample):
        sample = np.asarray(sample)
        half = stats.t.ppf(0.995, len(sample) - 1) * sample.std(ddof=1) / math.sqrt(len(sample))
        return sample.mean() - half, sample.mean() + half

    low, high = ci99(waits)
    assert low <= theory_w <= high, f"Erlang C W={theory_w:.3f} days outside 99% CI [{low:.3f}, {high:.3f}]"
    low, high = ci99(in_system)
    assert low <= lam * theory_w <= high, f"Little L={lam * theory_w:.3f} outside 99% CI [{low:.3f}, {high:.3f}]"


def test_erlang_c_formula_known_values():
    """The reference formula itself: M/M/1 gives W = 1/(mu - lambda); M/M/2 a textbook value."""
    assert erlang_c_wait(1, 0.5, 1.0) == pytest.approx(2.0)
    # M/M/2 with a = 1: P(wait) = 1/3, Wq = (1/3) / (2 - 1) = 1/3
    assert erlang_c_wait(2, 1.0, 1.0) == pytest.approx(1 / 3 + 1)
