"""The planning-session dashboard: a Dash app over one configuration.

Dash, because each callback names the parts of the page it updates (the charts refresh as runs
arrive while the levers stay as they are), its assets (plotly.js among them) are served by the app
itself with no download, and a callback is a plain Python function a test can call.

The page opens on the base plan, already running. Each lever moved starts the what-if at once on
the warm pool; a timer on the page asks for what has finished and redraws, "8 of 20 runs", until
all have. One app serves one room: the what-if is the app's, not the browser tab's.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dash
from dash import ALL, Dash, Input, Output, State, dcc, html

from sim.config import Config, ConfigError, Scenario, load_config
from sim.dashboard.charts import KEY_FIGURES, charts, key_figures, key_figures_table
from sim.dashboard.forecasts import Forecasts
from sim.dashboard.levers import WHAT_IF, Lever, Levers, allowed_range, levers_for, scenario, what_if_config
from sim.dashboard.scenarios import save_scenario
from sim.experiments.experiment import summarise, write_experiment
from sim.measures import ON_TIME
from sim.outputs.plots import chart_sources
from sim.sweeps.assumptions import comments

TICK_MS = 500  # how often the page asks for news
REDRAW_SECONDS = 4.0  # how often at most the charts are redrawn while runs come in


def _runs(done: int, total: int) -> str:
    return f"{done} of {total} runs" + (" (complete)" if done == total else "")


@dataclass
class View:
    """The page's charts, key figures and count for one state of the runs."""

    made: float  # time.monotonic() when it was made
    key: list[int]
    label: str
    names: list[str]
    figures: dict[str, dict[str, Any]]
    rows: list[dict[str, Any]]  # the key figures, as key_figures gives them
    table: Any


class Session:
    """What one app holds: the configuration and its levers, the forecasts, and what was saved."""

    def __init__(self, config: Config, source: Path | None, out: Path, forecasts: Forecasts):
        self.config = config
        self.source = source
        self.out = out
        self.forecasts = forecasts
        self.levers: Levers = levers_for(config, comments(source) if source else {})
        self.what_if: Scenario | None = None
        self.saved: dict[str, Scenario] = {}
        self.copy = out / (source.name if source else "dashboard.yaml")
        self.lock = threading.Lock()
        self._view_lock = threading.Lock()
        self._view: View | None = None

    def change(self, values: dict[str, Any], preset: str | None) -> str:
        """Start the what-if the levers make (or go back to the base plan); its description."""
        what_if = scenario(self.levers, values, preset)
        with self.lock:
            if not what_if.actions and not what_if.overrides:
                self.what_if = None
                self.forecasts.clear()
                return "the base plan"
            config = what_if_config(self.config, what_if)
            self.what_if = what_if
            self.forecasts.start(config, WHAT_IF)
            return what_if.description

    def progress_label(self) -> str:
        return _runs(*self.forecasts.progress())

    def view(self) -> View | None:
        """What the page shows of the runs finished so far: made once for each new run finished,
        however many of the page's timer requests ask for it at once."""
        with self._view_lock:
            forecasts = self.forecasts
            done, total = forecasts.progress()
            key = [forecasts.generation, done, forecasts.base.done]
            last = self._view
            if last is not None and (
                last.key == key
                # the charts are redrawn at most every REDRAW_SECONDS while runs come in (the count
                # on the page moves with each): summarising and drawing take the cores the runs need
                or (last.key[0] == key[0] and last.key[1] > 0 and done < total
                    and time.monotonic() - last.made < REDRAW_SECONDS)
            ):  # fmt: skip
                return last
            experiment = forecasts.snapshot(KEY_FIGURES, chart_sources)
            if experiment is None:
                return None
            what_if = WHAT_IF if WHAT_IF in experiment.scenarios else None
            drawn = charts(experiment, what_if)
            rows = key_figures(experiment, what_if)
            self._view = View(
                made=time.monotonic(),
                key=key,
                label=_runs(done, total),
                names=[chart.name for chart, _ in drawn],
                figures={chart.name: fig for chart, fig in drawn},
                rows=rows,
                table=_key_table(rows, what_if is not None),
            )
            return self._view

    def save(self, name: str) -> Path:
        if self.what_if is None:
            raise ValueError("move a lever first: the base plan is already in the configuration")
        if self.source is None:
            raise ValueError("this app was started from a Config, not a file: there is no file to copy")
        path = save_scenario(self.source, self.copy, name, self.what_if)
        self.saved[name] = self.what_if
        self.forecasts.keep(name)
        return path

    def results_folder(self) -> Path:
        """The folder `sendsim compare` writes, for the base and the what-if, once all runs are in."""
        experiment = self.forecasts.experiment()
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        return write_experiment(experiment, self.out / f"results-{stamp}")

    def report(self) -> Path:
        """The HTML report of the base against every scenario saved in this session, from their runs
        (those `sendsim compare` would make of the saved file: the same levers and seeds)."""
        from sim.outputs.report import write_report

        if not self.saved:
            raise ValueError("save a scenario first: the report compares the base with the saved scenarios")
        config = load_config(self.copy)
        results = self.forecasts.kept_results()
        provenance = self.forecasts.provenance(config, ["base", *self.saved], self.forecasts.reps)
        provenance["config"] = str(self.copy)
        folder = write_experiment(summarise(config, results, provenance), self.out / "report")
        return write_report(folder, self.out / "report.html")


