"""Every measure sendsim reports, declared once.

A *monthly measure* is what the model counts or reads each month (sim/model/metrics.py): its id is the
name in metrics files, and a family's ids are the id, a dot and a team, role or role.contract
(`fte_in_post.caseworker.agency`). A *yearly figure* is a row of the tables a person reads: the
yearly table of a run, kpis.csv and differences.csv of an experiment, the report. Each says how a
calendar year is made from its months, and each monthly measure how authorities add up in a
national view. Files carry ids; labels are for people. The derived rates of the metrics, the
yearly tables, the calibration's moments, the national combination and the report's rows are all
made from these declarations, so adding a measure is one entry here plus the line that counts it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from sim.config import CONTRACTS, ROLES

# count: events in the month; stock: read at the month's end; amount: the month's spending;
# ratio and percentile: of the month's values
Kind = Literal["count", "stock", "amount", "ratio", "percentile"]
OverMonths = Literal["sum", "last", "ratio"]
# how authorities add up: sum; ratio (rebuilt from the summed numerator and denominator);
# weighted (a mean weighted by another family of the same suffix); none (cannot be: missing)
OverAuthorities = Literal["sum", "ratio", "weighted", "none"]
Suffix = Literal["", "team", "role", "role.contract"]


@dataclass(frozen=True)
class Measure:
    """A monthly measure: counted by the processes or read at a month's end."""

    id: str
    label: str
    unit: str
    kind: Kind
    over_authorities: OverAuthorities = "sum"
    suffix: Suffix = ""  # a family: what follows the id
    ratio_of: tuple[str, str] | None = None  # (numerator, denominator) in the same month
    weight: str | None = None  # for "weighted": the family whose values weigh each authority's
    year_to_date: bool = False  # a ratio of the counts summed since 1 January


@dataclass(frozen=True)
class Figure:
    """A yearly figure: a calendar year made from its months."""

    id: str
    label: str
    unit: str
    over_months: OverMonths
    # monthly ids added month by month before the year is made ("prefix.*": every id of a family);
    # for "ratio", the numerator and the denominator, each summed over the year
    sources: tuple[str, ...]
    per_team: bool = False  # one figure per team, `id.<team>`, from each id of the family `sources[0]`
    words: str = ""  # the figure in a sentence, where the table's label is a short form ("" : the label)

    @property
    def in_words(self) -> str:
        return self.words or self.label[0].lower() + self.label[1:]


def _counts(id_: str, label: str, unit: str, suffix: Suffix = "") -> Measure:
    return Measure(id_, label, unit, "count", suffix=suffix)


def _stock(id_: str, label: str, unit: str, suffix: Suffix = "", over: OverAuthorities = "sum") -> Measure:
    return Measure(id_, label, unit, "stock", over_authorities=over, suffix=suffix)


def _rate(id_: str, label: str, numerator: str, denominator: str, unit: str = "share", ytd: bool = False) -> Measure:
    return Measure(id_, label, unit, "ratio", "ratio", ratio_of=(numerator, denominator), year_to_date=ytd)


