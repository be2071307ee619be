"""Dated actions and scenarios: each kind of action changes the service on its date, and not before.

Each check compares a run with the action against the same seed without it. Everything before the
action's date (the metrics of earlier months; cases, staff spells and vacancies dated before it)
must be identical; from the date, the action's own effect must show.
"""

from __future__ import annotations

import math
import signal

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

import sim
from sim.config import ConfigError, parse_config
from sim.model.service import Model
from sim.outputs.summary import wide

SEED, MONTHS = 11, 8
MID, FIRST = "2023-05-17", "2023-05-01"
DATES = {"mid_month": MID, "first_of_month": FIRST}
NO_RECRUITMENT = {"workforce.recruitment.enabled": False}

# kind -> (the action without its date, overrides for both runs)
KINDS = {
    "establishment_change": ({"action": "establishment", "team": "review", "change_fte": 3}, {}),
    "establishment_set": ({"action": "establishment", "team": "review", "set_fte": 4}, {}),
    "cohort": ({"action": "cohort", "team": "assessment", "count": 3}, {}),
    "agency_cap": ({"action": "agency_cap", "role": "caseworker", "fte": 0}, {}),
    "agency_conversion": ({"action": "agency_conversion", "rate_per_month": 1.0}, NO_RECRUITMENT),
    "agency_conversion_while_recruiting": ({"action": "agency_conversion", "rate_per_month": 1.0}, {}),
    "caseload_cap": ({"action": "caseload_cap", "team": "assessment", "per_fte": 5}, {}),
    "merge_teams": ({"action": "merge_teams", "teams": ["assessment", "review"], "into": "casework"}, {}),
    "set_demand": ({"action": "set", "parameter": "demand.requests_per_month", "value": 200}, {}),
    "set_distribution_mean": ({"action": "set", "parameter": "assessment.draft_plan_hours.mean", "value": 90}, {}),
    "set_ceasing_rate": ({"action": "set", "parameter": "plans.ceasing_rate_per_year", "value": 3.0}, {}),
    "set_agency_cap": ({"action": "set", "parameter": "workforce.roles.caseworker.agency_cap_fte", "value": 0}, {}),
}

_RUNS: dict[tuple, sim.Result] = {}


def _config(make_variant, actions: list, overrides: dict):
    return make_variant("example", actions=actions, scenarios={}, **overrides)


def _run(make_variant, actions: list, overrides: dict) -> sim.Result:
    key = (repr(actions), repr(sorted(overrides.items())))
    if key not in _RUNS:
        _RUNS[key] = sim.run(_config(make_variant, actions, overrides), seed=SEED, months=MONTHS)
    return _RUNS[key]


@pytest.fixture
def runs(make_variant):
    """runs(kind, date) -> (the run without the action, the run with it), same seed."""

    def _pair(kind: str, date: str) -> tuple[sim.Result, sim.Result]:
        action, overrides = KINDS[kind]
        return _run(make_variant, [], overrides), _run(make_variant, [{"date": date, **action}], overrides)

    return _pair


def _before(frame: pd.DataFrame, date: pd.Timestamp, columns: list[str]) -> pd.DataFrame:
    """The frame as known before `date`: dates on or after it are blanked (and all at one resolution)."""
    out = frame.copy()
    for column in columns:
        out[column] = out[column].astype("datetime64[ns]").where(out[column] < date)
    return out


def _month_starts_from(w: pd.DataFrame, date: str) -> pd.DatetimeIndex:
    """The months that start on or after `date`."""
    return w.index[w.index >= pd.Timestamp(date)]


def _action_month(date: str) -> pd.Timestamp:
    return pd.Timestamp(date).to_period("M").to_timestamp()


# --- nothing changes before the date -----------------------------------------------------------------


@pytest.mark.parametrize("when", sorted(DATES))
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_months_before_an_action_are_identical_to_a_run_without_it(runs, kind, when):
    """Every metric of every month before the action's month is identical to the run without the action."""
    date = DATES[when]
    base, with_action = runs(kind, date)
    b, w = wide(base.metrics), wide(with_action.metrics)
    earlier = b.index < _action_month(date)
    assert earlier.sum() == 4
    common = [c for c in b.columns if c in w.columns]
    b, w = b.loc[earlier, common], w.loc[earlier, common]
    differ = [c for c in common if not np.array_equal(b[c].to_numpy(), w[c].to_numpy(), equal_nan=True)]
    detail = {c: (b[c].iloc[-1], w[c].iloc[-1]) for c in differ[:6]}
    assert differ == [], f"{kind} on {date} changed earlier months' {differ[:12]} (last month without, with: {detail})"


