"""A self-contained HTML report of an experiment, for a head of service or a committee.

One file: plots embedded as data, no scripts, no fonts or styles fetched from anywhere, so it
can be emailed and opened offline, and it prints to A4 (`write_pdf` makes the PDF from the same
page). It leads with plain sentences, then the plans ranked against the target, the key figures,
the charts (with the target and the published past), the differences between plans, the
assumptions with their sources and how the numbers were made.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import html
import json
import re
from pathlib import Path

import pandas as pd

from sim.config import ConfigError, dump_config
from sim.engine.clock import add_months
from sim.experiments.experiment import ExperimentResults, load_results
from sim.files import write_atomic
from sim.measures import ON_TIME, basis, label
from sim.measures import format_value as _fmt
from sim.outputs.plots import charts_for, make_plots, reference_for, with_derived
from sim.outputs.ranking import rank_plans
from sim.outputs.settling import settling_months
from sim.outputs.summary import NATIONAL_ON_TIME_2022, yearly_by_rep

# the yearly figures (sim/measures.py) the report's tables show, in this order
KPI_MEASURES = (
    "on_time_rate", "plans_issued", "assessments_open_over_20_weeks", "assessments_open_over_30_weeks",
    "assessments_open_over_52_weeks", "reviews_overdue", "plans_in_force", "caseworker_fte_in_post",
    "caseworker_agency_share", "vacancies_fte_all_teams", "caseworker_turnover_12_months", "cost_total",
    "cost_per_plan_issued",
)  # fmt: skip
BACKLOG, OVERDUE, COST = "assessments_open_over_30_weeks", "reviews_overdue", "cost_total"
# the configuration file as written, comments and all, kept in the experiment's folder
SOURCE = "config-source.yaml"
COST_COVERS = (
    "Cost is what the service's staff and recruitment cost: permanent staff's pay with on-costs, "
    "agency hours, recruitment campaigns and any capacity bought in under pressure, at the pay rates "
    "and prices the configuration gives (its own year's prices; nothing is inflated)."
)

STYLE = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
.sub { color: #555; margin-top: 0; }
.headline { background: #f3f6fa; border-left: 4px solid #1f4e79; padding: 0.6rem 1rem; }
.headline li { margin: 0.3rem 0; }
table { border-collapse: collapse; font-family: Arial, Helvetica, sans-serif; font-size: 0.82rem; margin: 0.6rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.45rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #eef1f5; }
.ci { color: #666; font-size: 0.72rem; display: block; }
.pi { color: #1f4e79; font-size: 0.74rem; display: block; }
.warning { background: #fdf1e7; border-left: 4px solid #b35900; padding: 0.5rem 0.9rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #eee; }
pre { background: #f7f7f7; padding: 0.6rem; overflow-x: auto; font-size: 0.75rem; }
.note { color: #555; font-size: 0.85rem; }
.comment { color: #2e6b30; }
.v { white-space: nowrap; }
td.basis { color: #555; font-size: 0.74rem; text-align: left; }
details summary { cursor: pointer; color: #1f4e79; }
@page { size: A4; margin: 16mm 14mm 18mm 14mm;
        @bottom-right { content: "page " counter(page) " of " counter(pages); font-size: 8pt; color: #777; } }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  table { font-size: 7.5pt; } .ci, .pi { font-size: 6.5pt; }
  h2.page { break-before: page; }
  h2, h3 { break-after: avoid; } table, figure, tr { break-inside: avoid; }
  figure img { max-height: 115mm; width: auto; }
  pre { white-space: pre-wrap; font-size: 6.5pt; overflow: visible; }
  details > *:not(summary) { display: block; } details summary { display: none; }
}
"""


