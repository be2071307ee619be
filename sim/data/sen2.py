"""Reading DfE's SEN2 statistics ("Education, health and care plans") as published.

A planner downloads the release's underlying data from explore-education-statistics and points
`read_sen2` at the folder. Each file is one table in DfE's open-data layout: `time_period`,
`time_identifier`, `geographic_level`, area names and codes, `breakdown_topic`, `breakdown`, then
one column per measure. This module turns each into a tidy frame of the headline rows, and
`history` puts one authority's flows and census counts side by side by calendar year.

Rules, so a figure can always be traced back to the published cell:

- Files: regular files of at most 256 MB (a FIFO or a device is refused before it is read).
- Text encoding: UTF-8, with or without a byte-order mark (Windows-1252 is tried if UTF-8 fails);
  UTF-16 and binary files are refused, saying so.
- Missing values: DfE's symbols (``x`` not available, ``c`` confidential, ``z`` not applicable,
  ``low`` rounds to zero, ``u`` low reliability, ``~``, ``:``, ``..``) and blank cells become NaN.
  Nothing is guessed. The published text is kept in the table's ``codes`` frame (same rows and
  measure columns; ``""`` where a number was read). Any other text is refused.
- Sanity: a value no English authority (or England) has published is refused, naming the file,
  the area, the period and the column: a negative count, a percentage over 100, a count above
  England's in the same period or above any real authority's (MAX_AUTHORITY_COUNT), a part above
  its whole in the same row (PARTS), a year outside 1990-2100.
- Periods: ``time_identifier`` "Calendar year" (time_period ``2021``) gives ``year`` 2021 and
  ``period`` "2021"; a month such as "January" gives ``year`` 2021 and ``period`` "January 2021";
  an academic (or financial) year, time_period ``202122``, gives ``period`` "2021/22" and ``year``
  2022, the calendar year of its January. SEN2's academic-year figures are January census counts
  (caseload.csv: "as at January"), so ``year`` is the year of the census in every layout.
- Areas: national, regional and local-authority rows are all kept; ``name`` is the country, the
  region or the authority. Authorities match by name (any case), ``new_la_code`` (E10000008) or
  ``old_la_code`` (878).
- Breakdowns: only the headline row is kept — the one whose breakdown is "Total", starts with
  "All" ("All requests for EHC needs assessments"), or repeats its topic ("New EHC plans").
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import EARLIEST_DATE, LATEST_START, MAX_PLANS, MAX_REQUESTS_PER_MONTH, ConfigError
from sim.files import MAX_TABLE_BYTES, read_text


class DataError(ConfigError):
    """A SEN2 file or folder that cannot be used; the message names the file and what was expected."""


# DfE's symbols for a value that is not published (GSS/EES conventions), and what they mean.
SUPPRESSION_CODES: dict[str, str] = {
    "x": "not available",
    "c": "confidential (suppressed to protect individuals)",
    "z": "not applicable",
    "low": "rounds to zero, but is not zero",
    "u": "low reliability",
    "~": "positive, but rounds to zero",
    ":": "not available",
    "..": "not available",
    "": "blank",
}

ID_COLUMNS = ("time_period", "time_identifier", "geographic_level", "la_name", "breakdown")
OPTIONAL_ID_COLUMNS = ("country_name", "region_name", "new_la_code", "old_la_code", "breakdown_topic")
LEVELS = {"national": "National", "regional": "Regional", "local authority": "Local authority"}


@dataclass(frozen=True)
class FileSpec:
    filename: str
    description: str
    measures: dict[str, str]  # column -> what it counts (data-guidance.txt)
    required: bool = True


FILES: dict[str, FileSpec] = {
    "requests": FileSpec("requests.csv", "requests for an EHC needs assessment, by calendar year", {
        "requests_received_in_year": "Total requests for an EHC needs assessment",
        "requests_decided_to_assess": "Number of requests where LA decided to proceed with an assessment",
        "requests_decided_not_to_assess": "Number of requests where LA decided not to proceed with an assessment",
    }),
    "assessments": FileSpec("assessments.csv", "EHC needs assessments and their outcomes, by calendar year", {
        "assess_in_year": "Total number of EHC needs assessments",
        "assess_issued": "Number of assessments where a plan was issued",
        "assess_not_issued": "Number of assessments where a plan was not issued",
    }),
    "timeliness": FileSpec("timeliness_20_week.csv", "EHC plans issued within 20 weeks, by calendar year", {
        "plans_issued_den": "Number of EHC plans issued including exceptions (denominator)",
        "plans_issued_den_ex": "Number of EHC plans issued excluding exceptions (denominator)",
        "plans_issued_within_20_weeks": "EHC plans issued within 20 weeks including exceptions",
        "plans_issued_20_weeks_ex": "EHC plans issued within 20 weeks excluding exceptions",
    }),
    "newplans": FileSpec("newplans.csv", "new EHC plans, by calendar year", {
        "new_ehc_plans": "New EHC plans",
    }, required=False),
    "ceased": FileSpec("ceased_plans.csv", "EHC plans ceased, by calendar year", {
        "total_ceased": "Total number of ceased EHC plans",
    }, required=False),
    "caseload": FileSpec("caseload.csv", "EHC plans in force at the January census", {
        "ehcplans": "Total EHC plans (January census)",
    }),
}  # fmt: skip
# published percentages read when the counts beside them are suppressed
OPTIONAL_MEASURES = {"timeliness": ("pc_plans_issued_within_20_weeks", "pc_plans_issued_20_weeks_ex")}


@dataclass
class Sen2Table:
    """One SEN2 file's headline rows: ``data`` holds numbers (NaN where not published) and
    ``codes`` the published text of every missing value ('x', 'c', 'z', 'low', '' ...)."""

    name: str
    path: Path
    data: pd.DataFrame  # year, period, time_period, time_identifier, geographic_level, name, la codes, measures
    codes: pd.DataFrame  # same index; one column per measure: the published text where data is NaN, else ""
    measures: list[str]

    def code(self, row: int, column: str) -> str:
        """The published text behind a missing value ('' if a number was published)."""
        return str(self.codes.at[row, column])


@dataclass
class Sen2:
    """The SEN2 tables read from one folder, by short name (requests, assessments, timeliness,
    newplans, ceased, caseload); the optional files may be absent."""

    folder: Path
    tables: dict[str, Sen2Table] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Sen2Table:
        if name not in self.tables:
            spec = FILES[name]
            raise DataError(f"{self.folder / spec.filename}: file not found (expected {spec.description})")
        return self.tables[name]

    def __contains__(self, name: str) -> bool:
        return name in self.tables


# --- reading -------------------------------------------------------------------------------------


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().casefold()


def _read_text(path: Path) -> pd.DataFrame:
    text = read_text(path, MAX_TABLE_BYTES, encodings=("utf-8-sig", "cp1252"))  # ConfigError naming the file
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty (expected a DfE SEN2 CSV with a header row)") from None
    except (pd.errors.ParserError, csv.Error) as exc:
        raise DataError(f"{path}: not a readable CSV file ({str(exc).strip()})") from None


def _time(path: Path, period: str, identifier: str) -> tuple[int, str]:
    """(year, period label) for one row; see the module docstring for the rules."""
    ident = _normal(identifier)
    period = str(period).strip()
    if re.fullmatch(r"\d{6}", period) and ("year" in ident and "calendar" not in ident):
        start, end = int(period[:4]), int(period[4:])
        if (start + 1) % 100 != end:
            raise DataError(f"{path}: time_period {period!r} is not an academic year such as 201920")
        return start + 1, f"{start}/{period[4:]}"
    if re.fullmatch(r"\d{4}", period):
        if ident == "calendar year":
            return int(period), period
        if ident in _MONTHS:
            return int(period), f"{identifier.strip().capitalize()} {period}"
    raise DataError(
        f"{path}: cannot read the period time_period={period!r}, time_identifier={identifier!r} "
        "(expected 'Calendar year' or 'January' with a year such as 2021, or 'Academic year' with "
        "one such as 202122)"
    )


_MONTHS = {
    m.casefold()
    for m in (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    )
}


def _is_headline(topic: str, breakdown: str) -> bool:
    b = _normal(breakdown)
    return b in ("total", "all") or b.startswith("all ") or (topic != "" and b == _normal(topic))


def read_table(path: str | Path, name: str) -> Sen2Table:
    """Read one SEN2 file (`name` is one of FILES: requests, assessments, timeliness, ...)."""
    path = Path(path)
    spec = FILES[name]
    if not path.exists():
        raise DataError(f"{path}: file not found (expected DfE SEN2 {spec.filename}: {spec.description})")
    raw = _read_text(path)
    raw.columns = [str(c).strip().lstrip("\ufeff").casefold() for c in raw.columns]
    for column in (*ID_COLUMNS, *spec.measures):
        if column not in raw.columns:
            what = spec.measures.get(column, "one of the identifying columns of DfE's open-data layout")
            raise DataError(
                f"{path}: expected a column {column!r} ({what}); not found. "
                f"The file has: {', '.join(raw.columns[:15])}{' ...' if len(raw.columns) > 15 else ''}"
            )
    raw = raw.apply(lambda s: s.str.strip())
    for column in OPTIONAL_ID_COLUMNS:
        if column not in raw.columns:
            raw[column] = ""
    topic = raw["breakdown_topic"]
    raw = raw[[_is_headline(t, b) for t, b in zip(topic, raw["breakdown"])]]
    if raw.empty:
        raise DataError(
            f"{path}: no headline rows (expected a breakdown 'Total' or 'All ...', as in the file as DfE publishes it)"
        )
    levels = raw["geographic_level"].map(lambda v: LEVELS.get(_normal(v)))
    raw = raw[levels.notna()].assign(geographic_level=levels[levels.notna()])
    times = [_time(path, p, i) for p, i in zip(raw["time_period"], raw["time_identifier"])]
    for year, period in times:
        if not EARLIEST_DATE.year <= year <= LATEST_START.year:
            raise DataError(
                f"{path}: time_period {period!r}: expected a year from {EARLIEST_DATE.year} to {LATEST_START.year}"
            )
    names = np.where(
        raw["geographic_level"] == "Local authority", raw["la_name"],
        np.where(raw["geographic_level"] == "Regional", raw["region_name"],
                 np.where(raw["country_name"] != "", raw["country_name"], "England")),
    )  # fmt: skip
    data = pd.DataFrame({
        "year": [t[0] for t in times],
        "period": [t[1] for t in times],
        "time_period": raw["time_period"].to_numpy(),
        "time_identifier": raw["time_identifier"].to_numpy(),
        "geographic_level": raw["geographic_level"].to_numpy(),
        "name": names,
        "new_la_code": raw["new_la_code"].to_numpy(),
        "old_la_code": raw["old_la_code"].to_numpy(),
    })  # fmt: skip
    measures = list(spec.measures) + [c for c in OPTIONAL_MEASURES.get(name, ()) if c in raw.columns]
    codes = pd.DataFrame(index=data.index)
    for column in measures:
        text = raw[column].to_numpy(dtype=str)
        numbers = pd.to_numeric(pd.Series(text).str.replace(",", "", regex=False), errors="coerce")
        numbers = numbers.where(np.isfinite(numbers))
        data[column] = numbers.to_numpy(dtype=float)
        codes[column] = np.where(numbers.isna().to_numpy(), text, "")
    _check_codes(path, data, codes, measures)
    _check_values(path, data, measures)
    keys = ["year", "period", "geographic_level", "name"]
    keep = ~data.duplicated(keys)  # a repeated headline row: the first one published is used
    data, codes = data[keep].reset_index(drop=True), codes[keep].reset_index(drop=True)
    return Sen2Table(name, path, data, codes, measures)


# --- sanity: values no English authority has published --------------------------------------------

# The most a year's flow (requests, assessments, plans issued or ceased) or a January census of plans
# can be for one authority (the largest publishes ~4,000 requests and ~19,000 plans), and for England
# or a region (114,482 requests in 2022, 517,048 plans in January 2023: the schema's bounds). Beyond
# them a figure is a damaged file, not a service.
MAX_AUTHORITY_COUNT = {"flow": 50_000, "census": 200_000}
MAX_AREA_COUNT = {"flow": 12 * MAX_REQUESTS_PER_MONTH, "census": MAX_PLANS}
CENSUS_COLUMNS = ("ehcplans",)
# (part, whole): a part that cannot exceed its whole in the same row, as in every published row
PARTS = (
    ("requests_decided_to_assess", "requests_received_in_year"),
    ("requests_decided_not_to_assess", "requests_received_in_year"),
    ("assess_issued", "assess_in_year"),
    ("assess_not_issued", "assess_in_year"),
    ("plans_issued_den_ex", "plans_issued_den"),
    ("plans_issued_within_20_weeks", "plans_issued_den"),
    ("plans_issued_20_weeks_ex", "plans_issued_den_ex"),
    ("plans_issued_20_weeks_ex", "plans_issued_within_20_weeks"),
)


def _cell(path: Path, data: pd.DataFrame, row: Hashable, column: str) -> str:
    """Where a value is: the file, the area, the period and the column."""
    return f"{path}: {data.at[row, 'name']}, {data.at[row, 'period']}, column {column!r}"  # type: ignore[str-bytes-safe]  # a cell read from a CSV is never bytes


def _refuse_first(path: Path, data: pd.DataFrame, bad: pd.Series, column: str, why) -> None:
    """DataError at the first row where `bad`; `why(row)` says what is wrong with its value."""
    if bad.any():
        row = bad.idxmax()
        raise DataError(f"{_cell(path, data, row, column)}: {data.at[row, column]:,.15g} {why(row)}")  # type: ignore[str-bytes-safe]  # a CSV cell, never bytes


def _check_codes(path: Path, data: pd.DataFrame, codes: pd.DataFrame, measures: list[str]) -> None:
    """Text where a number should be is one of DfE's symbols, or the file is damaged."""
    known = set(SUPPRESSION_CODES)
    for column in measures:
        unknown = ~codes[column].str.strip().str.casefold().isin(known)
        if unknown.any():
            row = unknown.idxmax()
            raise DataError(
                f"{_cell(path, data, row, column)}: {codes.at[row, column]!r} is neither a number nor "
                f"one of DfE's symbols for a value not published ({', '.join(repr(c) for c in known if c)})"
            )