@pytest.mark.parametrize("when", sorted(DATES))
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_cases_staff_and_vacancies_before_an_action_are_identical(runs, kind, when):
    """Case steps, staff spells and vacancy steps dated before the action are those of the run without it."""
    date = pd.Timestamp(DATES[when])
    base, with_action = runs(kind, DATES[when])
    steps = [c for c in base.cases.columns if c.endswith("_date")]
    cases = [_before(r.cases[r.cases["request_date"] < date], date, steps)[steps] for r in (base, with_action)]
    pd.testing.assert_frame_equal(cases[0].reset_index(drop=True), cases[1].reset_index(drop=True))
    columns = ["staff_id", "role", "team", "contract", "fte", "start_date", "end_date"]
    staff = [
        _before(r.staff[r.staff["start_date"] < date], date, ["start_date", "end_date"])[columns]
        for r in (base, with_action)
    ]
    pd.testing.assert_frame_equal(staff[0].reset_index(drop=True), staff[1].reset_index(drop=True))
    vacancy_steps = ["opened_date", "accepted_date", "started_date"]
    vacancies = [  # not the team: a post re-advertised after a merge is the merged team's
        _before(r.vacancies[r.vacancies["opened_date"] < date], date, vacancy_steps)[["fte", *vacancy_steps]]
        for r in (base, with_action)
    ]
    pd.testing.assert_frame_equal(vacancies[0].reset_index(drop=True), vacancies[1].reset_index(drop=True))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_an_action_changes_the_run_from_its_date(runs, kind):
    """The run with the action differs from the run without it in the action's month or later."""
    base, with_action = runs(kind, MID)
    b, w = wide(base.metrics), wide(with_action.metrics)
    later = b.index >= _action_month(MID)
    common = [c for c in b.columns if c in w.columns and c != "actions_applied"]
    assert any(not np.array_equal(b.loc[later, c], w.loc[later, c], equal_nan=True) for c in common)
    assert w.loc[_action_month(MID), "actions_applied"] == 1


# --- each kind's own effect, from its date --------------------------------------------------------------


def test_an_establishment_increase_opens_vacancies_on_its_date(runs):
    """change_fte +3: three one-FTE vacancies open on the date, and the establishment rises that month."""
    base, with_action = runs("establishment_change", MID)
    date = pd.Timestamp(MID)
    opened = with_action.vacancies[with_action.vacancies["opened_date"] == date]
    assert len(opened) == 3 and (opened["team"] == "review").all() and opened["fte"].sum() == 3
    assert (base.vacancies["opened_date"] == date).sum() == 0
    b, w = wide(base.metrics), wide(with_action.metrics)
    later = b.index >= _action_month(MID)
    np.testing.assert_array_equal(
        w.loc[later, "establishment_fte.review"], b.loc[later, "establishment_fte.review"] + 3
    )
    np.testing.assert_array_equal(w.loc[~later, "establishment_fte.review"], b.loc[~later, "establishment_fte.review"])


def test_an_establishment_cut_ends_agency_cover_from_its_date(runs):
    """set_fte 4 (below the 6 permanent in post): the review team's agency placements end, a week's notice
    after the date, and no vacancy remains."""
    base, with_action = runs("establishment_set", MID)
    date = pd.Timestamp(MID)
    ended = with_action.staff[with_action.staff["ended_by"] == "placement ended"]
    ended = ended[ended["team"] == "review"]
    assert len(ended) == 2 and (ended["end_date"] == date + pd.Timedelta(weeks=1)).all()
    assert not (base.staff["end_date"] == date + pd.Timedelta(weeks=1)).any()
    w = wide(with_action.metrics)
    later = w.index >= _action_month(MID)
    assert (w.loc[later, "establishment_fte.review"] == 4).all()
    assert (w.loc[later, "vacancies_fte.review"] == 0).all()
    assert (w.loc[~later, "establishment_fte.review"] == 8).all()


