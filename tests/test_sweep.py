"""Sweeps: the sweep file's checks, the designs, runs on a real Dask cluster that agree with
`sim.run` point by point whatever the number of workers, and the sensitivity analysis."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_result import assert_no_exception, assert_refused
from click.testing import CliRunner
from pandas.testing import assert_frame_equal

from sim.cli import main
from sim.config import ConfigError
from sim.experiments.replications import replication_seed
from sim.experiments.runner import run
from sim.outputs.sensitivity import morris_effects, sentence, sobol_indices
from sim.outputs.summary import yearly_table
from sim.sweeps.design import points
from sim.sweeps.spec import load_sweep, point_count
from sim.sweeps.sweep import run_sweep

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "configs" / "example.yaml"


def sweep_raw(**changes) -> dict:
    raw = {
        "config": str(EXAMPLE),
        "months": 6,
        "replications": 2,
        "runs_per_task": 3,
        "design": {"method": "morris", "trajectories": 2, "levels": 4},
        "parameters": {
            "demand.growth_per_year": {"low": 0.0, "high": 0.3, "unit": "share a year"},
            "assessment.draft_plan_hours.mean": {"low": 5.0, "high": 15.0, "unit": "hours"},
        },
        "outputs": [{"figure": "on_time_rate", "year": 2023}, {"figure": "plans_issued", "year": 2023}],
    }
    raw.update(changes)
    return raw


def write_sweep(folder: Path, raw: dict, name: str = "sweep.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


# --- the sweep file -----------------------------------------------------------------------------

BAD = {
    "unknown lever": (
        {"parameters": {"demand.no_such_thing": {"low": 0, "high": 1, "unit": "x"}}},
        "parameters.demand.no_such_thing",
    ),
    "range outside the lever's bounds": (
        {"parameters": {"workforce.recruitment.fill_probability": {"low": 0.5, "high": 1.5, "unit": "share"}}},
        "parameters.workforce.recruitment.fill_probability",
    ),
    "a lever that is not a number": (
        {"parameters": {"policy.priority": {"low": 0, "high": 1, "unit": "x"}}},
        "parameters.policy.priority",
    ),
    "unknown output": ({"outputs": [{"figure": "happiness", "year": 2023}]}, "outputs[0].figure"),
    "a per-team output": ({"outputs": [{"figure": "caseload_per_fte_mean", "year": 2023}]}, "outputs[0].figure"),
    "a year not simulated": ({"outputs": [{"figure": "on_time_rate", "year": 2030}]}, "outputs[0].year"),
    "a repeated output": (
        {"outputs": [{"figure": "on_time_rate", "year": 2023}, {"figure": "on_time_rate", "year": 2023}]},
        "outputs",
    ),
    "low above high": (
        {"parameters": {"demand.growth_per_year": {"low": 0.3, "high": 0.1, "unit": "share"}}},
        "parameters.demand.growth_per_year",
    ),
    "a normal in a morris design": (
        {"parameters": {"demand.growth_per_year": {"dist": "normal", "mean": 0.1, "sd": 0.02, "unit": "share"}}},
        "parameters.demand.growth_per_year",
    ),
    "no unit": ({"parameters": {"demand.growth_per_year": {"low": 0.0, "high": 0.2}}}, "unit"),
    "an odd number of Morris levels": ({"design": {"method": "morris", "trajectories": 2, "levels": 3}}, "design"),
    "Sobol samples not a power of 2": ({"design": {"method": "sobol", "base_samples": 12}}, "design"),
    "an unknown design": ({"design": {"method": "guesswork"}}, "design"),
    "an unknown key": ({"replicates": 3}, "replicates"),
    "no such configuration": ({"config": "missing.yaml"}, "config"),
    "no such scenario": ({"scenario": "nowhere"}, "nowhere"),
    "a triangle without its mode": (
        {"parameters": {"demand.growth_per_year": {"dist": "triangular", "low": 0.0, "high": 0.2, "unit": "share"}}},
        "a triangular range needs low, mode, high; missing mode",
    ),
    "a uniform range with an sd": (
        {"parameters": {"demand.growth_per_year": {"low": 0.0, "high": 0.2, "sd": 0.1, "unit": "share"}}},
        "a uniform range takes low, high, not sd",
    ),
    "a mode outside its triangle": (
        {
            "parameters": {
                "demand.growth_per_year": {"dist": "triangular", "low": 0.0, "mode": 0.3, "high": 0.2, "unit": "share"}
            }
        },
        "expected low <= mode <= high, got mode 0.3",
    ),  # fmt: skip
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_sweep_file_is_refused_before_any_run(case, tmp_path):
    changes, field = BAD[case]
    path = write_sweep(tmp_path, sweep_raw(**changes))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(out)])
    assert_refused(result)
    assert str(path) in result.output
    assert field in result.output, result.output
    assert not out.exists() and not (tmp_path / "out.partial").exists()


def test_a_sweep_file_that_is_not_a_mapping_is_refused(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a YAML mapping"):
        load_sweep(path)


# --- designs ------------------------------------------------------------------------------------


def test_each_design_gives_the_points_it_promises_inside_each_range(tmp_path):
    parameters = {
        "demand.growth_per_year": {"low": 0.0, "high": 0.3, "unit": "share a year"},
        "assessment.draft_plan_hours.mean": {"dist": "triangular", "low": 5, "mode": 9, "high": 15, "unit": "hours"},
        "workforce.recruitment.fill_probability": {"low": 0.2, "high": 0.9, "unit": "share"},
    }
    designs = [
        {"method": "sobol", "base_samples": 8},
        {"method": "sobol", "base_samples": 8, "second_order": True},
        {"method": "morris", "trajectories": 3, "levels": 4},
        {"method": "latin", "points": 10},
        {"method": "grid", "levels": 3},
    ]
    for design in designs:
        sweep = load_sweep(write_sweep(tmp_path, sweep_raw(design=design, parameters=parameters)))
        table = points(sweep)
        assert len(table) == point_count(sweep.spec), design
        for name, p in parameters.items():
            assert table[name].between(p["low"], p["high"]).all(), (design, name)
        assert_frame_equal(table, points(sweep))  # a function of the file alone
    grid = points(load_sweep(write_sweep(tmp_path, sweep_raw(design=designs[-1], parameters=parameters))))
    assert sorted(grid["demand.growth_per_year"].unique()) == pytest.approx([0.0, 0.15, 0.3])


def test_a_normal_range_is_held_at_its_ends_and_a_whole_number_lever_stays_whole(tmp_path):
    parameters = {
        "demand.growth_per_year": {"dist": "normal", "mean": 0.1, "sd": 0.05, "unit": "share a year"},
        "initial_state.plans_in_force": {"low": 2000, "high": 3000, "unit": "plans"},
    }
    sweep = load_sweep(
        write_sweep(tmp_path, sweep_raw(design={"method": "latin", "points": 200}, parameters=parameters))
    )
    table = points(sweep)
    growth = table["demand.growth_per_year"]
    assert growth.between(0.1 - 3.09 * 0.05, 0.1 + 3.09 * 0.05).all()
    assert abs(growth.mean() - 0.1) < 0.01 and abs(growth.std() - 0.05) < 0.01
    plans = table["initial_state.plans_in_force"]
    assert plans.dtype == np.int64 and plans.between(2000, 3000).all() and plans.nunique() > 100


def test_the_seed_of_the_sweep_changes_the_design_and_nothing_else_does(tmp_path):
    a = points(load_sweep(write_sweep(tmp_path, sweep_raw(design={"method": "latin", "points": 5}, seed=1), "a.yaml")))
    b = points(load_sweep(write_sweep(tmp_path, sweep_raw(design={"method": "latin", "points": 5}, seed=2), "b.yaml")))
    assert not a.equals(b)


# --- running on Dask ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """A 6-point, 2-replication Morris sweep run on a LocalCluster of 2 workers, into a folder."""
    folder = tmp_path_factory.mktemp("sweep")
    path = write_sweep(folder, sweep_raw())
    table = run_sweep(path, out=folder / "out", workers=2)
    return path, table


def test_a_sweep_on_two_workers_equals_one_worker_and_each_point_run_by_sim_run(small_sweep):
    path, table = small_sweep
    sweep = load_sweep(path)
    assert_frame_equal(table, run_sweep(path, workers=1))
    assert len(table) == 6 * 2 * 2 and not table.duplicated(["point", "rep", "output"]).any()
    for (point, rep), rows in table.groupby(["point", "rep"]):
        overrides = {name: rows[name].iloc[0] for name in sweep.parameters}
        seed = replication_seed(sweep.seed, int(rep))
        yearly = yearly_table(run(EXAMPLE, seed=seed, months=6, overrides=overrides, cases=False).metrics)
        for output, value in zip(rows["output"], rows["value"]):
            figure, _, year = output.rpartition(".")
            assert value == yearly.at[int(year), figure], (point, rep, output)


def test_replication_r_of_every_point_shares_its_seed(small_sweep):
    """Common random numbers: two points with the same levers (Morris revisits some) agree run by run."""
    path, table = small_sweep
    sweep = load_sweep(path)
    by_levers = table.groupby(sweep.parameters)["point"].unique()
    twins = [p for p in by_levers if len(p) > 1]
    assert twins, "the design has no repeated point to compare"
    a, b = twins[0][:2]
    values = lambda p: table[table["point"] == p][["rep", "output", "value"]].reset_index(drop=True)  # noqa: E731
    assert_frame_equal(values(a), values(b))


def test_the_sweep_folder_holds_the_table_the_points_and_where_they_came_from(small_sweep):
    path, table = small_sweep
    out = path.parent / "out"
    assert_frame_equal(pd.read_parquet(out / "results.parquet"), table)
    for name in ("results.csv", "points.csv", "sweep.json", "config.yaml", "provenance.json"):
        assert (out / name).is_file(), name
    assert not (path.parent / "out.partial").exists()  # the kept tasks go once the table is written


def test_sensitivity_writes_morris_effects_charts_and_a_report(small_sweep):
    path, _ = small_sweep
    out = path.parent / "out"
    result = CliRunner().invoke(main, ["sensitivity", str(out)])
    assert_no_exception(result)
    assert result.exit_code == 0, result.output
    indices = pd.read_csv(out / "sensitivity.csv")
    assert set(indices["output"]) == {"on_time_rate.2023", "plans_issued.2023"}
    assert (indices["mu_star"] >= indices["mu"].abs() - 1e-12).all()
    draft = indices[(indices["output"] == "plans_issued.2023") & (indices["parameter"].str.startswith("assessment"))]
    assert draft["mu"].iloc[0] < 0  # more hours for each draft plan: fewer plans issued in the year
    report = (out / "sensitivity.html").read_text(encoding="utf-8")
    assert "moves most with" in report and "data:image/png;base64" in report
    assert sorted(p.name for p in (out / "plots").glob("*.png")) == sorted(
        [f"{kind}_{i}.png" for kind in ("indices", "mu_sigma", "tornado") for i in (0, 1)]
    )


def test_a_second_sweep_into_the_same_folder_is_refused_without_force(small_sweep):
    path, _ = small_sweep
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(path.parent / "out"), "--workers", "1"])
    assert_refused(result)
    assert "--force" in result.output


def test_a_latin_sweep_has_no_indices_and_says_so(tmp_path):
    path = write_sweep(tmp_path, sweep_raw(design={"method": "latin", "points": 2}, replications=1))
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "1"])
    assert_no_exception(result)
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["sensitivity", str(tmp_path / "out")])
    assert_refused(result)
    assert "use a sobol or morris design" in result.output


def test_sensitivity_of_a_folder_that_is_not_a_sweep_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["sensitivity", str(tmp_path)])
    assert_refused(result)
    assert "not a finished sweep" in result.output


def test_an_unreachable_scheduler_is_refused_with_its_address(tmp_path):
    path = write_sweep(tmp_path, sweep_raw())
    result = CliRunner().invoke(
        main, ["sweep", str(path), "--out", str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:9"]
    )
    assert_refused(result)
    assert "tcp://127.0.0.1:9" in result.output


# --- the analysis, on functions whose answer is known -------------------------------------------

ISHIGAMI_S1 = [0.3139, 0.4424, 0.0]
ISHIGAMI_ST = [0.5576, 0.4424, 0.2437]


def ishigami(x: np.ndarray) -> np.ndarray:
    """SALib's Ishigami function, on the unit cube mapped to [-π, π]^3 (a = 7, b = 0.1)."""
    z = -math.pi + 2 * math.pi * x
    return np.sin(z[:, 0]) + 7 * np.sin(z[:, 1]) ** 2 + 0.1 * z[:, 2] ** 4 * np.sin(z[:, 0])


