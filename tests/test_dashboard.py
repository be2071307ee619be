"""The planning-session dashboard without a browser: its levers, the scenario they make, the copy of
the configuration a saved scenario goes into, the forecasts behind the page (against sim.compare),
and the app's callbacks through Dash's own HTTP interface."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.config import ConfigError, Scenario, load_config
from sim.dashboard.app import Session, make_app
from sim.dashboard.charts import KEY_FIGURES, charts, key_figures, key_figures_table
from sim.dashboard.forecasts import Forecasts
from sim.dashboard.levers import WHAT_IF, levers_for, scenario, what_if_config
from sim.dashboard.scenarios import save_scenario
from sim.dashboard.server import is_loopback
from sim.sweeps.assumptions import comments

ROOT = Path(__file__).resolve().parents[1]
DEVON = ROOT / "configs" / "devon.yaml"
REPS, MONTHS = 2, 14  # two calendar years: a key figure of each, paired


@pytest.fixture(scope="module")
def devon():
    return load_config(DEVON)


@pytest.fixture(scope="module")
def levers(devon):
    return levers_for(devon, comments(DEVON))


def moved(levers, **values):
    chosen = levers.defaults()
    chosen.update({k.replace("__", "."): v for k, v in values.items()})
    return chosen


# --- levers ---------------------------------------------------------------------------------------


def test_every_lever_of_devon_has_a_unit_and_a_group_and_its_bounds_come_from_the_schema(levers):
    assert len(levers.all) == len(levers.by_id)  # one id each
    for lever in levers.all:
        assert lever.group and lever.label
        if lever.kind == "number":
            assert lever.unit, lever.id
    fill = levers.by_id["recruitment.fill"]
    assert (fill.low, fill.high, fill.default, fill.unit) == (0.0, 100.0, 20.0, "%")
    # a team's posts may be cut, but not below none
    assert levers.by_id["posts.assessment"].low == -14.0
    assert levers.by_id["policy.priority"].options == ("deadline", "oldest", "fifo", "triage")


def test_a_lever_s_help_is_the_configuration_s_own_comment_on_its_line(levers):
    assert "Jan-Mar 2023 campaign produced 4 hires" in levers.by_id["recruitment.fill"].help
    # a comment on the lines after a field is about the next field, not this one
    assert "Capacity follows the pipeline" not in levers.by_id["agency.conversion"].help


def test_the_months_a_dated_lever_may_take_are_the_horizon_s(levers, devon):
    months = levers.months()
    assert len(months) == devon.months and months[0].isoformat() == "2023-01-01" and all(m.day == 1 for m in months)


def test_no_lever_moved_is_the_base_plan(levers):
    what_if = scenario(levers, levers.defaults())
    assert not what_if.actions and not what_if.overrides and what_if.description == "the base plan"


def test_posts_and_a_cohort_become_dated_actions(levers):
    what_if = scenario(levers, moved(levers, posts__assessment=5, posts__assessment__from="2023-06-01",
                                     cohort__review=3, cohort__review__from="2024-01-01"))  # fmt: skip
    actions = [a.model_dump(mode="json", exclude_none=True) for a in what_if.actions]
    assert actions == [
        {"date": "2023-06-01", "action": "establishment", "team": "assessment", "change_fte": 5.0},
        {"date": "2024-01-01", "action": "cohort", "team": "review", "count": 3, "fte": 1.0, "contract": "permanent"},
    ]
    assert "Caseworker posts added: 5 FTE from June 2023" in what_if.description


def test_shares_shown_as_percentages_are_set_as_shares(levers):
    what_if = scenario(levers, moved(levers, recruitment__fill=60, leaving=25, growth=-2))
    assert what_if.overrides == {
        "workforce.recruitment.fill_probability": 0.6,
        "workforce.roles.caseworker.permanent_leaving_rate_per_year": 0.25,
        "demand.growth_per_year": -0.02,
    }


def test_a_lever_each_replication_draws_moves_the_centre_of_its_calibrated_range(levers, devon):
    what_if = scenario(levers, moved(levers, policy__fast_track=40))
    index = devon.uncertainty.parameters.index("policy.fast_track_share")
    assert what_if.overrides["policy.fast_track_share"] == 0.4
    assert what_if.overrides[f"uncertainty.estimates.{index}"] == 0.4
    resolved = sim.config.resolve_scenario(what_if_config(devon, what_if), WHAT_IF)
    assert resolved.uncertainty.estimates[index] == 0.4


def test_effort_and_campaign_length_scale_their_distributions_keeping_the_shape(levers, devon):
    what_if = scenario(levers, moved(levers, effort=80, recruitment__weeks=15))
    draft = what_if.overrides["assessment.draft_plan_hours"]
    assert draft == {"dist": "lognormal", "mean": pytest.approx(devon.assessment.draft_plan_hours.mean * 0.8),
                     "cv": devon.assessment.draft_plan_hours.cv}  # fmt: skip
    assert what_if.overrides["workforce.recruitment.campaign_weeks"] == {
        "dist": "triangular", "low": 6.0, "mode": 15.0, "high": 36.0,
    }  # fmt: skip


def test_merging_the_teams_and_a_preset_scenario_combine(levers, devon):
    what_if = scenario(levers, moved(levers, merge=True, merge__from="2024-03-01"), preset="fill_17_posts")
    kinds = [a.action for a in what_if.actions]
    assert kinds == ["cohort"] * len(devon.scenarios["fill_17_posts"].actions) + ["merge_teams"]
    assert what_if.actions[-1].teams == ["assessment", "review"] and what_if.actions[-1].into == "casework"
    assert what_if.description.startswith("the fill_17_posts scenario; Merge the caseworker teams")
    what_if_config(devon, what_if)  # it runs: every check a scenario in a file meets


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"recruitment.fill": 150}, "Chance a campaign fills the post: 150% is outside the range allowed, 0 to 100%"),
        ({"recruitment.fill": None}, "Chance a campaign fills the post: expected a number (%)"),
        ({"agency.rate": "lots"}, "Agency hourly rate: expected a number (£ an hour), got 'lots'"),
        ({"growth": math.inf}, "Growth in requests: expected a finite number"),
        ({"cohort.assessment": 2.5}, "New caseworkers starting together (a cohort): expected a whole number"),
        ({"policy.priority": "loudest"}, "Which work goes first: expected one of deadline, oldest, fifo, triage"),
        ({"posts.review": 2, "posts.review.from": "soon"}, "from: expected a date such as 2024-04-01, got 'soon'"),
        ({"posts.assessment": -20}, "Caseworker posts added: -20 FTE is outside the range allowed, at least -14 FTE"),
    ],
)
def test_a_value_out_of_bounds_is_refused_naming_the_lever(levers, values, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        scenario(levers, {**levers.defaults(), **values})


def test_a_what_if_the_schema_refuses_is_a_config_error_naming_the_field(levers, devon):
    what_if = scenario(levers, moved(levers, cap__assessment=0))
    with pytest.raises(ConfigError, match=r"teams\.assessment\.caseload_cap_per_fte"):
        what_if_config(devon, what_if)


# --- saving a scenario ----------------------------------------------------------------------------


def test_a_saved_scenario_goes_into_a_copy_of_the_file_with_its_comments(tmp_path, levers, devon):
    copy = tmp_path / "devon.yaml"
    what_if = scenario(levers, moved(levers, posts__assessment=5, posts__assessment__from="2023-06-01", leaving=20))
    assert save_scenario(DEVON, copy, "five_posts", what_if) == copy
    text = copy.read_text()
    assert "# Calibrated by `sendsim calibrate`" in text  # the header kept
    assert (
        "# assumption, from 2022's vacancies (above); the Jan-Mar 2023 campaign produced 4 hires" in text
    )  # and a line's comment
    assert "- {date: 2023-06-01, action: establishment, team: assessment, change_fte: 5.0}" in text
    saved = load_config(copy)
    assert saved.scenarios["five_posts"] == what_if
    assert DEVON.read_text() != text  # the original is not touched
    # a second save adds to the copy
    save_scenario(DEVON, copy, "faster", scenario(levers, moved(levers, effort=90)))
    assert list(load_config(copy).scenarios)[-2:] == ["five_posts", "faster"]


def test_a_saved_scenario_writes_a_list_among_its_overrides(tmp_path):
    profile = [1.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 1.0, 1.0, 1.0, 1.0]
    what_if = Scenario(description="a busier January", overrides={"demand.seasonal_profile": profile})
    saved = load_config(save_scenario(DEVON, tmp_path / "devon.yaml", "busy_january", what_if))
    assert saved.scenarios["busy_january"].overrides == {"demand.seasonal_profile": profile}


@pytest.mark.parametrize("name", ["Five Posts", "5posts", "", "fill_17_posts", "base"])
def test_a_bad_or_taken_scenario_name_is_refused_and_the_copy_left_as_it_was(tmp_path, levers, name):
    copy = tmp_path / "devon.yaml"
    copy.write_text(DEVON.read_text())
    before = copy.read_bytes()
    with pytest.raises(ValueError, match="scenario name"):
        save_scenario(DEVON, copy, name, scenario(levers, moved(levers, effort=90)))
    assert copy.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["devon.yaml"]


# --- the forecasts: the page's figures are sim.compare's ------------------------------------------


@pytest.fixture(scope="module")
def forecasts(devon, levers):
    # six posts added to the assessment team, and six people starting in them at once
    what_if = scenario(levers, moved(levers, posts__assessment=6, cohort__assessment=6))
    with_it = what_if_config(devon, what_if)
    f = Forecasts(devon, reps=REPS, months=MONTHS, jobs=2)
    f.start(with_it, WHAT_IF)
    f.wait()
    yield f, with_it
    f.close()


def test_the_page_s_key_figures_are_those_of_sim_compare_for_the_same_lever_and_seeds(forecasts):
    f, with_it = forecasts
    expected = sim.compare(with_it, [WHAT_IF], reps=REPS, months=MONTHS, jobs=1)
    page = f.snapshot(KEY_FIGURES)
    key = ["scenario", "year", "measure"]
    mine = page.kpis.set_index(key)
    theirs = expected.kpis.set_index(key).loc[mine.index]
    pd.testing.assert_frame_equal(mine, theirs)
    diffs = page.differences.set_index(key)
    pd.testing.assert_frame_equal(diffs, expected.differences.set_index(key).loc[diffs.index])
    # and the whole of it, as the download gives it
    whole = f.experiment()
    pd.testing.assert_frame_equal(whole.kpis, expected.kpis)
    pd.testing.assert_frame_equal(whole.differences, expected.differences)


def test_six_more_assessment_caseworkers_raise_the_fte_in_post_and_cut_the_backlog(forecasts):
    f, _ = forecasts
    rows = key_figures(f.snapshot(KEY_FIGURES), WHAT_IF)
    fte = [r for r in rows if r["measure"] == "caseworker_fte_in_post"]
    assert len(fte) == 2 and all(r["difference"] > 2 for r in fte)
    late = [r for r in rows if r["measure"] == "assessments_open_over_20_weeks"]
    assert len(late) == 2 and all(r["difference"] < 0 for r in late)
    on_time = [r for r in rows if r["measure"] == "on_time_rate"]
    assert all(0 <= r["what_if_reaches_target"] <= 1 and "difference_shown" in r for r in on_time)
    table = key_figures_table(rows)
    assert {"year", "figure", "base", "what_if", "difference"} <= set(table.columns)


def test_the_charts_are_the_report_s_with_the_what_if_in_front_of_the_base(forecasts):
    f, _ = forecasts
    drawn = charts(f.snapshot(KEY_FIGURES), WHAT_IF)
    names = [chart.name for chart, _ in drawn]
    assert names[:2] == ["on_time_rate", "open_over_20_weeks"] and "cost" in names
    on_time = dict(drawn)[next(c for c, _ in drawn if c.name == "on_time_rate")]
    assert [t["name"] for t in on_time["data"]] == [
        "base: 50% of runs", "base: median", "what-if: 90% of runs", "what-if: 50% of runs", "what-if: median",
    ]  # fmt: skip
    assert on_time["layout"]["shapes"][0]["y0"] == pytest.approx(0.492)  # the target line
    assert on_time["data"][1]["x"][0] == "2023-01-01"  # dates, not month numbers
    assert all(fig["layout"]["yaxis"]["title"]["text"] for _, fig in drawn)  # every axis has its unit


def test_a_new_what_if_cancels_the_runs_of_the_old_one_still_waiting(devon, levers):
    f = Forecasts(devon, reps=6, months=3, jobs=1)
    try:
        first = what_if_config(devon, scenario(levers, moved(levers, effort=90)))
        second = what_if_config(devon, scenario(levers, moved(levers, effort=110)))
        f.start(first, WHAT_IF)
        old = f.what_if
        f.start(second, WHAT_IF)
        f.wait()
        assert any(fut.cancelled() for fut in old.futures)
        assert f.progress() == (6, 6) and f.generation == 2
        f.clear()
        assert f.what_if is None and f.snapshot().scenarios == ["base"]
    finally:
        f.close()


# --- the app, through Dash's HTTP interface -------------------------------------------------------


def _post(client, output: str, inputs: list, state: list | None = None, changed: list | None = None,
          outputs: list | None = None) -> dict:  # fmt: skip
    """One callback through Dash's endpoint, as the page's scripts send it."""
    payload = {
        "output": output,
        "outputs": outputs
        or [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in output.strip(".").split("...")],
        "inputs": inputs,
        "state": state or [],
        "changedPropIds": changed or [],
    }
    response = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
    assert response.status_code in (200, 204), response.data[:500]
    return json.loads(response.data) if response.status_code == 200 else {}


@pytest.fixture(scope="module")
def app_session(tmp_path_factory, devon):
    out = tmp_path_factory.mktemp("dashboard")
    f = Forecasts(devon, reps=REPS, months=MONTHS, jobs=2)
    session = Session(devon, DEVON, out, f)
    yield session, make_app(session).server.test_client()
    f.close()


def _lever_inputs(session, **values):
    chosen = moved(session.levers, **values)
    return [{"id": {"type": "lever", "id": i}, "property": "value", "value": v} for i, v in chosen.items()]


TICK = '..{"name":["ALL"],"type":"chart"}.figure...key-figures.children...progress.children...rendered.data...chart-names.data..'
LEVERS = "..lever-error.children...what-if.children.."
ACTION = "..action-message.children...download.data.."


def _tick(client, rendered=None, names=None) -> dict:
    """The page's timer: the charts on the page are `names` (their figures are outputs)."""
    outputs = [
        [{"id": {"name": n, "type": "chart"}, "property": "figure"} for n in names or []],
        *({"id": i, "property": p} for i, p in
          (("key-figures", "children"), ("progress", "children"), ("rendered", "data"), ("chart-names", "data"))),
    ]  # fmt: skip
    state = [{"id": "rendered", "property": "data", "value": rendered},
             {"id": "chart-names", "property": "data", "value": names}]  # fmt: skip
    return _post(client, TICK, [{"id": "tick", "property": "n_intervals", "value": 1}], state, ["tick.n_intervals"],
                 outputs)  # fmt: skip