MONTHLY: tuple[Measure, ...] = (
    # requests and the 20-week assessment
    _counts("requests_received", "Requests", "requests"),
    _counts("decisions_made", "Decisions whether to assess", "decisions"),
    _counts("decisions_within_6_weeks", "Decisions within 6 weeks", "decisions"),
    _counts("refusals", "Requests refused", "requests"),
    _counts("requests_withdrawn", "Requests withdrawn", "requests"),
    _counts("assessments_ended_no_plan", "Assessments ended without a plan", "assessments"),
    _counts("plans_issued", "Plans issued", "plans"),
    _counts("plans_issued_within_20_weeks", "Plans issued within 20 weeks", "plans"),
    _counts("plans_issued_excluding_exceptions", "Plans issued, exceptions excluded", "plans"),
    _counts(
        "plans_issued_within_20_weeks_excluding_exceptions",
        "Plans issued within 20 weeks, exceptions excluded",
        "plans",
    ),  # fmt: skip
    _stock("assessments_open", "Assessments open", "assessments"),
    _stock("assessments_open_at_start", "Assessments open at the start", "assessments"),
    _stock("assessments_open_from_start", "Assessments open since before the start", "assessments"),
    _stock("assessments_open_over_20_weeks", "Open > 20 wks", "assessments"),
    _stock("assessments_open_over_30_weeks", "Open > 30 wks", "assessments"),
    _stock("assessments_open_over_52_weeks", "Open > 52 wks", "assessments"),
    # plans and annual reviews
    _counts("plans_ceased", "Plans ceased", "plans"),
    _counts("plans_ceased_at_review", "Plans ceased at review", "plans"),
    _counts("plans_transferred_in", "Plans transferred in", "plans"),
    _counts("reviews_due", "Annual reviews due", "reviews"),
    _counts("reviews_completed", "Annual reviews held", "reviews"),
    _counts("reviews_completed_late", "Annual reviews held late", "reviews"),
    _counts("review_decisions", "Review decisions", "reviews"),
    _counts("review_decisions_within_4_weeks", "Review decisions within 4 weeks", "reviews"),
    _counts("review_decisions_maintain", "Review decisions to maintain the plan", "reviews"),
    _counts("review_decisions_amend", "Review decisions to amend the plan", "reviews"),
    _counts("amendments_finalised", "Amended plans issued", "plans"),
    _counts("amendments_within_8_weeks", "Amended plans issued within 8 weeks", "plans"),
    _stock("plans_in_force", "Plans in force", "plans"),
    _stock("plans_in_force_at_start", "Plans in force at the start", "plans"),
    _stock("reviews_in_progress", "Annual reviews in progress", "reviews"),
    _stock("reviews_overdue", "Reviews overdue", "reviews"),
    # the derived rates (DfE's definitions: the denominator is what was completed in the period)
    _rate("on_time_rate", "On-time rate", "plans_issued_within_20_weeks", "plans_issued"),
    _rate(
        "on_time_rate_excluding_exceptions",
        "On-time rate excl. exceptions",
        "plans_issued_within_20_weeks_excluding_exceptions",
        "plans_issued_excluding_exceptions",
    ),
    _rate("decisions_within_6_weeks_rate", "Decisions within 6 weeks", "decisions_within_6_weeks", "decisions_made"),
    _rate(
        "review_decisions_within_4_weeks_rate",
        "Review decisions within 4 weeks",
        "review_decisions_within_4_weeks",
        "review_decisions",
    ),
    _rate(
        "amendments_within_8_weeks_rate",
        "Amended plans within 8 weeks",
        "amendments_within_8_weeks",
        "amendments_finalised",
    ),
    _rate("cost_per_plan_issued", "Cost per plan issued (£)", "cost_total", "plans_issued", unit="£"),
    _rate("on_time_rate_ytd", "On-time rate, year to date", "plans_issued_within_20_weeks", "plans_issued", ytd=True),
    _rate(
        "on_time_rate_ytd_excluding_exceptions",
        "On-time rate excl. exceptions, year to date",
        "plans_issued_within_20_weeks_excluding_exceptions",
        "plans_issued_excluding_exceptions",
        ytd=True,
    ),
    # the workforce
    _counts("starters_fte", "Starters", "FTE", "role.contract"),
    _counts("leavers_fte", "Leavers", "FTE", "role.contract"),
    _counts("resignations_fte", "Resignations", "FTE", "role.contract"),
    _counts("conversions_fte", "Agency staff converted to permanent", "FTE", "role"),
    _counts("campaigns_started", "Recruitment campaigns started", "campaigns"),
    _counts("campaigns_failed", "Recruitment campaigns that failed", "campaigns"),
    _counts("hires_accepted", "Offers accepted", "people"),
    _counts("vacancies_withdrawn", "Vacancies withdrawn (filled another way, or the post cut)", "vacancies"),
    _counts("actions_applied", "Dated actions applied", "actions"),
    _stock("fte_in_post", "FTE in post", "FTE", "role.contract"),
    _stock("fte_in_post_at_start", "FTE in post at the start", "FTE", "role.contract"),
    _stock("establishment_fte", "Establishment", "FTE", "team"),
    _stock("vacancies_fte", "Vacancies", "FTE", "team"),
    _stock("recruitment_pipeline_fte", "Recruitment pipeline", "FTE", "team"),
    _stock("agency_cap_fte", "Agency cap", "FTE", "role"),
    _stock("sickness_absence_fte", "Off sick", "FTE", "role"),
    _stock("annual_leave_fte", "On annual leave", "FTE", "role"),
    Measure("agency_share", "Agency share", "share", "ratio", "ratio", "role"),
    Measure("turnover_12_months", "Turnover (12 months)", "share", "ratio", "none", "role"),
    # the teams (fte_in_post.<team> is the same family as fte_in_post.<role>.<contract>)
    _stock("unallocated", "Unallocated work", "items", "team"),
    _stock("casework_hours", "Casework hours worked", "hours", "team"),
    _stock("casework_capacity_hours", "Casework hours available", "hours", "team"),
    Measure("utilisation", "Utilisation", "share", "ratio", "ratio", "team"),
    Measure(
        "caseload_per_fte_mean", "Caseload per FTE", "items per FTE", "ratio", "weighted", "team", weight="fte_in_post"
    ),  # fmt: skip
    Measure("caseload_per_fte_p90", "Caseload per FTE, 90th percentile", "items per FTE", "percentile", "none", "team"),
    Measure(
        "capacity_response_share",
        "Capacity response",
        "share",
        "ratio",
        "weighted",
        "team",
        weight="casework_capacity_hours",
    ),  # fmt: skip
    # costs
    Measure("cost_permanent_staff", "Cost of permanent staff", "£", "amount"),
    Measure("cost_agency_staff", "Cost of agency staff", "£", "amount"),
    Measure("cost_recruitment", "Cost of recruitment", "£", "amount"),
    Measure("cost_capacity_response", "Cost of the capacity response", "£", "amount"),
    Measure("cost_total", "Cost (£)", "£", "amount"),
)