@pytest.mark.parametrize("when", sorted(DATES))
def test_a_cohort_starts_on_its_date_and_counts_in_that_month(runs, when):
    """Three starters join on exactly the date, and are counted as starters in the month of the date, not before."""
    date = DATES[when]
    base, with_action = runs("cohort", date)
    day = pd.Timestamp(date)
    cohort = with_action.staff[(with_action.staff["start_date"] == day) & (with_action.staff["team"] == "assessment")]
    assert len(cohort) == 3 and (cohort["contract"] == "permanent").all()
    assert not (base.staff["start_date"] == day).any()
    b, w = wide(base.metrics), wide(with_action.metrics)
    month = _action_month(date)
    starters = "starters_fte.caseworker.permanent"
    assert w.loc[month, starters] - b.loc[month, starters] >= 3, f"starters in {month:%Y-%m}: {w[starters].to_dict()}"
    np.testing.assert_array_equal(w.loc[w.index < month, starters], b.loc[b.index < month, starters])


@pytest.mark.parametrize("kind", ["agency_cap", "set_agency_cap"])
def test_an_agency_cap_cut_ends_placements_from_its_date(runs, kind):
    """Cap cut to 0: every caseworker agency placement in post ends a week after the date, and the cap
    metric changes in the date's month."""
    base, with_action = runs(kind, MID)
    date = pd.Timestamp(MID)
    staff = with_action.staff
    agency = staff[(staff["contract"] == "agency") & (staff["role"] == "caseworker")]
    in_post = agency[(agency["start_date"] <= date) & (agency["end_date"] > date)]
    assert len(in_post) >= 2
    assert (in_post["ended_by"] == "placement ended").all()
    assert (in_post["end_date"] == date + pd.Timedelta(weeks=1)).all()
    assert not (agency["start_date"] > date).any(), "no cover may start under a cap of 0"
    w = wide(with_action.metrics)
    later = w.index >= _action_month(MID)
    assert (w.loc[later, "agency_cap_fte.caseworker"] == 0).all() and (
        w.loc[~later, "agency_cap_fte.caseworker"] == 2
    ).all()
    assert (w.loc[later, "fte_in_post.caseworker.agency"] == 0).all()


@pytest.mark.parametrize("when", sorted(DATES))
def test_agency_conversion_starts_at_the_first_month_start_on_or_after_its_date(runs, when):
    """Conversions (drawn at each month's start) are zero in months starting before the date, and happen
    at the first month start on or after it."""
    date = DATES[when]
    base, with_action = runs("agency_conversion", date)
    b, w = wide(base.metrics), wide(with_action.metrics)
    assert (b["conversions_fte.caseworker"] == 0).all()
    from_date = _month_starts_from(w, date)
    assert (w.loc[w.index < from_date[0], "conversions_fte.caseworker"] == 0).all()
    assert w.loc[from_date[0], "conversions_fte.caseworker"] > 0
    converted = with_action.staff[with_action.staff["ended_by"] == "converted"]
    assert (converted["end_date"] >= pd.Timestamp(date)).all() and len(converted) > 0


def test_agency_workers_convert_into_posts_being_advertised_and_their_campaigns_are_withdrawn(runs):
    """With recruitment on, every vacant post is advertised: a conversion still takes the post an
    agency worker covers (unless a starter has accepted it), and the post's campaign then ends with
    no offer, so no post is filled twice."""
    base, with_action = runs("agency_conversion_while_recruiting", MID)
    w = wide(with_action.metrics)
    assert w["conversions_fte.caseworker"].sum() > 0
    withdrawn = [int(r.vacancies["withdrawn"].sum()) for r in (base, with_action)]
    assert withdrawn[1] > withdrawn[0]
    teams = [c.split(".", 1)[1] for c in w.columns if c.startswith("establishment_fte.")]
    for team in teams:  # permanent staff never outnumber the posts (vacancies = posts - permanent in post)
        assert (w[f"vacancies_fte.{team}"] >= -1e-9).all(), (team, w[f"vacancies_fte.{team}"].min())


def test_a_caseload_cap_leaves_new_work_unallocated_from_its_date(runs):
    """A cap of 5 per FTE on the assessment team: nothing waits before the date; work waits unallocated after it."""
    base, with_action = runs("caseload_cap", MID)
    b, w = wide(base.metrics), wide(with_action.metrics)
    later = w.index >= _action_month(MID)
    assert (b["unallocated.assessment"] == 0).all()
    assert (w.loc[~later, "unallocated.assessment"] == 0).all()
    assert (w.loc[later, "unallocated.assessment"] > 0).all()