def _check_values(path: Path, data: pd.DataFrame, measures: list[str]) -> None:
    authority = data["geographic_level"] == "Local authority"
    national = data[data["geographic_level"] == "National"].drop_duplicates("period").set_index("period")
    for column in measures:
        values = data[column]
        _refuse_first(
            path, data, values < 0, column, lambda r: "is negative; expected a count or percentage of 0 or more"
        )
        if column.startswith("pc_"):
            _refuse_first(path, data, values > 100, column, lambda r: "is more than 100%")
            continue
        kind = "census" if column in CENSUS_COLUMNS else "flow"
        cap = pd.Series(np.where(authority, MAX_AUTHORITY_COUNT[kind], MAX_AREA_COUNT[kind]), index=data.index)
        _refuse_first(
            path,
            data,
            values > cap,
            column,
            lambda r, cap=cap: (
                f"is more than any English {'authority' if authority[r] else 'area'} has published (expected at most "
                f"{cap[r]:,.0f})"
            ),
        )
        england = data["period"].map(national[column]) if len(national) else pd.Series(np.nan, index=data.index)
        above = (data["geographic_level"] != "National") & (values > england)
        _refuse_first(
            path,
            data,
            above,
            column,
            lambda r, england=england: f"is more than England's {england[r]:,.15g} in the same period",
        )
    for part, whole in PARTS:
        if part in measures and whole in measures:
            _refuse_first(
                path,
                data,
                data[part] > data[whole],
                part,
                lambda r, whole=whole: (
                    f"is more than the same row's {whole} ({data.at[r, whole]:,.15g}), which includes it"  # type: ignore[str-bytes-safe]  # a CSV cell, never bytes
                ),
            )


