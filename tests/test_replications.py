"""Replications: parallel = serial, common random numbers, CIs and percentiles, precision, warm-up.

Runs are short (6-12 months of the example) and few, so the whole file stays within seconds;
the statistical checks use fixed seeds and margins wide enough to hold on any of them.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cli_result import assert_no_exception
from click.testing import CliRunner
from pandas.testing import assert_frame_equal
from scipy import stats as sps

from sim.cli import main
from sim.config import resolve_scenario
from sim.experiments.precision import look_ahead, relative_half_widths, run_to_precision
from sim.experiments.replications import replication_seed, run_replications
from sim.experiments.runner import run
from sim.measures import HEADLINE
from sim.outputs.stats import PERCENTILES, describe, half_width, mean_ci, monthly_summary, paired_difference
from sim.outputs.summary import kpi_table, scenario_differences, wide, yearly_by_rep, yearly_table

MONTHS = 12
SEED = 5
REPS = 3
SCENARIOS = ["base", "two_more_caseworkers"]


def _run_cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert_no_exception(result)
    return result


@pytest.fixture(scope="module")
def serial(example_config) -> pd.DataFrame:
    """Base and two_more_caseworkers, 3 replications of 12 months, in one process."""
    return run_replications(example_config, SCENARIOS, REPS, seed=SEED, months=MONTHS, jobs=1)


@pytest.fixture(scope="module")
def two_years(example_config) -> pd.DataFrame:
    """Base and two_more_caseworkers, 6 replications of 24 months (two calendar years)."""
    return run_replications(example_config, SCENARIOS, 6, seed=11, months=24, jobs=2)


def _series(results: pd.DataFrame, scenario: str, rep: int, metric: str) -> np.ndarray:
    rows = results[(results["scenario"] == scenario) & (results["rep"] == rep) & (results["metric"] == metric)]
    return rows.sort_values("month")["value"].to_numpy()


# --- serial and parallel; one seed per replication ------------------------------------------------


def test_parallel_replications_equal_serial(example_config, serial):
    """jobs=2 gives exactly the table jobs=1 gives, row for row."""
    parallel = run_replications(example_config, SCENARIOS, REPS, seed=SEED, months=MONTHS, jobs=2)
    assert_frame_equal(parallel, serial, check_exact=True)


def test_results_come_in_scenario_then_replication_order(serial):
    """Rows are grouped by scenario in the order asked for, then by replication 0..n-1."""
    order = list(dict.fromkeys(zip(serial["scenario"], serial["rep"])))
    assert order == [(s, r) for s in SCENARIOS for r in range(REPS)]
    assert list(serial.columns) == ["scenario", "rep", "month", "metric", "value"]


def test_replication_r_is_one_run_with_replication_seed(example_config, serial):
    """Replication r of a scenario is exactly run(scenario config, seed=replication_seed(seed, r))."""
    for scenario, rep in (("base", 0), ("two_more_caseworkers", 2)):
        expected = run(
            resolve_scenario(example_config, scenario), seed=replication_seed(SEED, rep), months=MONTHS, cases=False
        ).metrics
        got = serial[(serial["scenario"] == scenario) & (serial["rep"] == rep)]
        assert_frame_equal(got.drop(columns=["scenario", "rep"]).reset_index(drop=True), expected)


def test_replication_seeds_are_distinct_and_depend_on_seed_and_rep_only():
    """replication_seed is deterministic, distinct across 200 replications, and moves with the seed."""
    seeds = [replication_seed(SEED, r) for r in range(200)]
    assert len(set(seeds)) == 200
    assert seeds == [replication_seed(SEED, r) for r in range(200)]
    assert replication_seed(SEED, 0) != replication_seed(SEED + 1, 0)
    assert all(0 <= s < 2**32 for s in seeds)


def test_replication_r_of_every_scenario_sees_the_same_requests(serial):
    """Common random numbers: requests_received is identical in base and scenario, rep by rep."""
    for rep in range(REPS):
        base = _series(serial, "base", rep, "requests_received")
        other = _series(serial, "two_more_caseworkers", rep, "requests_received")
        assert len(base) == MONTHS
        np.testing.assert_array_equal(base, other)
    # not vacuous: replications differ from each other, and the scenario changes what staff do
    assert not np.array_equal(
        _series(serial, "base", 0, "requests_received"), _series(serial, "base", 1, "requests_received")
    )
    assert any(
        not np.array_equal(
            _series(serial, "base", r, "plans_issued"), _series(serial, "two_more_caseworkers", r, "plans_issued")
        )
        for r in range(REPS)
    )


def test_a_later_batch_repeats_the_same_replications(example_config, serial):
    """reps=range(1, 3) gives exactly replications 1 and 2 of a 3-replication run."""
    later = run_replications(example_config, SCENARIOS, range(1, 3), seed=SEED, months=MONTHS, jobs=1)
    expected = serial[serial["rep"] >= 1].reset_index(drop=True)
    assert_frame_equal(later, expected)


def test_cli_compare_with_one_or_two_jobs_writes_identical_results(example_path, tmp_path):
    """`sendsim compare --jobs 1` and `--jobs 2` write identical results, summaries, KPIs and differences."""
    folders = {}
    for jobs in (1, 2):
        folders[jobs] = tmp_path / f"jobs{jobs}"
        result = _run_cli(
            "compare",
            example_path,
            "--scenarios",
            "two_more_caseworkers",
            "--reps",
            3,
            "--months",
            6,
            "--seed",
            SEED,
            "--jobs",
            jobs,
            "--out",
            folders[jobs],
        )
        assert result.exit_code == 0, result.output
    one, two = folders[1], folders[2]
    assert_frame_equal(
        pd.read_parquet(one / "results.parquet"), pd.read_parquet(two / "results.parquet"), check_exact=True
    )
    assert_frame_equal(
        pd.read_parquet(one / "summary.parquet"), pd.read_parquet(two / "summary.parquet"), check_exact=True
    )
    for name in ("kpis.csv", "differences.csv"):
        assert (one / name).read_text() == (two / name).read_text()
    assert json.loads((one / "provenance.json").read_text())["jobs"] == 1
    assert json.loads((two / "provenance.json").read_text())["jobs"] == 2
    assert set(pd.read_parquet(one / "results.parquet")["scenario"]) == set(SCENARIOS)


# --- confidence intervals and percentiles ---------------------------------------------------------

SAMPLES = [
    [3.0, 4.5, 5.25, 9.0, 1.5],
    [0.1, 0.2],
    list(np.random.default_rng(7).gamma(2.0, 3.0, 37)),
    [100.0, 101.0, 99.0, 100.5, 98.5, 102.0, 97.0],
]


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
@pytest.mark.parametrize("sample", range(len(SAMPLES)))
def test_mean_ci_matches_scipy_t_interval(sample, confidence):
    """mean_ci is scipy's t interval around the sample mean with the standard error."""
    x = np.array(SAMPLES[sample])
    low, high = sps.t.interval(confidence, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
    mean, ci_low, ci_high = mean_ci(x, confidence)
    assert mean == pytest.approx(x.mean(), rel=1e-12)
    assert ci_low == pytest.approx(low, rel=1e-10)
    assert ci_high == pytest.approx(high, rel=1e-10)
    assert half_width(x, confidence) == pytest.approx((high - low) / 2, rel=1e-10)


def test_mean_ci_leaves_out_nans():
    """NaNs are dropped: the CI is that of the remaining values, with n - 1 degrees of freedom."""
    x = np.array([2.0, np.nan, 4.0, 7.0, np.nan, 5.0])
    kept = x[~np.isnan(x)]
    expected = sps.t.interval(0.95, len(kept) - 1, loc=kept.mean(), scale=sps.sem(kept))
    mean, low, high = mean_ci(x)
    assert mean == pytest.approx(4.5)
    assert (low, high) == pytest.approx(expected, rel=1e-10)


def test_one_value_gives_a_mean_and_no_interval():
    """n=1 (after dropping NaNs): the mean, and NaN for both ends and the half-width; n=0: all NaN."""
    mean, low, high = mean_ci([np.nan, 3.5])
    assert mean == 3.5 and np.isnan(low) and np.isnan(high)
    assert np.isnan(half_width([3.5]))
    assert all(np.isnan(v) for v in mean_ci([]))
    assert all(np.isnan(v) for v in mean_ci([np.nan, np.nan]))
    one = describe([3.5])
    assert one["n"] == 1 and one["mean"] == 3.5 and np.isnan(one["ci_low"]) and one["median"] == 3.5
    none = describe([np.nan])
    assert none["n"] == 0 and all(np.isnan(none[k]) for k in ("mean", "ci_low", "ci_high", "p5", "median", "p95"))


def test_constant_sample_has_a_zero_width_interval():
    """Identical values: the interval collapses onto the mean."""
    assert mean_ci([4.0, 4.0, 4.0]) == (4.0, 4.0, 4.0)


@pytest.mark.parametrize("sample", range(len(SAMPLES)))
def test_describe_percentiles_match_numpy(sample):
    """describe's p5..p95 and median are numpy.percentile's, with NaNs left out and not counted."""
    x = np.array(SAMPLES[sample] + [np.nan])
    kept = x[~np.isnan(x)]
    out = describe(x)
    assert out["n"] == len(kept)
    for p in PERCENTILES:
        assert out[f"p{p}"] == pytest.approx(np.percentile(kept, p), rel=1e-12)
    assert out["median"] == pytest.approx(np.median(kept), rel=1e-12)
    assert (out["mean"], out["ci_low"], out["ci_high"]) == pytest.approx(mean_ci(kept), rel=1e-12)
    assert out["p5"] <= out["p25"] <= out["median"] <= out["p75"] <= out["p95"]


def test_paired_difference_matches_scipy_on_a_minus_b():
    """paired_difference is the t interval of a - b, and agrees with scipy's paired t-test interval."""
    rng = np.random.default_rng(3)
    b = rng.normal(50, 10, 15)
    a = b + rng.normal(2, 1, 15)
    d = a - b
    expected = sps.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=sps.sem(d))
    mean, low, high = paired_difference(a, b)
    assert mean == pytest.approx(d.mean(), rel=1e-12)
    assert (low, high) == pytest.approx(expected, rel=1e-10)
    ttest = sps.ttest_rel(a, b).confidence_interval(0.95)
    assert (low, high) == pytest.approx((ttest.low, ttest.high), rel=1e-10)
    # pairing matters: the unpaired interval is much wider here
    assert high - low < 0.5 * (2 * half_width(a) + 2 * half_width(b))


