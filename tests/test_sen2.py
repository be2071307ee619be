"""Reading DfE SEN2 files as published, and `sendsim init` drafting a configuration from them.

The files are made here, small, in DfE's layout: a byte-order mark, every suppression code,
national, regional and local-authority rows, calendar-year, January and academic-year periods, and
breakdown rows besides the headline. Only the last test reads the real release, if it is present.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from cli_result import assert_no_exception
from click.testing import CliRunner

import sim
from sim.cli import main
from sim.config import ConfigError, load_config, parse_config
from sim.data.init_config import build_config, draft_config
from sim.data.sen2 import SUPPRESSION_CODES, DataError, authorities, history, read_sen2

REAL_SEN2 = Path(__file__).parents[2] / "shared" / "data" / "sen2"  # ../shared beside the project

GEO = "time_period,time_identifier,geographic_level,country_code,country_name,region_code,region_name,new_la_code,old_la_code,la_name,breakdown_topic,breakdown"
NATIONAL = "National,E92000001,England,,,,,"
REGION = "Regional,E92000001,England,E12000009,South West,,,"
DEVON = "Local authority,E92000001,England,E12000009,South West,E10000008,878,Devon"
TORBAY = "Local authority,E92000001,England,E12000009,South West,E06000027,880,Torbay"


def _rows(period: str, ident: str, topic: str, cells: dict[str, str]) -> list[str]:
    """One line per area: time, area, headline breakdown, then the area's measure cells."""
    return [f"{period},{ident},{area},{topic},{topic},{cells[key]}" for key, area in
            (("n", NATIONAL), ("r", REGION), ("d", DEVON), ("t", TORBAY)) if key in cells]  # fmt: skip