def test_a_merge_puts_both_teams_work_and_staff_in_one_team_from_its_date(runs, make_variant):
    """After the merge one team holds all caseworkers, the summed establishment and both kinds of work."""
    base, with_action = runs("merge_teams", MID)
    w = wide(with_action.metrics)
    later = w.index >= _action_month(MID)
    caseworkers = w["fte_in_post.caseworker.permanent"] + w["fte_in_post.caseworker.agency"]
    np.testing.assert_allclose(w.loc[later, "fte_in_post.casework"], caseworkers[later])
    np.testing.assert_allclose(
        w.loc[~later, "fte_in_post.assessment"] + w.loc[~later, "fte_in_post.review"], caseworkers[~later]
    )
    assert (w.loc[later, "establishment_fte.casework"] == 14).all()
    assert w.loc[later, "plans_issued"].sum() > 0 and w.loc[later, "reviews_completed"].sum() > 0
    model = Model(_config(make_variant, [{"date": MID, **KINDS["merge_teams"][0]}], {}), seed=SEED, months=MONTHS)
    model.run()
    assert set(model.teams) == {"casework", "psychology"}
    assert model.assessments.team is model.teams["casework"] and model.reviews.team is model.teams["casework"]


@pytest.mark.parametrize("when", sorted(DATES))
def test_a_demand_change_applies_from_its_date(runs, when):
    """requests_per_month 40 -> 200: requests before the date are identical; after it, about five times as many."""
    date = pd.Timestamp(DATES[when])
    base, with_action = runs("set_demand", DATES[when])
    requests = [r.cases.loc[~r.cases["initial"], "request_date"] for r in (base, with_action)]
    before = [r[r < date].reset_index(drop=True) for r in requests]
    pd.testing.assert_series_equal(before[0], before[1])
    month_end = _action_month(DATES[when]) + pd.DateOffset(months=1)
    rest_of_month = [((r >= date) & (r < month_end)).sum() for r in requests]
    after = [(r >= date).sum() for r in requests]
    assert rest_of_month[1] > 3 * max(rest_of_month[0], 1), rest_of_month
    assert 3.5 < after[1] / after[0] < 7, after


@pytest.mark.parametrize("when", sorted(DATES))
def test_a_distribution_mean_change_applies_to_cases_requested_from_its_date(make_variant, when):
    """draft_plan_hours mean 9 -> 90: cases requested before the date keep their draws; later ones draw from the new mean."""
    date = DATES[when]
    models = []
    for actions in ([], [{"date": date, **KINDS["set_distribution_mean"][0]}]):
        model = Model(_config(make_variant, actions, {}), seed=SEED, months=MONTHS)
        model.run()
        models.append(model)
    day = models[0].calendar.day_of(pd.Timestamp(date).date())
    hours = [[(c.origin, c.draft_hours) for c in m.assessments.cases] for m in models]
    before = [[h for origin, h in hs if origin < day] for hs in hours]
    after = [np.array([h for origin, h in hs if origin >= day]) for hs in hours]
    assert before[0] == before[1]
    assert len(after[1]) > 80
    assert 6 < after[0].mean() < 12 and 60 < after[1].mean() < 120, (after[0].mean(), after[1].mean())


@pytest.mark.parametrize("when", sorted(DATES))
def test_a_ceasing_rate_change_applies_from_the_first_month_start_on_or_after_its_date(runs, when):
    """ceasing_rate_per_year 0.06 -> 3: plans ceasing outside review are unchanged in months that start before
    the date and jump in the months that start on or after it."""
    date = DATES[when]
    base, with_action = runs("set_ceasing_rate", date)
    b, w = wide(base.metrics), wide(with_action.metrics)
    outside = [x["plans_ceased"] - x["plans_ceased_at_review"] for x in (b, w)]
    from_date = _month_starts_from(w, date)
    np.testing.assert_array_equal(
        outside[0][outside[0].index < from_date[0]], outside[1][outside[1].index < from_date[0]]
    )
    expected = -math.expm1(-3.0 * 31 / 365.25) * b.loc[from_date[0] - pd.DateOffset(months=1), "plans_in_force"]
    assert outside[1][from_date[0]] == pytest.approx(expected, rel=0.15)
    assert (outside[1][from_date] > 5 * outside[0][from_date].clip(lower=1)).all()