CW, EP = "caseworker", "educational_psychologist"

YEARLY: tuple[Figure, ...] = (
    Figure("requests_received", "Requests", "requests", "sum", ("requests_received",)),
    Figure("plans_issued", "Plans issued", "plans", "sum", ("plans_issued",)),
    Figure("on_time_rate", "On-time rate", "share", "ratio", ("plans_issued_within_20_weeks", "plans_issued")),
    Figure("on_time_rate_excluding_exceptions", "On-time rate excl. exceptions", "share", "ratio",
           ("plans_issued_within_20_weeks_excluding_exceptions", "plans_issued_excluding_exceptions")),
    Figure("assessments_open_over_20_weeks", "Open > 20 wks", "assessments", "last", ("assessments_open_over_20_weeks",),
           words="assessments open over 20 weeks"),
    Figure("assessments_open_over_30_weeks", "Open > 30 wks", "assessments", "last", ("assessments_open_over_30_weeks",),
           words="assessments open over 30 weeks"),
    Figure("assessments_open_over_52_weeks", "Open > 52 wks", "assessments", "last", ("assessments_open_over_52_weeks",),
           words="assessments open over 52 weeks"),
    Figure("reviews_overdue", "Reviews overdue", "reviews", "last", ("reviews_overdue",)),
    Figure("plans_in_force", "Plans in force", "plans", "last", ("plans_in_force",)),
    Figure("caseload_per_fte_mean", "Caseload per FTE", "items per FTE", "last", ("caseload_per_fte_mean.*",),
           per_team=True),
    Figure("caseworker_fte_in_post", "Caseworker FTE in post", "FTE", "last",
           (f"fte_in_post.{CW}.permanent", f"fte_in_post.{CW}.agency")),
    Figure("caseworker_agency_fte", "  of which agency", "FTE", "last", (f"fte_in_post.{CW}.agency",)),
    Figure("caseworker_agency_share", "Agency share of caseworkers", "share", "last", (f"agency_share.{CW}",)),
    Figure("vacancies_fte_all_teams", "Vacancies (FTE, all teams)", "FTE", "last", ("vacancies_fte.*",)),
    Figure("caseworker_starters_fte", "Caseworker starters (FTE)", "FTE", "sum", (f"starters_fte.{CW}.permanent",)),
    Figure("caseworker_leavers_fte", "Caseworker leavers (FTE)", "FTE", "sum", (f"leavers_fte.{CW}.permanent",)),
    Figure("caseworker_turnover_12_months", "Caseworker turnover rate (12 months)", "share", "last",
           (f"turnover_12_months.{CW}",)),
    Figure("ep_fte_in_post", "EP FTE in post", "FTE", "last", (f"fte_in_post.{EP}.permanent", f"fte_in_post.{EP}.agency")),
    Figure("cost_total", "Cost (£)", "£", "sum", ("cost_total",)),
    Figure("cost_per_plan_issued", "Cost per plan issued (£)", "£", "ratio", ("cost_total", "plans_issued")),
)  # fmt: skip

