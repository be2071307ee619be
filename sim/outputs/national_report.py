"""The report of a national run (`sendsim run` on a national configuration): England's totals by
calendar year, each authority's last year ranked, and the national charts, in one HTML file in
the style of the experiment report (sim/outputs/report.py).

A national run is one run of every authority, not replications, so its figures carry no range of
outcomes; the report says so rather than draw bands it does not have.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from sim.config import ConfigError  # noqa: E402
from sim.files import write_atomic  # noqa: E402
from sim.measures import ON_TIME, basis, label  # noqa: E402
from sim.measures import format_value as _fmt  # noqa: E402
from sim.outputs.report import STYLE, embed_figure  # noqa: E402
from sim.outputs.summary import NATIONAL_ON_TIME_2022, yearly_table  # noqa: E402

FILES = ("metrics.parquet", "authorities.parquet", "provenance.json")
NATIONAL_MEASURES = (
    "on_time_rate", "plans_issued", "assessments_open_over_20_weeks", "assessments_open_over_30_weeks",
    "assessments_open_over_52_weeks", "reviews_overdue", "plans_in_force", "caseworker_fte_in_post",
    "vacancies_fte_all_teams", "cost_total", "cost_per_plan_issued",
)  # fmt: skip
# an authority's row of the ranking: its last year's figures
RANKED = ("on_time_rate", "plans_issued", "assessments_open_over_30_weeks", "reviews_overdue", "plans_in_force")
CHARTS = (
    ("on_time_rate", "20-week on-time rate, England (plans issued in the month)", "Plans issued within 20 weeks (%)"),
    ("assessments_open_over_30_weeks", "Open assessments over 30 weeks old, England", "Open assessments (cases)"),
    ("reviews_overdue", "Annual reviews overdue at the month's end, England", "Reviews overdue (plans)"),
    ("plans_in_force", "EHC plans in force at the month's end, England", "Plans in force (plans)"),
)


def is_national(folder: Path) -> bool:
    return all((folder / name).is_file() for name in FILES)


def _read(folder: Path, name: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(folder / name)
    except Exception as exc:  # pyarrow raises its own kinds
        raise ConfigError(
            f"{folder / name}: cannot be read ({type(exc).__name__}); the results folder is damaged: run it again"
        ) from None


def _monthly(metrics: pd.DataFrame, measure: str) -> pd.Series:
    """A national measure month by month (a rate from the month's counts, as the metrics make it)."""
    rows = metrics[metrics["metric"] == measure]
    return rows.set_index(pd.to_datetime(rows["month"]))["value"].sort_index()


def _chart(metrics: pd.DataFrame, measure: str, title: str, unit: str, target: float, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    series = _monthly(metrics, measure)
    ax.plot(series.index, series.to_numpy(), color="#1f4e79", lw=2, label="England (one run of every authority)")
    if measure == ON_TIME:
        ax.axhline(target, color="#b35900", lw=1.2, ls="--", label=f"target ({target:.1%})", gid="target")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylim(0, 1)
    else:
        ax.set_ylim(bottom=0)
    ax.set_title(title, loc="left", fontsize=11)
    ax.set_ylabel(unit)
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8, frameon=False)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def authority_ranking(by_authority: pd.DataFrame) -> pd.DataFrame:
    """Each authority's figures in the run's last calendar year, best on-time rate first."""
    rows = []
    for authority, metrics in by_authority.groupby("authority", sort=True):
        yearly = yearly_table(metrics[["month", "metric", "value"]])
        last = yearly.iloc[-1]
        rows.append({"authority": authority, "year": int(yearly.index[-1]), **{m: float(last[m]) for m in RANKED}})
    table = pd.DataFrame(rows).sort_values([ON_TIME, "authority"], ascending=[False, True], kind="stable")
    table.insert(0, "rank", range(1, len(table) + 1))
    return table.reset_index(drop=True)


def write_national_report(out_dir: str | Path, report_path: str | Path | None = None) -> Path:
    """Render the national run in `out_dir` (charts into out_dir/plots) to one HTML file."""
    out_dir = Path(out_dir)
    metrics, by_authority = _read(out_dir, "metrics.parquet"), _read(out_dir, "authorities.parquet")
    prov = json.loads((out_dir / "provenance.json").read_text(encoding="utf-8"))
    target = NATIONAL_ON_TIME_2022
    national = yearly_table(metrics[["month", "metric", "value"]])
    ranking = authority_ranking(by_authority)
    years = list(national.index)
    last_year = years[-1]
    on_time = national[ON_TIME]
    reached = [y for y in years if on_time[y] >= target]
    above = int((ranking[ON_TIME] >= target).sum())
    brief = [
        f"England's 20-week on-time rate is {on_time[years[0]]:.1%} in {years[0]} and {on_time[last_year]:.1%} "
        f"in {last_year}; "
        + (f"it reaches {target:.1%} in {reached[0]}." if reached else f"it does not reach {target:.1%} in any year.")
        + f" At the end of {national['to'][last_year]}, {national['assessments_open_over_30_weeks'][last_year]:,.0f} "
        f"assessments are open over 30 weeks and {national['reviews_overdue'][last_year]:,.0f} annual reviews are "
        "overdue.",
        f"In {last_year}, {above} of {len(ranking)} authorities issue at least {target:.1%} of their plans within "
        f"20 weeks; the highest is {ranking['authority'].iloc[0]} ({ranking[ON_TIME].iloc[0]:.1%}), the lowest "
        f"{ranking['authority'].iloc[-1]} ({ranking[ON_TIME].iloc[-1]:.1%}).",
    ]
    head = "".join(f"<th>{y}<br><span class='ci'>to {html.escape(str(national['to'][y]))}</span></th>" for y in years)
    rows = [
        f"<tr><td>{html.escape(label(m))}</td><td class='basis'>{basis(m)}</td>"
        + "".join(f"<td>{_fmt(m, float(national[m][y]))}</td>" for y in years)
        + "</tr>"
        for m in NATIONAL_MEASURES
        if m in national.columns
    ]
    ranked_head = "".join(f"<th>{html.escape(label(m))}</th>" for m in RANKED)
    ranked_rows = [
        f"<tr><td>{r['rank']}</td><td>{html.escape(str(r['authority']))}</td>"
        + "".join(f"<td>{_fmt(m, r[m])}</td>" for m in RANKED)
        + "</tr>"
        for r in ranking.to_dict("records")
    ]
    plots = out_dir / "plots"
    plots.mkdir(exist_ok=True)
    figures = [
        embed_figure(_chart(metrics, m, title, unit, target, plots / f"national_{m}.png"), title)
        for m, title, unit in CHARTS
    ]
    parts = [
        f"<h1>{html.escape(str(prov.get('config_name', 'England')))}</h1>",
        f"<p class='sub'>{prov.get('authorities', len(ranking))} authorities, each its own service, from "
        f"{pd.Timestamp(prov['start_date']):%B %Y} for {prov['months']} months; seed {prov['seed']}. One run of "
        "every authority, added up: the figures have no range of outcomes (run an authority's configuration "
        "with <code>compare --reps</code> for that).</p>",
        "<h2>In brief</h2><ul class='headline'>",
        *(f"<li>{html.escape(s)}</li>" for s in brief),
        "</ul>",
        "<h2>England by calendar year</h2>",
        f"<table class='national'><thead><tr><th>Measure</th><th>Counted</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>",
        "<p class='note'>Counts are the authorities' sums; rates are rebuilt from the summed counts "
        "(England's on-time rate is all plans issued within 20 weeks over all plans issued).</p>",
        "<h2 class='page'>Charts</h2>",
        *figures,
        f"<h2 class='page'>The authorities ranked by their on-time rate in {last_year} "
        f"(to {html.escape(str(national['to'][last_year]))})</h2>",
        f"<table class='authorities'><thead><tr><th>Rank</th><th>Authority</th>{ranked_head}</tr></thead>"
        f"<tbody>{''.join(ranked_rows)}</tbody></table>",
        "<p class='note'>Open assessments, reviews overdue and plans in force at the year's end; plans issued "
        "and the on-time rate over the year.</p>",
        "<h2>How these numbers were made</h2>",
        f"<pre>{html.escape(json.dumps(prov, indent=2))}</pre>",
    ]
    document = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(str(prov.get('config_name', 'England')))}: sendsim national report</title>"
        f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>"
    )
    return write_atomic(Path(report_path) if report_path else out_dir / "report.html", document)