def test_paired_difference_drops_pairs_with_a_nan():
    """A pair with a NaN on either side is left out whole, not just its NaN half."""
    a = np.array([5.0, np.nan, 7.0, 9.0, 4.0])
    b = np.array([4.0, 1.0, np.nan, 6.0, 4.5])
    d = np.array([1.0, 3.0, -0.5])
    expected = sps.t.interval(0.9, 2, loc=d.mean(), scale=sps.sem(d))
    mean, low, high = paired_difference(a, b, confidence=0.9)
    assert mean == pytest.approx(d.mean())
    assert (low, high) == pytest.approx(expected, rel=1e-10)


# --- common random numbers ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [42, 3])
def test_common_random_numbers_shrink_the_variance_of_a_difference(example_config, seed):
    """Scenario minus base over a year varies far less when paired on common random numbers than
    when the scenario's replications use other seeds (replications n..2n-1)."""
    n = 20
    paired = yearly_by_rep(run_replications(example_config, SCENARIOS, n, seed=seed, months=MONTHS, jobs=2))
    other = yearly_by_rep(
        run_replications(example_config, ["two_more_caseworkers"], range(n, 2 * n), seed=seed, months=MONTHS, jobs=2)
    )
    base = paired[paired["scenario"] == "base"].set_index("rep")
    crn = paired[paired["scenario"] == "two_more_caseworkers"].set_index("rep")
    independent = other.set_index("rep")
    for measure in ("plans_issued", "plans_in_force"):
        var_crn = np.var(crn[measure].to_numpy() - base[measure].to_numpy(), ddof=1)
        var_independent = np.var(independent[measure].to_numpy() - base[measure].to_numpy(), ddof=1)
        assert var_independent > 0
        assert var_crn < 0.5 * var_independent, (measure, var_crn, var_independent)
    # and the scenario does issue more plans: the paired CI excludes 0
    _, low, _ = paired_difference(crn["plans_issued"], base["plans_issued"])
    assert low > 0


