"""A national view: authorities sized from a table, simulated apart, added up.

The template here is the example configuration; three authorities of different sizes stand in
for England's 152.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_result import assert_no_exception
from click.testing import CliRunner
from pandas.testing import assert_frame_equal

from sim.cli import main
from sim.config import ConfigError
from sim.experiments.national import (
    Authority,
    authority_seed,
    load_national,
    read_authorities,
    rescale,
    run_national,
    sized_service,
)
from sim.experiments.runner import run
from sim.outputs.summary import wide

ROOT = Path(__file__).parents[1]
MONTHS = 4
TABLE = "authority,requests_per_year,plans_in_force\nLarge,960,3000\nMiddle,480,1500\nSmall,60,200\n"


def _national(folder: Path, table: str = TABLE, **extra) -> Path:
    (folder / "authorities.csv").write_text(table, encoding="utf-8")
    raw = {
        "name": "Three authorities",
        "template": str(ROOT / "configs" / "example.yaml"),
        "authorities": "authorities.csv",
        "seed": 5,
        **extra,
    }
    path = folder / "national.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def national_path(tmp_path_factory) -> Path:
    return _national(tmp_path_factory.mktemp("national"))


@pytest.fixture(scope="module")
def national_result(national_path):
    return run_national(national_path, months=MONTHS, jobs=1)


def test_an_authority_of_the_templates_size_is_the_template(example_config):
    """Scaling to the template's own requests and plans changes no size: staff, establishment,
    caps, open assessments and cohorts are the template's."""
    same = Authority("Same", example_config.demand.requests_per_month * 12, example_config.initial_state.plans_in_force)
    sized = sized_service(example_config, same)
    for field in ("staff", "initial_state", "workforce", "actions", "teams", "assessment", "plans"):
        assert getattr(sized, field) == getattr(example_config, field), field
    assert sized.demand.requests_per_month == pytest.approx(example_config.demand.requests_per_month)


def test_sizes_follow_the_work_of_each_team(example_config):
    """Twice the plans and the same requests: the review team doubles, the assessment team and the
    EPs do not; the review team's establishment doubles with it."""
    twice = Authority(
        "Twice", example_config.demand.requests_per_month * 12, 2 * example_config.initial_state.plans_in_force
    )
    sized = sized_service(example_config, twice)

    def fte(config, team):
        return sum(g.count * g.fte for g in config.staff if g.team == team)

    assert fte(sized, "review") == pytest.approx(2 * fte(example_config, "review"))
    assert fte(sized, "assessment") == pytest.approx(fte(example_config, "assessment"))
    assert fte(sized, "psychology") == pytest.approx(fte(example_config, "psychology"))
    est, est0 = sized.workforce.establishment_fte, example_config.workforce.establishment_fte
    for team in est0:
        assert est[team] == pytest.approx(est0[team] * (2 if team == "review" else 1))


def test_a_tiny_authority_keeps_one_person_in_every_team(example_config):
    tiny = sized_service(example_config, Authority("Tiny", 1, 5))
    for team in example_config.teams:
        assert sum(g.count for g in tiny.staff if g.team == team) >= 1, team


def test_rescale_meets_the_totals_in_proportion():
    authorities = [Authority("A", 100, 400), Authority("B", 300, 1200)]
    scaled = rescale(authorities, plans_in_force=3200, requests_per_year=800)
    assert [a.plans_in_force for a in scaled] == [800, 2400]
    assert [a.requests_per_year for a in scaled] == pytest.approx([200, 600])


def test_national_counts_are_the_sums_of_the_authorities(national_result):
    """Nothing is created or lost in adding up: every national count and stock is the sum of the
    authorities', and the national on-time rate is the summed counts' ratio."""
    national = wide(national_result.metrics)
    parts = {
        name: wide(frame.drop(columns="authority")) for name, frame in national_result.by_authority.groupby("authority")
    }
    assert set(parts) == {"Large", "Middle", "Small"}
    for metric in (
        "requests_received",
        "plans_issued",
        "plans_issued_within_20_weeks",
        "plans_in_force",
        "reviews_overdue",
        "assessments_open",
        "fte_in_post.caseworker.permanent",
        "cost_total",
    ):
        total = sum(p[metric] for p in parts.values())
        np.testing.assert_allclose(national[metric], total, err_msg=metric)
    issued = national["plans_issued"].sum()
    assert issued > 0
    assert national["plans_issued_within_20_weeks"].sum() / issued == pytest.approx(
        sum(p["plans_issued_within_20_weeks"].sum() for p in parts.values())
        / sum(p["plans_issued"].sum() for p in parts.values())
    )


