"""Reproducibility: a configuration and a seed fix the run; streams keep scenarios comparable."""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from sim.experiments.runner import run

MONTHS = 12


def test_same_seed_gives_identical_metrics_and_cases(example_config):
    """Two runs of one config and seed give the same metrics table and the same case table."""
    a = run(example_config, seed=7, months=MONTHS)
    b = run(example_config, seed=7, months=MONTHS)
    assert_frame_equal(a.metrics, b.metrics)
    assert_frame_equal(a.cases, b.cases)
    assert a.events == b.events


def test_same_seed_is_reproducible_from_the_path_too(example_config, example_path):
    """Running from the YAML path or from the loaded Config gives the same result."""
    a = run(example_path, seed=3, months=MONTHS)
    b = run(example_config, seed=3, months=MONTHS)
    assert_frame_equal(a.metrics, b.metrics)
    assert_frame_equal(a.cases, b.cases)


def test_default_seed_is_the_configs(example_config):
    """With no seed given, the run uses (and reports) the seed in the configuration."""
    a = run(example_config, months=MONTHS)
    b = run(example_config, seed=example_config.seed, months=MONTHS)
    assert a.seed == example_config.seed
    assert_frame_equal(a.metrics, b.metrics)


def test_another_seed_gives_different_metrics(example_config):
    """A different seed changes the metrics (requests and the case table differ)."""
    a = run(example_config, seed=7, months=MONTHS)
    b = run(example_config, seed=8, months=MONTHS)
    assert not a.metrics.equals(b.metrics)
    assert not a.series("requests_received").equals(b.series("requests_received"))
    assert not a.cases["request_date"].equals(b.cases["request_date"])


@pytest.mark.parametrize(
    "lever, value",
    [
        ("plans.review_hours", {"dist": "lognormal", "mean": 9.0, "cv": 0.6}),
        ("assessment.draft_plan_hours", {"dist": "lognormal", "mean": 30.0, "cv": 0.7}),
        ("policy.priority", "fifo"),
        ("staff.0.count", 2),
    ],
)
def test_changing_a_lever_keeps_the_same_requests(example_config, lever, value):
    """Common random numbers: a lever that is not demand leaves the arrivals and each case's draws alone."""
    base = run(example_config, seed=11, months=MONTHS)
    changed = run(example_config, seed=11, months=MONTHS, overrides={lever: value})
    # the lever really did change the run ...
    assert not base.metrics.equals(changed.metrics)
    # ... yet the same requests arrived at the same moments
    assert_series_equal(base.series("requests_received"), changed.series("requests_received"))
    assert_series_equal(base.cases["request_date"], changed.cases["request_date"])
    # and the n-th request drew the same case attributes
    assert_series_equal(base.cases["exception"], changed.cases["exception"])
    assert_series_equal(base.cases["initial"], changed.cases["initial"])


def test_changing_demand_keeps_the_initial_open_cases(example_config):
    """A demand lever leaves the cases open at the start (their own stream) exactly as they were."""
    base = run(example_config, seed=5, months=MONTHS)
    busier = run(example_config, seed=5, months=MONTHS, overrides={"demand.requests_per_month": 80})
    assert busier.series("requests_received").sum() > base.series("requests_received").sum()
    a = base.cases[base.cases["initial"]].reset_index(drop=True)
    b = busier.cases[busier.cases["initial"]].reset_index(drop=True)
    assert len(a) == example_config.initial_state.open_assessments[0].count + sum(
        band.count for band in example_config.initial_state.open_assessments[1:]
    )
    assert_series_equal(a["request_date"], b["request_date"])
    assert_series_equal(a["exception"], b["exception"])


def test_months_override_shortens_the_run(example_config):
    """`months=` runs exactly that many months, and they are a prefix of the longer run's arrivals."""
    short = run(example_config, seed=2, months=6)
    long = run(example_config, seed=2, months=MONTHS)
    assert short.metrics["month"].nunique() == 6
    assert long.metrics["month"].nunique() == MONTHS
    assert short.metrics["month"].min() == pd.Timestamp(example_config.start_date)
    assert_series_equal(short.series("requests_received"), long.series("requests_received").iloc[:6])


def test_history_months_use_the_observed_counts(make_variant):
    """Months given in demand.history receive exactly their observed number of requests."""
    config = make_variant("example", **{"demand.history": {"2023-02": 7, "2023-03": 0, "2023-05": 123}})
    requests = run(config, seed=1, months=6, cases=False).series("requests_received")
    assert requests.loc["2023-02-01"] == 7
    assert requests.loc["2023-03-01"] == 0
    assert requests.loc["2023-05-01"] == 123


def test_the_cycle_collector_is_paused_only_while_a_model_runs(example_config, monkeypatch):
    """A run pauses Python's cycle collector (it makes millions of short-lived objects and almost
    no cycles) and gives it back as it found it, also when the run fails."""
    import gc

    from sim.experiments import runner

    seen = []
    real_model = runner.Model

    class Watched(real_model):
        def run(self):
            seen.append(gc.isenabled())
            super().run()

    monkeypatch.setattr(runner, "Model", Watched)
    assert gc.isenabled()
    run(example_config, months=1, cases=False)
    assert seen == [False]
    assert gc.isenabled()

    class Failing(real_model):
        def run(self):
            raise RuntimeError("boom")

    monkeypatch.setattr(runner, "Model", Failing)
    with pytest.raises(RuntimeError):
        run(example_config, months=1, cases=False)
    assert gc.isenabled()
    gc.disable()
    try:
        with runner.garbage_collector_paused():
            pass
        assert not gc.isenabled()  # a caller who had paused it keeps it paused
    finally:
        gc.enable()


def test_dates_have_one_unit_whatever_the_days():
    """Whole and fractional model days give timestamps of the same dtype, equal in value."""
    import datetime as dt

    from sim.engine.clock import Calendar

    calendar = Calendar(dt.date(2023, 1, 1), 12)
    whole = calendar.timestamps([1.0, 2.0, float("nan")])
    fractional = calendar.timestamps([1.5, 2.25])
    assert whole.dtype == fractional.dtype
    assert whole.iloc[0] == pd.Timestamp("2023-01-02")
    assert fractional.iloc[1] == pd.Timestamp("2023-01-03 06:00")
