"""The experiment folder and the HTML report: load_results round-trips, and `sendsim report` writes
one self-contained, well-formed file with every chart, the KPIs, differences, assumptions and seed.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_result import assert_no_exception
from click.testing import CliRunner
from pandas.testing import assert_frame_equal

from sim.cli import main
from sim.config import dump_config, load_config
from sim.experiments.experiment import load_results, run_experiment, write_experiment
from sim.outputs.plots import charts_for, with_derived

SCENARIOS = ["base", "two_more_caseworkers"]
SEED = 7
MONTHS = 12
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def _run_cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert_no_exception(result)
    return result


# --- a small DOM from html.parser -----------------------------------------------------------------


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list[Node] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.parts) + "".join(c.text for c in self.children)

    def iter(self, tag: str | None = None):
        if tag is None or self.tag == tag:
            yield self
        for child in self.children:
            yield from child.iter(tag)

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())


class _TreeBuilder(HTMLParser):
    """Builds a tree and records every structural error: a stray or mismatched end tag, an unclosed element."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]
        self.errors: list[str] = []
        self.doctype: str | None = None

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if self.stack[-1].tag != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1].tag}> at {self.getpos()}")
            return
        self.stack.pop()

    def handle_data(self, data):
        self.stack[-1].parts.append(data)


def parse_html(text: str) -> _TreeBuilder:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    if len(builder.stack) > 1:
        builder.errors.append(f"unclosed: {[n.tag for n in builder.stack[1:]]}")
    return builder


# --- one comparison, reported ---------------------------------------------------------------------


@dataclass
class Reported:
    folder: Path
    output: str
    html: str
    doc: _TreeBuilder


@pytest.fixture(scope="module")
def reported(tmp_path_factory, example_path) -> Reported:
    """`sendsim compare` (base + two_more_caseworkers, 3 reps, 12 months, seed 7), then `sendsim report DIR`."""
    folder = tmp_path_factory.mktemp("report") / "compare"
    result = _run_cli(
        "compare",
        example_path,
        "--scenarios",
        "two_more_caseworkers",
        "--reps",
        3,
        "--months",
        MONTHS,
        "--seed",
        SEED,
        "--jobs",
        2,
        "--out",
        folder,
    )
    assert result.exit_code == 0, result.output
    result = _run_cli("report", folder)
    assert result.exit_code == 0, result.output
    html_text = (folder / "report.html").read_text(encoding="utf-8")
    return Reported(folder, result.output, html_text, parse_html(html_text))


def _body(reported: Reported) -> Node:
    return next(reported.doc.root.iter("body"))


def test_report_is_written_into_the_folder(reported):
    """`sendsim report DIR` exits 0, writes DIR/report.html and says where."""
    assert (reported.folder / "report.html").is_file()
    assert "report.html" in reported.output
    assert not list(reported.folder.glob(".*.tmp"))


def test_report_is_well_formed_html(reported):
    """It parses with no stray or unclosed tags: a doctype, then <html> holding <head> and then <body>."""
    doc = reported.doc
    assert doc.errors == []
    assert doc.doctype and doc.doctype.lower() == "doctype html"
    top = [n for n in doc.root.children]
    assert [n.tag for n in top] == ["html"]
    assert [n.tag for n in top[0].children] == ["head", "body"]
    head, body = top[0].children
    assert {"meta", "title", "style"} <= {n.tag for n in head.children}
    assert next(head.iter("meta")).attrs.get("charset", "").lower() == "utf-8"
    assert "Example SEND 0-25 service" in next(head.iter("title")).text
    assert len(body.children) > 10


def test_every_chart_is_embedded_as_a_png(reported):
    """One <img> per chart for each scenario plus the overlay, each a base64 PNG, together exactly
    the PNGs written to DIR/plots."""
    experiment = load_results(reported.folder)
    charts = charts_for(with_derived(experiment.summary, experiment.results))
    assert len(charts) >= 8
    images = list(_body(reported).iter("img"))
    assert len(images) == len(charts) * (len(SCENARIOS) + 1)
    embedded = []
    for img in images:
        src = img.attrs["src"]
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        data = base64.b64decode(src[len(prefix) :], validate=True)
        assert data.startswith(PNG_SIGNATURE) and len(data) > 1000
        embedded.append(data)
        assert img.attrs.get("alt")
    pngs = sorted((reported.folder / "plots").glob("*.png"))
    assert len(pngs) == len(images)
    assert sorted(embedded) == sorted(p.read_bytes() for p in pngs)
    names = {p.stem for p in pngs}
    for chart in charts:
        assert f"compare_{chart.name}" in names
        assert all(f"fan_{chart.name}_{s}" in names for s in SCENARIOS)