def write_sen2(folder: Path) -> Path:
    """A small SEN2 release: Devon in full, Torbay with every suppression code."""
    folder.mkdir(parents=True, exist_ok=True)
    # requests: received, rya, decided to assess, not to assess (the BOM is on this file)
    topic = "All requests for EHC needs assessments"
    lines = [GEO + ",requests_received_in_year,requests_rya,requests_decided_to_assess,requests_decided_not_to_assess"]
    for year, devon in (("2019", "1666,0,x,236"), ("2020", "1693,0,x,466"), ("2021", "1745,0,1300,385")):
        lines += _rows(
            year, "Calendar year", topic, {"n": "82329,16,x,18755", "r": "8597,0,x,1464", "d": devon, "t": "210,0,c,z"}
        )
    lines.append(f"2021,Calendar year,{DEVON},Sex,Female,700,0,500,150")  # not the headline: left out
    (folder / "requests.csv").write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    # assessments
    topic = "All EHC needs assessments"
    lines = [GEO + ",assess_in_year,assess_issued,assess_issued_pc,assess_not_issued"]
    for year, devon in (("2019", "x,1435,x,48"), ("2020", "x,1336,x,43"), ("2021", "960,914,95.2,46")):
        lines += _rows(year, "Calendar year", topic, {"n": "x,53899,x,3368", "d": devon, "t": "x,150,x,low"})
    (folder / "assessments.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # timeliness: den, den_ex, within, within_ex, pc, PC_ex (mixed case as published)
    topic = "All EHC plans issued"
    lines = [
        GEO + ",plans_issued_den,plans_issued_den_ex,plans_issued_within_20_weeks,plans_issued_20_weeks_ex,"
        "pc_plans_issued_within_20_weeks,PC_plans_issued_20_weeks_ex"
    ]
    for year, devon in (
        ("2019", "1435,1434,460,460,32.1,32.1"),
        ("2020", "1319,1313,715,715,54.2,54.5"),
        ("2021", "856,850,332,330,38.8,38.8"),
    ):
        lines += _rows(
            year,
            "Calendar year",
            topic,
            {"n": "53327,49519,31313,29895,58.7,60.4", "d": devon, "t": "x,x,x,x,41.5,42.0"},
        )
    (folder / "timeliness_20_week.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # new plans, with a breakdown row that is not the headline
    topic = "New EHC plans"
    lines = [GEO + ",new_ehc_plans"]
    for year in ("2019", "2020", "2021"):
        lines += _rows(year, "Calendar year", topic, {"n": "53899", "d": "1000", "t": ""})
    lines.append(f"2021,Calendar year,{DEVON},Age when plan started,age 10,40")
    (folder / "newplans.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # ceased: one year only, headline called 'Total'
    lines = [GEO + ",total_ceased"] + _rows("2022", "Calendar year", "Total", {"n": "34724", "d": "581", "t": "low"})
    (folder / "ceased_plans.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # caseload: the January census, as academic years in one release and as 'January' in another
    topic = "All EHC plans"
    lines = [GEO + ",ehcplans"]
    lines += _rows("201819", "Academic year", topic, {"n": "353995", "d": "5162", "t": "900"})
    lines += _rows("201920", "Academic year", topic, {"n": "390109", "d": "6474", "t": "950"})
    lines += _rows("2021", "January", topic, {"n": "430697", "d": "7295", "t": "x"})
    lines += _rows("2022", "January", topic, {"n": "473255", "d": "7926", "t": '"1,010"'})
    (folder / "caseload.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def sen2_dir(tmp_path) -> Path:
    return write_sen2(tmp_path / "sen2")


@pytest.fixture
def sen2(sen2_dir):
    return read_sen2(sen2_dir)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert_no_exception(result)
    return result


# --- reading -------------------------------------------------------------------------------------


def test_reads_a_file_with_a_byte_order_mark(sen2):
    """requests.csv starts with a UTF-8 BOM; its first column is still time_period."""
    requests = sen2["requests"].data
    assert list(requests["year"].unique()) == [2019, 2020, 2021]
    assert requests.loc[requests["name"] == "Devon", "requests_received_in_year"].tolist() == [1666, 1693, 1745]


def test_keeps_national_regional_and_authority_rows(sen2):
    """Every geographic level is kept, each named: England, the region, the authority."""
    d = sen2["requests"].data
    assert set(d["geographic_level"]) == {"National", "Regional", "Local authority"}
    assert set(d.loc[d["geographic_level"] == "National", "name"]) == {"England"}
    assert set(d.loc[d["geographic_level"] == "Regional", "name"]) == {"South West"}
    assert authorities(sen2) == ["Devon", "Torbay"]
    assert history(sen2, "England").loc[2019, "requests"] == 82329
    assert history(sen2, "south west").loc[2020, "requests"] == 8597


@pytest.mark.parametrize("table, column, code", [
    ("requests", "requests_decided_to_assess", "c"),
    ("requests", "requests_decided_not_to_assess", "z"),
    ("assessments", "assess_not_issued", "low"),
    ("assessments", "assess_in_year", "x"),
    ("timeliness", "plans_issued_den", "x"),
    ("newplans", "new_ehc_plans", ""),
    ("ceased", "total_ceased", "low"),
    ("caseload", "ehcplans", "x"),
])  # fmt: skip
def test_every_suppression_code_is_missing_and_kept(sen2, table, column, code):
    """'x', 'c', 'z', 'low' and blanks read as NaN, never a crash, with the published code kept."""
    t = sen2[table]
    rows = t.data.index[t.data["name"] == "Torbay"]
    assert len(rows) > 0
    assert t.data.loc[rows, column].isna().any()
    codes = {t.code(r, column) for r in rows if math.isnan(t.data.at[r, column])}
    assert codes == {code}
    assert code in SUPPRESSION_CODES
    # a published number has no code
    devon = t.data.index[(t.data["name"] == "Devon") & t.data[column].notna()]
    assert all(t.code(r, column) == "" for r in devon)


def test_thousands_separators_are_numbers(sen2):
    """A count published as "1,010" is read as 1010."""
    assert history(sen2, "Torbay").loc[2022, "plans_in_force_january"] == 1010


def test_periods_calendar_january_and_academic(sen2):
    """Calendar year 2021 -> 2021; January 2021 -> 2021; academic 201920 -> 2020 ('2019/20')."""
    caseload = sen2["caseload"].data
    devon = caseload[caseload["name"] == "Devon"].set_index("time_period")
    assert devon.loc["201920", ["year", "period"]].tolist() == [2020, "2019/20"]
    assert devon.loc["201819", ["year", "period"]].tolist() == [2019, "2018/19"]
    assert devon.loc["2021", ["year", "period"]].tolist() == [2021, "January 2021"]
    requests = sen2["requests"].data
    assert set(requests["period"]) == {"2019", "2020", "2021"}


def test_only_the_headline_breakdown_is_kept(sen2):
    """Breakdown rows (Sex: Female; age 10) are left out; 'All ...', 'Total' and topic rows kept."""
    assert (sen2["requests"].data["name"] == "Devon").sum() == 3
    newplans = sen2["newplans"].data
    assert newplans.loc[(newplans["name"] == "Devon") & (newplans["year"] == 2021), "new_ehc_plans"].tolist() == [1000]
    assert history(sen2, "Devon").loc[2022, "plans_ceased"] == 581


def test_history_of_an_authority(sen2):
    """One row per calendar year, with flows, rates as fractions and the January census."""
    h = history(sen2, "Devon")
    assert list(h.index) == [2019, 2020, 2021, 2022]
    assert h.loc[2021, "requests"] == 1745
    assert h.loc[2021, "decided_to_assess"] == 1300
    assert h.loc[2021, "decided_not_to_assess"] == 385
    assert h.loc[2021, "assessments"] == 960
    assert h.loc[2019, "assessments"] == 1435 + 48  # assess_in_year is 'x': issued + not issued
    assert h.loc[2021, "no_plan"] == 46
    assert h.loc[2021, "plans_issued"] == 856
    assert h.loc[2021, "plans_issued_within_20_weeks_ex"] == 330
    assert h.loc[2021, "on_time_rate"] == pytest.approx(332 / 856)
    assert h.loc[2021, "on_time_rate_excluding_exceptions"] == pytest.approx(330 / 850)
    assert h.loc[2020, "plans_in_force_january"] == 6474  # academic year 2019/20
    assert h.loc[2022, "plans_in_force_january"] == 7926  # January 2022
    assert math.isnan(h.loc[2022, "requests"])
    assert any("assess_in_year" in note for note in h.attrs["notes"])


def test_suppressed_counts_fall_back_to_published_percentages(sen2):
    """Torbay's timeliness counts are 'x' but its percentages are published."""
    h = history(sen2, "Torbay")
    assert math.isnan(h.loc[2021, "plans_issued"])
    assert h.loc[2021, "on_time_rate"] == pytest.approx(0.415)
    assert h.loc[2021, "on_time_rate_excluding_exceptions"] == pytest.approx(0.42)
    assert math.isnan(h.loc[2021, "plans_in_force_january"])


@pytest.mark.parametrize("key", ["Devon", "DEVON", " devon ", "E10000008", "e10000008", "878"])
def test_authority_by_name_any_case_or_code(sen2, key):
    assert history(sen2, key).attrs["name"] == "Devon"


def test_unknown_authority_names_the_folder_and_close_matches(sen2, sen2_dir):
    with pytest.raises(DataError) as caught:
        history(sen2, "Devn")
    message = str(caught.value)
    assert str(sen2_dir) in message and "'Devn'" in message and "'Devon'" in message
    assert isinstance(caught.value, ConfigError)


def test_missing_column_names_the_file_and_column(sen2_dir):
    path = sen2_dir / "requests.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.drop(columns="requests_decided_not_to_assess").to_csv(path, index=False)
    with pytest.raises(DataError) as caught:
        read_sen2(sen2_dir)
    message = str(caught.value)
    assert str(path) in message and "'requests_decided_not_to_assess'" in message
    assert "\n" not in message  # one message


def test_missing_file_names_the_file(sen2_dir):
    (sen2_dir / "timeliness_20_week.csv").unlink()
    with pytest.raises(DataError, match="timeliness_20_week.csv: file not found"):
        read_sen2(sen2_dir)
    with pytest.raises(DataError, match="no such folder"):
        read_sen2(sen2_dir / "nowhere")


def test_optional_files_may_be_absent(sen2_dir):
    """Without ceased_plans.csv and newplans.csv the history has NaN there; ceasing comes from the
    census balance all the same."""
    with_files = draft_config(read_sen2(sen2_dir), "Devon", 2021)
    (sen2_dir / "ceased_plans.csv").unlink()
    (sen2_dir / "newplans.csv").unlink()
    sen2 = read_sen2(sen2_dir)
    assert history(sen2, "Devon")["plans_ceased"].isna().all()
    draft = draft_config(sen2, "Devon", 2021)
    assert draft.raw["plans"]["ceasing_rate_per_year"] == with_files.raw["plans"]["ceasing_rate_per_year"]


def test_a_bad_period_is_a_clear_error(sen2_dir):
    path = sen2_dir / "ceased_plans.csv"
    path.write_text(path.read_text().replace("2022,Calendar year", "2022,Quarter 9"))
    with pytest.raises(DataError, match=r"ceased_plans.csv: cannot read the period"):
        read_sen2(sen2_dir)


# --- init ----------------------------------------------------------------------------------------


def test_build_config_takes_its_figures_from_the_data(sen2):
    raw = build_config(sen2, "Devon", 2021)
    config = parse_config(raw)
    assert config.start_date.isoformat() == "2022-01-01"
    assert config.demand.requests_per_month == pytest.approx(1745 / 12, abs=0.05)
    assert 0.0 < config.demand.growth_per_year < 0.05  # 1,666 -> 1,745 over two years
    assert config.assessment.refusal_probability == pytest.approx(385 / (1300 + 385), abs=5e-4)
    assert config.assessment.no_plan_probability == pytest.approx(46 / 960, abs=5e-4)
    assert config.assessment.exception_probability == pytest.approx(6 / 856, abs=5e-4)
    assert config.initial_state.plans_in_force == 7926  # January 2022 census
    # the census balance of 2019-2021 ((stock + issued - next stock) / stock), not the plans ceased
    # of 2022, which is a year after the draft's: 1.5% transferred in and 1% ceased at review
    balance = [(5162 + 1435 - 6474) / 5162, (6474 + 1319 - 7295) / 6474, (7295 + 856 - 7926) / 7295]
    assert config.plans.ceasing_rate_per_year == pytest.approx(sum(balance) / 3 - 0.015 + 0.01, abs=5e-4)
    assert sorted(config.history) == [2019, 2020, 2021]
    assert config.history[2021].plans_issued == 856 and config.history[2021].plans_issued_within_20_weeks == 332
    assert config.plans.transfers_in_rate_per_year == 0.015
    assert "38.8%" in config.name  # the calibration target (excluding exceptions)
    assert config.initial_state.open_assessments
    staff = {g.team: g.count for g in config.staff}
    assert staff["review"] >= math.ceil(7926 / 200)
    assert staff["psychology"] >= 1 and staff["assessment"] >= 1


def test_the_yaml_says_the_same_as_the_mapping_and_marks_local_input(sen2):
    draft = draft_config(sen2, "Devon", 2021)
    from_text = parse_config(yaml.safe_load(draft.text))
    assert from_text.model_dump() == parse_config(draft.raw).model_dump()
    assert draft.text.count("NEEDS LOCAL INPUT") >= 5
    staff_lines = [line for line in draft.text.splitlines() if line.lstrip().startswith("- {role:")]
    assert staff_lines and all("NEEDS LOCAL INPUT" in line for line in staff_lines)
    assert "Calibration target" in draft.text and "38.8%" in draft.text
    assert "# assumption" in draft.text


def test_a_missing_census_uses_the_last_one_and_says_so(sen2):
    """The start is January 2023; there is no January 2023 census, so January 2022 is used."""
    for table in ("requests", "assessments", "timeliness"):  # the flows of 2021 relabelled 2022
        sen2[table].data.loc[sen2[table].data["year"] == 2021, "year"] = 2022
    draft = draft_config(sen2, "Devon", 2022)
    assert draft.raw["initial_state"]["plans_in_force"] == 7926
    assert any("January 2023 census" in note for note in draft.notes)
    assert "January 2023 census is not published" in draft.text


def test_a_year_without_requests_is_refused(sen2):
    with pytest.raises(DataError, match=r"requests.csv: no requests published for Devon in 2015"):
        draft_config(sen2, "Devon", 2015)


def test_init_writes_a_config_that_validates_and_runs(sen2_dir, tmp_path):
    out = tmp_path / "configs" / "devon.yaml"
    result = _invoke("init", "--la", "devon", "--sen2", sen2_dir, "--year", 2021, "--out", out)
    assert result.exit_code == 0, result.output
    text = squash(result.output)
    assert "NEEDS LOCAL INPUT" in text and "requests_per_month" in text and "38.8%" in text
    config = load_config(out)
    assert config.initial_state.plans_in_force == 7926
    run = sim.run(out, months=6)
    assert run.series("requests_received").sum() > 0
    validated = _invoke("validate", out)
    assert validated.exit_code == 0, validated.output


def test_init_drafts_starter_plans_that_do_what_their_descriptions_say(sen2_dir, tmp_path):
    """Three plans to edit, each commented as an example: add_posts raises the assessment team's
    establishment by 2 FTE from April; cap_agency holds agency caseworkers at half the draft's cap
    from July; starter_cohort brings 2 more caseworkers in in April than the base does."""
    out = tmp_path / "devon.yaml"
    assert _invoke("init", "--la", "devon", "--sen2", sen2_dir, "--year", 2021, "--out", out).exit_code == 0
    config = load_config(out)
    assert list(config.scenarios) == ["add_posts", "starter_cohort", "cap_agency"]
    assert "NEEDS LOCAL INPUT" in out.read_text().split("scenarios:")[0].rsplit("\n\n", 1)[-1]
    runs = {s: sim.run(out, months=12, scenario=s, cases=False) for s in (None, *config.scenarios)}
    posts = runs["add_posts"].series("establishment_fte.assessment")
    base_posts = runs[None].series("establishment_fte.assessment")
    assert (posts - base_posts).tolist() == [0.0] * 3 + [2.0] * 9  # January-March, then April on
    agency = runs["cap_agency"].series("fte_in_post.caseworker.agency")
    cap = int(config.workforce.roles["caseworker"].agency_cap_fte // 2)  # half the drafted cap
    assert config.scenarios["cap_agency"].actions[0].fte == cap and f"at {cap} FTE" in (
        config.scenarios["cap_agency"].description
    )
    caps = runs["cap_agency"].series("agency_cap_fte.caseworker")
    drafted = config.workforce.roles["caseworker"].agency_cap_fte
    assert (caps.iloc[:6] == drafted).all() and (caps.iloc[6:] == cap).all() and (agency.iloc[7:] <= cap).all()
    starters = runs["starter_cohort"].series("starters_fte.caseworker.permanent")
    base_starters = runs[None].series("starters_fte.caseworker.permanent")
    assert (starters - base_starters).iloc[:3].tolist() == [0.0] * 3 and starters.iloc[3] >= base_starters.iloc[3] + 2


def test_init_defaults_to_the_latest_year(sen2_dir, tmp_path):
    out = tmp_path / "torbay.yaml"
    result = _invoke("init", "--la", "880", "--sen2", sen2_dir, "--out", out)
    assert result.exit_code == 0, result.output
    config = load_config(out)  # Torbay: refusals 'z', no-plan 'low', timeliness 'x' -> fallbacks
    assert config.start_date.isoformat() == "2022-01-01"
    assert config.assessment.refusal_probability == 0.24
    assert config.initial_state.plans_in_force == 1010


def test_init_will_not_overwrite_without_force(sen2_dir, tmp_path):
    out = tmp_path / "devon.yaml"
    out.write_text("mine")
    result = _invoke("init", "--la", "Devon", "--sen2", sen2_dir, "--out", out)
    assert result.exit_code == 2
    assert "already exists" in squash(result.output) and "--force" in result.output
    assert out.read_text() == "mine"
    forced = _invoke("init", "--la", "Devon", "--sen2", sen2_dir, "--out", out, "--force")
    assert forced.exit_code == 0, forced.output
    load_config(out)


def test_init_unknown_authority_exits_2_with_close_matches(sen2_dir, tmp_path):
    out = tmp_path / "x.yaml"
    result = _invoke("init", "--la", "Torbey", "--sen2", sen2_dir, "--out", out)
    assert result.exit_code == 2
    text = squash(result.output)
    assert "error:" in text and "'Torbey'" in text and "'Torbay'" in text
    assert not out.exists()


def test_init_bad_data_file_exits_2_naming_file_and_column(sen2_dir, tmp_path):
    path = sen2_dir / "caseload.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",ehcplans", ",plans"), encoding="utf-8")
    out = tmp_path / "x.yaml"
    result = _invoke("init", "--la", "Devon", "--sen2", sen2_dir, "--out", out)
    assert result.exit_code == 2
    text = squash(result.output)
    assert "caseload.csv" in text and "'ehcplans'" in text
    assert not out.exists()


# --- the real release ----------------------------------------------------------------------------


@pytest.mark.skipif(not (REAL_SEN2 / "requests.csv").exists(), reason="the DfE SEN2 release is not present")
def test_devon_history_matches_domain_figures():
    """Devon's SEN2 figures as docs/domain.md quotes them."""
    h = history(read_sen2(REAL_SEN2), "Devon")
    assert h.loc[2019:2022, "requests"].tolist() == [1666, 1693, 1745, 2017]
    assert h.loc[2019:2023, "plans_in_force_january"].tolist() == [5162, 6474, 7295, 7926, 8400]
    assert round(h.loc[2022, "on_time_rate_excluding_exceptions"], 3) == 0.118
    assert [round(r, 3) for r in h.loc[2019:2021, "on_time_rate_excluding_exceptions"]] == [0.321, 0.545, 0.388]
    assert h.loc[2022, "plans_ceased"] == 581
    assert round(h.loc[2022, "no_plan"] / h.loc[2022, "assessments"], 3) == 0.127


def test_nothing_of_a_later_year_reaches_the_draft(sen2_dir):
    """init --year 2020: every figure of 2021 and later (and censuses after January 2021) may be
    changed in the files without changing one character of the draft."""
    before = draft_config(read_sen2(sen2_dir), "Devon", 2020).text
    for path in sen2_dir.glob("*.csv"):
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        changed = [lines[0]]
        for line in lines[1:]:
            period = line.split(",", 1)[0]
            year = int(period[:4]) + (1 if len(period) == 6 else 0)  # 202021 is the January 2021 census
            census = path.name == "caseload.csv"
            later = year > 2021 if census else year > 2020
            changed.append(
                re.sub(r"(?<=,)(\d+)(?=,|$)", lambda m: str(int(m.group(1)) * 3 + 7), line) if later else line
            )
        path.write_text("\n".join(changed) + "\n", encoding="utf-8")
    after = draft_config(read_sen2(sen2_dir), "Devon", 2020)
    assert after.text == before
    assert max(after.raw["history"]) == 2020


@pytest.mark.slow
def test_a_new_user_goes_from_sen2_files_to_a_report(sen2_dir, tmp_path):
    """init → calibrate (on the history init wrote, no other file) → compare → report."""
    config = tmp_path / "devon.yaml"
    result = _invoke("init", "--la", "Devon", "--sen2", sen2_dir, "--year", 2021, "--out", config)
    assert result.exit_code == 0, result.output
    assert sorted(sim.load_config(config).history) == [2019, 2020, 2021]
    calibrated = tmp_path / "calibrated.yaml"
    result = _invoke("calibrate", config, "--reps", 1, "--jobs", 1, "--out", calibrated)
    assert result.exit_code == 0, result.output
    assert sim.load_config(calibrated).calibration.years == [2019, 2020, 2021]
    out = tmp_path / "compare"
    result = _invoke("compare", calibrated, "--reps", 2, "--months", 6, "--jobs", 1, "--out", out)
    assert result.exit_code == 0, result.output
    result = _invoke("report", out)
    assert result.exit_code == 0, result.output
    assert "On-time rate" in (out / "report.html").read_text(encoding="utf-8")


# --- damaged files, each refused with the file named ---------------------------------------------


def test_an_empty_file_is_refused(sen2_dir):
    path = sen2_dir / "assessments.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match=rf"^{path}: the file is empty \(expected a DfE SEN2 CSV with a header row\)$"):
        read_sen2(sen2_dir)


def test_an_academic_year_that_is_not_one_is_refused(sen2_dir):
    path = sen2_dir / "caseload.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("201920,", "201922,"), encoding="utf-8")
    with pytest.raises(DataError, match=rf"^{path}: time_period '201922' is not an academic year such as 201920$"):
        read_sen2(sen2_dir)


def test_a_file_without_headline_rows_is_refused(sen2_dir):
    path = sen2_dir / "newplans.csv"
    path.write_text(
        path.read_text(encoding="utf-8").replace(",New EHC plans,New EHC plans,", ",Age,Age 5,"), encoding="utf-8"
    )
    with pytest.raises(DataError, match=rf"^{path}: no headline rows \(expected a breakdown 'Total' or 'All \.\.\.'"):
        read_sen2(sen2_dir)


def test_an_optional_file_left_out_is_named_when_asked_for(sen2_dir):
    from sim.data.sen2 import find_authority, has_row

    (sen2_dir / "ceased_plans.csv").unlink()
    sen2 = read_sen2(sen2_dir)
    assert "ceased" not in sen2 and "requests" in sen2
    devon = find_authority(sen2, "Devon")
    assert not has_row(sen2, "ceased", devon, 2022)
    assert has_row(sen2, "requests", devon, 2021) and not has_row(sen2, "requests", devon, 2030)
    with pytest.raises(DataError, match=r"ceased_plans\.csv: file not found \(expected .*ceased"):
        sen2["ceased"]


# --- drafting: the figures' edge cases ------------------------------------------------------------


def test_a_region_is_not_drafted_as_a_service(sen2):
    with pytest.raises(DataError, match=r"'South West' is regional \(expected a local authority\)"):
        draft_config(sen2, "South West", 2021)


def test_one_year_of_requests_assumes_the_examples_growth_and_says_so(sen2):
    from sim.data.init_config import DEFAULT_GROWTH

    draft = draft_config(sen2, "Devon", 2019)
    assert draft.raw["demand"]["growth_per_year"] == DEFAULT_GROWTH
    assert "growth_per_year: fewer than two years of requests, 8% assumed" in draft.notes
    parse_config(draft.raw, "draft")  # and the draft is a configuration


def test_a_growth_beyond_its_bounds_is_clipped_and_says_so(sen2_dir):
    """Requests doubling each year fit far more than +25%/yr: the draft takes the bound and notes the fit."""
    from sim.data.init_config import GROWTH_BOUNDS

    path = sen2_dir / "requests.csv"
    text = (
        path.read_text(encoding="utf-8-sig")
        .replace("1666,0,x,236", "400,0,x,100")
        .replace("1693,0,x,466", "850,0,x,200")
    )
    path.write_text(text, encoding="utf-8-sig")
    draft = draft_config(read_sen2(sen2_dir), "Devon", 2021)
    assert draft.raw["demand"]["growth_per_year"] == GROWTH_BOUNDS[1]
    (note,) = [n for n in draft.notes if n.startswith("requests growth")]
    assert note.endswith("was clipped to +25%") and float(note.split()[2].rstrip("%/yr")) > 25


def test_a_draft_is_not_written_over_an_existing_file(sen2, tmp_path):
    from sim.data.init_config import write_config

    path = tmp_path / "devon.yaml"
    path.write_text("mine\n", encoding="utf-8")
    draft = draft_config(sen2, "Devon", 2021)
    with pytest.raises(FileExistsError, match=r"devon\.yaml: already exists \(use --force to overwrite it\)"):
        write_config(draft, path)
    assert path.read_text(encoding="utf-8") == "mine\n"
    write_config(draft, path, force=True)
    assert load_config(path).name == parse_config(draft.raw, "draft").name


@pytest.mark.parametrize(
    "value",
    [
        True,
        False,
        3,
        2.0,
        0.125,
        "word",
        "yes",
        "No",
        "two words",
        "",
        dt.date(2024, 1, 1),
        [1, "a b"],
        {"k": [1, {"x": "on"}]},
    ],
)
def test_a_value_written_as_yaml_flow_reads_back_as_itself(value):
    import numpy as np

    from sim.data.init_config import _flow

    assert yaml.safe_load(f"v: {_flow(value)}")["v"] == value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        assert yaml.safe_load(f"v: {_flow(np.float64(value))}")["v"] == value  # numpy's scalars as Python's


def test_a_value_yaml_cannot_hold_is_refused():
    from sim.data.init_config import _flow

    with pytest.raises(TypeError, match="cannot write"):
        _flow(object())