def test_sobol_indices_of_the_ishigami_function_match_the_analytic_values_within_their_intervals():
    from SALib.sample import sobol

    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[0.0, 1.0]] * 3}
    x = sobol.sample(problem, 2048, calc_second_order=False, seed=7)
    si = sobol_indices(["x1", "x2", "x3"], ishigami(x), seed=7)
    for i in range(3):
        assert abs(si["S1"][i] - ISHIGAMI_S1[i]) <= si["S1_conf"][i], (i, si)
        assert abs(si["ST"][i] - ISHIGAMI_ST[i]) <= si["ST_conf"][i], (i, si)


def test_morris_ranks_the_ishigami_inputs_and_an_inert_one_has_no_effect():
    from SALib.sample import morris

    problem = {"num_vars": 4, "names": ["x1", "x2", "x3", "inert"], "bounds": [[0.0, 1.0]] * 4}
    x = morris.sample(problem, 100, num_levels=4, seed=3)
    effects = morris_effects(problem["names"], x, ishigami(x[:, :3]), levels=4, seed=3)
    mu_star = dict(zip(effects["parameter"], effects["mu_star"]))
    assert mu_star["inert"] == 0.0
    assert min(mu_star["x1"], mu_star["x2"], mu_star["x3"]) > 0.5
    text = sentence("on_time_rate.2025", effects.assign(output="on_time_rate.2025"), "morris")
    assert "inert change it by less than a twentieth" in text