def test_every_plot_is_also_written_as_svg(reported):
    """Beside each PNG in DIR/plots is an SVG of the same name that parses as SVG."""
    plots = reported.folder / "plots"
    pngs = {p.stem for p in plots.glob("*.png")}
    svgs = {p.stem for p in plots.glob("*.svg")}
    assert pngs and svgs == pngs
    for stem in sorted(svgs)[:3]:
        root = ET.parse(plots / f"{stem}.svg").getroot()
        assert root.tag.endswith("svg")


def test_report_works_offline(reported):
    """No scripts, no stylesheet links, no fetched URLs in any src or href, none in the style either."""
    nodes = list(reported.doc.root.iter())
    assert not [n for n in nodes if n.tag in ("script", "iframe", "object", "embed")]
    assert not [n for n in nodes if n.tag == "link"]
    for node in nodes:
        for name in ("src", "href", "srcset", "data", "action", "poster"):
            value = (node.attrs.get(name) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "ftp:")), (node.tag, name, value[:80])
    style = "".join(n.text for n in nodes if n.tag == "style")
    assert "url(" not in style and "@import" not in style
    assert "<script" not in reported.html.lower()


def test_kpi_table_per_scenario(reported):
    """A table of class 'kpi' for each scenario, with the years, the on-time rate and its mean."""
    tables = [t for t in _body(reported).iter("table") if "kpi" in t.classes()]
    assert [t.attrs.get("data-scenario") for t in tables] == SCENARIOS
    kpis = pd.read_csv(reported.folder / "kpis.csv")
    for table in tables:
        text = table.text
        assert "On-time rate" in text and "Plans issued" in text and "Reviews overdue" in text
        assert "2023" in next(table.iter("thead")).text
        row = kpis[
            (kpis["scenario"] == table.attrs["data-scenario"])
            & (kpis["year"] == 2023)
            & (kpis["measure"] == "on_time_rate")
        ].iloc[0]
        rows = [r for r in table.iter("tr") if r.children[0].tag == "td"]
        cells = {r.children[0].text: r.children[2].text for r in rows}
        counted = {r.children[0].text: r.children[1].text for r in rows}
        # each row says whether it is a year's total, a rate over the year or a year-end snapshot
        assert counted["On-time rate"] == "over the year"
        assert counted["Plans issued"] == "total over the year"
        assert counted["Reviews overdue"] == counted["Plans in force"] == "at the year's end"
        assert cells["On-time rate"].startswith(f"{row['mean']:.1%}")
        assert f"{row['ci_low']:.1%}" in cells["On-time rate"]
        share = next(v for k, v in cells.items() if k.startswith("Share of runs"))
        assert share == f"{row['p_reaches_target']:.0%}"


def test_differences_table(reported):
    """A table of class 'differences' for the scenario, whose plans-issued cell is differences.csv's."""
    tables = [t for t in _body(reported).iter("table") if "differences" in t.classes()]
    assert len(tables) == 1
    table = tables[0]
    assert "two_more_caseworkers" in next(table.iter("thead")).text
    diffs = pd.read_csv(reported.folder / "differences.csv")
    row = diffs[
        (diffs["scenario"] == "two_more_caseworkers") & (diffs["year"] == 2023) & (diffs["measure"] == "cost_total")
    ].iloc[0]
    cells = {r.children[0].text: r.children[2].text for r in table.iter("tr") if r.children[0].tag == "td"}
    assert cells["Cost (£)"].startswith(f"+£{row['difference']:,.0f}")  # two more salaries: dearer
    assert "On-time rate" in cells and "Plans issued" in cells


def _pres(reported: Reported) -> list[str]:
    return [n.text for n in _body(reported).iter("pre")]


def _as_run(reported: Reported) -> list[str]:
    """The configuration exactly as run: the <pre> inside the assumptions' <details>."""
    return [n.text for d in _body(reported).iter("details") for n in d.iter("pre")]


def test_assumptions_show_the_configuration(reported, example_path):
    """The assumptions show the configuration as run, as YAML, with every scenario and its actions."""
    configs = [yaml.safe_load(text) for text in _as_run(reported)]
    assert len(configs) == 1
    shown = configs[0]
    expected = yaml.safe_load(dump_config(load_config(example_path)))
    for key in ("name", "start_date", "demand", "assessment", "plans", "teams", "staff", "workforce", "scenarios"):
        assert shown[key] == expected[key], key
    assert "two_more_caseworkers" in shown["scenarios"]


