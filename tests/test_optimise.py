"""The hiring-plan optimiser and goal-seek (issue 15), in this process: the known optimum of queueing
theory, the choice resting on fresh runs rather than on the luckiest trial, resume, and bad input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from cli_result import assert_no_exception, assert_refused
from click.testing import CliRunner
from optimise_setup import TARGET, smallest_team, write_problem, write_service

from sim.cli import main
from sim.config import ConfigError, load_config
from sim.optimise.evaluate import FRESH, Evaluator, InProcess
from sim.optimise.intervals import wilson
from sim.optimise.levers import Lever, parse_lever, plan_scenario
from sim.optimise.search import Trial, run_search, trials_table
from sim.optimise.selection import select
from sim.optimise.spec import load_problem, plan_config
from sim.optimise.study import goal_problem, optimise, seek
from sim.optimise.targets import parse_condition


def test_the_theory_s_answer_is_five_caseworkers():
    """The reference itself: P(W <= 3 days) crosses 0.8 between 4 and 5 caseworkers."""
    assert smallest_team() == 5


def test_goal_seek_returns_the_smallest_team_erlang_c_gives(tmp_path):
    service = write_service(tmp_path)
    problem = goal_problem(service, "staff.solo.count=2..9", [TARGET], 0.8, replications=20)
    result = seek(problem, out=tmp_path / "seek", workers=0)
    lever = problem.levers["staff_solo_count"]
    answer = result.answer
    assert answer.reached and answer.interval is not None
    found = lever.value(answer.step)
    low, high = (lever.value(s) for s in answer.interval)
    truth = smallest_team()
    assert abs(found - truth) <= 1
    assert low <= truth <= high
    # bisection: fewer values run than the lever has, and every one on the same replications
    assert len(answer.points) < lever.steps + 1
    assert set(result.points["runs"]) == {20}
    folder = tmp_path / "seek"
    for name in ("values.parquet", "goal-seek.html", "mmc.yaml", "plots/pareto.png", "provenance.json"):
        assert (folder / name).is_file(), name
    copy = load_config(folder / "mmc.yaml")
    scenario = copy.scenarios["goal_seek_staff_solo_count"]
    assert scenario.overrides == {"staff.solo.count": found}
    assert (folder / "mmc.yaml").read_text().startswith("# the M/M/c service")  # comments kept


def test_optimise_returns_the_smallest_team_erlang_c_gives(tmp_path):
    study = optimise(write_problem(tmp_path), out=tmp_path / "study", workers=0)
    assert study.reached
    chosen = study.choice.chosen
    assert chosen is not None
    truth = smallest_team()
    assert abs(study.problem.levers["caseworkers"].value(chosen.plan[0]) - truth) <= 1
    assert chosen.low >= 0.8 and chosen.runs == 20  # by the rule, on the re-runs
    trials = pd.read_parquet(tmp_path / "study" / "trials.parquet")
    assert len(trials) == 8 and {"trial", "caseworkers", "probability", "cost", "posts"} <= set(trials.columns)
    candidates = pd.read_parquet(tmp_path / "study" / "candidates.parquet")
    assert candidates["chosen"].sum() == 1
    assert (tmp_path / "study" / "plots" / "pareto.png").is_file()
    page = (tmp_path / "study" / "optimise.html").read_text()
    assert "Recommended: caseworkers" in page and "fresh seeds" in page
    assert not (tmp_path / "study.partial").exists()  # the study's staging goes once its folder is written


class Scripted:
    """An evaluator whose runs are given: plan -> the runs meeting the target, by replication set."""

    def __init__(self, search: dict, fresh: dict):
        self.search, self.fresh, self.asked = search, fresh, []

    def __call__(self, plans, reps):
        self.asked.append((list(plans), list(reps)))
        table = self.fresh if min(reps) >= FRESH else self.search
        rows = []
        for i, plan in enumerate(plans):
            met = table[plan]
            rows += [{"plan": i, "rep": rep, "met": k < met, "cost": 100.0} for k, rep in enumerate(reps)]
        return pd.DataFrame(rows)


def test_the_choice_rests_on_the_re_runs_not_on_the_lucky_trial(tmp_path):
    """Two plans of the same cost that differ only in noise: the one whose trial was lucky (5 of 5)
    is not preferred when its re-runs on fresh seeds say less than the other's."""
    problem = load_problem(write_problem(tmp_path, objective="cost")).with_(**{"selection.candidates": 2})
    lucky, steady = (3,), (4,)  # 5 and 6 caseworkers, costing the same here (£100 a run)
    trials = [Trial(0, lucky, 5, 5, 100.0, 5.0), Trial(1, steady, 5, 4, 100.0, 5.0)]
    evaluate = Scripted({}, {lucky: 13, steady: 20})  # of 20 fresh runs
    choice = select(problem, trials, evaluate)
    assert choice.chosen is not None and choice.chosen.plan == steady
    ((plans, reps),) = evaluate.asked
    assert sorted(plans) == [lucky, steady] and min(reps) >= FRESH and len(reps) == 20
    # and with nothing passing, no plan is recommended: the target is not reached
    choice = select(problem, trials, Scripted({}, {lucky: 13, steady: 14}))
    assert choice.chosen is None and choice.closest.plan == steady