def headline(experiment: ExperimentResults) -> list[str]:
    """Plain sentences: when (if ever) each plan reaches the target, and the backlog it leaves."""
    target = experiment.provenance.get("target_on_time_rate", NATIONAL_ON_TIME_2022)
    yearly = yearly_by_rep(experiment.results)
    costs = rank_plans(yearly, experiment.scenarios, target).set_index("scenario")["cost"]
    sentences = []
    for scenario in experiment.scenarios:
        rows = yearly[yearly["scenario"] == scenario]
        n = rows["rep"].nunique()
        name = "the base plan" if scenario == "base" else f"plan “{scenario}”"
        reached = None
        for year, group in rows.groupby("year"):
            hits = int((group[ON_TIME] >= target).sum())
            if hits * 2 >= n:  # in at least half of the runs
                reached = (year, hits)
                break
        if reached:
            year, hits = reached
            sentences.append(
                f"Under {name} the 20-week on-time rate reaches {target:.1%} (the national rate) "
                f"in calendar year {year} in {hits} of {n} runs."
            )
        else:
            best = rows.groupby("year")[ON_TIME].median()
            if best.notna().any() and best.max() > 0.005:
                best_text = f" The best year is {best.idxmax()}, with a median of {best.max():.1%}."
            else:
                best_text = " In the median run it stays below 1% in every year."
            sentences.append(
                f"Under {name} the 20-week on-time rate does not reach {target:.1%} in any year to "
                f"{rows['year'].max()} in most runs.{best_text}"
            )
        last_year = rows["year"].max()
        last = rows[rows["year"] == last_year]
        backlog = last[BACKLOG]
        overdue = last[OVERDUE]
        sentences[-1] += (
            f" At the end of {last['to'].iloc[0]} it leaves {backlog.median():,.0f} assessments open over 30 weeks "
            f"(90% of runs between {backlog.quantile(0.05):,.0f} and {backlog.quantile(0.95):,.0f}) and "
            f"{overdue.median():,.0f} annual reviews overdue, at a cost of {_fmt(COST, costs[scenario])} "
            f"over the forecast (the mean of the runs)."
        )
    diffs = experiment.differences
    if not diffs.empty:
        last_year = diffs["year"].max()
        for scenario in [s for s in experiment.scenarios if s != "base"]:
            cost = diffs[(diffs["scenario"] == scenario) & (diffs["year"] == last_year) & (diffs["measure"] == COST)]
            backlog = diffs[
                (diffs["scenario"] == scenario) & (diffs["year"] == last_year) & (diffs["measure"] == BACKLOG)
            ]
            if cost.empty or backlog.empty:
                continue
            c, b = cost.iloc[0], backlog.iloc[0]
            sentences.append(
                f"Compared with the base, plan “{scenario}” changes the {last_year} cost by "
                f"{_fmt(COST, c['difference'], True)} (95% CI {_fmt(COST, c['ci_low'], True)} to "
                f"{_fmt(COST, c['ci_high'], True)}) and the assessments open over 30 weeks at the year's end by "
                f"{_fmt(BACKLOG, b['difference'], True)} ({_fmt(BACKLOG, b['ci_low'], True)} to "
                f"{_fmt(BACKLOG, b['ci_high'], True)})."
            )
    return sentences


def _estimate_rows(table: pd.DataFrame, years: list, value: str, signed: bool) -> list[str]:
    """One row per key measure, a cell per year: the estimate, the range of outcomes (5th to
    95th percentile of the runs) where there is one, and the 95% CI of the mean beneath."""
    rows = []
    for measure in KPI_MEASURES:
        cells = []
        for year in years:
            hit = table[(table["year"] == year) & (table["measure"] == measure)]
            if hit.empty:
                cells.append("<td>–</td>")
                continue
            r = hit.iloc[0]
            # a key figure is a count, rate or cost, so its interval stops at 0; a difference need not
            low = r["ci_low"] if signed else max(r["ci_low"], 0.0)
            spread = ""
            if "p5" in r and r["p5"] == r["p5"]:
                spread = (
                    f"<span class='pi'>90% of runs {_fmt(measure, r['p5'], signed)} to "
                    f"{_fmt(measure, r['p95'], signed)}</span>"
                )
            cells.append(
                f"<td>{_fmt(measure, r[value], signed)}{spread}<span class='ci'>mean's 95% CI "
                f"[{_fmt(measure, low, signed)}, {_fmt(measure, r['ci_high'], signed)}]</span></td>"
            )
        rows.append(
            f"<tr><td>{html.escape(label(measure))}</td><td class='basis'>{basis(measure)}</td>{''.join(cells)}</tr>"
        )
    return rows


def _calibration_section(config) -> list[str]:
    """How the configuration was calibrated, and whether the fit holds, in plain words."""
    record = config.calibration
    if record is None:
        return [
            "<p class='warning'>This configuration is not calibrated: its capacity and behaviour are "
            "assumptions, so read its figures as a what-if.</p>"
        ]
    style = "warning" if record.rejected else "note"
    years = ", ".join(str(y) for y in record.years)
    return [
        f"<h2>Calibration</h2><p class='{style}'>{html.escape(record.verdict)}</p>",
        f"<p class='note'>Fitted to {html.escape(record.source)} ({years}) by {html.escape(record.method)}. "
        "Every run draws its capacity and fast-track share from what the fit leaves unknown "
        "(the configuration's <code>uncertainty:</code>).</p>",
    ]