# --- the page ------------------------------------------------------------------------------------


def _control(lever: Lever, months: list[dt.date]) -> Any:
    key = {"type": "lever", "id": lever.id}
    if lever.kind == "number":
        return dcc.Input(id=key, type="number", value=lever.default, step=lever.step or "any", debounce=True,
                         className="lever-input")  # fmt: skip
    if lever.kind == "month":
        options = [{"label": f"{m:%B %Y}", "value": m.isoformat()} for m in months]
        return dcc.Dropdown(id=key, options=options, value=lever.default, clearable=False, className="lever-month")
    if lever.kind == "choice":
        return dcc.Dropdown(id=key, options=list(lever.options), value=lever.default, clearable=False)
    return dcc.Checklist(id=key, options=[{"label": " yes", "value": "yes"}], value=[])


def _help(lever: Lever) -> str:
    """The lever's help: the file's comment on its field, and the values the schema allows."""
    allowed = ""
    if lever.kind == "number" and (lever.low is not None or lever.high is not None):
        allowed = f"Allowed: {allowed_range(lever)}."
    return " ".join(part for part in (lever.help, allowed) if part)


def _lever_row(lever: Lever, months: list[dt.date]) -> Any:
    unit = "" if lever.kind in ("month", "switch", "choice") else lever.unit
    return html.Div(
        [html.Label(lever.label), _control(lever, months), html.Span(unit, className="unit")],
        className="lever" + (" lever-when" if lever.kind == "month" else ""),
        title=_help(lever),
    )


def _levers_panel(session: Session) -> list[Any]:
    months = session.levers.months(session.forecasts.months)
    groups: dict[str, list[Any]] = {}
    for lever in session.levers.all:
        groups.setdefault(lever.group, []).append(_lever_row(lever, months))
    presets = [{"label": "the base plan", "value": "base"}] + [
        {"label": f"{name}: {s.description}"[:90], "value": name} for name, s in session.config.scenarios.items()
    ]
    return [
        html.H3("Start from"),
        dcc.Dropdown(id="preset", options=presets, value="base", clearable=False),
        *[html.Details([html.Summary(group), *rows], open=True) for group, rows in groups.items()],
    ]


