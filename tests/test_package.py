"""The package's own names: `sim.run`, `sim.optimise(...)` and friends, found when first asked for."""

from __future__ import annotations

import pytest

import sim


def test_an_unknown_name_is_an_attribute_error_naming_it():
    with pytest.raises(AttributeError, match=r"module 'sim' has no attribute 'simulate_everything'"):
        sim.simulate_everything  # noqa: B018
    assert "run" in dir(sim) and "optimise" in dir(sim) and "goal_seek" in dir(sim)


def test_sim_optimise_can_be_called_as_the_study_function(tmp_path, monkeypatch):
    """`sim.optimise(...)` calls sim.optimise.study.optimise with what it was given, even though
    sim.optimise is also the package of its modules."""
    import sim.optimise
    import sim.optimise.study as study

    calls = []
    monkeypatch.setattr(study, "optimise", lambda *args, **kwargs: calls.append((args, kwargs)) or "the study")
    assert sim.optimise("plan.yaml", out=tmp_path, workers=0) == "the study"
    assert calls == [(("plan.yaml",), {"out": tmp_path, "workers": 0})]


def test_a_wilson_interval_of_no_runs_is_everything():
    from sim.optimise.intervals import wilson

    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(0, 10)
    assert low == 0.0 and 0 < high < 0.35
