"""A corpus of bad inputs, put to the command as a careful user would (issue 11).

    .venv/bin/python tests/bad_inputs.py             # ~1,700 configurations and 300 SEN2 folders
    .venv/bin/python tests/bad_inputs.py --all       # every mutation: ~6,400 and ~1,600
    .venv/bin/python tests/bad_inputs.py --configs 100 --sen2 50 --show ran   # a quick look

It writes bad variants of configs/example.yaml and configs/devon.yaml (types, signs, magnitudes, NaN
and inf, unknown and duplicate keys, names, dates, nesting, encodings, alias bombs, non-regular
files, bad options) and damaged copies of ../shared/data/sen2 cut down to three small authorities
(values, columns, rows, periods, encodings, files), then runs `sendsim validate` and `sendsim run
--months 2` on each configuration and `sendsim init` on each folder, in worker processes, each
command with a timeout. Every case ends in one of:

- refused: exit 2, one message naming the file (and what was damaged in it, where one thing was),
  no exception, nothing written;
- ran: exit 0 and a run whose metrics hold no infinite value (NaN is a rate of nothing); a folder
  that `init` accepts must draft a configuration that validates and runs the same way;
- unclear: exit 2 but the message does not name the file or the damage, or something was written;
- traceback: an exception escaped the command;
- hang: a command still running at the timeout.

The exit status is 0 only if every case is refused or ran. tests/test_bad_inputs.py draws from the
same mutations with hypothesis.
"""

from __future__ import annotations

import argparse
import codecs
import copy
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).parents[1]
CONFIGS = ("example", "devon")
REAL_SEN2 = ROOT.parent / "shared" / "data" / "sen2"
# small authorities, so that a folder is small and a drafted service runs in a moment
AUTHORITIES = ("Rutland", "Hartlepool", "City of London")
YEARS = (2021, 2022)
TIMEOUT_SECONDS = 60  # of CPU time: a loaded machine slows a command without making it hang
WALL_TIMEOUT_SECONDS = 1800  # and of the clock, for a command blocked without using the CPU
OUTCOMES = ("refused", "ran", "unclear", "traceback", "hang")


@dataclass
class Case:
    """One bad input and the command to put it to."""

    kind: str  # "config" or "sen2"
    label: str
    path: str  # the configuration file, or the SEN2 folder
    expect: tuple[str, ...] = ()  # one of these must be named by a refusal (besides the file)
    options: tuple[str, ...] = ()  # for a configuration: added to `run` only (validate takes none)
    la: str = ""
    year: int = 0


# --- mutations of a configuration ----------------------------------------------------------------

BAD_NUMBERS: tuple[Any, ...] = (
    -1,
    0,
    1e308,
    float("inf"),
    float("-inf"),
    float("nan"),
    1e12,
    10**30,
    "abc",
    [1],
    {"x": 1},
    True,
    0.5,
)
BAD_STRINGS: tuple[Any, ...] = ("", "   ", 5, None, "x" * 20_000, "../../escape", "a/b", [1])
BAD_DATES: tuple[Any, ...] = ("0001-01-01", "9999-12-01", "2023-02-30", "2023-01-15", 20230101, "soon", None)
BAD_NAMES = ("", "..", "a/b", "../../escape", "base", "a b", "x" * 200, "é", "a.b")


