"""A service that behaves like a real one: on-time rate smooth in capacity, recovery, the fast
track, capacity that follows the pipeline, and calibration that recovers what made the data."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim.config import parse_config, replaced
from sim.data.calibrate import CAPACITY, FAST_TRACK, build_windows, calibrate, history_rows
from sim.data.init_config import CAPACITY_RESPONSE, FAST_TRACK_SHARE
from sim.engine.priority import FastTrackQueue, WorkQueue, work_queue
from sim.experiments.runner import simulate
from sim.model.service import Model

ROOT = Path(__file__).parents[1]
WORKING_DAYS_PER_YEAR = 261.0


class Work:
    def __init__(self, seq, deadline, origin, fast=False):
        self.seq, self.deadline, self.origin, self.fast = seq, deadline, origin, fast


# --- the fast track ------------------------------------------------------------------------------


def test_the_fast_track_has_its_share_of_the_picks_while_its_work_can_be_on_time():
    """Fast-tracked work that can still be on time gets `share` of the picks, earliest deadline
    first; the rest go in the policy's order; late fast-tracked work waits in that order too."""
    queue = FastTrackQueue("oldest", SimpleNamespace(fast_track_share=0.25))
    for i in range(200):  # older work in the policy's order, and newer fast-tracked work
        queue.push(Work(i, deadline=500.0 + i, origin=float(i)))
        queue.push(Work(1000 + i, deadline=200.0 + (i * 7919) % 200, origin=1000.0 + i, fast=True))
    taken = [queue.take(0.0) for _ in range(200)]
    fast = [w for w in taken if w.fast]
    assert len(fast) == 50  # a quarter of the picks
    assert [w.deadline for w in fast] == sorted(w.deadline for w in fast) == [200.0 + k for k in range(50)]
    rest = [w for w in taken if not w.fast]
    assert [w.origin for w in rest] == [float(k) for k in range(150)]
    late = FastTrackQueue(
        "oldest", SimpleNamespace(fast_track_share=0.5)
    )  # once its deadline has passed, fast-tracked work waits its turn
    for i in range(10):
        late.push(Work(i, deadline=-1.0, origin=float(10 - i), fast=True))
    assert [w.origin for w in (late.take(0.0) for _ in range(10))] == sorted(float(10 - i) for i in range(10))


def test_no_fast_track_is_the_policy_order_itself():
    """Share 0 is the plain policy queue, so every result without it is what it was."""
    assert isinstance(work_queue("deadline", SimpleNamespace(fast_track_share=0.0)), WorkQueue)
    assert isinstance(work_queue("deadline", None), WorkQueue)
    assert isinstance(work_queue("deadline", SimpleNamespace(fast_track_share=0.3)), FastTrackQueue)


# --- a Devon-sized service at a chosen capacity ----------------------------------------------------


def _devon_raw() -> dict:
    return yaml.safe_load((ROOT / "configs" / "devon.yaml").read_text(encoding="utf-8"))


def _mean(dist: dict) -> float:
    if dist["dist"] in ("lognormal", "gamma", "exponential"):
        return dist["mean"]
    raise ValueError(dist)


def devon_sized(ratio: float, seed: int = 1, months: int = 36, actions=()) -> pd.DataFrame:
    """Devon's demand, staff and open assessments in January 2023, without turnover, growth,
    sickness or reviews, with assessment capacity `ratio` times the hours the requests need (for
    caseworkers and EPs alike), the national behaviour of `sendsim init`; monthly metrics."""
    raw = _devon_raw()
    raw.pop("uncertainty", None)  # the capacity is set here, not drawn
    raw.pop("calibration", None)
    a = raw["assessment"]
    leave = 1 - raw["workforce"]["absence"]["annual_leave_days_per_year"] / WORKING_DAYS_PER_YEAR
    per_week = raw["demand"]["requests_per_month"] * 12 / 52.18
    agreed = per_week * (1 - a["refusal_probability"]) * (1 - a.get("withdrawal_probability", 0.0))
    cw_need = per_week * _mean(a["decision_hours"]) + agreed * (
        _mean(a["draft_plan_hours"]) + (1 - a["no_plan_probability"]) * _mean(a["final_plan_hours"])
    )
    ep_need = agreed * _mean(a["ep_advice_hours"])
    cw_have = sum(
        g["count"] * g.get("fte", 1) * g["hours_per_week"] * g["casework_share"] * leave
        for g in raw["staff"]
        if g["team"] == "assessment"
    )
    scale = cw_have / (ratio * cw_need)  # effort per case, so that the caseworkers have `ratio`
    ep_fte = ratio * ep_need * scale / (37 * 0.6 * leave)  # and the EPs the same
    count = math.ceil(ep_fte)
    raw["staff"] = [g for g in raw["staff"] if g["team"] != "psychology"] + [
        {
            "role": "educational_psychologist",
            "team": "psychology",
            "count": count,
            "fte": ep_fte / count,
            "hours_per_week": 37,
            "casework_share": 0.6,
        }
    ]
    raw["demand"]["growth_per_year"] = 0.0
    raw["assessment"]["effort_scale"] = scale
    raw["initial_state"]["plans_in_force"] = 0
    raw["plans"]["transfers_in_rate_per_year"] = 0.0
    w = raw["workforce"]
    for role in w["roles"].values():
        role["permanent_leaving_rate_per_year"] = role["agency_leaving_rate_per_year"] = 0.0
    w["pressure"]["strength"] = 0.0
    w["recruitment"]["enabled"] = False
    w["absence"]["sickness_spells_per_year"] = 0.0
    w["capacity_response"] = dict(CAPACITY_RESPONSE)
    w["establishment_fte"] = {}
    raw["policy"]["fast_track_share"] = FAST_TRACK_SHARE
    raw["actions"] = [dict(x, parameter=x["parameter"], value=x["value"] * scale) for x in actions]
    raw["scenarios"] = {}
    raw["months"] = months
    result = sim.run(parse_config(raw), seed=seed, cases=False)
    return result.metrics.pivot(index="month", columns="metric", values="value")