def test_a_constant_output_has_no_sobol_index_and_the_sentence_says_so():
    si = sobol_indices(["a", "b"], np.ones(16))
    assert si[["S1", "ST"]].isna().all().all()
    assert "does not vary" in sentence("plans_issued.2024", si, "sobol")


# --- the assumptions of a configuration, and the ready-made studies ------------------------------


def test_assumptions_lists_each_number_whose_line_says_so_with_a_distributions_members(tmp_path):
    from sim.sweeps.assumptions import assumptions

    path = tmp_path / "c.yaml"
    path.write_text(
        "demand:\n"
        "  requests_per_month: 40   # SEN2 2022\n"
        "  growth_per_year: 0.08    # assumption: England's growth\n"
        "assessment:\n"
        "  decision_hours: {dist: lognormal, mean: 1.5, cv: 0.6}  # Assumption, no source\n"
        "policy:\n"
        "  priority: deadline  # assumption\n",
        encoding="utf-8",
    )
    found = [(a.path, a.value) for a in assumptions(path)]
    assert found == [
        ("demand.growth_per_year", 0.08),
        ("assessment.decision_hours.mean", 1.5),
        ("assessment.decision_hours.cv", 0.6),
    ]


@pytest.mark.parametrize("study", sorted((ROOT / "experiments" / "sweeps").glob("devon-*.yaml")), ids=lambda p: p.stem)
def test_each_devon_study_sweeps_assumptions_of_devon_and_loads(study):
    from sim.sweeps.assumptions import assumptions

    marked = {a.path for a in assumptions(ROOT / "configs" / "devon.yaml")}
    sweep = load_sweep(study)
    assert set(sweep.parameters) <= marked, set(sweep.parameters) - marked
    assert sweep.config.name and point_count(sweep.spec) >= 100