def _lay_out(client, names) -> list:
    out = _post(client, "charts.children", [{"id": "chart-names", "property": "data", "value": names}], [],
                ["chart-names.data"], {"id": "charts", "property": "children"})  # fmt: skip
    return out["response"]["charts"]["children"]


def _action(client, button: str, name: str | None = None) -> dict:
    inputs = [{"id": b, "property": "n_clicks", "value": 1 if b == button else None}
              for b in ("save", "download-csv", "download-results", "report")]  # fmt: skip
    return _post(client, ACTION, inputs, [{"id": "scenario-name", "property": "value", "value": name}],
                 [f"{button}.n_clicks"])  # fmt: skip


def test_the_app_serves_its_page_and_its_scripts_itself(app_session):
    _, client = app_session
    page = client.get("/")
    assert page.status_code == 200 and b"sendsim: Devon SEN 0-25 service" in page.data
    assert b"cdn" not in page.data.lower()  # plotly.js and Dash's scripts come from the app, not a CDN
    layout = client.get("/_dash-layout").get_data(as_text=True)
    # each lever's help: the file's comment on its field and the values the schema allows
    assert "the Jan-Mar 2023 campaign produced 4 hires against ~14 vacant FTE (~0.29) Allowed: 0 to 100%." in layout
    assert "fill_17_posts: The 17 added posts are filled over 2023\\u002f24" in layout  # a preset (JSON escapes /)