def test_scenario_differences_are_paired_by_replication(two_years):
    """scenario_differences is paired_difference of each replication's yearly figure, year by year."""
    yearly = yearly_by_rep(two_years)
    diffs = scenario_differences(two_years)
    assert set(diffs["year"]) == {2023, 2024}
    assert set(diffs["scenario"]) == {"two_more_caseworkers"}
    for year in (2023, 2024):
        for measure in ("plans_issued", "cost_total", "reviews_overdue"):
            a = yearly[(yearly["scenario"] == "two_more_caseworkers") & (yearly["year"] == year)].sort_values("rep")
            b = yearly[(yearly["scenario"] == "base") & (yearly["year"] == year)].sort_values("rep")
            expected = paired_difference(a[measure], b[measure])
            row = diffs[(diffs["year"] == year) & (diffs["measure"] == measure)].iloc[0]
            assert (row["difference"], row["ci_low"], row["ci_high"]) == pytest.approx(expected, nan_ok=True)
            assert row["n"] == 6


# --- replications until precise enough ------------------------------------------------------------


def _met(results: pd.DataFrame, n: int, precision: float) -> bool:
    widths = relative_half_widths(results[results["rep"] < n])
    return not widths.empty and bool((widths["relative"] <= precision).all())


def test_precision_stops_at_the_stated_half_width_after_the_look_ahead(make_variant):
    """reached=True: every headline measure is within H at the end, was not at min_reps, and the
    precision held at every count from when it was first met through the look-ahead."""
    config = make_variant("example", **{"staff.1.count": 3})  # a short review team: reviews go overdue
    precision, min_reps = 0.15, 5
    results, reached = run_to_precision(
        config, precision, ["base"], seed=42, months=MONTHS, jobs=1, min_reps=min_reps, max_reps=40
    )
    assert reached
    n = results["rep"].nunique()
    assert sorted(results["rep"].unique()) == list(range(n))
    widths = relative_half_widths(results)
    assert set(widths["measure"]) == set(HEADLINE)
    assert (widths["relative"] <= precision).all(), widths
    assert not _met(results, min_reps, precision)  # the minimum was not enough
    # with one job the procedure adds one replication at a time, so it checked every count
    first = next(k for k in range(min_reps, n + 1) if all(_met(results, j, precision) for j in range(k, n + 1)))
    assert not _met(results, first - 1, precision)
    assert n >= first + look_ahead(first)
    assert n == first + look_ahead(first)  # and stopped as soon as the look-ahead was done
    # the replications are the same as a plain batch of n
    assert_frame_equal(results, run_replications(config, ["base"], n, seed=42, months=MONTHS, jobs=1))