def read_sen2(folder: str | Path) -> Sen2:
    """Read the SEN2 files in `folder` (requests.csv, assessments.csv, timeliness_20_week.csv and
    caseload.csv are needed; newplans.csv and ceased_plans.csv are read when present)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder (expected a folder holding DfE SEN2 files such as requests.csv)")
    present = {p.name.casefold(): p for p in folder.iterdir()}  # a folder or FIFO is refused by name when read
    sen2 = Sen2(folder)
    for name, spec in FILES.items():
        path = present.get(spec.filename.casefold())
        if path is None:
            if spec.required:
                raise DataError(
                    f"{folder / spec.filename}: file not found (expected DfE SEN2 "
                    f"{spec.filename}: {spec.description}, with a column "
                    f"{next(iter(spec.measures))!r})"
                )
            continue
        sen2.tables[name] = read_table(path, name)
    return sen2


# --- authorities ---------------------------------------------------------------------------------


def authorities(sen2: Sen2) -> list[str]:
    """Every local authority named in any of the files, sorted."""
    names: set[str] = set()
    for table in sen2.tables.values():
        names |= set(table.data.loc[table.data["geographic_level"] == "Local authority", "name"])
    return sorted(n for n in names if n)


def _areas(sen2: Sen2) -> dict[str, tuple[str, str]]:
    """Lookup key -> (geographic_level, name): names (any case) and LA codes."""
    keys: dict[str, tuple[str, str]] = {}
    for table in sen2.tables.values():
        d = table.data
        for level, name, new, old in zip(d["geographic_level"], d["name"], d["new_la_code"], d["old_la_code"]):
            area = (level, name)
            keys.setdefault(_normal(name), area)
            if level == "Local authority":
                keys[_normal(name)] = area  # an authority beats a region or country of the same name
                for code in (new, old):
                    if code:
                        keys.setdefault(_normal(code), area)
    return keys


def find_authority(sen2: Sen2, la: str) -> tuple[str, str]:
    """(geographic_level, published name) for an authority's name or code, a region or 'England'.
    An unknown name raises DataError with the closest names."""
    keys = _areas(sen2)
    hit = keys.get(_normal(la))
    if hit:
        return hit
    names = authorities(sen2)
    folded = {_normal(n): n for n in names}
    close = [folded[m] for m in difflib.get_close_matches(_normal(la), list(folded), n=5, cutoff=0.6)]
    close += [n for k, n in folded.items() if _normal(la) and _normal(la) in k and n not in close][: 5 - len(close)]
    hint = (
        f"; did you mean {', '.join(repr(c) for c in close)}?"
        if close
        else (f"; expected an authority's name or LA code, e.g. {names[0]!r}" if names else "")
    )
    raise DataError(f"{sen2.folder}: no local authority {la!r} in the SEN2 files{hint}")


# --- one authority's history ---------------------------------------------------------------------

HISTORY_COLUMNS = (
    "requests", "decided_to_assess", "decided_not_to_assess", "assessments", "plans_issued_in_assessments",
    "no_plan", "plans_issued", "plans_issued_ex", "plans_issued_within_20_weeks",
    "plans_issued_within_20_weeks_ex", "on_time_rate", "on_time_rate_excluding_exceptions", "new_plans",
    "plans_ceased", "plans_in_force_january",
)  # fmt: skip


def _series(sen2: Sen2, table: str, column: str, area: tuple[str, str]) -> pd.Series:
    if table not in sen2:
        return pd.Series(dtype=float)
    d = sen2[table].data
    rows = d[(d["geographic_level"] == area[0]) & (d["name"] == area[1])]
    return rows.groupby("year")[column].first() if column in rows else pd.Series(dtype=float)


def has_row(sen2: Sen2, table: str, area: tuple[str, str], year: int) -> bool:
    """Does `table` hold a headline row for the area (geographic_level, name) in `year`? A row whose
    values are suppressed is a row: DfE published it."""
    if table not in sen2:
        return False
    d = sen2[table].data
    return bool(((d["geographic_level"] == area[0]) & (d["name"] == area[1]) & (d["year"] == year)).any())


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    out = num / den
    return out.where(den > 0)


def history(sen2: Sen2, la_name: str) -> pd.DataFrame:
    """One row per calendar year for an authority (or a region, or 'England'):

    requests, decided_to_assess, decided_not_to_assess (requests.csv); assessments,
    plans_issued_in_assessments, no_plan (assessments.csv: assessments where a plan was / was not
    issued); plans_issued, plans_issued_ex, plans_issued_within_20_weeks(_ex), on_time_rate,
    on_time_rate_excluding_exceptions (timeliness_20_week.csv, rates as fractions); new_plans
    (newplans.csv); plans_ceased (ceased_plans.csv); plans_in_force_january (caseload.csv, the
    census of January of that year). NaN where not published. ``attrs['notes']`` says where a
    figure was derived rather than read; ``attrs['name']`` is the published name.

    Derivations: assessments is assess_in_year where published, else issued + not issued (which
    leaves out withdrawn and undecided assessments); an on-time rate is computed from the counts,
    or read from the published percentage when the counts are suppressed.
    """
    area = find_authority(sen2, la_name)
    get = lambda t, c: _series(sen2, t, c, area)  # noqa: E731
    frame = pd.DataFrame({
        "requests": get("requests", "requests_received_in_year"),
        "decided_to_assess": get("requests", "requests_decided_to_assess"),
        "decided_not_to_assess": get("requests", "requests_decided_not_to_assess"),
        "assessments": get("assessments", "assess_in_year"),
        "plans_issued_in_assessments": get("assessments", "assess_issued"),
        "no_plan": get("assessments", "assess_not_issued"),
        "plans_issued": get("timeliness", "plans_issued_den"),
        "plans_issued_ex": get("timeliness", "plans_issued_den_ex"),
        "plans_issued_within_20_weeks": get("timeliness", "plans_issued_within_20_weeks"),
        "plans_issued_within_20_weeks_ex": get("timeliness", "plans_issued_20_weeks_ex"),
        "new_plans": get("newplans", "new_ehc_plans"),
        "plans_ceased": get("ceased", "total_ceased"),
        "plans_in_force_january": get("caseload", "ehcplans"),
    }, dtype=float)  # fmt: skip
    notes: list[str] = []
    derived = frame["assessments"].isna() & frame["plans_issued_in_assessments"].notna() & frame["no_plan"].notna()
    if derived.any():
        frame.loc[derived, "assessments"] = frame["plans_issued_in_assessments"] + frame["no_plan"]
        notes.append(
            f"assessments in {_years(frame.index[derived])}: assess_in_year not published, "
            "so plans issued + not issued (withdrawn and undecided left out)"
        )
    frame["on_time_rate"] = _ratio(frame["plans_issued_within_20_weeks"], frame["plans_issued"])
    frame["on_time_rate_excluding_exceptions"] = _ratio(
        frame["plans_issued_within_20_weeks_ex"], frame["plans_issued_ex"]
    )
    for rate, pc in (
        ("on_time_rate", "pc_plans_issued_within_20_weeks"),
        ("on_time_rate_excluding_exceptions", "pc_plans_issued_20_weeks_ex"),
    ):
        published = get("timeliness", pc).reindex(frame.index) / 100.0
        fill = frame[rate].isna() & published.notna()
        if fill.any():
            frame.loc[fill, rate] = published[fill]
            notes.append(f"{rate} in {_years(frame.index[fill])}: counts not published, the published percentage used")
    frame = frame.reindex(columns=list(HISTORY_COLUMNS)).sort_index()
    frame.index = frame.index.astype(int)
    frame.index.name = "year"
    frame.attrs["name"] = area[1]
    frame.attrs["geographic_level"] = area[0]
    frame.attrs["notes"] = notes
    return frame


def _years(index) -> str:
    years = sorted(int(y) for y in index)
    return ", ".join(str(y) for y in years)


def fmt_count(value: float | None) -> str:
    """A count for a comment: 1,745; '?' when not published."""
    return "?" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.0f}"