def test_the_app_opens_on_the_base_plan_then_runs_a_lever_s_what_if(app_session):
    session, client = app_session
    session.forecasts.wait()
    first = _tick(client)["response"]
    assert first["progress"]["children"] == f"{REPS} of {REPS} runs (complete)"
    names = first["chart-names"]["data"]
    assert names[0] == "on_time_rate" and "vacancies" in names
    laid_out = json.dumps(_lay_out(client, names))
    assert '"id": "chart-on_time_rate"' in laid_out and "base: median" in laid_out
    rendered = first["rendered"]["data"]
    # nothing new: nothing is sent but the count
    again = _tick(client, rendered, names)["response"]
    assert list(again) == ["progress"] and again["progress"]["children"].startswith(f"{REPS} of {REPS}")

    changed = _post(client, LEVERS, [_lever_inputs(session, cohort__assessment=6),
                                     {"id": "preset", "property": "value", "value": "base"}])  # fmt: skip
    assert changed["response"]["lever-error"]["children"] == ""
    assert "New caseworkers starting together (a cohort): 6 people" in changed["response"]["what-if"]["children"]
    session.forecasts.wait()
    drawn = _tick(client, rendered, names)["response"]
    # the same charts: each figure is sent to its place, none laid out again
    assert "chart-names" not in drawn
    figures = drawn['{"name":"on_time_rate","type":"chart"}']["figure"]
    assert [t["name"] for t in figures["data"]][-1] == "what-if: median"
    assert len([k for k in drawn if k.startswith('{"name"')]) == len(names)
    assert "→" in json.dumps(drawn["key-figures"], ensure_ascii=False)

    refused = _post(client, LEVERS, [_lever_inputs(session, recruitment__fill=150),
                                     {"id": "preset", "property": "value", "value": "base"}])  # fmt: skip
    assert refused["response"]["lever-error"]["children"].startswith(
        "Not run: Chance a campaign fills the post: 150% is outside the range allowed"
    )
    assert "what-if" not in refused["response"]  # the last what-if stays on the page

    csv = _action(client, "download-csv")["response"]["download"]["data"]
    assert csv["filename"] == "key-figures.csv" and "On-time rate" in csv["content"]

    saved = _action(client, "save", "six_starters")["response"]["action-message"]["children"]
    assert saved.startswith("Saved scenario 'six_starters'")
    assert load_config(session.copy).scenarios["six_starters"] == session.what_if
    taken = _action(client, "save", "six_starters")["response"]["action-message"]["children"]
    assert "already has a scenario of that name" in json.dumps(taken)

    results = _action(client, "download-results")["response"]
    assert results["download"]["data"]["filename"].endswith(".zip")
    folder = Path(results["action-message"]["children"].removeprefix("Full results written to "))
    assert sim.load_results(folder).scenarios == ["base", WHAT_IF]

    report = _action(client, "report")["response"]
    assert Path(session.out / "report.html").is_file()
    assert report["download"]["data"]["filename"] == "report.html"
    assert "six_starters" in (session.out / "report.html").read_text()
    # drawn from the runs kept when it was saved: those sendsim compare makes of the saved file
    reported = sim.load_results(session.out / "report")
    again = sim.compare(session.copy, ["six_starters"], reps=REPS, months=MONTHS, jobs=1)
    pd.testing.assert_frame_equal(reported.kpis, again.kpis)
    pd.testing.assert_frame_equal(reported.differences, again.differences)

    back = _post(client, LEVERS, [_lever_inputs(session), {"id": "preset", "property": "value", "value": "base"}])
    assert back["response"]["what-if"]["children"] == "the base plan" and session.forecasts.what_if is None