CSS = """
body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
header { background: #1f4e79; color: white; padding: 10px 18px; }
header h1 { font-size: 20px; margin: 0; } header p { margin: 2px 0 0; font-size: 13px; }
.main { display: flex; gap: 14px; padding: 10px; }
.side { width: 380px; flex: none; font-size: 13px; }
.lever { display: grid; grid-template-columns: 150px 150px 1fr; align-items: center; gap: 6px; margin: 3px 0; }
.lever-when { padding-left: 14px; }
.lever input { width: 90px; }
.diff { color: #555; font-size: 11px; }
.unit { color: #555; font-size: 12px; }
details summary { font-weight: 600; margin-top: 8px; cursor: pointer; }
.error { color: #a00; font-weight: 600; white-space: pre-wrap; }
.progress { font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 6px; }
table.kf { border-collapse: collapse; font-size: 12px; margin: 8px 0; }
table.kf td, table.kf th { border-bottom: 1px solid #ddd; padding: 2px 8px; text-align: right; }
table.kf td:first-child, table.kf th:first-child { text-align: left; }
.actions button { margin: 4px 4px 4px 0; }
"""


def _key_table(rows: list[dict[str, Any]], what_if: bool) -> Any:
    """Key figures as rows and years as columns; a cell holds the base, and with a what-if the
    what-if's figure and the paired difference with its 95% CI beneath."""
    years = sorted({row["year"] for row in rows})
    figures = list(dict.fromkeys(row["measure"] for row in rows))
    at = {(row["measure"], row["year"]): row for row in rows}
    head = [html.Th("Key figure (mean of the runs)"), *[html.Th(str(y)) for y in years]]
    body = []
    for measure in figures:
        cells: list[Any] = [html.Td(next(r["figure"] for r in rows if r["measure"] == measure))]
        for year in years:
            row = at.get((measure, year))
            if row is None:
                cells.append(html.Td("–"))
                continue
            parts: list[Any] = [html.Span(row["base_shown"], className="base")]
            if what_if:
                parts += [" → ", html.B(row.get("what_if_shown", "–"), className="what-if"),
                          html.Div(row.get("difference_shown", ""), className="diff")]  # fmt: skip
            cells.append(html.Td(parts, **{"data-measure": measure, "data-year": str(year)}))
        body.append(html.Tr(cells))
        if measure == ON_TIME:
            reach: list[Any] = [html.Td("Chance of reaching the target")]
            for year in years:
                row = at.get((measure, year), {})
                text = f"{row['base_reaches_target']:.0%}" if "base_reaches_target" in row else "–"
                if what_if and row.get("what_if_reaches_target") is not None:
                    text += f" → {row['what_if_reaches_target']:.0%}"
                reach.append(html.Td(text))
            body.append(html.Tr(reach, className="reach"))
    return html.Table([html.Thead(html.Tr(head)), html.Tbody(body)], className="kf", id="key-figures-table")