BY_ID: dict[str, Measure] = {m.id: m for m in MONTHLY}
FIGURES: dict[str, Figure] = {f.id: f for f in YEARLY}

# The figures a run's headline rests on, and the target of the first (England's rate in 2022).
HEADLINE = ("on_time_rate", "assessments_open_over_30_weeks", "reviews_overdue")
ON_TIME = "on_time_rate"


def family(name: str) -> tuple[str, str]:
    """(declared id, suffix) of a monthly measure's name: `fte_in_post.caseworker.agency` is
    ("fte_in_post", "caseworker.agency"); ValueError for a name declared nowhere."""
    base, _, rest = name.partition(".")
    if base not in BY_ID or bool(rest) != bool(BY_ID[base].suffix):
        raise ValueError(f"{name!r} is not a declared measure (sim/measures.py)")
    return base, rest


def undeclared(names) -> list[str]:
    """The names among `names` that sim/measures.py does not declare."""
    bad = []
    for name in names:
        try:
            family(name)
        except ValueError:
            bad.append(name)
    return bad


def counts() -> tuple[str, ...]:
    """Every count reported each month (zero when nothing happened), families expanded."""
    names: list[str] = []
    for m in MONTHLY:
        if m.kind != "count":
            continue
        if m.suffix == "role.contract":
            names += [f"{m.id}.{role}.{contract}" for role in ROLES for contract in CONTRACTS]
        elif m.suffix == "role":
            names += [f"{m.id}.{role}" for role in ROLES]
        else:
            names.append(m.id)
    return tuple(names)


def rates(year_to_date: bool = False) -> dict[str, tuple[str, str]]:
    """Monthly rate id -> (numerator, denominator) of the same month (or, year to date, of the
    months since 1 January)."""
    return {m.id: m.ratio_of for m in MONTHLY if m.ratio_of and m.year_to_date == year_to_date}


def over_a_period(name: str) -> tuple[str, str | tuple[str, str]]:
    """How a period (a year, a calibration window) is made from a monthly measure's months:
    ("sum", id) for counts and amounts, ("last", id) for stocks, ("rate", (numerator,
    denominator)) for a declared rate, whose counts are summed first."""
    m = BY_ID[family(name)[0]]
    if m.ratio_of:
        return "rate", m.ratio_of
    if m.kind in ("count", "amount"):
        return "sum", name
    if m.kind == "stock":
        return "last", name
    raise ValueError(f"{name!r}: a {m.kind} of a month's values cannot be made into a period's")


def label(name: str) -> str:
    """What a person reads for a yearly figure or a monthly measure id, a family's included."""
    if name in FIGURES:
        return FIGURES[name].label
    base, _, rest = name.partition(".")
    if base in FIGURES and FIGURES[base].per_team:
        return f"{FIGURES[base].label} ({rest})"
    if base in BY_ID:
        return BY_ID[base].label + (f" ({rest.replace('.', ', ')})" if rest else "")
    return name


# What a yearly figure is, in the words a table's column of them needs: a snapshot or a total.
BASIS: dict[OverMonths, str] = {
    "last": "at the year's end",
    "sum": "total over the year",
    "ratio": "over the year",
}


def basis(name: str) -> str:
    """Whether a yearly figure is read at the year's end or made over its months, in words."""
    figure = FIGURES.get(name) or FIGURES[name.partition(".")[0]]
    return BASIS[figure.over_months]


def unit(name: str) -> str:
    base = name.partition(".")[0]
    declared = FIGURES.get(name) or FIGURES.get(base) or BY_ID.get(base)
    return declared.unit if declared else ""


def format_value(name: str, value: float | None, signed: bool = False) -> str:
    """A value as a person reads it, by its unit: shares as percentages, £ with thousands, counts
    whole above 10; `signed` puts + before gains (differences)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    sign = "−" if value < 0 else ("+" if signed and value > 0 else "")
    kind = unit(name)
    if kind == "share":
        return f"{sign}{abs(value):.1%}"
    if kind == "£":
        return f"{sign}£{abs(value):,.0f}"
    if abs(value) >= 10 or float(value).is_integer():
        return f"{sign}{abs(value):,.0f}"
    return f"{sign}{abs(value):,.1f}"