def test_saving_or_reporting_before_a_what_if_says_what_to_do_first(tmp_path, devon):
    class Idle:
        reps, months, seed, jobs = 1, 1, 1, 1

    session = Session(devon, DEVON, tmp_path, Idle())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="move a lever first"):
        session.save("x")
    with pytest.raises(ValueError, match="save a scenario first"):
        session.report()


def test_only_loopback_addresses_count_as_private():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1") and not is_loopback("no-such-host.invalid")


def test_serve_warns_when_the_app_is_reachable_from_other_machines(monkeypatch, capsys, tmp_path):
    from sim.dashboard import serve

    started = []
    monkeypatch.setattr("dash.Dash.run", lambda self, host, port, debug: started.append((host, port, debug)))
    serve(DEVON, host="0.0.0.0", port=1234, reps=1, months=1, jobs=1, out=tmp_path)
    assert started == [("0.0.0.0", 1234, False)]
    captured = capsys.readouterr()
    assert "warning: the dashboard is reachable from other machines at 0.0.0.0:1234" in captured.err
    assert "sendsim dashboard: http://0.0.0.0:1234/" in captured.out
    serve(load_config(DEVON), port=1235, reps=1, months=1, jobs=1, out=tmp_path)  # a Config, on loopback
    assert "warning" not in capsys.readouterr().err


def test_the_dashboard_command_refuses_a_bad_configuration_before_it_starts(tmp_path):
    from click.testing import CliRunner

    from sim.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstart_date: 2023-01-01\nteams: {}\nstaff: []\nmonths: -1\n")
    result = CliRunner().invoke(main, ["dashboard", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "months" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