def test_a_set_of_a_teams_establishment_takes_effect(make_variant):
    """A `set` of workforce.establishment_fte.review is accepted, so it must act like an establishment action."""
    set_it = [{"date": MID, "action": "set", "parameter": "workforce.establishment_fte.review", "value": 12}]
    result = _run(make_variant, set_it, {})
    w = wide(result.metrics)
    later = w.index >= _action_month(MID)
    assert (w.loc[later, "establishment_fte.review"] == 12).all(), (
        f"establishment_fte.review after the set: {w.loc[later, 'establishment_fte.review'].tolist()}"
    )
    assert (result.vacancies["opened_date"] == pd.Timestamp(MID)).sum() == 4


def test_a_set_of_a_teams_reference_caseload_takes_effect(make_variant):
    """A `set` of workforce.pressure.reference_caseload_per_fte.review is accepted, so caseload pressure must use it."""
    set_it = [
        {"date": MID, "action": "set", "parameter": "workforce.pressure.reference_caseload_per_fte.review", "value": 20}
    ]
    model = Model(_config(make_variant, set_it, {}), seed=SEED, months=MONTHS)
    model.run()
    member = max(model.teams["review"].members, key=lambda m: m.caseload)
    assert member.caseload > 0
    assert model.workforce.pressure.load_ratio(member) == pytest.approx(member.caseload / (20 * member.fte))


# --- scenarios ----------------------------------------------------------------------------------------


def test_a_scenario_runs_its_dated_actions(example_config):
    """sim.run(config, scenario=...) runs the base's actions plus the scenario's: the same as writing them in."""
    result = sim.run(example_config, seed=SEED, months=MONTHS, scenario="two_more_caseworkers")
    assert result.config.scenario == "two_more_caseworkers"
    raw = example_config.model_dump(mode="json")
    raw["actions"] += [a.model_dump(mode="json") for a in example_config.scenarios["two_more_caseworkers"].actions]
    by_hand = sim.run(parse_config(raw), seed=SEED, months=MONTHS)
    pd.testing.assert_frame_equal(result.metrics, by_hand.metrics)
    starters = result.staff[result.staff["start_date"] == pd.Timestamp("2023-04-01")]
    assert len(starters) == 2 and (starters["team"] == "assessment").all()
    base = sim.run(example_config, seed=SEED, months=MONTHS)
    assert base.config.scenario is None
    assert not (base.staff["start_date"] == pd.Timestamp("2023-04-01")).any()
    pd.testing.assert_frame_equal(
        sim.run(example_config, seed=SEED, months=MONTHS, scenario="base").metrics, base.metrics
    )


def test_a_scenario_applies_its_overrides_and_actions(example_raw):
    """A scenario's dotted overrides and extra actions reach the run, as if written into the base."""
    overrides = {"demand.requests_per_month": 80, "workforce.recruitment.fill_probability": 0.9}
    extra = {"date": "2023-03-15", "action": "cohort", "team": "review", "count": 1, "fte": 0.5}
    example_raw["scenarios"] = {"busy": {"description": "more requests", "overrides": overrides, "actions": [extra]}}
    config = parse_config(example_raw)
    result = sim.run(config, seed=SEED, months=MONTHS, scenario="busy")
    assert result.config.demand.requests_per_month == 80
    assert result.config.workforce.recruitment.fill_probability == 0.9
    assert any(a.date.isoformat() == "2023-03-15" for a in result.config.actions)
    by_hand = dict(example_raw, scenarios={}, actions=[*example_raw["actions"], extra])
    by_hand["demand"] = dict(example_raw["demand"], requests_per_month=80)
    by_hand["workforce"] = dict(example_raw["workforce"])
    by_hand["workforce"]["recruitment"] = dict(example_raw["workforce"]["recruitment"], fill_probability=0.9)
    pd.testing.assert_frame_equal(result.metrics, sim.run(parse_config(by_hand), seed=SEED, months=MONTHS).metrics)
    assert (result.staff["start_date"] == pd.Timestamp("2023-03-15")).sum() == 1
    base = sim.run(config, seed=SEED, months=MONTHS)
    assert result.series("requests_received").sum() > 1.5 * base.series("requests_received").sum()


def test_a_scenario_runs_from_a_path_too(example_path):
    """sim.run(path, scenario=...) resolves the scenario of the file."""
    result = sim.run(example_path, seed=SEED, months=4, scenario="two_more_caseworkers")
    assert result.config.scenario == "two_more_caseworkers"
    assert (result.staff["start_date"] == pd.Timestamp("2023-04-01")).sum() == 2