def test_a_resumed_search_is_the_same_study_and_the_same_trials(tmp_path):
    """A search stopped after 3 trials and resumed to 6 gives the trials of 6 uninterrupted."""
    problem = load_problem(write_problem(tmp_path, trials=3, reps=3))
    evaluator = Evaluator(problem, InProcess())
    first = run_search(problem, evaluator, tmp_path / "study.db")
    longer = problem.with_(**{"search.trials": 6})
    resumed = run_search(longer, Evaluator(longer, InProcess()), tmp_path / "study.db")
    again = run_search(longer, Evaluator(longer, InProcess()), tmp_path / "fresh.db")
    assert [t.plan for t in resumed[:3]] == [t.plan for t in first]
    pd.testing.assert_frame_equal(trials_table(longer, resumed), trials_table(longer, again))


def test_wilson_interval_known_values():
    low, high = wilson(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = wilson(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)


def test_every_lever_kind_makes_a_plan_the_configuration_accepts(example_config):
    levers = {
        "posts": Lever(kind="posts", team="assessment", date="2023-04-01", low=0, high=5),
        "cap": Lever(kind="agency_cap", date="2023-06-01", low=0, high=4),
        "conversion": Lever(kind="agency_conversion", date="2023-06-01", low=0, high=0.2, step=0.05),
        "caseload": Lever(kind="caseload_cap", team="assessment", date="2023-04-01", low=40, high=70, step=5),
        "merge": Lever(
            kind="merge_date",
            teams=["assessment", "review"],
            into="casework",
            earliest="2024-02-01",
            latest="2025-02-01",
            step_months=6,
        ),  # fmt: skip
        "growth": Lever(kind="parameter", parameter="demand.growth_per_year", low=0, high=0.1, step=0.05),
    }
    assert levers["conversion"].steps == 4 and levers["merge"].steps == 2
    steps = {"posts": 2, "cap": 1, "conversion": 1, "caseload": 3, "merge": 1, "growth": 2}
    scenario = plan_scenario(levers, steps)
    config = plan_config(example_config.model_copy(update={"scenarios": {}}), scenario, "test")
    kinds = [a.action for a in scenario.actions]
    assert kinds == ["cohort", "agency_cap", "agency_conversion", "caseload_cap", "merge_teams"]
    assert scenario.overrides == {"demand.growth_per_year": 0.1}
    assert config.demand.growth_per_year == pytest.approx(0.1)
    merge = next(a for a in config.actions if a.action == "merge_teams")
    assert str(merge.date) == "2024-08-01"


def test_levers_and_targets_from_the_command_line():
    name, fields = parse_lever("posts.assessment=0..20@2023-04-01")
    assert name == "posts_assessment" and fields["kind"] == "posts" and fields["team"] == "assessment"
    name, fields = parse_lever("staff.assessment.count=8..30:2")
    assert fields == {"low": 8, "high": 30, "step": 2, "kind": "parameter", "parameter": "staff.assessment.count",
                      "posts": True}  # fmt: skip
    assert parse_condition("on_time_rate.2025>=60%").at_least == pytest.approx(0.6)
    assert parse_condition("reviews_overdue.2025 <= 500").at_most == 500
    for bad in ("on_time_rate>=0.6", "on_time_rate.2025=0.6", "on_time_rate.2025>=lots"):
        with pytest.raises(ConfigError, match="--target"):
            parse_condition(bad)


def _refused(tmp_path: Path, args: list[str], *expected: str) -> None:
    result = CliRunner().invoke(main, args)
    assert_refused(result)
    for text in expected:
        assert text in result.output, result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()  # nothing written


@pytest.mark.parametrize(
    "change, field, expected",
    [
        (lambda s: s["target"]["conditions"][0].update(measure="on_time_percent"), "target.conditions[0].measure",
         "expected a yearly figure or rate"),
        (lambda s: s["target"].update(probability=1.5), "target.probability", "less than or equal to 1"),
        (lambda s: s["target"].update(probability=-0.1), "target.probability", "greater than 0"),
        (lambda s: s["levers"]["caseworkers"].pop("high"), "levers.caseworkers", "missing high"),
        (lambda s: s["target"]["conditions"][0].update(year=2031), "target.conditions[0].year", "a year the runs report"),
        (lambda s: s["levers"]["caseworkers"].update(parameter="staff.nobody.count"), "levers.caseworkers",
         "refused by the configuration"),
        (lambda s: s["levers"]["caseworkers"].update(low=9, high=2), "levers.caseworkers",
         "expected low < high, got low 9 and high 2"),
        (lambda s: s["levers"]["caseworkers"].update(step=1e-5), "levers.caseworkers",
         "expected at most 100,000 steps between low and high, got 700,000"),
        (lambda s: s["levers"].update(more={"kind": "posts", "team": "solo", "date": "2023-01-01",
                                            "low": 0.5, "high": 3}), "levers.more",
         "posts: expected whole numbers of posts"),
        (lambda s: s["levers"].update(merge={"kind": "merge_date", "teams": ["solo"], "into": "all",
                                             "earliest": "2023-03-15", "latest": "2023-06-01"}), "levers.merge",
         "expected earliest < latest, each the first day of a month"),
        (lambda s: s["levers"].update(later={"kind": "parameter", "parameter": "demand.requests_per_month",
                                             "low": 10, "high": 20, "date": "2030-01-01"}), "levers.later.date",
         "expected a date within the runs"),
        (lambda s: s.update(config="nosuch.yaml"), "config", "no configuration file at"),
        (lambda s: s.update(scenario="nope"), "scenario", "expected one of ['base']"),
    ],
)  # fmt: skip
def test_bad_optimisation_files_are_refused_before_any_run(tmp_path, change, field, expected):
    path = write_problem(tmp_path)
    spec = yaml.safe_load(path.read_text())
    change(spec)
    path.write_text(yaml.safe_dump(spec))
    _refused(tmp_path, ["optimise", str(path), "--out", str(tmp_path / "out")], str(path), field, expected)


def test_an_optimisation_file_that_is_not_a_mapping_is_refused(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    _refused(tmp_path, ["optimise", str(path), "--out", str(tmp_path / "out")], str(path),
             "expected a YAML mapping of optimisation fields, got list")  # fmt: skip


def test_bad_goal_seek_options_are_refused_before_any_run(tmp_path):
    service = str(write_service(tmp_path))
    out = ["--out", str(tmp_path / "out")]
    _refused(tmp_path, ["goal-seek", service, "--lever", "staff.solo.count=2..9", "--target", "no_such.2023>=1", *out],
             "target.conditions[0].measure", "no_such")  # fmt: skip
    _refused(tmp_path, ["goal-seek", service, "--lever", "staff.solo.count", "--target", TARGET, *out],
             "--lever", "LOW..HIGH")  # fmt: skip
    _refused(tmp_path, ["goal-seek", service, "--lever", "staff.solo.count=2..9", "--target", TARGET,
                        "--probability", "2", *out], "target.probability")  # fmt: skip
    _refused(tmp_path, ["goal-seek", service, "--lever", "staff.solo.count=2..9", *out], "--target")


def test_a_folder_holding_results_is_refused_without_force(tmp_path):
    service = str(write_service(tmp_path))
    args = ["goal-seek", service, "--lever", "staff.solo.count=4..6", "--target", TARGET, "--reps", "2",
            "--months", "3", "--workers", "0", "--out", str(tmp_path / "seek")]  # fmt: skip
    first = CliRunner().invoke(main, args)
    assert_no_exception(first)
    assert first.exit_code == 0, first.output
    assert "Written as a scenario" in first.output or "Not reached" in first.output
    assert_refused(CliRunner().invoke(main, args))
    assert CliRunner().invoke(main, [*args, "--force"]).exit_code == 0
