"""The sensitivity of a finished sweep: its table of indices, charts and a one-page HTML report.

Charts per output: the indices with their 95% intervals (Sobol S1 and ST, or Morris μ*); a tornado
chart of the output at each parameter's low and high end, from the design's one-at-a-time steps;
and for Morris, μ* against σ. Each is PNG and SVG, with
units.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from sim.files import write_atomic
from sim.measures import FIGURES, format_value, unit
from sim.outputs.plots import COLOURS, _save, plt
from sim.outputs.report import STYLE, embed_figure
from sim.outputs.sensitivity import analyse, describe_output, noise_share, point_means, sentence
from sim.sweeps.design import unit_points
from sim.sweeps.spec import Sweep
from sim.sweeps.sweep import load_sweep_results


def _unit(output: str) -> str:
    """An output's axis: the figure and its unit, a share's in percent (its axis is formatted so)."""
    name = output.rpartition(".")[0]
    kind = unit(name)
    words = FIGURES[name].in_words
    shown = "%" if kind == "share" else kind
    return words if f"({shown})" in words else f"{words}, {shown}"


def index_chart(output: str, rows: pd.DataFrame, method: str, stem: Path) -> list[Path]:
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.6), dpi=110)
    if method == "sobol":
        rows = rows.sort_values("ST")
        y = np.arange(len(rows))
        ax.barh(y + 0.2, rows["ST"], 0.4, xerr=rows["ST_conf"], color=COLOURS[0], label="total (ST)", capsize=3)
        ax.barh(y - 0.2, rows["S1"], 0.4, xerr=rows["S1_conf"], color=COLOURS[1], label="first order (S1)", capsize=3)
        ax.set_xlabel("Sobol index (share of the output's variance)")
        ax.axvline(0, color="#444", lw=0.8)
    else:
        rows = rows.sort_values("mu_star")
        y = np.arange(len(rows))
        ax.barh(y, rows["mu_star"], 0.6, xerr=rows["mu_star_conf"], color=COLOURS[0], capsize=3, label="μ*")
        ax.set_xlabel(f"μ*, the mean change across a range ({_unit(output)})")
        _value_axis(ax, output, "x")
    ax.set_yticks(y, list(rows["parameter"]), fontsize=8)
    fig.suptitle(f"What drives {describe_output(output)} (95% intervals)", x=0.01, ha="left", fontsize=11)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.grid(True, axis="x", alpha=0.3)
    return _save(fig, stem)


def one_at_a_time_slopes(method: str, unit_x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each parameter's change in the output across its whole range, from the design's own
    one-at-a-time steps (Morris's steps within a trajectory; Saltelli's A against AB_j, which differ
    in column j alone): the least-squares slope of the output's change on the parameter's. Since a
    step changes nothing else, and replications share their random numbers, an inert parameter's
    slope is exactly zero, which averages over the runs where it happens to be low would not give."""
    n, d = unit_x.shape
    if method == "morris":
        pairs = [(i, i + 1) for i in range(n - 1) if i % (d + 1) != d]  # within a trajectory of d + 1 points
    else:  # Saltelli's blocks without second-order rows: A, AB_1 ... AB_d, B
        block = d + 2
        pairs = [(k, k + 1 + j) for k in range(0, n - block + 1, block) for j in range(d)]
    sxy, sxx = np.zeros(d), np.zeros(d)
    for a, b in pairs:
        step = unit_x[b] - unit_x[a]
        moved = np.flatnonzero(step)
        if len(moved) == 1 and not (np.isnan(y[a]) or np.isnan(y[b])):
            j = moved[0]
            sxy[j] += step[j] * (y[b] - y[a])
            sxx[j] += step[j] ** 2
    return np.divide(sxy, sxx, out=np.full(d, np.nan), where=sxx > 0)


def tornado(sweep: Sweep, table: pd.DataFrame, output: str, unit_x: np.ndarray, stem: Path) -> list[Path]:
    """The output at each parameter's low and high end, around the mean over the points, by the
    design's one-at-a-time slopes (a linear swing: the model's own curvature is in σ and S1 vs ST)."""
    y = point_means(sweep, table, output)
    centre = float(np.nanmean(y))
    slopes = np.nan_to_num(one_at_a_time_slopes(sweep.spec.design.method, unit_x, y))
    order = np.argsort(np.abs(slopes))
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(order) + 1.8), dpi=110)
    for row, j in enumerate(order):
        ax.barh(row, -slopes[j] / 2, left=centre, color=COLOURS[1], height=0.6, label="low end" if row == 0 else None)
        ax.barh(row, slopes[j] / 2, left=centre, color=COLOURS[0], height=0.6, label="high end" if row == 0 else None)
    ax.axvline(centre, color="#444", lw=0.8)
    ax.set_yticks(range(len(order)), [sweep.parameters[j] for j in order], fontsize=8)
    ax.set_xlabel(f"{_unit(output)}; the line is the mean over the points")
    _value_axis(ax, output, "x")
    fig.suptitle(f"Tornado: {describe_output(output)} at each parameter's ends", x=0.01, ha="left", fontsize=11)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.grid(True, axis="x", alpha=0.3)
    return _save(fig, stem)