def test_precision_stops_at_the_same_count_whatever_the_number_of_processes(make_variant):
    """Replications run `jobs` at a time, but the rule is applied one at a time: the same count,
    and the same results, with one process or three."""
    config = make_variant("example", **{"staff.1.count": 3})
    one, reached_one = run_to_precision(config, 0.15, ["base"], seed=42, months=MONTHS, jobs=1, max_reps=40)
    three, reached_three = run_to_precision(config, 0.15, ["base"], seed=42, months=MONTHS, jobs=3, max_reps=40)
    assert reached_one == reached_three
    assert_frame_equal(one, three)


def test_impossible_precision_stops_at_max_reps(example_config):
    """A half-width no run can reach: it stops at max_reps and says it was not reached."""
    results, reached = run_to_precision(
        example_config, 1e-9, SCENARIOS, seed=SEED, months=6, jobs=1, min_reps=5, max_reps=7
    )
    assert not reached
    assert sorted(results["rep"].unique()) == list(range(7))
    assert set(results["scenario"]) == set(SCENARIOS)
    assert (relative_half_widths(results)["relative"] > 1e-9).any()


def test_cli_precision_reports_reached_and_records_it(example_path, tmp_path):
    """`sendsim run --precision 0.25` on a short review team: reached, provenance says so, and every
    headline measure in the written results is within 25%."""
    out_dir = tmp_path / "precise"
    result = _run_cli(
        "run",
        example_path,
        "--months",
        MONTHS,
        "--seed",
        42,
        "--jobs",
        2,
        "--precision",
        0.25,
        "--max-reps",
        40,
        "--set",
        "staff.1.count=3",
        "--out",
        out_dir,
    )
    assert result.exit_code == 0, result.output
    assert "Precision 0.25: reached after" in result.output
    prov = json.loads((out_dir / "provenance.json").read_text())
    assert prov["precision"] == 0.25 and prov["precision_reached"] is True
    results = pd.read_parquet(out_dir / "results.parquet")
    assert prov["replications"] == results["rep"].nunique() >= 5 + look_ahead(5)
    assert len(prov["replication_seeds"]) == prov["replications"]
    assert (relative_half_widths(results)["relative"] <= 0.25).all()