def test_an_unknown_scenario_is_refused(example_config):
    """Asking for a scenario the configuration does not have is a ConfigError naming it and the choices."""
    with pytest.raises(ConfigError, match=r"no scenario 'nosuch'.*two_more_caseworkers"):
        sim.run(example_config, scenario="nosuch", months=1)


@pytest.mark.parametrize(
    "scenario, expected",
    [
        (
            {"actions": [{"date": "2023-04-01", "action": "cohort", "team": "nosuch", "count": 1}]},
            r"(?s)scenarios\.bad.*got 'nosuch'",
        ),
        (
            {"overrides": {"demand.requests_per_month": -5}},
            r"(?s)scenarios\.bad.*requests_per_month.*greater than or equal to 0",
        ),
        ({"overrides": {"demand.no_such_lever": 1}}, r"(?s)scenarios\.bad.*no_such_lever.*unknown key"),
    ],
)
def test_a_bad_scenario_is_refused_when_the_file_is_read(example_raw, scenario, expected):
    """A scenario with a bad action or override makes the whole file a ConfigError that names the scenario."""
    example_raw["scenarios"] = {"bad": scenario}
    with pytest.raises(ConfigError, match=expected):
        parse_config(example_raw)


# --- bad actions are refused ------------------------------------------------------------------------

BAD_ACTIONS = {
    "unknown team (cohort)": ({"action": "cohort", "team": "nosuch", "count": 1}, r"cohort on .*got 'nosuch'"),
    "unknown team (establishment)": (
        {"action": "establishment", "team": "nosuch", "change_fte": 1}, r"establishment on .*got 'nosuch'"),
    "unknown team (caseload cap)": ({"action": "caseload_cap", "team": "nosuch", "per_fte": 5}, r"got 'nosuch'"),
    "unknown team (merge)": ({"action": "merge_teams", "teams": ["review", "nosuch"], "into": "x"}, r"got 'nosuch'"),
    "merging the EP team": ({"action": "merge_teams", "teams": ["review", "psychology"], "into": "x"}, "caseworker teams"),
    "set: not a number": ({"action": "set", "parameter": "assessment.draft_plan_hours", "value": 1}, "to be a number"),
    "set: a switch": ({"action": "set", "parameter": "workforce.recruitment.enabled", "value": 1}, "to be a number"),
    "set: outside the levers": ({"action": "set", "parameter": "policy.priority", "value": 1}, "expected a parameter under"),
    "set: missing": ({"action": "set", "parameter": "demand.no_such_lever", "value": 1}, "no parameter 'demand.no_such_lever'"),
    "set: missing team": (
        {"action": "set", "parameter": "teams.nosuch.caseload_cap_per_fte", "value": 1}, "expected a team in place on that date"),
    "set: probability 1.5": (
        {"action": "set", "parameter": "assessment.refusal_probability", "value": 1.5},
        r"refusal_probability = 1.5.*less than or equal to 1"),
    "set: negative mean": (
        {"action": "set", "parameter": "assessment.draft_plan_hours.mean", "value": -1}, r"draft_plan_hours.mean = -1"),
    "set: negative rate": ({"action": "set", "parameter": "plans.ceasing_rate_per_year", "value": -0.1}, "ceasing_rate"),
    "establishment: neither change nor set": ({"action": "establishment", "team": "review"}, "exactly one of"),
    "conversion rate 2": ({"action": "agency_conversion", "rate_per_month": 2}, "rate_per_month"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BAD_ACTIONS))
def test_a_bad_action_is_refused_with_a_config_error_naming_the_problem(example_raw, name):
    """Unknown teams, non-numeric or missing parameters and out-of-range values are ConfigErrors saying which."""
    action, expected = BAD_ACTIONS[name]
    example_raw["actions"] = [{"date": "2023-06-01", **action}]
    with pytest.raises(ConfigError, match=expected):
        parse_config(example_raw)


def test_an_action_dated_before_the_start_is_refused(example_raw):
    """An action dated before start_date is a ConfigError naming the start date."""
    example_raw["actions"] = [{"date": "2022-12-31", "action": "cohort", "team": "review", "count": 1}]
    with pytest.raises(ConfigError, match=r"cohort on 2022-12-31.*on or after start_date 2023-01-01"):
        parse_config(example_raw)