def leaves(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """Every scalar in a parsed configuration, by its path of keys and list indices."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from leaves(value, (*path, i))
    else:
        yield path, node


def mappings(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, dict]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from mappings(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from mappings(value, (*path, i))


def set_at(raw: Any, path: tuple, value: Any) -> None:
    node = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def field_names(path: tuple) -> tuple[str, ...]:
    """What a refusal of a value at `path` may name: one of the keys on its path (most often the
    last; a check across fields names the section, e.g. `uncertainty`)."""
    return tuple(str(k) for k in reversed(path) if not isinstance(k, int))


def bad_values(value: Any) -> tuple[Any, ...]:
    import datetime as dt

    if isinstance(value, bool):
        return ("maybe", 2, None)
    if isinstance(value, (int, float)):
        return BAD_NUMBERS
    if isinstance(value, dt.date):
        return BAD_DATES
    if isinstance(value, str):
        return BAD_STRINGS
    return (1, "x")


def value_mutations(raw: dict) -> Iterator[tuple[str, dict, tuple[str, ...]]]:
    """(label, mutated configuration, what a refusal names) for each scalar and each bad value."""
    for path, value in leaves(raw):
        for bad in bad_values(value):
            mutated = copy.deepcopy(raw)
            set_at(mutated, path, bad)
            yield f"{'.'.join(map(str, path))}={bad!r:.40}", mutated, field_names(path)


def structure_mutations(raw: dict) -> Iterator[tuple[str, dict, tuple[str, ...]]]:
    """Unknown keys, missing keys, wrong shapes; names; dated actions that set nonsense."""
    for path, mapping in mappings(raw):
        where = ".".join(map(str, path)) or "(top)"
        mutated = copy.deepcopy(raw)
        target = mutated
        for key in path:
            target = target[key]
        target["bogus_key"] = 1
        yield f"{where}: unknown key", mutated, ("bogus_key",)
        for key in list(mapping)[:3]:
            mutated = copy.deepcopy(raw)
            target = mutated
            for k in path:
                target = target[k]
            del target[key]
            yield f"{where}: without {key}", mutated, (str(key),)
    for top in ("demand", "assessment", "plans", "teams", "staff", "workforce", "scenarios"):
        for shape in (None, [], "text", 7):
            mutated = copy.deepcopy(raw)
            mutated[top] = shape
            yield f"{top} = {shape!r}", mutated, (top,)
    for name in BAD_NAMES:
        mutated = copy.deepcopy(raw)
        mutated.setdefault("scenarios", {})[name] = {"description": "a plan"}
        yield f"scenario named {name!r:.30}", mutated, ("scenarios",)
    team = next(iter(raw["teams"]))
    for name in ("a/b", "", ".."):
        mutated = copy.deepcopy(raw)
        mutated["teams"][name] = mutated["teams"].pop(team)
        yield f"team named {name!r}", mutated, ("teams", "team", "staff")
    start = str(raw["start_date"])
    bad_actions = [
        ({"action": "set", "parameter": f"workforce.establishment_fte.{team}", "value": -50}, "establishment_fte"),
        (
            {"action": "set", "parameter": f"workforce.pressure.reference_caseload_per_fte.{team}", "value": 0},
            "reference_caseload_per_fte",
        ),
        ({"action": "set", "parameter": "demand.requests_per_month", "value": float("inf")}, "value"),
        ({"action": "set", "parameter": "demand.requests_per_month", "value": 1e308}, "requests_per_month"),
        ({"action": "set", "parameter": "demand.growth_per_year", "value": 1e9}, "growth_per_year"),
        ({"action": "set", "parameter": "assessment.effort_scale", "value": 0}, "effort_scale"),
        ({"action": "set", "parameter": "plans.review_interval_months", "value": 0.5}, "review_interval_months"),
        ({"action": "set", "parameter": "../../x", "value": 1}, "parameter"),
        ({"action": "set", "parameter": "demand", "value": 1}, "parameter"),
        ({"action": "set", "parameter": "name", "value": 1}, "parameter"),
        ({"action": "set", "parameter": "assessment.decision_hours.cv", "value": 1e9}, "cv"),
        ({"action": "establishment", "team": team, "change_fte": float("inf")}, "change_fte"),
        ({"action": "establishment", "team": team, "change_fte": 1e308}, "change_fte"),
        ({"action": "establishment", "team": team, "set_fte": -3}, "set_fte"),
        ({"action": "cohort", "team": team, "count": 10**9}, "count"),
        ({"action": "cohort", "team": "nowhere", "count": 1}, "team"),
        ({"action": "caseload_cap", "team": team, "per_fte": 0}, "per_fte"),
        ({"action": "agency_cap", "fte": 1e12}, "fte"),
        ({"action": "agency_conversion", "rate_per_month": 5}, "rate_per_month"),
        ({"action": "merge_teams", "teams": [team], "into": "x"}, "teams"),
        ({"action": "explode"}, "action"),
    ]
    for action, named in bad_actions:
        for date in (start, "1900-01-01", "9999-12-31"):
            mutated = copy.deepcopy(raw)
            mutated.setdefault("actions", []).append({"date": date, **action})
            yield f"action {action['action']} {named} on {date}", mutated, (named, "date", "action")


def text_mutations(text: str) -> Iterator[tuple[str, bytes, tuple[str, ...]]]:
    """Damage only text can carry: encodings, duplicate keys, nesting, alias bombs, YAML syntax."""
    raw = yaml.safe_load(text)
    yield "UTF-16 with a byte-order mark", text.encode("utf-16"), ("UTF-16",)
    yield "UTF-16-BE with a byte-order mark", codecs.BOM_UTF16_BE + text.encode("utf-16-be"), ("UTF-16",)
    yield "UTF-16 without a byte-order mark", text.encode("utf-16-le"), ("UTF-8",)
    yield "UTF-32", text.encode("utf-32"), ("UTF-32",)
    latin = text.replace("name: ", "name: Café ", 1)
    yield "Latin-1", latin.encode("latin-1", errors="replace"), ("UTF-8",)
    yield "Windows-1252 quotes", text.replace("name: ", "name: \u201cquoted\u201d ", 1).encode("cp1252"), ("UTF-8",)
    yield "UTF-8 with a byte-order mark", codecs.BOM_UTF8 + text.encode("utf-8"), ()
    yield "NUL bytes", text.encode()[:200] + b"\x00\x00" + text.encode()[200:], ("NUL",)
    yield "random bytes", random.Random(1).randbytes(4000), ()
    yield "empty file", b"", ("mapping",)
    yield "only a comment", b"# nothing here\n", ("mapping",)
    yield "a list", b"- 1\n- 2\n", ("mapping",)
    yield "a scalar", b"just text\n", ("mapping",)
    yield "a tab indent", text.replace("\n  ", "\n\t", 3).encode(), ("YAML",)
    yield "unclosed bracket", (text + "\nbroken: [1, 2\n").encode(), ("YAML",)
    yield "unclosed quote", (text + '\nbroken: "abc\n').encode(), ("YAML",)
    yield "python tag", (text + "\nbroken: !!python/object/apply:os.system [ls]\n").encode(), ("YAML",)
    yield (
        "int of 5,000 digits",
        text.replace("months: ", "months: " + "9" * 5000 + " #", 1).encode(),
        ("months", "YAML"),
    )
    for key in ("name", "months", "seed"):
        if re.search(rf"^{key}:", text, re.M):
            yield f"duplicate top-level {key}", (text + f"\n{key}: {raw[key]!r}\n").encode(), (key, "duplicate")
    for section in ("demand", "plans"):
        first = next(iter(raw[section]))
        doubled = re.sub(rf"^{section}:\n", f"{section}:\n  {first}: 1\n", text, count=1, flags=re.M)
        yield f"duplicate {section}.{first}", doubled.encode(), (first, "duplicate")
    deep = "[" * 5000 + "1" + "]" * 5000
    yield "nested 5,000 deep", (text + f"\nbroken: {deep}\n").encode(), ("nested", "deep")
    yield "nested 60 deep", (text + "\nbroken: " + "[" * 60 + "]" * 60 + "\n").encode(), ("nested", "deep")
    bomb = ["      a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i, name in enumerate("bcdefghi"):
        bomb.append(f"      {name}: &{name} [" + ", ".join(["*" + "abcdefghi"[i]] * 9) + "]")
    overrides = "scenarios:\n  bomb:\n    overrides:\n" + "\n".join(bomb) + "\n"
    yield (
        "billion laughs in scenarios.X.overrides",
        (re.sub(r"^scenarios:.*?(?=^\S|\Z)", "", text, flags=re.M | re.S) + "\n" + overrides).encode(),
        ("alias",),
    )
    yield "an alias to itself", (text + "\nbroken: &loop [*loop]\n").encode(), ("alias",)
    yield "a file of 6 MB", (text + "\n# " + "x" * (6 * 2**20) + "\n").encode(), ("MB",)


OPTION_CASES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("--set with an unclosed list", ("--set", "demand.requests_per_month=[1"), ("requests_per_month",)),
    ("--set with an unclosed mapping", ("--set", "demand.requests_per_month={a: 1"), ("requests_per_month",)),
    ("--set with an unclosed quote", ("--set", 'name="abc'), ("name",)),
    ("--set with a python tag", ("--set", "seed=!!python/object/apply:os.system [ls]"), ("seed",)),
    ("--set with an alias bomb", ("--set", "seed=&a [*a, *a]"), ("seed",)),
    ("--set with inf", ("--set", "demand.requests_per_month=.inf"), ("requests_per_month",)),
    ("--set with nan", ("--set", "assessment.refusal_probability=.nan"), ("refusal_probability",)),
    ("--set of an unknown field", ("--set", "demand.bogus=1"), ("bogus",)),
    ("--set through a number", ("--set", "seed.x=1"), ("seed.x",)),
    ("--set a huge count", ("--set", "initial_state.plans_in_force=1000000000"), ("plans_in_force",)),
    ("--set a huge horizon", ("--set", "months=10000000"), ("months",)),
    ("--set a warm-up of ever", ("--set", "warm_up_months=10000000"), ("warm_up_months",)),
    ("--set a start in year 1", ("--set", "start_date=0001-01-01"), ("start_date",)),
    ("--set without a value", ("--set", "demand"), ("KEY=VALUE",)),
    ("--seed -1", ("--seed", "-1"), ("--seed",)),
    ("--seed 2**64", ("--seed", str(2**64)), ("--seed",)),
    ("--seed text", ("--seed", "abc"), ("--seed",)),
    ("--months 0", ("--months", "0"), ("--months",)),
    ("--months 601", ("--months", "601"), ("--months",)),
    ("--months 10**7", ("--months", "10000000"), ("--months",)),
    ("--out under a file", ("--out", "{file}/results"), ("is a file",)),
    ("--out a file", ("--out", "{file}"), ("is a file", "not sendsim results")),
    ("--out in /proc", ("--out", "/proc/sendsim-results"), ("/proc",)),
    ("--scenario ../x", ("--scenario", "../x"), ("no scenario",)),
)


def config_cases(folder: Path, sample: int | None, rng: random.Random) -> list[Case]:
    """The mutations of each shipped configuration, written to `folder`: every one, or `sample` of
    its value mutations and a third as many of its structure mutations, drawn at random."""
    cases: list[Case] = []
    for stem in CONFIGS:
        text = (ROOT / "configs" / f"{stem}.yaml").read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
        generated: list[tuple[str, bytes, tuple[str, ...]]] = []
        values = list(value_mutations(raw))
        structure = list(structure_mutations(raw))
        if sample is not None:
            values = rng.sample(values, min(sample, len(values)))
            structure = rng.sample(structure, min(sample // 3, len(structure)))
        for label, mutated, expect in values + structure:
            generated.append((label, yaml.safe_dump(mutated, sort_keys=False, allow_unicode=True).encode(), expect))
        generated += list(text_mutations(text))
        for i, (label, data, expect) in enumerate(generated):
            path = folder / f"{stem}-{i:05d}.yaml"
            path.write_bytes(data)
            cases.append(Case("config", f"{stem}: {label}", str(path), expect))
        for label, options, expect in OPTION_CASES:
            options = tuple(o.replace("{file}", str(ROOT / "configs" / f"{stem}.yaml")) for o in options)
            cases.append(Case("config", f"{stem}: {label}", str(ROOT / "configs" / f"{stem}.yaml"), expect, options))
    cases += special_files(folder)
    return cases


def special_files(folder: Path) -> list[Case]:
    """Paths that are not regular files, or not there."""
    fifo = folder / "fifo.yaml"
    os.mkfifo(fifo)
    (folder / "a-folder.yaml").mkdir()
    (folder / "zero.yaml").symlink_to("/dev/zero")
    (folder / "dangling.yaml").symlink_to(folder / "nowhere")
    return [
        Case("config", "a FIFO", str(fifo), ("FIFO",)),
        Case("config", "a folder", str(folder / "a-folder.yaml"), ("folder", "directory")),
        Case("config", "/dev/zero", "/dev/zero", ("device",)),
        Case("config", "/dev/urandom", "/dev/urandom", ("device",)),
        Case("config", "a link to /dev/zero", str(folder / "zero.yaml"), ("device",)),
        Case("config", "a dangling link", str(folder / "dangling.yaml"), ("No such file",)),
        Case("config", "a missing file", str(folder / "missing.yaml"), ("No such file", "does not exist")),
    ]


# --- damaged SEN2 folders ------------------------------------------------------------------------

SEN2_FILES = (
    "requests.csv",
    "assessments.csv",
    "timeliness_20_week.csv",
    "newplans.csv",
    "ceased_plans.csv",
    "caseload.csv",
)
MEASURES = {
    "requests.csv": ("requests_received_in_year", "requests_decided_to_assess", "requests_decided_not_to_assess"),
    "assessments.csv": ("assess_in_year", "assess_issued", "assess_not_issued"),
    "timeliness_20_week.csv": (
        "plans_issued_den",
        "plans_issued_den_ex",
        "plans_issued_within_20_weeks",
        "plans_issued_20_weeks_ex",
        "pc_plans_issued_within_20_weeks",
    ),
    "newplans.csv": ("new_ehc_plans",),
    "ceased_plans.csv": ("total_ceased",),
    "caseload.csv": ("ehcplans",),
}
BAD_CELLS = ("-5", "1e12", "1e308", "abc", "inf", "nan", "1e400", "999999999", "250", "-0.5")


def small_release(source: Path, folder: Path) -> Path:
    """The SEN2 files cut down to England, the regions of AUTHORITIES and the authorities."""
    folder.mkdir(parents=True)
    for name in SEN2_FILES:
        frame = pd.read_csv(source / name, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        regions = set(frame.loc[frame["la_name"].isin(AUTHORITIES), "region_name"])
        keep = (
            (frame["geographic_level"] == "National")
            | ((frame["geographic_level"] == "Regional") & frame["region_name"].isin(regions))
            | frame["la_name"].isin(AUTHORITIES)
        )
        frame[keep].to_csv(folder / name, index=False)
    return folder


def _rows_of(frame: pd.DataFrame, la: str, year: int, name: str) -> pd.Series:
    period = frame["time_period"].astype(str)
    in_year = period.str[:4] == str(year) if name != "caseload.csv" else period.str[:4] == str(year)
    return (frame["la_name"] == la) & in_year


def sen2_damages(base: Path, la: str, year: int) -> Iterator[tuple[str, Callable[[Path], None], tuple[str, ...]]]:
    """(label, damage done to a copy of the folder, what a refusal names)."""
    for name in SEN2_FILES:
        for column in MEASURES[name]:
            for cell in BAD_CELLS:

                def damage(folder, name=name, column=column, cell=cell):
                    frame = _read(folder / name)
                    frame.loc[_rows_of(frame, la, year, name), column] = cell
                    frame.to_csv(folder / name, index=False)

                yield f"{name} {column} of {la} {year} = {cell}", damage, (column,)
        yield f"{name}: {la}'s rows removed", lambda f, n=name: _drop(f / n, lambda fr: fr["la_name"] == la), (la,)
        yield (
            f"{name}: {la}'s {year} row removed",
            lambda f, n=name: _drop(f / n, lambda fr: _rows_of(fr, la, year, n)),
            (la,),
        )
        yield (
            f"{name}: national rows removed",
            lambda f, n=name: _drop(f / n, lambda fr: fr["geographic_level"] == "National"),
            (),
        )
        yield f"{name}: the file removed", lambda f, n=name: (f / n).unlink(), (name,)
        yield f"{name}: a folder", lambda f, n=name: ((f / n).unlink(), (f / n).mkdir()), (name,)
        yield f"{name}: a FIFO", lambda f, n=name: ((f / n).unlink(), os.mkfifo(f / n)), ("FIFO",)
        yield (
            f"{name}: a link to /dev/zero",
            lambda f, n=name: ((f / n).unlink(), (f / n).symlink_to("/dev/zero")),
            ("device",),
        )
        yield f"{name}: empty", lambda f, n=name: (f / n).write_bytes(b""), ("empty",)
        yield (
            f"{name}: header only",
            lambda f, n=name: (f / n).write_text((f / n).read_text().splitlines()[0] + "\n"),
            (),
        )
        yield (
            f"{name}: UTF-16",
            lambda f, n=name: (f / n).write_bytes((f / n).read_text().encode("utf-16")),
            ("UTF-16",),
        )
        yield f"{name}: random bytes", lambda f, n=name: (f / n).write_bytes(random.Random(n).randbytes(3000)), ()
        yield f"{name}: NUL bytes", lambda f, n=name: (f / n).write_bytes((f / n).read_bytes() + b"\x00" * 10), ("NUL",)
        yield (
            f"{name}: a row cut short",
            lambda f, n=name: (f / n).write_text((f / n).read_text() + "2021,Calendar year\n"),
            (),
        )
        yield (
            f"{name}: a row too long",
            lambda f, n=name: (f / n).write_text((f / n).read_text() + "1" + ",1" * 400 + "\n"),
            (),
        )
        yield (
            f"{name}: Latin-1 names",
            lambda f, n=name: (f / n).write_bytes((f / n).read_text().replace("England", "Engländ").encode("latin-1")),
            (),
        )
        yield (
            f"{name}: first measure column dropped",
            lambda f, n=name: _drop_column(f / n, MEASURES[n][0]),
            (MEASURES[name][0],),
        )
        yield f"{name}: la_name dropped", lambda f, n=name: _drop_column(f / n, "la_name"), ("la_name",)
        yield f"{name}: time_period 9999", lambda f, n=name: _set(f / n, "time_period", "9999"), ("9999",)
        yield f"{name}: time_period abcd", lambda f, n=name: _set(f / n, "time_period", "abcd"), ("abcd",)
        yield (
            f"{name}: time_identifier Quarter 9",
            lambda f, n=name: _set(f / n, "time_identifier", "Quarter 9"),
            ("Quarter 9",),
        )
        yield f"{name}: {la}'s row doubled with other values", lambda f, n=name: _double(f / n, la), ()
    yield "the folder is a file", lambda f: (shutil.rmtree(f), f.write_text("x")), ("is a file", "folder")
    yield "data-guidance.txt only", lambda f: [p.unlink() for p in f.glob("*.csv")], ("requests.csv",)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _drop(path: Path, rows) -> None:
    frame = _read(path)
    frame[~rows(frame)].to_csv(path, index=False)


def _drop_column(path: Path, column: str) -> None:
    _read(path).drop(columns=column).to_csv(path, index=False)


def _set(path: Path, column: str, value: str) -> None:
    frame = _read(path)
    frame.loc[frame.index[-1], column] = value
    frame.to_csv(path, index=False)


def _double(path: Path, la: str) -> None:
    frame = _read(path)
    rows = frame[frame["la_name"] == la].copy()
    for column in rows.columns[12:]:
        rows[column] = "7"
    pd.concat([frame, rows]).to_csv(path, index=False)


def sen2_cases(folder: Path, sample: int | None, rng: random.Random) -> list[Case]:
    """Damaged copies of the release (every damage, or `sample` drawn at random), each a folder of
    its own, with the authority and year to draft; none when the release is not beside the project."""
    if not (REAL_SEN2 / "requests.csv").exists():
        return []
    base = small_release(REAL_SEN2, folder / "base")
    damages = [(la, year, d) for la in AUTHORITIES for year in YEARS for d in sen2_damages(base, la, year)]
    if sample is not None:
        damages = rng.sample(damages, min(sample, len(damages)))
    cases = [
        Case("sen2", f"{la} {year}: as published", str(base), la=la, year=year) for la in AUTHORITIES for year in YEARS
    ]
    for i, (la, year, (label, damage, expect)) in enumerate(damages):
        copy_dir = folder / f"sen2-{i:05d}"
        shutil.copytree(base, copy_dir)
        damage(copy_dir)
        cases.append(Case("sen2", f"{la} {year}: {label}", str(copy_dir), expect, la=la, year=year))
    return cases


# --- running a case ------------------------------------------------------------------------------


class Hang(Exception):
    """A command still running at the timeout."""


def _alarm(signum, frame):
    raise Hang


def invoke(args: list[str], timeout: int = TIMEOUT_SECONDS):
    """`sendsim ARGS` in this process, as a user's shell would run it, stopped as a hang after
    `timeout` seconds of CPU time or WALL_TIMEOUT_SECONDS of the clock."""
    from click.testing import CliRunner

    from sim.cli import main

    previous = {sig: signal.signal(sig, _alarm) for sig in (signal.SIGPROF, signal.SIGALRM)}
    signal.setitimer(signal.ITIMER_PROF, timeout)
    signal.setitimer(signal.ITIMER_REAL, WALL_TIMEOUT_SECONDS)
    try:
        return CliRunner().invoke(main, [str(a) for a in args])
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def outcome_of(
    result, path: str, expect: tuple[str, ...], written: Path | None, also_named: tuple[str, ...] = ()
) -> tuple[str, str]:
    """(outcome, detail) of one command's result: refused, ran, unclear, traceback or hang."""
    exc = result.exception
    if isinstance(exc, Hang):
        return "hang", "no answer within the timeout"
    if exc is not None and not isinstance(exc, SystemExit):
        return "traceback", "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-1500:]
    output = result.output
    if result.exit_code == 0:
        return "ran", ""
    if result.exit_code != 2:
        return "unclear", f"exit {result.exit_code}: {output[-500:]}"
    problems = []
    if len(re.findall(r"(?im)^\s*error:", output)) != 1:
        problems.append("not exactly one error message")
    named_file = any(p in output for p in (Path(path).name, path, *also_named)) or "Usage:" in output
    if not named_file:
        problems.append("the file is not named")
    flat = re.sub(r"\s+", " ", output)
    if expect and not any(e in flat for e in expect):
        problems.append(f"none of {expect} named")
    if written is not None and written.exists():
        problems.append(f"{written} was written")
    return ("unclear", "; ".join(problems) + f": {output[-600:]}") if problems else ("refused", "")


def _finite_run(out_dir: Path) -> str:
    """'' if the run's metrics hold no infinite value, else what is wrong."""
    metrics = pd.read_parquet(out_dir / "metrics.parquet")
    values = metrics["value"].to_numpy(dtype=float)
    if np.isinf(values).any():
        return f"infinite metrics: {sorted(set(metrics.loc[np.isinf(values), 'metric']))[:5]}"
    return ""


def run_config_case(case: Case, scratch: Path) -> tuple[str, str]:
    out_dir = scratch / "out"
    if case.options:  # options go to run only; validate of the (good) file says nothing of them
        options = [o for o in case.options]
        if "--out" not in options:
            options += ["--out", str(out_dir)]
        run = invoke(["run", case.path, "--months", "2", "--no-cases", *options])
        written = out_dir if "--out" not in case.options else None
        result = outcome_of(run, case.path, case.expect, written, also_named=case.options)
        if result[0] == "ran" and "--out" not in case.options:
            return "ran", _finite_run(out_dir) or ""
        return result
    validate = invoke(["validate", case.path])
    first = outcome_of(validate, case.path, case.expect, None)
    run = invoke(["run", case.path, "--months", "2", "--no-cases", "--out", str(out_dir)])
    second = outcome_of(run, case.path, case.expect, out_dir)
    for outcome in ("hang", "traceback", "unclear"):
        for step, (got, detail) in (("validate", first), ("run", second)):
            if got == outcome:
                return outcome, f"{step}: {detail}"
    if first[0] != second[0]:
        return "unclear", f"validate {first[0]} but run {second[0]}: {run.output[-400:]}"
    if second[0] == "ran":
        problem = _finite_run(out_dir)
        return ("unclear", problem) if problem else ("ran", "")
    return "refused", ""


def run_sen2_case(case: Case, scratch: Path) -> tuple[str, str]:
    drafted = scratch / "drafted.yaml"
    init = invoke(["init", "--la", case.la, "--sen2", case.path, "--year", str(case.year), "--out", str(drafted)])
    outcome, detail = outcome_of(init, case.path, case.expect, drafted)
    if outcome != "ran":
        return outcome, f"init: {detail}"
    return run_config_case(Case("config", case.label, str(drafted)), scratch)


def run_case(case: Case) -> tuple[Case, str, str]:
    scratch = Path(tempfile.mkdtemp(prefix="bad-input-"))
    cwd = os.getcwd()
    os.chdir(scratch)  # nothing a command writes by default lands in the project
    try:
        outcome, detail = (run_config_case if case.kind == "config" else run_sen2_case)(case, scratch)
    except Hang:
        outcome, detail = "hang", "no answer within the timeout"
    except Exception:  # a failure of this script, not of the command: reported all the same
        outcome, detail = "traceback", "in bad_inputs.py: " + traceback.format_exc()[-1500:]
    finally:
        os.chdir(cwd)
        shutil.rmtree(scratch, ignore_errors=True)
    return case, outcome, detail


# --- the corpus ----------------------------------------------------------------------------------


@dataclass
class Tally:
    counts: dict[str, Counter] = field(default_factory=lambda: {"config": Counter(), "sen2": Counter()})
    cases: dict[str, list[tuple[Case, str]]] = field(default_factory=lambda: {o: [] for o in OUTCOMES})

    def add(self, case: Case, outcome: str, detail: str) -> None:
        self.counts[case.kind][outcome] += 1
        self.cases[outcome].append((case, detail))

    def clean(self) -> bool:
        return not any(self.cases[o] for o in ("unclear", "traceback", "hang"))

    def table(self) -> str:
        lines = [f"{'':8} {'cases':>6} " + " ".join(f"{o:>9}" for o in OUTCOMES)]
        for kind, counts in self.counts.items():
            total = sum(counts.values())
            lines.append(f"{kind:8} {total:>6} " + " ".join(f"{counts[o]:>9}" for o in OUTCOMES))
        return "\n".join(lines)


def build_corpus(folder: Path, configs: int | None, sen2: int | None, seed: int = 11) -> list[Case]:
    rng = random.Random(seed)
    return config_cases(folder, configs, rng) + sen2_cases(folder, sen2, rng)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--configs",
        type=int,
        default=600,
        help="Value mutations drawn at random from each configuration (and a third as many "
        "structure mutations); every text mutation and option is run besides.",
    )
    parser.add_argument("--sen2", type=int, default=300, help="Damaged SEN2 folders drawn at random.")
    parser.add_argument("--all", action="store_true", help="Every mutation and every damage.")
    parser.add_argument("--jobs", type=int, default=max(1, len(os.sched_getaffinity(0))))
    parser.add_argument("--show", default="unclear,traceback,hang", help="Outcomes whose cases are listed.")
    parser.add_argument("--json", default=None, help="Write every case's outcome to this file.")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bad-inputs-") as tmp:
        cases = build_corpus(Path(tmp), None if args.all else args.configs, None if args.all else args.sen2)
        print(
            f"{sum(c.kind == 'config' for c in cases)} configurations and {sum(c.kind == 'sen2' for c in cases)} "
            f"SEN2 folders",
            flush=True,
        )
        tally = Tally()
        context = multiprocessing.get_context("fork")
        with context.Pool(args.jobs, maxtasksperchild=100) as pool:
            answers = pool.imap_unordered(run_case, cases)  # one at a time: next() takes a timeout
            for i in range(1, len(cases) + 1):
                try:  # a worker stuck where the alarm cannot reach it (inside C) leaves its cases unanswered
                    case, outcome, detail = answers.next(timeout=2 * WALL_TIMEOUT_SECONDS)
                except multiprocessing.TimeoutError:
                    stuck = len(cases) - i + 1
                    tally.add(Case("config", f"{stuck} cases never answered", ""), "hang", "a worker is stuck")
                    pool.terminate()
                    break
                tally.add(case, outcome, detail)
                if outcome in ("unclear", "traceback", "hang"):
                    print(f"[{outcome}] {case.kind}: {case.label}\n  {detail[:300]}", flush=True)
                if i % 100 == 0:  # a running tally, so that an interrupted corpus still says something
                    print(f"  {i} of {len(cases)}\n{tally.table()}", flush=True)
    print(tally.table())
    for outcome in args.show.split(","):
        for case, detail in tally.cases.get(outcome, []):
            print(f"\n[{outcome}] {case.kind}: {case.label} ({case.path})\n  {detail}")
    if args.json:
        records = [
            {"kind": c.kind, "label": c.label, "outcome": o, "detail": d} for o in OUTCOMES for c, d in tally.cases[o]
        ]
        Path(args.json).write_text(json.dumps(records, indent=1), encoding="utf-8")
    return 0 if tally.clean() else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