def test_cli_precision_not_reached_within_max_reps(example_path, tmp_path):
    """`--precision 1e-6 --max-reps 6`: six replications, 'not reached', recorded in provenance."""
    out_dir = tmp_path / "imprecise"
    result = _run_cli(
        "run", example_path, "--months", 6, "--jobs", 1, "--precision", 1e-6, "--max-reps", 6, "--out", out_dir
    )
    assert result.exit_code == 0, result.output
    assert "not reached within 6 replications" in result.output
    prov = json.loads((out_dir / "provenance.json").read_text())
    assert prov["precision_reached"] is False and prov["replications"] == 6
    assert pd.read_parquet(out_dir / "results.parquet")["rep"].nunique() == 6


# --- sendsim run --reps; compare with a bad scenario ----------------------------------------------


@pytest.mark.parametrize("columns", [80, 200])
def test_the_comparison_tables_fit_the_terminal_whole(example_path, tmp_path, monkeypatch, columns):
    """Piped (80 columns) or wide: no line of the printed tables is wider than the terminal, every
    plan's name and every year is printed whole, nothing cut with an ellipsis; a narrow terminal
    splits the years over tables rather than wrapping a figure, a wide one shows them in one."""
    import rich.console

    import sim.cli

    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setattr(sim.cli, "out", rich.console.Console())  # reads the width as a command's console does
    out_dir = tmp_path / "compare"
    result = _run_cli(
        "compare", example_path, "--scenarios", "two_more_caseworkers", "--reps", 2, "--months", 60,
        "--jobs", 1, "--out", out_dir,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= columns
    assert "…" not in result.output
    assert sum(line.strip().startswith("two_more_caseworkers − base") for line in lines) >= 1
    header = [line.split() for line in lines if line.split()[:1] == ["Measure"]]
    shown_years = [year for row in header for year in row[1:]]
    # two plans' figures and one plan's differences: in one table each when wide, split when narrow
    assert len(header) == 3 if columns == 200 else len(header) >= 6, header
    assert sorted(set(shown_years)) == [str(y) for y in range(2023, 2028)]
    kpis = pd.read_csv(out_dir / "kpis.csv")
    rate = kpis[(kpis["measure"] == "on_time_rate") & (kpis["scenario"] == "two_more_caseworkers")].iloc[-1]
    assert f"{rate['p5']:.1%}–{rate['p95']:.1%}" in result.output


def test_run_with_reps_writes_an_experiment_and_prints_the_kpis(example_path, tmp_path):
    """`sendsim run --reps 3 --out DIR` writes the experiment's files and prints the KPI table."""
    out_dir = tmp_path / "reps"
    result = _run_cli("run", example_path, "--reps", 3, "--months", 6, "--jobs", 1, "--out", out_dir)
    assert result.exit_code == 0, result.output
    assert {p.name for p in out_dir.iterdir()} == {
        "results.parquet", "summary.parquet", "kpis.csv", "differences.csv", "config.yaml", "config-source.yaml", "provenance.json",
    }  # fmt: skip
    results = pd.read_parquet(out_dir / "results.parquet")
    assert set(results["scenario"]) == {"base"} and sorted(results["rep"].unique()) == [0, 1, 2]
    assert results["month"].nunique() == 6
    for text in ("On-time rate", "Reviews overdue", "2023", "90% of the 3 runs"):
        assert text in " ".join(result.output.split())
    kpis = pd.read_csv(out_dir / "kpis.csv")
    rate = kpis[(kpis["measure"] == "on_time_rate") & (kpis["year"] == 2023)].iloc[0]
    assert f"{rate['mean']:.1%}" in result.output


def test_compare_with_an_unknown_scenario_exits_2_and_writes_nothing(example_path, tmp_path):
    """`sendsim compare --scenarios nope` exits 2, names the scenario and the choices, writes nothing."""
    out_dir = tmp_path / "out"
    result = _run_cli(
        "compare",
        example_path,
        "--scenarios",
        "two_more_caseworkers",
        "nope",
        "--reps",
        2,
        "--months",
        3,
        "--out",
        out_dir,
    )
    assert result.exit_code == 2
    assert "no scenario 'nope'" in result.output
    assert "two_more_caseworkers" in result.output
    assert list(tmp_path.iterdir()) == []


# --- summaries over replications ------------------------------------------------------------------


def test_monthly_summary_has_every_cell_with_ordered_percentiles(serial):
    """One row per scenario x metric x month in the results, with mean, CI, median and p5..p95 in order."""
    summary = monthly_summary(serial)
    cells = serial[["scenario", "metric", "month"]].drop_duplicates()
    assert len(summary) == len(cells)
    keys = summary.set_index(["scenario", "metric", "month"]).index
    assert keys.is_unique
    assert set(keys) == set(map(tuple, cells.to_numpy()))
    assert set(summary["scenario"]) == set(SCENARIOS) and summary["month"].nunique() == MONTHS
    for column in ("n", "mean", "ci_low", "ci_high", "median", *(f"p{p}" for p in PERCENTILES)):
        assert column in summary.columns
    full = summary[summary["n"] >= 1]
    assert len(full) > 0.9 * len(summary)
    eps = 1e-9
    assert (full["p5"] <= full["p25"] + eps).all()
    assert (full["p25"] <= full["median"] + eps).all()
    assert (full["median"] <= full["p75"] + eps).all()
    assert (full["p75"] <= full["p95"] + eps).all()
    two = summary[summary["n"] >= 2]
    assert (two["ci_low"] <= two["mean"] + eps).all() and (two["mean"] <= two["ci_high"] + eps).all()


def test_monthly_summary_agrees_with_a_groupby(serial):
    """n, mean and median of each cell are those of the replications' values in that cell."""
    summary = monthly_summary(serial).set_index(["scenario", "metric", "month"])
    grouped = serial.groupby(["scenario", "metric", "month"])["value"]
    np.testing.assert_array_equal(summary["n"].to_numpy(), grouped.count().reindex(summary.index).to_numpy())
    np.testing.assert_allclose(summary["mean"], grouped.mean().reindex(summary.index), rtol=1e-12)
    np.testing.assert_allclose(summary["median"], grouped.median().reindex(summary.index), rtol=1e-12)
    cell = serial[
        (serial["scenario"] == "base")
        & (serial["metric"] == "plans_issued")
        & (serial["month"] == serial["month"].max())
    ]["value"]
    row = summary.loc[("base", "plans_issued", serial["month"].max())]
    assert row["p95"] == pytest.approx(np.percentile(cell, 95))
    assert row["ci_high"] == pytest.approx(mean_ci(cell)[2])


def test_p_reaches_target_is_the_share_of_replications_at_or_above_it(two_years):
    """p_reaches_target = share of replications whose yearly on-time rate >= target (ties count)."""
    yearly = yearly_by_rep(two_years)
    rates = yearly["on_time_rate"].dropna().to_numpy()
    target = float(np.sort(rates)[len(rates) // 2])  # an actual rate: one replication ties with it
    kpis = kpi_table(two_years, target=target)
    rows = kpis[kpis["measure"] == "on_time_rate"]
    assert len(rows) == 2 * 2  # scenarios x years
    shares = []
    for _, row in rows.iterrows():
        group = yearly[(yearly["scenario"] == row["scenario"]) & (yearly["year"] == row["year"])]
        expected = (group["on_time_rate"] >= target).sum() / len(group)
        assert row["p_reaches_target"] == pytest.approx(expected)
        shares.append(expected)
    assert 0 < np.mean(shares) < 1  # the target splits the replications, so the check has teeth
    assert kpis.loc[kpis["measure"] != "on_time_rate", "p_reaches_target"].isna().all()
    # a target every replication beats, and one none reaches
    assert (kpi_table(two_years, target=0.0).query("measure == 'on_time_rate'")["p_reaches_target"] == 1).all()
    assert (kpi_table(two_years, target=1.01).query("measure == 'on_time_rate'")["p_reaches_target"] == 0).all()


def test_kpi_means_are_the_means_of_each_replications_yearly_table(two_years, example_config):
    """yearly_by_rep holds each replication's own yearly_table; kpi_table's mean and n are over those."""
    yearly = yearly_by_rep(two_years)
    alone = yearly_table(run(example_config, seed=replication_seed(11, 1), months=24, cases=False).metrics)
    rep1 = yearly[(yearly["scenario"] == "base") & (yearly["rep"] == 1)].set_index("year")
    for measure in ("plans_issued", "on_time_rate", "reviews_overdue", "cost_total"):
        np.testing.assert_allclose(rep1[measure].to_numpy(float), alone[measure].to_numpy(float), rtol=1e-12)
    kpis = kpi_table(two_years)
    for year in (2023, 2024):
        group = yearly[(yearly["scenario"] == "base") & (yearly["year"] == year)]
        row = kpis[(kpis["scenario"] == "base") & (kpis["year"] == year) & (kpis["measure"] == "plans_issued")].iloc[0]
        assert row["mean"] == pytest.approx(group["plans_issued"].mean())
        assert row["p95"] == pytest.approx(np.percentile(group["plans_issued"], 95))
        assert row["n"] == 6


# --- warm-up --------------------------------------------------------------------------------------

WARM_UP = 5


@pytest.fixture(scope="module")
def warmed(make_variant):
    """The example with 5 warm-up months, reporting 7 months; and the same seed run 12 months plainly."""
    with_warm_up = run(make_variant("example", warm_up_months=WARM_UP), seed=3, months=7, cases=False)
    plain = run(make_variant("example"), seed=3, months=WARM_UP + 7, cases=False)
    return wide(with_warm_up.metrics), wide(plain.metrics)


def test_warm_up_months_are_left_out_of_the_metrics(warmed, example_config):
    """With warm_up_months=5 the metrics start 5 months after start_date and cover the months asked for."""
    w, _ = warmed
    start = pd.Timestamp(example_config.start_date)
    assert w.index[0] == start + pd.DateOffset(months=WARM_UP)
    assert len(w) == 7 and w.index[-1] == start + pd.DateOffset(months=WARM_UP + 6)


def test_warm_up_reports_the_same_flows_as_the_tail_of_a_longer_run(warmed):
    """The reported months are the last months of the same run without a warm-up: flows and stocks match."""
    w, plain = warmed
    tail = plain.iloc[WARM_UP:]
    for metric in (
        "requests_received",
        "plans_issued",
        "plans_ceased",
        "assessments_open",
        "plans_in_force",
        "reviews_overdue",
        "cost_total",
        "fte_in_post.caseworker.permanent",
    ):
        np.testing.assert_array_equal(w[metric].to_numpy(), tail[metric].to_numpy(), err_msg=metric)


def test_stocks_at_start_are_read_at_the_end_of_the_warm_up(warmed):
    """The at-start stocks are those at the end of the last warm-up month, reported in the first month only."""
    w, plain = warmed
    before = plain.iloc[WARM_UP - 1]
    assert w["plans_in_force_at_start"].iloc[0] == before["plans_in_force"]
    assert w["assessments_open_at_start"].iloc[0] == before["assessments_open"]
    for c in ("permanent", "agency"):
        assert w[f"fte_in_post_at_start.caseworker.{c}"].iloc[0] == pytest.approx(before[f"fte_in_post.caseworker.{c}"])
    assert w["plans_in_force_at_start"].iloc[1:].isna().all()


def test_stocks_are_conserved_over_the_reported_period(warmed):
    """Stock at the start of the reported period + its flows = stock at its end (plans, assessments, FTE)."""
    w, _ = warmed
    assessments = w["requests_received"] - w["refusals"] - w["assessments_ended_no_plan"] - w["plans_issued"]
    assert w["assessments_open_at_start"].iloc[0] + assessments.sum() == w["assessments_open"].iloc[-1]
    plans = w["plans_issued"] + w["plans_transferred_in"] - w["plans_ceased"]
    assert w["plans_in_force_at_start"].iloc[0] + plans.sum() == w["plans_in_force"].iloc[-1]
    for role in ("caseworker", "educational_psychologist"):
        conversions = w[f"conversions_fte.{role}"].sum()
        for contract, sign in (("permanent", 1), ("agency", -1)):
            start = w[f"fte_in_post_at_start.{role}.{contract}"].iloc[0]
            flows = w[f"starters_fte.{role}.{contract}"].sum() - w[f"leavers_fte.{role}.{contract}"].sum()
            assert start + flows + sign * conversions == pytest.approx(w[f"fte_in_post.{role}.{contract}"].iloc[-1])


def test_replications_with_a_warm_up_report_years_from_the_end_of_it(make_variant):
    """Replications and yearly KPIs with a 9-month warm-up start in October and carry no warm-up month."""
    config = make_variant("example", warm_up_months=9)
    results = run_replications(config, ["base"], 2, seed=SEED, months=6, jobs=1)
    assert results["month"].min() == pd.Timestamp("2023-10-01")
    assert results["month"].nunique() == 6
    yearly = yearly_by_rep(results)
    assert sorted(yearly["year"].unique()) == [2023, 2024]
    assert set(yearly.loc[yearly["year"] == 2024, "to"]) == {"Mar 2024"}
    first = results[(results["rep"] == 0) & (results["month"] < "2024-01-01")]
    issued = first.loc[first["metric"] == "plans_issued", "value"].sum()
    assert yearly.loc[(yearly["rep"] == 0) & (yearly["year"] == 2023), "plans_issued"].iloc[0] == issued


def test_year_to_date_on_time_rate_leaves_out_the_warm_up(make_variant):
    """on_time_rate_ytd counts only reported months: in the first reported month it is that month's
    rate, and in December it is the year's rate as the yearly table gives it."""
    result = run(make_variant("example", warm_up_months=6), seed=1, months=9, cases=False)
    w = wide(result.metrics)
    first = w.iloc[0]
    assert first["plans_issued"] > 0
    assert first["on_time_rate_ytd"] == pytest.approx(first["on_time_rate"])
    year = w[w.index.year == 2023]
    expected = year["plans_issued_within_20_weeks"].sum() / year["plans_issued"].sum()
    assert year["on_time_rate_ytd"].iloc[-1] == pytest.approx(expected)
    assert yearly_table(result.metrics).loc[2023, "on_time_rate"] == pytest.approx(expected)


def test_compare_from_python_gives_the_comparison_the_command_gives(example_path, tmp_path):
    import sim

    experiment = sim.compare(example_path, ["two_more_caseworkers"], reps=2, months=3, jobs=1, out=tmp_path / "py")
    assert experiment.scenarios == ["base", "two_more_caseworkers"]
    assert set(experiment.differences["scenario"]) == {"two_more_caseworkers"}
    result = CliRunner().invoke(
        main,
        ["compare", str(example_path), "--scenarios", "two_more_caseworkers", "--reps", "2", "--months", "3",
         "--jobs", "1", "--out", str(tmp_path / "cli")],
    )  # fmt: skip
    assert_no_exception(result)
    assert result.exit_code == 0, result.output
    assert_frame_equal(sim.load_results(tmp_path / "py").kpis, sim.load_results(tmp_path / "cli").kpis)
    assert_frame_equal(experiment.results, sim.load_results(tmp_path / "cli").results)
