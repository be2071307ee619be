"""The sentence written for each output of a sweep (sim/outputs/sensitivity.py), from its indices."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.outputs.sensitivity import describe_output, morris_effects, sentence


def _sobol(rows: dict[str, tuple[float, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"parameter": p, "S1": s1, "S1_conf": s1c, "ST": st, "ST_conf": stc} for p, (s1, s1c, st, stc) in rows.items()]
    )


def _morris(rows: dict[str, tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"parameter": p, "mu": m, "mu_star": m, "mu_star_conf": 0.0, "sigma": s} for p, (m, s) in rows.items()]
    )


def test_an_output_is_named_in_words_with_its_year():
    assert describe_output("on_time_rate.2025") == "the 2025 on-time rate"
    assert describe_output("reviews_overdue.2025") == "reviews overdue at the end of 2025"


def test_a_sobol_sentence_ranks_by_total_index_and_names_what_cannot_be_told_from_zero():
    rows = _sobol({"c": (0.0, 0.02, 0.01, 0.03), "a": (0.5, 0.05, 0.6, 0.05), "b": (0.25, 0.05, 0.3, 0.04)})
    text = sentence("on_time_rate.2025", rows, "sobol")
    assert text == (
        "The 2025 on-time rate depends most on a (total index 0.60 ± 0.05), which on its own explains about "
        "50% of its variance; then b (0.30) and c (0.01). No effect can be told from zero for c."
    )
    # a first-order index below zero (its estimate's noise) is read as none
    alone = sentence("on_time_rate.2025", _sobol({"a": (-0.1, 0.1, 0.9, 0.1)}), "sobol")
    assert alone == (
        "The 2025 on-time rate depends most on a (total index 0.90 ± 0.10), which on its own explains about 0% "
        "of its variance."
    )


def test_a_morris_sentence_gives_changes_in_the_outputs_units():
    """A share's changes are in percentage points, a count's in its own units; a parameter moving it by
    less than a twentieth of the largest effect is named as such."""
    rows = _morris({"x": (0.12, 0.02), "y": (0.004, 0.001)})
    text = sentence("on_time_rate.2025", rows, "morris")
    assert text.startswith(
        "The 2025 on-time rate moves most with x: across its range it changes by 12.0 percentage points on average "
        "(μ*; σ 2.0 percentage points); then y (0.4 percentage points)."
    )
    assert text.endswith(" y change it by less than a twentieth of that.")
    count = sentence("reviews_overdue.2025", _morris({"x": (120.0, 30.0)}), "morris")
    assert count.startswith("Reviews overdue at the end of 2025 moves most with x: across its range it changes by 120")


def test_a_morris_output_that_never_moves_or_is_undefined_says_so():
    assert sentence("reviews_overdue.2025", _morris({"x": (0.0, 0.0), "y": (0.0, 0.0)}), "morris") == (
        "Reviews overdue at the end of 2025 does not change across the ranges swept."
    )
    nan = _morris({"x": (np.nan, np.nan)})
    assert sentence("on_time_rate.2025", nan, "morris") == (
        "The 2025 on-time rate is undefined at some points: no effect to report."
    )


def test_morris_effects_of_an_output_undefined_somewhere_are_missing_not_made_up():
    x = np.linspace(0, 1, 8).reshape(4, 2)
    frame = morris_effects(["a", "b"], x, np.array([1.0, np.nan, 2.0, 3.0]), levels=4)
    assert list(frame["parameter"]) == ["a", "b"]
    assert frame[["mu", "mu_star", "mu_star_conf", "sigma"]].isna().all().all()


def test_a_noisy_sweep_is_warned_of():
    rows = _morris({"x": (0.12, 0.02)})
    quiet = sentence("on_time_rate.2025", rows, "morris", noise=0.1)
    loud = sentence("on_time_rate.2025", rows, "morris", noise=0.4)
    assert loud.startswith(quiet) and "about 40% of the variation between points is the runs' own luck" in loud