def test_the_assumptions_command_prints_the_lever_paths():
    result = CliRunner().invoke(main, ["assumptions", str(ROOT / "configs" / "devon.yaml")])
    assert_no_exception(result)
    assert result.exit_code == 0 and "workforce.recruitment.fill_probability" in result.output


def test_the_tornado_swings_are_the_designs_one_at_a_time_slopes_and_zero_for_an_inert_input():
    from SALib.sample import morris, sobol

    from sim.outputs.sensitivity_report import one_at_a_time_slopes

    problem = {"num_vars": 4, "names": ["x1", "x2", "x3", "inert"], "bounds": [[0.0, 1.0]] * 4}
    x = morris.sample(problem, 50, num_levels=4, seed=5)
    y = ishigami(x[:, :3])
    effects = morris_effects(problem["names"], x, y, levels=4, seed=5)
    assert one_at_a_time_slopes("morris", x, y) == pytest.approx(effects["mu"].to_numpy())  # steps are ±Δ
    x = sobol.sample(problem, 64, calc_second_order=False, seed=5)
    linear = 3.0 * x[:, 0] - 2.0 * x[:, 1] + 0.5 * x[:, 2]  # a plane: each slope is its coefficient
    assert one_at_a_time_slopes("sobol", x, linear) == pytest.approx([3.0, -2.0, 0.5, 0.0])