def test_ratio_measures_are_rebuilt_from_what_adds_up(national_result):
    national = wide(national_result.metrics)
    parts = [wide(f.drop(columns="authority")) for _, f in national_result.by_authority.groupby("authority")]
    hours = sum(p["casework_hours.review"] for p in parts)
    capacity = sum(p["casework_capacity_hours.review"] for p in parts)
    np.testing.assert_allclose(national["utilisation.review"], hours / capacity)
    items = sum(p["caseload_per_fte_mean.review"] * p["fte_in_post.review"] for p in parts)
    np.testing.assert_allclose(national["caseload_per_fte_mean.review"], items / national["fte_in_post.review"])
    assert national["caseload_per_fte_p90.review"].isna().all()  # a percentile does not add up


def test_each_authority_is_its_own_service_run_alone(national_path, national_result):
    """Running apart is only a way of computing: an authority's measures are exactly those of its
    sized configuration run on its own seed."""
    model = load_national(national_path)
    name, config = model.services()[2]
    alone = run(config, seed=authority_seed(5, name), months=MONTHS, cases=False).metrics
    mine = national_result.by_authority[national_result.by_authority["authority"] == name]
    assert_frame_equal(mine.drop(columns="authority").reset_index(drop=True), alone)


def test_results_do_not_depend_on_the_number_of_processes(national_path, national_result):
    parallel = run_national(national_path, months=MONTHS, jobs=2)
    assert_frame_equal(parallel.metrics, national_result.metrics)
    assert_frame_equal(parallel.by_authority, national_result.by_authority)
    assert parallel.events == national_result.events


def test_an_authoritys_seed_does_not_depend_on_the_others(tmp_path, national_result):
    """Dropping an authority from the table leaves the others' runs as they were."""
    path = _national(tmp_path, "authority,requests_per_year,plans_in_force\nSmall,60,200\nLarge,960,3000\n")
    fewer = run_national(path, months=MONTHS, jobs=1).by_authority
    for name in ("Small", "Large"):
        assert_frame_equal(
            fewer[fewer["authority"] == name].reset_index(drop=True),
            national_result.by_authority[national_result.by_authority["authority"] == name].reset_index(drop=True),
        )