def _kpi_table(experiment: ExperimentResults, scenario: str) -> str:
    kpis = experiment.kpis[experiment.kpis["scenario"] == scenario]
    years = sorted(kpis["year"].unique())
    head = "".join(
        f"<th>{y}<br><span class='ci'>to {html.escape(str(kpis[kpis['year'] == y]['to'].iloc[0]))}</span></th>"
        for y in years
    )
    body = _estimate_rows(kpis, years, "mean", signed=False)
    target = experiment.provenance.get("target_on_time_rate", NATIONAL_ON_TIME_2022)
    cells = []
    for year in years:
        hit = kpis[(kpis["year"] == year) & (kpis["measure"] == ON_TIME)]
        cells.append(f"<td>{'–' if hit.empty else format(hit['p_reaches_target'].iloc[0], '.0%')}</td>")
    body.append(
        f"<tr><td>Share of runs with on-time rate ≥ {target:.1%}</td><td class='basis'>over the year</td>"
        f"{''.join(cells)}</tr>"
    )
    return (
        f"<table class='kpi' data-scenario='{html.escape(scenario)}'><thead><tr><th>Measure</th><th>Counted</th>"
        f"{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _difference_table(experiment: ExperimentResults, scenario: str) -> str:
    diffs = experiment.differences[experiment.differences["scenario"] == scenario]
    years = sorted(diffs["year"].unique())
    head = "".join(f"<th>{y}</th>" for y in years)
    body = _estimate_rows(diffs, years, "difference", signed=True)
    return (
        f"<table class='differences'><thead><tr><th>{html.escape(scenario)} − base</th><th>Counted</th>{head}"
        "</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _v(text: str) -> str:
    """A figure that a line must not break inside (a sign and a £ stay with their number)."""
    return f"<span class='v'>{text}</span>"


def _cell(value: str, low: str, high: str, spread: str) -> str:
    """A figure and beneath it its range: 'pi' for the range of outcomes, 'ci' for a mean's CI."""
    words = "90% of runs {} to {}" if spread == "pi" else "95% CI [{}, {}]"
    return f"<td>{_v(value)}<span class='{spread}'>{words.format(_v(low), _v(high))}</span></td>"


def _ranking_table(experiment: ExperimentResults, yearly: pd.DataFrame, target: float) -> str:
    """The plans in the order of rank_plans, a row each, in the planner's terms."""
    table = rank_plans(yearly, experiment.scenarios, target)
    last_year = yearly["year"].max()
    n = yearly["rep"].nunique()
    rows = []
    for r in table.to_dict("records"):
        reaches = f"not by {last_year}" if pd.isna(r["reaches_target_in"]) else str(r["reaches_target_in"])
        if r["scenario"] == experiment.scenarios[0]:
            differences = ["<td>–</td>", "<td>–</td>"]
        else:
            differences = [
                _cell(_fmt(m, mean, True), _fmt(m, low, True), _fmt(m, high, True), "ci")
                for m, mean, low, high in (
                    (ON_TIME, r["on_time_difference"], r["on_time_difference_low"], r["on_time_difference_high"]),
                    (COST, r["cost_difference"], r["cost_difference_low"], r["cost_difference_high"]),
                )
            ]
        on_time = (r["on_time_last_year"], r["on_time_last_year_p5"], r["on_time_last_year_p95"])
        backlog = (
            r["open_over_30_weeks_at_end"],
            r["open_over_30_weeks_at_end_p5"],
            r["open_over_30_weeks_at_end_p95"],
        )
        rows.append(
            f"<tr data-scenario='{html.escape(r['scenario'])}'><td>{r['rank']}. {html.escape(r['scenario'])}</td>"
            f"<td>{reaches}</td><td>{r['runs_at_target_last_year']:.0%}</td>"
            + _cell(_fmt(ON_TIME, on_time[0]), _fmt(ON_TIME, on_time[1]), _fmt(ON_TIME, on_time[2]), "pi")
            + differences[0]
            + f"<td>{_v(_fmt(COST, r['cost']))}</td>"
            + differences[1]
            + f"<td>{_v(_fmt(COST, r['cost_per_plan_issued']))}</td>"
            + _cell(_fmt(BACKLOG, backlog[0]), _fmt(BACKLOG, backlog[1]), _fmt(BACKLOG, backlog[2]), "pi")
            + "</tr>"
        )
    first_year = yearly["year"].min()
    span = f"{first_year}-{last_year}" if first_year != last_year else str(last_year)
    head = (
        f"<th>Plan</th><th>Reaches {target:.1%} in</th><th>Runs ≥ {target:.1%}, {last_year}</th>"
        f"<th>On-time rate, {last_year}</th><th>On-time − base</th><th>Cost, {span}</th><th>Cost − base</th>"
        f"<th>Cost per plan issued</th><th>Open &gt; 30 weeks, end of {last_year}</th>"
    )
    return (
        f"<table class='ranking'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<p class='note'>Ranked by the year a plan reaches the target on-time rate in at least half of "
        f"its {n} runs (earlier first), then by its share of runs at the target in {last_year}, then by "
        f"cost. The on-time rate and the open assessments are the median run's, with the range of 90% of runs; "
        "costs are the mean over the runs, and cost per plan issued is over the whole forecast. Differences "
        "are paired (each run of a plan against the base's run on the same random numbers), with the 95% "
        f"confidence interval of the mean difference. {COST_COVERS}</p>"
    )


def _assumptions(out_dir: Path, config) -> list[str]:
    """The configuration file as written, its comments (the sources of its figures) highlighted,
    and the configuration as run (with the run's seed and horizon) beneath it."""
    as_run = f"<pre>{html.escape(dump_config(config))}</pre>"
    source = out_dir / SOURCE
    if not source.is_file():
        return [
            "<p class='note'>The configuration as run, including every scenario's dated actions (the file "
            "it came from was not kept with these results, so its comments, which give the sources, are "
            "not shown).</p>",
            as_run,
        ]
    lines = []
    for line in source.read_text(encoding="utf-8").splitlines():
        # a comment starts a line or follows a space (a '#' inside a quoted value is rare in these files)
        match = re.search(r"(^|\s)(#.*)$", line)
        if match:
            code, comment = line[: match.start(2)], match.group(2)
            lines.append(f"{html.escape(code)}<span class='comment'>{html.escape(comment)}</span>")
        else:
            lines.append(html.escape(line))
    return [
        "<p class='note'>The configuration file as written: its comments (in green) give the source of "
        "each figure and mark those no source gives as assumptions. Beneath, the configuration exactly "
        "as run, with every default filled in and the run's seed and horizon.</p>",
        f"<pre class='source'>{chr(10).join(lines)}</pre>",
        f"<details><summary>The configuration as run</summary>{as_run}</details>",
    ]


def embed_figure(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,{data}'>"
        f"<figcaption class='note'>{html.escape(caption)}</figcaption></figure>"
    )


def _settling_note(months: int, start: dt.date, scenario: str) -> str:
    last = add_months(start, months - 1)
    return (
        f"<p class='note'><b>Shaded grey</b>: {start:%B %Y} to {last:%B %Y} ({months} month"
        f"{'s' if months != 1 else ''}), until three in four of the assessments open at the start had ended "
        f"(the median run of {html.escape(scenario)}). The run begins from a census laid out by rules, every "
        "open case placed at a stage by its age on the first day; until those cases have gone through, the "
        "stocks they sit in (open assessments, caseloads, the EPs' work) show that layout as much as the "
        f"service, so read trends from {add_months(start, months):%B %Y}.</p>"
    )


def write_report(out_dir: str | Path, report_path: str | Path | None = None) -> Path:
    """Render the experiment in `out_dir` (plots into out_dir/plots) to one HTML file."""
    out_dir = Path(out_dir)
    experiment = load_results(out_dir)
    scenarios = experiment.scenarios
    prov = experiment.provenance
    config = experiment.config
    target = prov.get("target_on_time_rate", NATIONAL_ON_TIME_2022)
    settling = settling_months(experiment.results, scenarios[0])
    start = pd.Timestamp(experiment.results["month"].min()).date()  # the first month reported
    reference = reference_for(config, target)
    if settling:
        reference = dataclasses.replace(reference, settling=(start, add_months(start, settling)))
    plot_paths = make_plots(experiment.summary, experiment.results, scenarios, out_dir / "plots", reference)
    pngs = {p.stem: p for p in plot_paths if p.suffix == ".png"}
    charts = charts_for(with_derived(experiment.summary, experiment.results))
    yearly = yearly_by_rep(experiment.results)

    parts = [
        f"<h1>{html.escape(config.name)}</h1>",
        f"<p class='sub'>Forecast from {config.start_date:%B %Y} for {prov['months']} months; "
        f"{prov['replications']} runs of each plan on common random numbers. "
        f"Made {dt.date.today():%d %B %Y} with sendsim {html.escape(str(prov['version']))}.</p>",
        "<h2>In brief</h2><ul class='headline'>",
        *(f"<li>{html.escape(s)}</li>" for s in headline(experiment)),
        "</ul>",
        "<p class='note'>Each figure is the mean over the runs. Beneath it, <b>90% of runs</b> gives the "
        "range of outcomes: where 90 of every 100 possible futures fall, chance and (for a calibrated "
        "configuration) what we do not know about its parameters together. The <b>mean's 95% CI</b> says "
        "only how precisely the runs pin down the mean, and narrows with more runs; it is not the range "
        "of outcomes. Rates follow DfE's definitions: the share of plans issued in the period that were "
        "issued within 20 weeks.</p>",
        *_calibration_section(config),
    ]
    if len(scenarios) > 1:
        parts += [
            f"<h2>The plans against the target of {target:.1%} on time</h2>",
            _ranking_table(experiment, yearly, target),
        ]
    parts += [
        "<h2 class='page'>Key figures by calendar year</h2>",
        "<p class='note'>“Counted” says whether a figure is read at the year's end (31 December, or the "
        f"forecast's last month in a part year) or made over the year's months. {COST_COVERS}</p>",
    ]
    for scenario in scenarios:
        label = "Base" if scenario == "base" else scenario
        description = config.scenarios[scenario].description if scenario in config.scenarios else ""
        parts.append(f"<h3>{html.escape(label)}</h3>")
        if description:
            parts.append(f"<p class='note'>{html.escape(description)}</p>")
        parts.append(_kpi_table(experiment, scenario))
    if len(scenarios) > 1:
        parts.append(
            "<h2>Differences from the base</h2><p class='note'>Each plan minus the base, run by run on "
            "the same random numbers: mean difference and its 95% confidence interval. An interval that "
            "excludes 0 is a difference the runs can tell apart.</p>"
        )
        for scenario in scenarios[1:]:
            parts.append(_difference_table(experiment, scenario))
    parts.append(
        "<h2 class='page'>Charts</h2><p class='note'>Where the configuration carries the published past "
        "(DfE's SEN2 for the years before the start), the on-time and plans-in-force charts show it in black, "
        "and the on-time charts the target as a dashed line.</p>"
    )
    if settling:
        parts.append(_settling_note(settling, start, scenarios[0]))
    for chart in charts:
        if len(scenarios) > 1:
            parts.append(
                embed_figure(pngs[f"compare_{chart.name}"], f"{chart.title}: all plans (median and middle 50% of runs)")
            )
        for scenario in scenarios:
            parts.append(
                embed_figure(
                    pngs[f"fan_{chart.name}_{scenario}"], f"{chart.title}: {scenario} (median, 50% and 90% of runs)"
                )
            )
    parts.append("<h2 class='page'>Assumptions</h2>")
    parts += _assumptions(out_dir, config)
    parts.append("<h2>How these numbers were made</h2>")
    parts.append(f"<pre>{html.escape(json.dumps(prov, indent=2))}</pre>")
    document = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(config.name)}: sendsim report</title><style>{STYLE}</style></head>"
        f"<body>{''.join(parts)}</body></html>"
    )
    report_path = Path(report_path) if report_path else out_dir / "report.html"
    return write_atomic(report_path, document)


def write_pdf(report_path: str | Path, pdf_path: str | Path | None = None) -> Path:
    """The report printed to A4, by WeasyPrint (which lays out HTML and CSS for print, the page
    rules above among them): the same page as the HTML, so the two never disagree."""
    report_path = Path(report_path)
    pdf_path = Path(pdf_path) if pdf_path else report_path.with_suffix(".pdf")
    try:
        from weasyprint import HTML
    except OSError as exc:  # WeasyPrint needs the system's Pango library
        raise ConfigError(
            f"{pdf_path}: cannot make a PDF here: WeasyPrint needs the Pango library ({exc}); "
            "install it (Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0) or print the HTML from a browser"
        ) from None
    return write_atomic(pdf_path, HTML(filename=str(report_path)).write_pdf())