def test_an_action_on_a_team_merged_away_is_refused(example_raw):
    """After a merge the old team names are gone: an action on one later is a ConfigError."""
    example_raw["scenarios"] = {}
    example_raw["actions"] = [
        {"date": "2023-03-01", "action": "merge_teams", "teams": ["assessment", "review"], "into": "casework"},
        {"date": "2023-06-01", "action": "cohort", "team": "review", "count": 1},
    ]
    with pytest.raises(ConfigError, match=r"in place on that date.*'casework'.*got 'review'"):
        parse_config(example_raw)


def test_a_merge_into_another_existing_team_is_refused(example_raw):
    """Merging two teams under the name of a third that stays (here the EP team) would replace it: refused."""
    example_raw["scenarios"] = {}
    example_raw["actions"] = [
        {"date": "2023-03-01", "action": "merge_teams", "teams": ["assessment", "review"], "into": "psychology"}
    ]
    with pytest.raises(ConfigError, match="psychology"):
        parse_config(example_raw)


class _Timeout(Exception):
    pass


def test_a_merge_into_one_of_the_merged_teams_names_runs_or_is_refused(example_raw):
    """Merging assessment into "review" is either refused with a ConfigError or runs to the end (within 3 s)."""
    example_raw["scenarios"] = {}
    example_raw["actions"] = [
        {"date": "2023-03-15", "action": "merge_teams", "teams": ["assessment", "review"], "into": "review"}
    ]
    try:
        config = parse_config(example_raw)
    except ConfigError:
        return

    def _alarm(signum, frame):
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(3)
    try:
        result = sim.run(config, seed=SEED, months=4, cases=False)
    except _Timeout:
        pytest.fail("the run did not finish: merging into one of the merged teams' names never ends")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    w = wide(result.metrics)
    assert w["fte_in_post.review"].iloc[-1] == pytest.approx(
        w["fte_in_post.caseworker.permanent"].iloc[-1] + w["fte_in_post.caseworker.agency"].iloc[-1]
    )


def test_a_change_of_annual_leave_reaches_everyone_in_post_on_its_date(example_config):
    """`set workforce.absence.annual_leave_days_per_year` changes the capacity of staff already in post."""
    raw = example_config.model_dump(mode="json")
    raw["actions"] = [
        {
            "date": "2023-07-01",
            "action": "set",
            "parameter": "workforce.absence.annual_leave_days_per_year",
            "value": 60,
        }
    ]
    changed = sim.run(sim.config.parse_config(raw), seed=3, months=12, cases=False)
    raw["actions"] = []
    base = sim.run(sim.config.parse_config(raw), seed=3, months=12, cases=False)
    capacity = lambda r: r.series("casework_capacity_hours.review")  # noqa: E731
    before, after = slice("2023-01-01", "2023-06-01"), slice("2023-07-01", "2023-12-01")
    pd.testing.assert_series_equal(capacity(changed)[before], capacity(base)[before])
    # 60 days instead of 33 of 261 working days: about 12% less capacity for the same staff
    ratio = capacity(changed)[after].sum() / capacity(base)[after].sum()
    assert ratio < 0.93


# --- the configuration is read-only during a run ------------------------------------------------------

# every kind of action on its own date (the cap before the merge that ends its team), the levers a
# `set` tells a component about, and drawn parameters that drift on the 1 January the run passes
EVERY_KIND = [
    {"date": f"2023-{month:02d}-{day:02d}", **action}
    for (month, day), (action, _) in zip(
        [(2, 1), (2, 14), (3, 1), (3, 20), (4, 1), (4, 17), (5, 1), (5, 9), (5, 23), (6, 1), (6, 12)],
        [KINDS[k] for k in sorted(KINDS) if k != "merge_teams"]
        + [({"action": "set", "parameter": "workforce.absence.annual_leave_days_per_year", "value": 40}, {})],
    )
] + [
    {"date": "2023-06-20", "action": "set", "parameter": "workforce.establishment_fte.review", "value": 9},
    {
        "date": "2023-06-21",
        "action": "set",
        "parameter": "workforce.pressure.reference_caseload_per_fte.review",
        "value": 90,
    },
    {"date": "2023-06-22", "action": "set", "parameter": "workforce.agency.conversion_rate_per_month", "value": 0.1},
    {"date": "2023-06-23", "action": "set", "parameter": "teams.review.caseload_cap_per_fte", "value": 100},
    {"date": "2023-07-01", "action": "merge_teams", "teams": ["assessment", "review"], "into": "casework"},
    {"date": "2023-08-08", "action": "set", "parameter": "teams.casework.caseload_cap_per_fte", "value": 60},
]
DRAWN = {
    "parameters": ["assessment.effort_scale", "policy.fast_track_share"],
    "scales": ["log", "logit"],
    "estimates": [1.1, 0.3],
    "covariance": [[0.04, 0.0], [0.0, 0.25]],
    "drift": [0.2, 0.5],
    "drift_from": "2024-01-01",
}