def test_validate_checks_a_sweep_file_and_describes_it(tmp_path):
    good = CliRunner().invoke(main, ["validate", str(ROOT / "configs" / "sweeps" / "example-morris.yaml")])
    assert_no_exception(good)
    said = " ".join(good.output.split())  # the console wraps a long path's line
    assert good.exit_code == 0 and "a morris sweep of" in said and "40 points x 2 replications" in said
    bad = write_sweep(tmp_path, sweep_raw(outputs=[{"figure": "happiness", "year": 2023}]))
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert_refused(result)
    assert "outputs[0].figure" in result.output


def test_a_sweep_keeps_every_runs_monthly_metrics_only_when_asked(tmp_path):
    path = write_sweep(tmp_path, sweep_raw(design={"method": "latin", "points": 2}, replications=2, monthly=True))
    table = run_sweep(path, out=tmp_path / "out", workers=1)
    monthly = pd.read_parquet(tmp_path / "out" / "monthly.parquet")
    assert set(zip(monthly["point"], monthly["rep"])) == {(p, r) for p in (0, 1) for r in (0, 1)}
    for (point, rep), metrics in monthly.groupby(["point", "rep"]):
        yearly = yearly_table(metrics[["month", "metric", "value"]].reset_index(drop=True))
        got = table[(table["point"] == point) & (table["rep"] == rep) & (table["output"] == "plans_issued.2023")]
        assert got["value"].iloc[0] == yearly.at[2023, "plans_issued"]
    assert not (tmp_path / "out2").exists()
    run_sweep(
        write_sweep(tmp_path, sweep_raw(design={"method": "latin", "points": 2}), "b.yaml"),
        out=tmp_path / "out2",
        workers=1,
    )
    assert not (tmp_path / "out2" / "monthly.parquet").exists()