def _on_time(w: pd.DataFrame) -> float:
    return w["plans_issued_within_20_weeks"].sum() / w["plans_issued"].sum()


@pytest.mark.slow
def test_on_time_rate_is_smooth_and_monotone_in_capacity():
    """Capacity from 60% to 140% of what the requests need, in 10% steps: the mean on-time rate
    over three years never falls as capacity rises, and no step moves it by more than 25 points,
    from the partial rate of an overloaded service to the high rate of one with room."""
    ratios = [0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4]
    runs = {r: [devon_sized(r, seed) for seed in (1, 2)] for r in ratios}
    rates = [np.mean([_on_time(w) for w in runs[r]]) for r in ratios]
    steps = np.diff(rates)
    shown = dict(zip(ratios, np.round(rates, 3)))
    assert np.all(steps >= -0.01), shown
    assert steps.max() <= 0.25, shown
    last_year = {r: np.mean([_on_time(w.loc["2025-01-01":]) for w in runs[r]]) for r in (0.6, 1.4)}
    assert 0.02 < last_year[0.6] < 0.25, last_year  # overloaded: some plans still on time, as in Devon and BCP
    assert last_year[1.4] > 0.9, last_year  # with room to spare, nearly all


@pytest.mark.slow
def test_a_service_short_of_capacity_recovers_when_capacity_is_added():
    """At 80% of the capacity the requests need for a year, then 130%: within 18 months of the
    change more than 60% of the plans of a month are issued on time."""
    change = [{"date": "2024-01-01", "action": "set", "parameter": CAPACITY, "value": 0.8 / 1.3}]
    best = []
    for seed in (1, 2):
        w = devon_sized(0.8, seed, months=30, actions=change)
        after = w.loc["2024-01-01":"2025-06-01"]
        rolling = after["plans_issued_within_20_weeks"].rolling(3).sum() / after["plans_issued"].rolling(3).sum()
        best.append(rolling.max())
        assert _on_time(w.loc[:"2023-12-01"]) < 0.6  # it was short of capacity before
    assert min(best) > 0.6, best


def test_capacity_follows_the_pipeline_and_the_extra_hours_are_paid():
    """A service far short of capacity buys extra (up to its maximum) and pays for it; with
    capacity to spare it releases some; strength 0 changes nothing."""
    short, spare = devon_sized(0.6, months=12), devon_sized(1.4, months=12)
    extra = short["capacity_response_share.assessment"]
    assert extra.iloc[-1] > 0.3 and extra.max() <= CAPACITY_RESPONSE["max_extra_share"] + 1e-9
    assert short["cost_capacity_response"].iloc[1:].gt(0).all()
    released = spare[
        (spare["capacity_response_share.assessment"] <= 0) & (spare["capacity_response_share.psychology"] <= 0)
    ]
    assert spare["capacity_response_share.assessment"].iloc[-1] < 0 and len(released) >= 3
    assert released["cost_capacity_response"].eq(0).all()  # released time costs nothing extra
    config = sim.load_config(ROOT / "configs" / "example.yaml")
    off = sim.run(config, seed=1, months=6, cases=False).metrics
    assert off[off["metric"].str.startswith("capacity_response_share")]["value"].eq(0).all()


# --- calibration recovers known values -------------------------------------------------------------


def _service(requests_per_month: float = 70) -> dict:
    """A mid-sized drafted service (as `sendsim init` writes one), without reviews."""
    raw = yaml.safe_load((ROOT / "configs" / "example.yaml").read_text(encoding="utf-8"))
    raw["demand"].update(requests_per_month=requests_per_month, growth_per_year=0.0)
    raw["initial_state"]["plans_in_force"] = 0
    raw["policy"]["fast_track_share"] = FAST_TRACK_SHARE
    raw["workforce"]["capacity_response"] = dict(CAPACITY_RESPONSE)
    raw["staff"] = [
        {"role": "caseworker", "team": "assessment", "count": 8, "hours_per_week": 37, "casework_share": 0.8},
        {"role": "caseworker", "team": "review", "count": 2, "hours_per_week": 37, "casework_share": 0.8},
        {
            "role": "educational_psychologist",
            "team": "psychology",
            "count": 12,
            "hours_per_week": 37,
            "casework_share": 0.6,
        },
    ]
    raw["start_date"] = "2023-01-01"
    raw["actions"], raw["scenarios"] = [], {}
    return raw