def test_assumptions_give_the_seed_and_months_the_comparison_ran_with(reported):
    """The configuration shown "as run" carries the run's seed and months, as provenance records them."""
    shown = yaml.safe_load(_as_run(reported)[0])
    prov = json.loads((reported.folder / "provenance.json").read_text())
    assert (shown["seed"], shown["months"]) == (prov["seed"], prov["months"]) == (SEED, MONTHS)


def test_assumptions_give_the_sources_as_the_file_writes_them(reported, example_path):
    """The file as written is kept with the results and shown line for line, its comments (the
    sources of its figures) marked as such."""
    written = example_path.read_text(encoding="utf-8")
    assert (reported.folder / "config-source.yaml").read_text(encoding="utf-8") == written
    sources = [n for n in _body(reported).iter("pre") if "source" in n.classes()]
    assert len(sources) == 1
    block = re.findall(r"<pre class='source'>(.*?)</pre>", reported.html, flags=re.S)
    assert [html.unescape(re.sub(r"<[^>]+>", "", b)) for b in block] == [written.rstrip("\n")]
    comments = [n.text for n in sources[0].iter("span") if "comment" in n.classes()]
    expected = [line[line.index("#") :] for line in written.splitlines() if "#" in line]
    assert comments == expected and len(comments) > 5


def test_provenance_shows_the_seed(reported):
    """The provenance block is the run's provenance.json: seed, replications, scenarios, months."""
    blocks = [json.loads(t) for t in _pres(reported) if t.lstrip().startswith("{")]
    assert len(blocks) == 1
    shown = blocks[0]
    assert shown == json.loads((reported.folder / "provenance.json").read_text())
    assert shown["seed"] == SEED and shown["replications"] == 3 and shown["scenarios"] == SCENARIOS
    assert len(shown["replication_seeds"]) == 3
    assert "seed" in reported.html and f"{SEED}" in _body(reported).text


def test_report_of_one_scenario_with_out_option(example_path, tmp_path):
    """`sendsim run --reps 2` then `sendsim report DIR --out FILE`: FILE is written, one chart per
    measure and no differences table."""
    folder = tmp_path / "single"
    assert _run_cli("run", example_path, "--reps", 2, "--months", 4, "--jobs", 1, "--out", folder).exit_code == 0
    target = tmp_path / "elsewhere.html"
    result = _run_cli("report", folder, "--out", target)
    assert result.exit_code == 0, result.output
    assert target.is_file() and not (folder / "report.html").exists()
    doc = parse_html(target.read_text(encoding="utf-8"))
    assert doc.errors == []
    experiment = load_results(folder)
    charts = charts_for(with_derived(experiment.summary, experiment.results))
    assert len(list(doc.root.iter("img"))) == len(charts)
    tables = list(doc.root.iter("table"))
    assert [t.attrs.get("class") for t in tables] == ["kpi"]


def test_report_refuses_a_folder_without_results(tmp_path):
    """`sendsim report` on a folder that is not an experiment exits 2 and says what it expected."""
    result = _run_cli("report", tmp_path)
    assert result.exit_code == 2
    assert "results.parquet" in result.output
    assert list(tmp_path.iterdir()) == []


# --- load_results round-trips ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def written(tmp_path_factory, example_config):
    """run_experiment (base + scenario, 3 reps, 12 months) written with write_experiment and read back."""
    experiment = run_experiment(
        example_config, SCENARIOS, reps=3, seed=SEED, months=MONTHS, jobs=1, config_path="configs/example.yaml"
    )
    folder = write_experiment(experiment, tmp_path_factory.mktemp("experiment") / "exp")
    return experiment, load_results(folder)


def test_load_results_round_trips_results_and_summary(written):
    """results.parquet and summary.parquet read back identical, dtypes included."""
    made, back = written
    assert_frame_equal(back.results, made.results, check_exact=True)
    assert_frame_equal(back.summary, made.summary, check_exact=True)
    assert len(back.results) > 0 and back.results["rep"].nunique() == 3


def test_load_results_round_trips_kpis_and_differences(written):
    """kpis.csv and differences.csv read back equal, to the last digit that matters."""
    made, back = written
    assert_frame_equal(back.kpis, made.kpis, check_dtype=False, check_exact=False, rtol=1e-12)
    assert_frame_equal(back.differences, made.differences, check_dtype=False, check_exact=False, rtol=1e-12)
    for column in ("year", "n"):
        assert back.kpis[column].dtype == made.kpis[column].dtype
    assert not made.differences.empty and made.kpis["p_reaches_target"].notna().any()