def test_the_noise_share_leaves_out_what_replication_r_shares_across_points():
    from sim.outputs.sensitivity import noise_share

    rng = np.random.default_rng(2)
    points, reps = 400, 3
    effect = rng.normal(0.0, 1.0, points)  # the parameters' part: variance 1
    shift = rng.normal(0.0, 5.0, reps)  # replication r's luck common to every point: no index moves
    luck = rng.normal(0.0, 0.6, (points, reps))  # the rest: 0.36 a run, 0.12 in a mean of 3
    values = effect[:, None] + shift[None, :] + luck
    table = pd.DataFrame(
        {
            "point": np.repeat(np.arange(points), reps),
            "rep": np.tile(np.arange(reps), points),
            "output": "on_time_rate.2025",
            "value": values.ravel(),
        }
    )
    assert noise_share(table, "on_time_rate.2025") == pytest.approx(0.12 / 1.12, abs=0.03)
    assert math.isnan(noise_share(table[table["rep"] == 0], "on_time_rate.2025"))
    rows = pd.DataFrame({"parameter": ["a"], "mu": [0.1], "mu_star": [0.1], "mu_star_conf": [0.0], "sigma": [0.0]})
    assert "luck" in sentence("on_time_rate.2025", rows, "morris", noise=0.4)
    assert "luck" not in sentence("on_time_rate.2025", rows, "morris", noise=0.1)


def test_sensitivity_refuses_a_folder_whose_points_are_not_the_design_its_file_draws(small_sweep, tmp_path):
    import shutil

    path, _ = small_sweep
    copy = tmp_path / "edited"
    shutil.copytree(path.parent / "out", copy)
    table = pd.read_parquet(copy / "results.parquet")
    table.loc[table["point"] == 3, "demand.growth_per_year"] += 0.01
    table.to_parquet(copy / "results.parquet", index=False)
    result = CliRunner().invoke(main, ["sensitivity", str(copy)])
    assert_refused(result)
    assert "differs from the points" in result.output


def test_a_lever_the_configuration_moves_during_the_run_is_refused(tmp_path):
    devon = sweep_raw(
        config=str(ROOT / "configs" / "devon.yaml"),
        parameters={"assessment.effort_scale": {"low": 1.0, "high": 2.0, "unit": "multiplier"}},
    )
    with pytest.raises(
        ConfigError, match="parameters.assessment.effort_scale: the configuration's calibrated uncertainty"
    ):
        load_sweep(write_sweep(tmp_path, devon, "devon.yaml"))
    raw = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    raw["actions"] = [
        *raw.get("actions", []),
        {"date": "2023-04-01", "action": "set", "parameter": "demand.growth_per_year", "value": 0.1},
    ]
    (tmp_path / "service.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ConfigError, match="sets this parameter on 1 April 2023"):
        load_sweep(write_sweep(tmp_path, sweep_raw(config="service.yaml"), "mine.yaml"))


def test_a_worker_s_batch_is_each_run_s_yearly_figures_with_its_levers_set_in_process():
    """What a worker does, run here so that it is measured: the levers set on a copy, one
    replication each, only the figures asked for; with `monthly`, the monthly metrics too."""
    from sim.config import load_config, replaced
    from sim.sweeps.task import Run, run_batch

    config = load_config(ROOT / "configs" / "example.yaml")
    runs = [Run(0, 0, 11, (("demand.growth_per_year", 0.0),)), Run(1, 0, 11, (("demand.growth_per_year", 0.5),))]
    outputs = [("requests_received", config.start_date.year), ("on_time_rate", config.start_date.year + 1)]
    table, monthly = run_batch(config, runs, 18, outputs, monthly=True)
    assert list(table.columns) == ["point", "rep", "output", "value"] and len(table) == 4
    first = replaced(config, "demand.growth_per_year", 0.0)
    expected = yearly_table(run(first, seed=11, months=18, cases=False).metrics)
    year = config.start_date.year
    got = table[(table["point"] == 0) & (table["output"] == f"requests_received.{year}")]["value"].iloc[0]
    assert got == expected.loc[year, "requests_received"]
    requests = table[table["output"] == f"requests_received.{year}"].set_index("point")["value"]
    assert requests[1] > requests[0]  # 50% growth a year: the lever was set
    assert config.demand.growth_per_year != 0.5  # the service itself is not changed
    assert set(monthly["point"]) == {0, 1} and {"month", "metric", "value"} <= set(monthly.columns)
    only = run_batch(config, runs[:1], 18, outputs)
    assert_frame_equal(only, table[table["point"] == 0].reset_index(drop=True))