@pytest.fixture
def every_kind(make_variant):
    return make_variant(
        "example",
        actions=EVERY_KIND,
        scenarios={},
        uncertainty=DRAWN,
        **{"workforce.pressure.reference_caseload_per_fte": {"review": 60}},
    )


def test_a_run_with_every_kind_of_action_leaves_its_configuration_as_loaded(every_kind):
    loaded = every_kind.model_dump()
    model = Model(every_kind, seed=SEED, months=14)
    model.run()
    assert model.metrics.total("actions_applied") == len(EVERY_KIND)
    assert model.config is every_kind and every_kind.model_dump() == loaded
    # the levers moved, the configuration did not
    assert model.levers.get("workforce.roles.caseworker.agency_cap_fte") == 0
    assert every_kind.workforce.roles["caseworker"].agency_cap_fte == 2
    assert model.levers.teams["casework"].caseload_cap_per_fte == 60
    assert model.levers.assessment.effort_scale != model.parameters["assessment.effort_scale"]  # drifted


def test_assigning_to_the_configuration_during_a_run_is_refused(every_kind):
    model = Model(every_kind, seed=SEED, months=MONTHS)
    refused = []

    def meddle():
        yield model.env.timeout(40)
        for assign in (
            lambda: setattr(model.config.workforce.roles["caseworker"], "agency_cap_fte", 5.0),
            lambda: setattr(model.config.workforce.agency, "conversion_rate_per_month", 0.5),
            lambda: setattr(model.config.teams["assessment"], "caseload_cap_per_fte", 5.0),
            lambda: setattr(model.config.demand, "requests_per_month", 1.0),
            lambda: setattr(model.config, "months", 3),
        ):
            with pytest.raises(ValidationError, match="frozen"):
                assign()
            refused.append(assign)

    model.env.process(meddle())
    model.run()
    assert len(refused) == 5


def test_changing_a_container_of_the_configuration_during_a_run_is_refused(every_kind):
    model = Model(every_kind, seed=SEED, months=MONTHS)
    before = model.config.model_dump()
    refused = []

    def meddle():
        yield model.env.timeout(40)
        config = model.config
        for change in (
            lambda: config.workforce.establishment_fte.__setitem__("assessment", 99.0),
            lambda: config.workforce.pressure.reference_caseload_per_fte.update(review=1.0),
            lambda: config.workforce.roles.pop("caseworker"),
            lambda: config.teams["assessment"].handles.append("plans"),
            lambda: config.demand.seasonal_profile.__setitem__(0, 5.0),
            lambda: config.staff.append(config.staff[0]),
            lambda: config.actions.clear(),
            lambda: config.uncertainty.estimates.__setitem__(0, 1.0),
        ):
            with pytest.raises(TypeError, match="read-only"):
                change()
            refused.append(change)

    model.env.process(meddle())
    model.run()
    assert len(refused) == 8
    assert model.config.model_dump() == before


def test_a_lever_set_during_a_run_is_checked_against_the_schema(every_kind):
    model = Model(every_kind, seed=SEED, months=MONTHS)
    with pytest.raises(ValidationError):
        model.levers.set("workforce.agency.conversion_rate_per_month", 1.5)
    with pytest.raises(ValidationError):
        model.levers.set("teams.review.caseload_cap_per_fte", 0)
    with pytest.raises(KeyError):
        model.levers.set("seed", 3)
    assert model.levers.workforce.agency.conversion_rate_per_month == 0.0  # a refused value is not kept


def test_vacancies_filled_by_conversion_are_withdrawn_and_counted(runs):
    """Agency staff converted to posts while they are advertised: each vacancy the vacancy table marks
    withdrawn is counted once by the measure `vacancies_withdrawn` (sim/measures.py)."""
    base, with_action = runs("agency_conversion_while_recruiting", MID)
    withdrawn = with_action.vacancies["withdrawn"]
    assert withdrawn.sum() > base.vacancies["withdrawn"].sum()
    counted = with_action.metrics.loc[with_action.metrics["metric"] == "vacancies_withdrawn", "value"].sum()
    assert counted == withdrawn.sum()