def _value_axis(ax, output: str, which: str) -> None:
    """Ticks as the output is read: a share in percent, money in £ thousands, counts with commas."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

    kind = unit(output.rpartition(".")[0])
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(MaxNLocator(6))  # long tick labels (£ thousands, percentages) need room
    if kind == "share":
        axis.set_major_formatter(PercentFormatter(1.0))
    elif kind == "£":
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"£{v / 1000:,.0f}k"))
    else:
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 10 else f"{v:g}"))


def mu_sigma_chart(output: str, rows: pd.DataFrame, stem: Path) -> list[Path]:
    fig, ax = plt.subplots(figsize=(7, 5), dpi=110)
    ax.scatter(rows["mu_star"], rows["sigma"], color=COLOURS[0])
    for _, r in rows.iterrows():
        ax.annotate(r["parameter"], (r["mu_star"], r["sigma"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(f"μ* ({_unit(output)})")
    ax.set_ylabel("σ (spread: interactions or curvature)")
    _value_axis(ax, output, "x")
    _value_axis(ax, output, "y")
    fig.suptitle(f"Morris: {describe_output(output)}", x=0.01, ha="left", fontsize=11)
    ax.grid(True, alpha=0.3)
    return _save(fig, stem)


def write_sensitivity(folder: str | Path) -> Path:
    """Analyse the finished sweep in `folder`: sensitivity.csv, plots/ and sensitivity.html there."""
    folder = Path(folder)
    sweep, table = load_sweep_results(folder)
    method = sweep.spec.design.method
    unit_x = unit_points(sweep)
    indices = analyse(sweep, table, unit_x)
    plots = folder / "plots"
    plots.mkdir(exist_ok=True)
    indices.to_csv(folder / "sensitivity.csv", index=False)
    parts = [
        f"<h1>Sensitivity: {html.escape(sweep.config.name)}</h1>",
        f"<p class='sub'>{method.title()} design: {table['point'].nunique():,} points × "
        f"{sweep.spec.replications} replications, {sweep.months} months; each point's output is the mean "
        "of its replications, which share their random numbers across points.</p>",
        "<h2>In brief</h2><ul class='headline'>",
    ]
    sentences = {o: sentence(o, indices[indices["output"] == o], method, noise_share(table, o)) for o in sweep.outputs}
    parts += [f"<li>{html.escape(s)}</li>" for s in sentences.values()]
    parts.append(
        "</ul><h2>The parameters</h2><table><thead><tr><th>parameter</th><th>range</th><th>unit</th></tr></thead><tbody>"
    )
    for name, p in sweep.spec.parameters.items():
        low, high = p.ends()
        parts.append(
            f"<tr><td>{html.escape(name)}</td><td>{p.dist} {low:g} to {high:g}</td><td>{html.escape(p.unit)}</td></tr>"
        )
    parts.append("</tbody></table>")
    for i, output in enumerate(sweep.outputs):
        rows = indices[indices["output"] == output]
        y = point_means(sweep, table, output)
        parts.append(f"<h2>{html.escape(describe_output(output))}</h2>")
        parts.append(
            f"<p class='note'>Across the points: from {format_value(output.rpartition('.')[0], float(np.nanmin(y)))} "
            f"to {format_value(output.rpartition('.')[0], float(np.nanmax(y)))}. {_noise_note(table, output)}</p>"
        )
        parts.append(_index_table(rows, method))
        if not rows.iloc[:, 2:].isna().all().all():
            shown = index_chart(output, rows, method, plots / f"indices_{i}")
            parts.append(embed_figure(shown[0], f"Indices of {describe_output(output)}, with 95% intervals"))
            if method == "morris":
                shown = mu_sigma_chart(output, rows, plots / f"mu_sigma_{i}")
                parts.append(embed_figure(shown[0], f"μ* against σ for {describe_output(output)}"))
        shown = tornado(sweep, table, output, unit_x, plots / f"tornado_{i}")
        parts.append(embed_figure(shown[0], f"Tornado chart of {describe_output(output)}"))
    provenance = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    parts.append(f"<h2>How these numbers were made</h2><pre>{html.escape(json.dumps(provenance, indent=2))}</pre>")
    document = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Sensitivity: {html.escape(sweep.config.name)}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(parts)}</body></html>"
    )
    return write_atomic(folder / "sensitivity.html", document)


def _noise_note(table: pd.DataFrame, output: str) -> str:
    share = noise_share(table, output)
    if np.isnan(share):
        return "With one run a point, the runs' own noise cannot be told from the parameters' effects."
    return (
        f"The runs' own noise (what replication r's shared random numbers leave different between points) "
        f"makes up about {share:.0%} of the variance between the points' means; the indices count it as the "
        "parameters' doing, often as an interaction (ST above S1)."
        if share >= 0.05
        else f"The runs' own noise makes up under {max(share, 0.01):.0%} of the variance between the points' means."
    )


def _index_table(rows: pd.DataFrame, method: str) -> str:
    columns = (
        [("S1", "first order S1", "S1_conf"), ("ST", "total ST", "ST_conf")]
        if method == "sobol"
        else [("mu_star", "μ*", "mu_star_conf"), ("mu", "μ", None), ("sigma", "σ", None)]
    )
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title, _ in columns)
    body = []
    order = rows.sort_values(columns[-1 if method == "sobol" else 0][0], ascending=False)
    for _, r in order.iterrows():
        cells = "".join(f"<td>{r[c]:.3g}" + (f" ± {r[conf]:.2g}" if conf else "") + "</td>" for c, _, conf in columns)
        body.append(f"<tr><td>{html.escape(r['parameter'])}</td>{cells}</tr>")
    return f"<table><thead><tr><th>parameter</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