def test_the_shipped_england_config_sizes_england(tmp_path):
    """configs/england_benchmark.yaml: 152 authorities from SEN2, scaled to about 640,000 plans in force and
    155,000 requests a year, each a valid service."""
    model = load_national(ROOT / "configs" / "england_benchmark.yaml")
    assert len(model.authorities) == 152
    assert sum(a.plans_in_force for a in model.authorities) == pytest.approx(640_000, rel=1e-4)
    assert sum(a.requests_per_year for a in model.authorities) == pytest.approx(155_000)
    services = dict(model.services())
    devon = services["Devon"]
    assert devon.initial_state.plans_in_force == pytest.approx(8400 * 640_000 / 517_048, abs=1)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("authority,requests_per_year\nA,1\n", "missing plans_in_force"),
        ("authority,requests_per_year,plans_in_force\nA,10,many\n", "row 2 (A): plans_in_force: expected a number"),
        ("authority,requests_per_year,plans_in_force\nA,10,5\nB,-1,5\n", "row 3 (B): requests_per_year"),
        ("authority,requests_per_year,plans_in_force\nA,10,5\nA,3,5\n", "'A' appears more than once"),
        ("authority,requests_per_year,plans_in_force\n", "at least one authority"),
        ("", "not a readable CSV table"),
        ("authority,requests_per_year,plans_in_force\nA,10,5\n ,10,5\n", "row 3: authority: expected a name"),
    ],
)
def test_a_bad_authorities_table_is_one_clear_message(tmp_path, table, expected):
    path = tmp_path / "authorities.csv"
    path.write_text(table, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_authorities(path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_cli_runs_a_national_config_and_writes_what_repeats_it(national_path, national_result, tmp_path):
    """`sendsim run NATIONAL` writes national and per-authority measures; the folder's own
    config.yaml (with the template and the table beside it) repeats the run exactly."""
    out = tmp_path / "england"
    result = CliRunner().invoke(
        main, ["run", str(national_path), "--months", str(MONTHS), "--jobs", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Three authorities" in result.output
    assert {p.name for p in out.iterdir()} == {
        "metrics.parquet",
        "metrics.csv",
        "authorities.parquet",
        "authorities.csv",
        "template.yaml",
        "config.yaml",
        "provenance.json",
    }
    assert_frame_equal(pd.read_parquet(out / "metrics.parquet"), national_result.metrics)
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["authorities"] == 3 and provenance["seed"] == 5 and provenance["months"] == MONTHS
    again = run_national(out / "config.yaml", jobs=1)
    assert_frame_equal(again.metrics, national_result.metrics)


def test_cli_refuses_options_that_belong_to_one_service(national_path, tmp_path):
    out = tmp_path / "x"
    result = CliRunner().invoke(main, ["run", str(national_path), "--reps", "3", "--out", str(out)])
    assert result.exit_code == 2
    assert "national configuration" in result.output
    assert not out.exists()


def test_cli_names_the_file_of_a_bad_table_and_writes_nothing(tmp_path):
    path = _national(tmp_path, "authority,requests_per_year,plans_in_force\nA,ten,5\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert "authorities.csv" in result.output and "requests_per_year" in result.output
    assert_no_exception(result)
    assert not out.exists()


def test_a_template_that_sets_a_size_is_refused(tmp_path):
    raw = yaml.safe_load((ROOT / "configs" / "example.yaml").read_text())
    raw["actions"] = [{"date": "2023-06-01", "action": "set", "parameter": "demand.requests_per_month", "value": 50}]
    (tmp_path / "template.yaml").write_text(yaml.safe_dump(raw))
    path = _national(tmp_path)
    text = yaml.safe_load(path.read_text())
    text["template"] = "template.yaml"
    path.write_text(yaml.safe_dump(text))
    with pytest.raises(ConfigError, match="requests_per_month"):
        load_national(path)


def test_a_missing_template_or_table_names_the_national_file_and_the_missing_one(tmp_path):
    path = _national(tmp_path)
    raw = yaml.safe_load(path.read_text())
    for key, missing in (("template", "nothere.yaml"), ("authorities", "nothere.csv")):
        path.write_text(yaml.safe_dump({**raw, key: missing}))
        with pytest.raises(ConfigError) as caught:
            load_national(path)
        message = str(caught.value)
        assert message.startswith(f"{path}: {key}: ") and missing in message and "cannot read" in message


# --- a folder of services, each its own ----------------------------------------------------------


def _services(folder: Path, changes: dict[str, dict]) -> Path:
    """A national configuration naming a folder of services: the example, changed per authority."""
    (folder / "services").mkdir()
    for name, change in changes.items():
        raw = yaml.safe_load((ROOT / "configs" / "example.yaml").read_text(encoding="utf-8"))
        for dotted, value in change.items():
            node = raw
            *parents, leaf = dotted.split(".")
            for key in parents:
                node = node[key]
            node[leaf] = value
        (folder / "services" / f"{name}.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    path = folder / "national.yaml"
    path.write_text(yaml.safe_dump({"name": "Own services", "services": "services", "seed": 3}), encoding="utf-8")
    return path


def test_a_folder_of_own_services_is_simulated_apart_and_added_up(tmp_path):
    """Each authority runs its own configuration on its own seed; the national counts and stocks
    are the sums of theirs, and the folder written repeats the run."""
    path = _services(
        tmp_path,
        {
            "north": {"demand.requests_per_month": 60},
            "south": {"initial_state.plans_in_force": 900, "assessment.effort_scale": 1.4},
        },
    )
    model = load_national(path)
    assert [name for name, _ in model.services()] == ["north", "south"]
    assert model.services()[1][1].assessment.effort_scale == 1.4  # its own, not scaled from a template
    result = run_national(model, months=MONTHS, jobs=1)
    for name, config in model.services():
        alone = wide(run(config, seed=authority_seed(3, name), months=MONTHS, cases=False).metrics)
        mine = wide(result.by_authority[result.by_authority["authority"] == name].drop(columns="authority"))
        assert_frame_equal(mine, alone)
    national = wide(result.metrics)
    by = {
        n: wide(result.by_authority[result.by_authority["authority"] == n].drop(columns="authority"))
        for n in ("north", "south")
    }
    for metric in ("requests_received", "plans_issued", "plans_in_force"):
        assert national[metric].tolist() == (by["north"][metric] + by["south"][metric]).tolist()
    out = tmp_path / "out"
    from sim.experiments.national import write_national

    write_national(result, model, out)
    again = run_national(out / "config.yaml", jobs=1)
    assert_frame_equal(again.metrics, result.metrics)


def test_services_that_start_on_different_dates_are_refused(tmp_path):
    path = _services(tmp_path, {"a": {}, "b": {"start_date": "2022-01-01"}})
    with pytest.raises(ConfigError, match=r"b.yaml starts on 2022-01-01"):
        load_national(path)


def test_a_national_configuration_names_services_or_a_template_not_both(tmp_path):
    path = _services(tmp_path, {"a": {}})
    raw = yaml.safe_load(path.read_text())
    raw["template"] = "x.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match="either services"):
        load_national(path)
    (tmp_path / "empty").mkdir()
    path.write_text(yaml.safe_dump({"name": "x", "services": "empty"}))
    with pytest.raises(ConfigError, match="found none"):
        load_national(path)


@pytest.mark.skipif(not any((ROOT / "configs" / "england").glob("*.yaml")), reason="configs/england not built")
def test_the_shipped_england_is_every_authority_calibrated_from_its_census():
    """configs/england.yaml: one calibrated service per authority, each from its own January 2023
    census; together England's 517,048 plans (less authorities SEN2 gives no requests for)."""
    model = load_national(ROOT / "configs" / "england.yaml")
    services = model.services()
    assert len(services) >= 148
    assert all(c.start_date.isoformat() == "2023-01-01" and c.calibration is not None for _, c in services)
    assert all(c.uncertainty is not None and max(c.history) == 2022 for _, c in services)
    plans = sum(c.initial_state.plans_in_force for _, c in services)
    assert 500_000 <= plans <= 517_048


def test_a_national_run_is_reported_with_its_totals_and_its_authorities_ranked(national_path, tmp_path):
    """`sendsim report` on a national run's folder: England's yearly figures as the national metrics
    make them, every authority ranked by its on-time rate (best first), and the national charts."""
    from sim.outputs.national_report import authority_ranking
    from sim.outputs.summary import yearly_table

    out = tmp_path / "england"
    ran = CliRunner().invoke(main, ["run", str(national_path), "--months", "13", "--jobs", "1", "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    result = CliRunner().invoke(main, ["report", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    national = yearly_table(pd.read_parquet(out / "metrics.parquet")[["month", "metric", "value"]])
    assert list(national.index) == [2023, 2024]
    assert f"<td>{national['on_time_rate'][2023]:.1%}</td>" in page
    assert f"<td>{national['plans_issued'][2023]:,.0f}</td>" in page
    ranking = authority_ranking(pd.read_parquet(out / "authorities.parquet"))
    assert sorted(ranking["authority"]) == ["Large", "Middle", "Small"] and (ranking["year"] == 2024).all()
    assert ranking["on_time_rate"].is_monotonic_decreasing
    rows = [page.index(f"<td>{r}</td><td>{a}</td>") for r, a in zip(ranking["rank"], ranking["authority"])]
    assert rows == sorted(rows)  # in rank order on the page
    assert page.count("<img") == 4 and "no range of outcomes" in page
    assert sorted(p.name for p in (out / "plots").iterdir()) == [
        "national_assessments_open_over_30_weeks.png", "national_on_time_rate.png", "national_plans_in_force.png",
        "national_reviews_overdue.png",
    ]  # fmt: skip


def test_a_template_of_no_size_cannot_be_scaled(tmp_path):
    raw = yaml.safe_load((ROOT / "configs" / "example.yaml").read_text())
    raw["initial_state"]["plans_in_force"] = 0
    (tmp_path / "template.yaml").write_text(yaml.safe_dump(raw))
    path = _national(tmp_path, template="template.yaml")
    with pytest.raises(ConfigError, match=r"expected plans_in_force and requests_per_month above 0, to scale from"):
        load_national(path)


def test_an_agency_cap_of_the_template_scales_with_its_roles_staff(example_raw):
    """An authority of twice the template's requests and plans has twice its staff, so twice a dated
    agency cap; one of its own size keeps the cap as written."""
    from sim.config import parse_config

    example_raw["actions"].append({"date": "2023-06-01", "action": "agency_cap", "role": "caseworker", "fte": 1.5})
    template = parse_config(example_raw, "template")
    requests, plans = template.demand.requests_per_month * 12, template.initial_state.plans_in_force
    caps = {}
    for name, k in (("Same", 1), ("Double", 2)):
        sized = sized_service(template, Authority(name, requests * k, plans * k))
        (cap,) = [a for a in sized.actions if a.action == "agency_cap"]
        caps[name] = cap.fte
    assert caps["Same"] == pytest.approx(1.5)
    assert caps["Double"] == pytest.approx(3.0, rel=0.1)


def test_a_bad_service_in_the_folder_is_named(tmp_path):
    path = _services(tmp_path, {"good": {}, "bad": {"demand.requests_per_month": -1}})
    with pytest.raises(ConfigError) as caught:
        load_national(path)
    message = str(caught.value)
    assert (
        message.startswith(f"{path}: services: ") and "bad.yaml" in message and "demand.requests_per_month" in message
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"name": "x", "template": "t.yaml"}, "expected authorities (the table of sizes) with template"),
        ({"name": "x", "services": "s", "authorities": "a.csv"}, "expected no authorities or scale_to with services"),
        (["not", "a", "mapping"], "expected a YAML mapping, got list"),
    ],
)
def test_a_national_configuration_of_the_wrong_form_is_refused(tmp_path, raw, expected):
    path = tmp_path / "national.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(expected)) as caught:
        load_national(path)
    assert str(path) in str(caught.value)