def make_app(session: Session) -> Dash:
    config = session.config
    forecasts = session.forecasts
    app = Dash(__name__, title=f"sendsim: {config.name}", update_title="")
    app.index_string = app.index_string.replace("{%css%}", "{%css%}<style>" + CSS + "</style>")
    app.layout = html.Div(
        [
            html.Header(
                [
                    html.H1(f"sendsim: {config.name}"),
                    html.P(
                        f"Forecast from {config.start_date:%B %Y} for {forecasts.months} months; "
                        f"{forecasts.reps} runs of each plan on common random numbers (seed {forecasts.seed})."
                    ),
                ]
            ),  # fmt: skip
            html.Div(
                [
                    html.Div(_levers_panel(session), className="side"),
                    html.Div(
                        [
                            html.Div(id="lever-error", className="error"),
                            html.Div(["What-if: ", html.Span("the base plan", id="what-if")]),
                            html.Div(id="progress", className="progress"),
                            html.Div(
                                [
                                    dcc.Input(id="scenario-name", type="text", placeholder="scenario name"),
                                    html.Button("Save as scenario", id="save"),
                                    html.Button("Download key figures (CSV)", id="download-csv"),
                                    html.Button("Download full results", id="download-results"),
                                    html.Button("Report", id="report"),
                                    html.Div(id="action-message"),
                                ],
                                className="actions",
                            ),
                            html.Div(id="key-figures"),
                            html.Div(id="charts", className="charts"),
                        ],
                        style={"flex": "1"},
                    ),
                ],
                className="main",
            ),
            dcc.Interval(id="tick", interval=TICK_MS),
            dcc.Store(id="rendered"),
            dcc.Store(id="chart-names"),
            dcc.Download(id="download"),
        ]
    )

    @app.callback(
        Output("lever-error", "children"),
        Output("what-if", "children"),
        Input({"type": "lever", "id": ALL}, "value"),
        Input("preset", "value"),
        prevent_initial_call=True,
    )
    def on_levers(values: list[Any], preset: str) -> tuple[str, Any]:
        ids = [item["id"]["id"] for item in dash.callback_context.inputs_list[0]]
        chosen = {i: ("yes" in v if isinstance(v, list) else v) for i, v in zip(ids, values)}
        try:
            return "", session.change(chosen, preset)
        except (ValueError, ConfigError) as exc:
            return f"Not run: {exc}", dash.no_update

    @app.callback(
        Output({"type": "chart", "name": ALL}, "figure"),
        Output("key-figures", "children"),
        Output("progress", "children"),
        Output("rendered", "data"),
        Output("chart-names", "data"),
        Input("tick", "n_intervals"),
        State("rendered", "data"),
        State("chart-names", "data"),
    )
    def on_tick(_: int | None, rendered: Any, names: Any) -> tuple[Any, Any, Any, Any, Any]:
        # Only what changed is sent: each chart's figure (plotly redraws it in place), the key
        # figures and the count; the charts themselves are laid out again only when their set
        # changes (merging the teams adds the merged team's caseload).
        slots = [o["id"]["name"] for o in dash.callback_context.outputs_list[0]]
        unchanged = [dash.no_update] * len(slots)
        view = session.view()
        if view is None or view.key == rendered:
            return unchanged, dash.no_update, session.progress_label(), dash.no_update, dash.no_update
        if view.names != names:
            return unchanged, view.table, view.label, view.key, view.names
        return [view.figures[name] for name in slots], view.table, view.label, view.key, dash.no_update

    @app.callback(Output("charts", "children"), Input("chart-names", "data"), prevent_initial_call=True)
    def on_chart_names(names: list[str]) -> list[Any]:
        view = session.view()
        assert view is not None
        return [
            html.Div(
                dcc.Graph(id={"type": "chart", "name": name}, figure=view.figures[name], config={"displaylogo": False}),
                id=f"chart-{name}",
            )
            for name in names
        ]

    @app.callback(
        Output("action-message", "children"),
        Output("download", "data"),
        Input("save", "n_clicks"),
        Input("download-csv", "n_clicks"),
        Input("download-results", "n_clicks"),
        Input("report", "n_clicks"),
        State("scenario-name", "value"),
        prevent_initial_call=True,
    )
    def on_action(_s: Any, _c: Any, _r: Any, _p: Any, name: str | None) -> tuple[Any, Any]:
        clicked = dash.callback_context.triggered_id
        try:
            if clicked == "save":
                path = session.save((name or "").strip())
                return f"Saved scenario {name!r} to {path}: run it with sendsim compare {path} --scenarios {name}", None
            if clicked == "download-csv":  # the figures on the page
                view = session.view()
                assert view is not None
                table = key_figures_table(view.rows)
                return "Key figures downloaded", dcc.send_data_frame(table.to_csv, "key-figures.csv", index=False)
            if clicked == "download-results":
                folder = session.results_folder()
                data = _zip(folder)
                return f"Full results written to {folder}", dcc.send_bytes(data, f"{folder.name}.zip")
            path = session.report()
            return f"Report written to {path}", dcc.send_file(str(path))
        except (ValueError, ConfigError) as exc:
            return html.Span(str(exc), className="error"), None

    return app


def _zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            archive.write(path, Path(folder.name) / path.relative_to(folder))
    return buffer.getvalue()