def test_load_results_round_trips_provenance_and_config(written):
    """provenance.json and config.yaml read back equal: the same dict, the same Config."""
    made, back = written
    assert back.provenance == made.provenance
    assert back.config == made.config
    assert back.scenarios == SCENARIOS
    assert back.provenance["seed"] == SEED and back.provenance["replications"] == 3


def test_load_results_of_one_scenario_has_no_differences(example_config, tmp_path):
    """With the base alone, differences are an empty table both written and read back."""
    made = run_experiment(example_config, ["base"], reps=2, seed=SEED, months=3, jobs=1)
    back = load_results(write_experiment(made, tmp_path / "one"))
    assert made.differences.empty and back.differences.empty
    assert_frame_equal(back.results, made.results)
    assert_frame_equal(back.kpis, made.kpis, check_dtype=False, check_exact=False, rtol=1e-12)
    assert np.isclose(back.kpis["mean"], made.kpis["mean"], equal_nan=True).all()


def test_the_charts_sources_are_the_measures_they_draw_and_the_parts_of_their_sums():
    from sim.outputs.plots import chart_sources

    names = ["on_time_rate", "on_time_rate_ytd", "requests_received", "vacancies_fte.review", "vacancies_fte.assessment",
             "fte_in_post.caseworker.agency", "fte_in_post.educational_psychologist.agency",
             "caseload_per_fte_mean.review", "plans_in_force_at_start"]  # fmt: skip
    assert chart_sources(names) == {
        "on_time_rate", "vacancies_fte.review", "vacancies_fte.assessment", "fte_in_post.caseworker.agency",
        "caseload_per_fte_mean.review",
    }  # fmt: skip
    assert chart_sources([]) == set()


# --- the plans ranked, the headline, the target and the past on the charts, the PDF ---------------


def test_the_plans_are_ranked_in_one_table(reported):
    """One table of the plans against the target, a row per plan in rank_plans' order, each with
    its cost over the forecast; the base's differences are blank, the other plan's are the mean
    paired difference."""
    from sim.outputs.ranking import rank_plans
    from sim.outputs.summary import yearly_by_rep

    tables = [t for t in _body(reported).iter("table") if "ranking" in t.classes()]
    assert len(tables) == 1
    rows = [r for r in tables[0].iter("tr") if r.children[0].tag == "td"]
    experiment = load_results(reported.folder)
    ranked = rank_plans(yearly_by_rep(experiment.results), SCENARIOS, experiment.provenance["target_on_time_rate"])
    assert [r.attrs["data-scenario"] for r in rows] == list(ranked["scenario"])
    for row, plan in zip(rows, ranked.itertuples()):
        cells = [c.text for c in row.children]
        assert cells[0] == f"{plan.rank}. {plan.scenario}"
        assert cells[5] == f"£{plan.cost:,.0f}"
        if plan.scenario == "base":
            assert cells[4] == cells[6] == "–"
        else:
            assert cells[6].startswith(f"+£{plan.cost_difference:,.0f}")  # two more salaries: dearer


def test_the_headline_differs_between_plans_that_differ(reported):
    """Each plan has its own sentence, and with the plan's name taken out they still differ."""
    items = [li.text for ul in _body(reported).iter("ul") if "headline" in ul.classes() for li in ul.iter("li")]
    base = next(s for s in items if s.startswith("Under the base plan"))
    other = next(s for s in items if s.startswith("Under plan “two_more_caseworkers”"))
    assert base.replace("the base plan", "X") != other.replace("plan “two_more_caseworkers”", "X")
    assert "at a cost of £" in base and "at a cost of £" in other


