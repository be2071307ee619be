"""The `sendsim` command: run a configuration, or check one."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import yaml
from rich.console import Console
from rich.table import Table

from sim.config import ConfigError, load_config
from sim.runner import check_out_dir, run, write_result
from sim.summary import yearly_table

err = Console(stderr=True, soft_wrap=True)  # messages are not broken mid-path
out = Console()


def _parse_overrides(pairs: tuple[str, ...]) -> dict:
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--set")
        overrides[key] = yaml.safe_load(value)
    return overrides


def _load(path: str, overrides: dict | None = None):
    try:
        return load_config(path, overrides)
    except ConfigError as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sendsim")
def main() -> None:
    """sendsim: forecast a SEND 0-25 service's assessments, reviews and staff, month by month."""


@main.command()
@click.argument("config_file", metavar="CONFIG", type=click.Path(dir_okay=False))
def validate(config_file: str) -> None:
    """Check a configuration file and say what is wrong with it."""
    config = _load(config_file)
    fte = sum(g.count * g.fte for g in config.staff)
    out.print(f"{config_file}: valid — {config.name}, from {config.start_date:%B %Y} for {config.months} months, "
              f"{fte:g} FTE of staff in {len(config.teams)} teams")


@main.command("run")
@click.argument("config_file", metavar="CONFIG", type=click.Path(dir_okay=False))
@click.option("--seed", type=int, default=None, help="Random seed (default: the config's).")
@click.option("--months", type=click.IntRange(min=1), default=None, help="Months to simulate (default: the config's).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Folder for the results (default: results/<config name>).")
@click.option("--no-cases", is_flag=True, help="Do not write the table of cases.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a config field by its dotted path, e.g. demand.growth_per_year=0.1.")
def run_command(config_file, seed, months, out_dir, no_cases, sets) -> None:
    """Run one replication of CONFIG and write its monthly metrics and cases."""
    config = _load(config_file, _parse_overrides(sets))
    out_dir = Path(out_dir or Path("results") / Path(config_file).stem)
    try:
        check_out_dir(out_dir)
    except FileExistsError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    with err.status(f"Simulating {config.name} for {months or config.months} months…"):
        result = run(config, seed=seed, months=months, cases=not no_cases)
    write_result(result, out_dir, config_file)
    out.print(_table(result))
    out.print(f"Seed {result.seed}; {result.events:,} events in {result.wall_seconds:.2f} s. "
              f"Results in [bold]{out_dir}[/]")


def _table(result) -> Table:
    """Measures as rows and years as columns, so it fits a terminal however long the run."""
    table = yearly_table(result.metrics)
    view = Table(title=f"{result.config.name}: by calendar year", title_justify="left")
    view.add_column("Measure")
    for year, row in table.iterrows():
        view.add_column(str(year) if row["to"].startswith("Dec") else f"{year} (to {row['to']})", justify="right")
    for measure in table.columns.drop("to"):
        view.add_row(measure, *(_fmt(measure, v) for v in table[measure]))
    return view


def _fmt(measure: str, value: float) -> str:
    if value != value:
        return "–"
    if "rate" in measure:
        return f"{value:.1%}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


if __name__ == "__main__":  # pragma: no cover
    main()