@pytest.mark.slow
def test_calibration_recovers_known_capacity_and_fast_track_share():
    """Two years simulated at known capacities and fast-track shares (one noisy realisation each,
    as real data are) are calibrated back to them within three of the reported standard errors
    (on the fitting scale, where the intervals are symmetric)."""
    truth = {2021: {CAPACITY: 1.6, FAST_TRACK: 0.35}, 2022: {CAPACITY: 1.1, FAST_TRACK: 0.15}}
    raw = _service()
    config = parse_config(raw)
    figures = {
        y: {"requests_received": 840, "refusals": 200, "plans_issued": 500, "plans_issued_within_20_weeks": 250}
        for y in truth
    }
    for _ in range(3):  # the windows start from the state their own figures imply: find the fixed point
        raw["history"] = figures
        windows = {w.year: w for w in build_windows(parse_config(raw), history_rows(_table(figures)))}
        for year, values in truth.items():
            trial = windows[year].config
            for path, value in values.items():
                trial = replaced(trial, path, value)
            model = simulate(trial, 4242 + year, 12)
            issued = model.metrics.total("plans_issued")
            figures[year] = {
                **figures[year],
                "plans_issued": issued,
                "plans_issued_within_20_weeks": model.metrics.total("plans_issued_within_20_weeks"),
            }
    raw["history"] = figures
    fitted = calibrate(parse_config(raw), reps=3, jobs=1)
    table = fitted.table().set_index("parameter")
    for year, values in truth.items():
        for path, true_value in values.items():
            row = table.loc[f"{path} ({year})"]
            free = (lambda v: math.log(v)) if path == CAPACITY else (lambda v: math.log(v / (1 - v)))
            se = (free(row["ci_high"]) - free(row["ci_low"])) / (2 * 1.96)
            assert abs(free(row["estimate"]) - free(true_value)) <= 3 * se, (year, path, row.to_dict(), true_value)
            assert row["ci_low"] > 0  # positive parameters keep positive intervals
    assert config.assessment.effort_scale == 1.0  # the input was not changed
    assert fitted.config.assessment.effort_scale == pytest.approx(table.loc[f"{CAPACITY} (2022)", "estimate"])
    assert fitted.config.uncertainty is not None and fitted.config.calibration is not None


def _table(figures: dict) -> pd.DataFrame:
    rows = []
    for year, f in figures.items():
        rows.append(
            {
                "period": str(year),
                "requests_received": f["requests_received"],
                "refusals": f["refusals"],
                "plans_issued": f["plans_issued"],
                "on_time_rate": f["plans_issued_within_20_weeks"] / f["plans_issued"],
            }
        )
    return pd.DataFrame(rows)


# --- input uncertainty -----------------------------------------------------------------------------


def test_each_replication_draws_its_parameters_and_a_seed_repeats_them():
    raw = _service()
    raw["uncertainty"] = {
        "parameters": [CAPACITY, FAST_TRACK],
        "scales": ["log", "logit"],
        "estimates": [1.2, 0.3],
        "covariance": [[0.04, 0.0], [0.0, 0.25]],
    }
    config = parse_config(raw)
    draws = [Model(config, seed).parameters for seed in range(200)]
    capacity = np.array([d[CAPACITY] for d in draws])
    share = np.array([d[FAST_TRACK] for d in draws])
    assert capacity.min() > 0 and 0 < share.min() and share.max() < 1
    assert np.median(capacity) == pytest.approx(1.2, rel=0.05)
    assert np.std(np.log(capacity)) == pytest.approx(0.2, rel=0.2)
    assert Model(config, 7).parameters == draws[7]  # the seed fixes the draw
    assert Model(config, 7).levers.assessment.effort_scale == draws[7][CAPACITY]


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"scales": ["log"]}, "one scale and one estimate per parameter"),
        ({"covariance": [[1.0, 2.0], [2.0, 1.0]]}, "positive semi-definite"),
        ({"estimates": [-1.0, 0.3]}, "inside the range of their log scale"),
        ({"parameters": [CAPACITY, "policy.priority"]}, "to be a number"),
    ],
)
def test_bad_uncertainty_is_refused(change, expected):
    raw = _service()
    raw["uncertainty"] = {
        "parameters": [CAPACITY, FAST_TRACK],
        "scales": ["log", "logit"],
        "estimates": [1.2, 0.3],
        "covariance": [[0.04, 0.0], [0.0, 0.25]],
        **change,
    }
    with pytest.raises(sim.config.ConfigError, match=expected):
        parse_config(raw)