def test_the_on_time_charts_carry_the_target_and_the_published_past(reported, tmp_path):
    """The charts' data: the target as a line (id 'target' in the SVG) on the on-time charts; where
    the configuration carries SEN2 history, each year's published rate (id 'actual') at its value."""
    svg = (reported.folder / "plots" / "fan_on_time_rate_base.svg").read_text(encoding="utf-8")
    assert 'id="target"' in svg and 'id="actual"' not in svg  # the example carries no history
    assert 'id="target"' not in (reported.folder / "plots" / "fan_reviews_overdue_base.svg").read_text()

    from sim.outputs.plots import fan_chart, reference_for

    devon = load_config(Path(__file__).parent.parent / "configs" / "devon.yaml")
    reference = reference_for(devon, 0.6)
    published = {start.year: rate for start, _, rate in reference.actual["on_time_rate"]}
    assert published == {year: h.plans_issued_within_20_weeks / h.plans_issued for year, h in devon.history.items()}
    assert published[2022] == pytest.approx(106 / 897)
    assert [p[2] for p in reference.actual["plans_in_force"]] == [
        devon.history[y].plans_in_force_january for y in sorted(devon.history)
    ]
    experiment = load_results(reported.folder)
    chart = next(c for c in charts_for(experiment.summary) if c.name == "on_time_rate")
    paths = fan_chart(experiment.summary, chart, "base", tmp_path / "fan", reference)
    svg = next(p for p in paths if p.suffix == ".svg").read_text(encoding="utf-8")
    assert 'id="target"' in svg and 'id="actual"' in svg and "target (60.0%)" in svg


def test_the_charts_shade_the_months_the_run_settles_from_its_census(reported):
    """The example starts with 90 open assessments: its charts shade the months until three in four
    of them have ended (id 'settling' in the SVG), and the report says which months those are."""
    from sim.outputs.settling import settling_months

    months = settling_months(load_results(reported.folder).results, "base")
    assert 0 < months < MONTHS
    for name in ("fan_on_time_rate_base", "fan_reviews_overdue_base", "compare_on_time_rate"):
        svg = (reported.folder / "plots" / f"{name}.svg").read_text(encoding="utf-8")
        assert 'id="settling"' in svg and "settling from the starting census" in svg
    last = dt.date(2023, months, 1)
    assert f"January 2023 to {last:%B %Y} ({months} month" in reported.html


def _pango() -> bool:
    try:
        import weasyprint  # noqa: F401
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _pango(), reason="WeasyPrint needs the system's Pango (.ci/run installs it)")
def test_report_prints_to_a_pdf_with_its_sections_on_their_own_pages(reported):
    """`sendsim report DIR --pdf`: an A4 PDF whose every section marked to start a page does, and
    whose pages are numbered 'page k of n' to the last."""
    import pypdf

    result = _run_cli("report", reported.folder, "--pdf")
    assert result.exit_code == 0, result.output
    pdf = pypdf.PdfReader(reported.folder / "report.pdf")
    texts = [page.extract_text() for page in pdf.pages]
    n = len(texts)
    width, height = (float(x) for x in pdf.pages[0].mediabox.upper_right)
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)  # A4, in mm
    sections = [h.text for h in _body(reported).iter("h2") if "page" in h.classes()]
    assert sections == ["Key figures by calendar year", "Charts", "Assumptions"]
    starts = [next(k for k, text in enumerate(texts) if text.lstrip().startswith(s)) for s in sections]
    assert starts == sorted(starts) and starts[0] > 0
    charts = len(list(_body(reported).iter("img")))
    assert n >= starts[-1] + 2 and n > charts // 2  # charts print two or three to a page, at most
    assert all(f"page {k} of {n}" in text for k, text in enumerate(texts, 1))


def test_a_report_without_the_source_file_shows_the_configuration_as_run_and_says_why(reported, tmp_path):
    """Results whose folder no longer holds the file they came from still get their assumptions: the
    configuration as run, with a note that the file's comments (its sources) cannot be shown."""
    import shutil

    from sim.outputs.report import SOURCE, write_report

    folder = tmp_path / "copy"
    shutil.copytree(reported.folder, folder)
    assert (folder / SOURCE).is_file()
    (folder / SOURCE).unlink()
    text = write_report(folder).read_text(encoding="utf-8")
    assert "the file it came from was not kept with these results" in text
    assert "the file it came from was not kept" not in reported.html
    config = load_results(folder).config
    assert html.escape(dump_config(config)) in text


def test_a_pdf_without_pango_is_refused_saying_what_to_install(tmp_path, monkeypatch):
    import builtins

    from sim.config import ConfigError
    from sim.outputs.report import write_pdf

    real_import = builtins.__import__

    def without_pango(name, *args, **kwargs):
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_pango)
    report = tmp_path / "report.html"
    report.write_text("<html></html>", encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"report\.pdf: cannot make a PDF here: WeasyPrint needs the Pango library"
    ) as info:
        write_pdf(report)
    assert "apt-get install libpango-1.0-0" in str(info.value) and not (tmp_path / "report.pdf").exists()
