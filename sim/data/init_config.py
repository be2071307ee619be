"""A first configuration for any English authority, drafted from DfE SEN2 (`sendsim init`).

SEN2 gives an authority's flows for a calendar year — requests, refusals, assessments, plans
issued and on time, plans ceased — and its January census of plans in force. `draft_config` turns
the flows of one year into a configuration that starts on 1 January of the next, with national
defaults (docs/domain.md, configs/example.yaml) for the effort of each step, and staffing that SEN2
does not hold sized from caseload benchmarks and marked ``# NEEDS LOCAL INPUT``. The on-time rate
of that year is a calibration target, not an input: it goes in the name and the header comment.

    draft = draft_config(read_sen2("data/sen2"), "Devon", year=2021)
    draft.raw         # the configuration mapping (validates with sim.config.parse_config)
    draft.text        # the same as commented YAML
    write_config(draft, "configs/devon-init.yaml")
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from sim.config import ConfigError, parse_config
from sim.data.estimate import LATENESS_WEEKS, open_assessments, withdrawal_share
from sim.data.sen2 import DataError, Sen2, fmt_count, has_row, history

# --- national defaults and benchmarks ------------------------------------------------------------

GROWTH_BOUNDS = (-0.05, 0.25)  # a fit outside this is clipped: England ran at +18%/yr from 2021
DEFAULT_GROWTH = 0.08  # configs/example.yaml, when fewer than two years of requests are published
NATIONAL_REFUSAL = 0.24  # 22-25% (docs/domain.md)
NATIONAL_NO_PLAN = 0.055  # 5-6% (docs/domain.md)
NATIONAL_EXCEPTIONS = 0.06  # ~6% of plans (docs/domain.md)
NATIONAL_CEASING = 0.07  # ~7% of the stock a year (docs/domain.md)
CEASED_AT_REVIEW = 0.01  # the review outcome `cease` below: ceasing outside a review is the rest
TRANSFERS_IN = 0.015  # national (docs/domain.md)
OUTCOMES = {"maintain": 0.51, "amend": 0.48, "cease": 0.01}  # national 2024, "no outcome" as maintain

HOURS_PER_WEEK = 37.0
# Weeks at work a year under the absence below: 52 less 33 days' leave and 2 sickness spells of
# 4.5 days, at 5 days a week (the DfE-style 46 weeks counts no sickness and fewer leave days).
LEAVE_DAYS, SICKNESS_SPELLS, SPELL_DAYS = 33, 2.0, 4.5
WORKING_WEEKS = 52 - (LEAVE_DAYS + SICKNESS_SPELLS * SPELL_DAYS) / 5
# Staff are sized to be this busy: a queue whose servers are ~100% busy never clears, and the
# draft should start from a service that roughly keeps up (the data then says how far it does not).
TARGET_UTILISATION = 0.85
CASEWORK_SHARE = 0.8  # configs/example.yaml
EP_CASEWORK_SHARE = 0.6  # configs/example.yaml
ASSESSMENT_CASELOAD = 55  # open assessments per caseworker: national 50-60 (docs/domain.md)
REVIEW_CASELOAD = 200  # plans per caseworker: national ~200, the aim (docs/domain.md)
AGENCY_CAP_SHARE = 0.15  # agency cover at most ~15% of caseworker FTE: children's social work 17.8% (docs/domain.md)

# Devon's shape from its 2018-19 FOI quarters (configs/devon.yaml); SEN2 has no months.
SEASONAL = [1.12, 1.12, 1.13, 0.90, 1.00, 0.98, 0.98, 0.60, 0.98, 1.06, 1.10, 1.03]


def per_week_text(requests: float, refusal: float) -> str:
    return f"{requests / 52:.1f} requests a week, {1 - refusal:.0%} agreed"


# How the service behaves (docs/fidelity.md): a share of work fast-tracked while it can still be
# on time, and capacity that follows the pipeline. Calibration fits each year's capacity and
# fast-track share; the response's settings are the national defaults chosen there.
FAST_TRACK_SHARE = 0.15
CAPACITY_RESPONSE = {
    "strength": 3.0,
    "target_share": 0.55,
    "max_extra_share": 0.7,
    "max_released_share": 0.3,
    "adjustment_months": 2.0,
    "extra_hourly_cost": 44,
    "teams": ["assessment", "psychology"],
}


def _lognormal(mean: float, cv: float) -> dict[str, Any]:
    return {"dist": "lognormal", "mean": mean, "cv": cv}


# Effort of each step (hours) from configs/example.yaml: the DfE time-on-plans research split
# across the steps (docs/domain.md), with assumptions where no source splits it.
EFFORT = {
    "decision_hours": (_lognormal(3.0, 0.6), "assumption: part of DfE 11.3 h case officer + 9.9 h manager (as configs/example.yaml)"),
    "ep_advice_hours": (_lognormal(17.4, 0.5), "DfE time-on-plans research: EP + principal EP 17.4 h per plan"),
    "other_advice_weeks": ({"dist": "gamma", "mean": 6.0, "cv": 0.4}, "assumption: health, social care, school at the Reg 8 6 weeks"),
    "exception_delay_weeks": ({"dist": "uniform", "low": 4, "high": 10}, "assumption: the 4-week minimum of an exception, up to a term"),
    "draft_plan_hours": (_lognormal(9.0, 0.7), "assumption: most of DfE case officer 11.3 h + manager 9.9 h (as configs/example.yaml)"),
    "final_plan_hours": (_lognormal(3.0, 0.6), "assumption (as configs/example.yaml)"),
    "review_hours": (_lognormal(3.0, 0.6), "assumption: no source for hours per review (docs/domain.md)"),
    "review_decision_hours": (_lognormal(1.0, 0.5), "assumption"),
    "amendment_hours": (_lognormal(2.5, 0.6), "assumption"),
    "amendment_final_hours": (_lognormal(1.0, 0.5), "assumption"),
}  # fmt: skip


def _mean(key: str) -> float:
    return float(EFFORT[key][0]["mean"])


REVIEW_HOURS_PER_PLAN = (
    _mean("review_hours")
    + _mean("review_decision_hours")
    + OUTCOMES["amend"] * (_mean("amendment_hours") + _mean("amendment_final_hours"))
)


# --- the draft -----------------------------------------------------------------------------------


@dataclass
class Draft:
    """A drafted configuration: the mapping, its commented YAML and what a person should check."""

    la_name: str
    year: int
    raw: dict[str, Any]
    text: str
    from_data: list[tuple[str, str]] = field(default_factory=list)  # (field, value and source)
    needs_local_input: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # fallbacks and oddities in the data
    target_on_time_rate: float | None = None


def build_config(sen2: Sen2, la_name: str, year: int | None = None, allow_defaults: bool = False) -> dict[str, Any]:
    """The raw configuration mapping for `la_name` from SEN2 calendar year `year` (default: the
    latest with requests), starting on 1 January of the year after."""
    return draft_config(sen2, la_name, year, allow_defaults).raw


def write_config(draft: Draft, path: str | Path, force: bool = False) -> Path:
    """Write the draft's YAML; an existing file is kept unless `force`."""
    path = Path(path)
    if path.exists() and not force:
        raise FileExistsError(f"{path}: already exists (use --force to overwrite it)")
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(draft.text, encoding="utf-8")
    return path


def _num(value: Any) -> float | None:  # a cell of the table, perhaps missing
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _pct(value: float | None, digits: int = 1) -> str:
    return "?" if value is None else f"{value:.{digits}%}"


def _years_of(h: pd.DataFrame, column: str, upto: int | None = None) -> pd.Series:
    s = h[column].dropna()
    return s[s.index <= upto] if upto is not None else s


# Files whose row for the authority and year the draft reads; without one it would fall back to
# national defaults for all that the row holds, which only --allow-defaults asks for.
ROWS_NEEDED = ("assessments", "timeliness")


def draft_config(sen2: Sen2, la_name: str, year: int | None = None, allow_defaults: bool = False) -> Draft:
    """Draft the configuration for an authority (name or LA code) from SEN2 year `year`. A file with
    no row for the authority in that year is an error unless `allow_defaults`, when national
    defaults stand in for the row and the notes (and the file's header) say so."""
    h = history(sen2, la_name)
    name = h.attrs["name"]
    if h.attrs["geographic_level"] != "Local authority":
        raise DataError(
            f"{sen2.folder}: {la_name!r} is {h.attrs['geographic_level'].lower()} (expected a local authority)"
        )
    requests_file = sen2["requests"].path
    with_requests = _years_of(h, "requests")
    with_requests = with_requests[with_requests > 0]
    if with_requests.empty:
        raise DataError(
            f"{requests_file}: no requests published for {name} (column "
            "'requests_received_in_year'); cannot draft a configuration"
        )
    if year is None:
        year = int(with_requests.index.max())
    if year not in with_requests.index:
        raise DataError(
            f"{requests_file}: no requests published for {name} in {year} (column "
            f"'requests_received_in_year'); years available: "
            f"{', '.join(str(y) for y in with_requests.index)}"
        )
    row = h.loc[year]
    get = lambda c: _num(row.get(c))  # noqa: E731
    notes = list(h.attrs["notes"])
    for table in ROWS_NEEDED:
        if has_row(sen2, table, (h.attrs["geographic_level"], name), year):
            continue
        path = sen2[table].path
        if not allow_defaults:
            raise DataError(
                f"{path}: no row for {name} in {year} (expected the authority's figures of the year; "
                "to draft from national defaults instead, pass --allow-defaults)"
            )
        notes.append(f"{path.name} has no row for {name} in {year}: national defaults used (--allow-defaults)")
    from_data: list[tuple[str, str]] = []
    needs: list[str] = []
    y = year
    start = dt.date(y + 1, 1, 1)

    # demand --------------------------------------------------------------------------------------
    requests = get("requests")
    assert requests is not None  # the year is one with requests published (with_requests)
    per_month = requests / 12
    past = with_requests[with_requests.index <= y]
    if len(past) >= 2:
        slope = np.polyfit(past.index.to_numpy(dtype=float), np.log(past.to_numpy(dtype=float)), 1)[0]
        fitted = math.exp(slope) - 1
        growth = min(max(fitted, GROWTH_BOUNDS[0]), GROWTH_BOUNDS[1])
        # the index holds years (pandas-stubs type a label only as hashable)
        series = ", ".join(f"{fmt_count(v)} ({int(cast(int, k))})" for k, v in past.items())
        growth_note = f"SEN2 requests {series}: log-linear fit {fitted:+.1%}/yr"
        if growth != fitted:
            growth_note += f", clipped to {growth:+.0%} (bounds {GROWTH_BOUNDS[0]:+.0%} to {GROWTH_BOUNDS[1]:+.0%})"
            notes.append(f"requests growth {fitted:+.1%}/yr was clipped to {growth:+.0%}")
    else:
        growth = DEFAULT_GROWTH
        growth_note = f"assumption: only {len(past)} year of SEN2 requests, so configs/example.yaml's 8%"
        notes.append("growth_per_year: fewer than two years of requests, 8% assumed")
    growth = round(growth, 3)
    from_data.append(("demand.requests_per_month", f"{per_month:.1f} (SEN2 {y}: {fmt_count(requests)} requests)"))
    from_data.append(("demand.growth_per_year", f"{growth:+.1%} ({growth_note})"))

    # assessment ----------------------------------------------------------------------------------
    to_assess, not_assess = get("decided_to_assess"), get("decided_not_to_assess")
    if to_assess is not None and not_assess is not None and to_assess + not_assess > 0:
        refusal = not_assess / (to_assess + not_assess)
        refusal_note = (
            f"SEN2 {y}: {fmt_count(not_assess)} of {fmt_count(to_assess + not_assess)} decisions not to assess"
        )
    elif not_assess is not None:
        refusal = not_assess / requests
        refusal_note = (
            f"SEN2 {y}: {fmt_count(not_assess)} of {fmt_count(requests)} requests not assessed "
            "(decided-to-assess not published, so over all requests)"
        )
        notes.append(
            f"requests_decided_to_assess is not published for {y} "
            f"({_code(sen2, 'requests', 'requests_decided_to_assess', name, y)}); refusals are "
            "taken over all requests"
        )
    else:
        refusal = NATIONAL_REFUSAL
        refusal_note = "national 22-25% (docs/domain.md): SEN2 refusals not published"
        notes.append(f"refusals not published for {y}: the national 24% used")
    assessments, no_plan_n = get("assessments"), get("no_plan")
    if assessments and no_plan_n is not None:
        no_plan = no_plan_n / assessments
        no_plan_note = f"SEN2 {y}: {fmt_count(no_plan_n)} of {fmt_count(assessments)} assessments ended with no plan"
    else:
        no_plan = NATIONAL_NO_PLAN
        no_plan_note = "national 5-6% (docs/domain.md): SEN2 assessment outcomes not published"
        notes.append(f"assessment outcomes not published for {y}: the national 5.5% no-plan share used")
    issued, issued_ex = get("plans_issued"), get("plans_issued_ex")
    if issued and issued_ex is not None:
        exceptions = max(0.0, (issued - issued_ex) / issued)
        exception_note = f"SEN2 {y}: {fmt_count(issued - issued_ex)} of {fmt_count(issued)} plans had an exception"
    else:
        exceptions = NATIONAL_EXCEPTIONS
        exception_note = "national ~6% (docs/domain.md): SEN2 plans issued not published"
    refusal, no_plan, exceptions = round(refusal, 3), round(no_plan, 3), round(exceptions, 3)
    if issued is not None and no_plan_n is not None:
        refused = not_assess if not_assess is not None else requests * refusal
        withdrawal = withdrawal_share(requests, refused, issued + no_plan_n)
        withdrawal_note = (
            f"SEN2 {y}: {fmt_count(requests - refused)} requests not refused, {fmt_count(issued + no_plan_n)} "
            "assessments completed; the rest neither refused nor assessed (withdrawn or undecided)"
        )
    else:
        withdrawal, withdrawal_note = 0.0, "assumption: SEN2 assessments completed not published"
    from_data += [
        ("assessment.refusal_probability", f"{refusal:.3f} ({refusal_note})"),
        ("assessment.no_plan_probability", f"{no_plan:.3f} ({no_plan_note})"),
        ("assessment.withdrawal_probability", f"{withdrawal:.3f} ({withdrawal_note})"),
        ("assessment.exception_probability", f"{exceptions:.3f} ({exception_note})"),
    ]

    # on-time target --------------------------------------------------------------------------------
    target_ex, target = get("on_time_rate_excluding_exceptions"), get("on_time_rate")
    on_time = _years_of(h, "on_time_rate_excluding_exceptions")
    earlier = ", ".join(f"{v:.1%} ({k})" for k, v in on_time.items() if cast(int, k) < y)  # the index: years
    if target_ex is None:
        notes.append(f"no 20-week on-time rate published for {name} in {y}: no calibration target")

    # plans ---------------------------------------------------------------------------------------
    census = _years_of(h, "plans_in_force_january")
    caseload_file = sen2["caseload"].path
    if census.empty:
        raise DataError(f"{caseload_file}: no January census of plans for {name} (column 'ehcplans')")
    if y + 1 in census.index:
        census_year = y + 1
        plans_note = f"SEN2 January {census_year} census"
    else:
        before = census[census.index <= y + 1]
        census_year = int(before.index.max() if not before.empty else census.index.min())
        plans_note = f"SEN2 January {census_year} census (the January {y + 1} census is not published)"
        notes.append(f"the January {y + 1} census is not in caseload.csv for {name}: January {census_year} used")
    plans_in_force = int(round(census[census_year]))
    from_data.append(("initial_state.plans_in_force", f"{plans_in_force:,} ({plans_note})"))

    # Ceasing from the census balance of the years up to y: the stock next January is this
    # January's, plus the plans issued, less those that left (ceased, net of transfers in and
    # out and of the data's own revisions), so the draft's stock follows the census. Nothing of a
    # year after y is read.
    issued_by_year = _years_of(h, "plans_issued", upto=y)
    outflows = []
    for t in issued_by_year.index:
        if t in census.index and t + 1 in census.index and t + 1 <= y + 1 and census[t] > 0:
            outflows.append((int(t), (census[t] + issued_by_year[t] - census[t + 1]) / census[t]))
    ceased = _years_of(h, "plans_ceased", upto=y)
    if outflows:
        net = float(np.mean([o for _, o in outflows]))
        ceasing = max(0.0, net - TRANSFERS_IN + CEASED_AT_REVIEW)
        years_text = ", ".join(f"{o:.1%} ({t})" for t, o in outflows)
        ceasing_note = (
            f"SEN2 census balance, (January stock + plans issued - next January's) / stock: {years_text}; "
            f"mean {net:.1%}/yr net of transfers, so {ceasing:.1%} outside review with "
            f"{TRANSFERS_IN:.1%} transferred in and {CEASED_AT_REVIEW:.0%} ceased at review"
        )
        if not ceased.empty:
            last = int(ceased.index.max())
            stock = census.get(last, np.nan)
            ceasing_note += f" (SEN2 {last} ceased {fmt_count(ceased[last])}, {ceased[last] / stock:.1%} of the stock, before transfers)"
    elif not ceased.empty and int(ceased.index.max()) in census.index:
        last = int(ceased.index.max())
        total = ceased[last] / census[last]
        ceasing = max(0.0, total - CEASED_AT_REVIEW)
        ceasing_note = (
            f"SEN2 {last}: {fmt_count(ceased[last])} ceased over the January {last} census = {total:.1%}/yr, "
            f"less the {CEASED_AT_REVIEW:.0%} ceased at review"
        )
    else:
        ceasing = NATIONAL_CEASING - CEASED_AT_REVIEW
        ceasing_note = "national ~7%/yr (docs/domain.md), less the 1% ceased at review: no census balance or ceased plans up to the year"
        notes.append(f"no census balance or ceased plans for {name} up to {y}: the national ~7% a year used")
    ceasing = round(float(ceasing), 3)
    from_data.append(("plans.ceasing_rate_per_year", f"{ceasing:.3f} ({ceasing_note})"))

    # open assessments at the start: estimated from the year's flows (sim/data/estimate.py) ----------------
    q = target if target is not None else (target_ex if target_ex is not None else 0.5)
    completed = issued + no_plan_n if issued is not None and no_plan_n is not None else None
    estimate = open_assessments(requests, not_assess if not_assess is not None else requests * refusal, q, completed)
    lateness = LATENESS_WEEKS * (1 - q)
    bands = [
        (
            b["count"],
            b["min_age_weeks"],
            b["max_age_weeks"],
            b["stage"],
            "Little's law on SEN2 "
            + str(y)
            + f" flows ({per_week_text(requests, refusal)}; "
            + (
                f"{1 - q:.0%} late, waiting up to {lateness:.0f} weeks past week 20"
                if b["min_age_weeks"] >= 20
                else "in the normal pipeline"
            )
            + "; sim/data/estimate.py)",
        )
        for b in estimate
    ]
    open_total = sum(b[0] for b in bands)

    # staff: sized from caseload benchmarks and hours, for a person to replace -----------------------
    caseworker_hours = HOURS_PER_WEEK * CASEWORK_SHARE * WORKING_WEEKS * TARGET_UTILISATION
    ep_hours = HOURS_PER_WEEK * EP_CASEWORK_SHARE * WORKING_WEEKS * TARGET_UTILISATION
    assessed = (1 - refusal) * (1 - withdrawal)  # share of requests that reach an assessment
    assessment_hours = requests * (
        _mean("decision_hours") + assessed * (_mean("draft_plan_hours") + (1 - no_plan) * _mean("final_plan_hours"))
    )
    by_caseload = open_total / ASSESSMENT_CASELOAD
    by_hours = assessment_hours / caseworker_hours
    assessment_staff = max(1, math.ceil(max(by_caseload, by_hours)))
    review_by_caseload = plans_in_force / REVIEW_CASELOAD
    review_by_hours = plans_in_force * REVIEW_HOURS_PER_PLAN / caseworker_hours
    review_staff = max(1, math.ceil(max(review_by_caseload, review_by_hours)))
    ep_demand = requests * assessed * _mean("ep_advice_hours")
    ep_staff = max(1, math.ceil(ep_demand / ep_hours))
    caseworkers = assessment_staff + review_staff
    agency_cap = max(1, math.ceil(AGENCY_CAP_SHARE * caseworkers))
    needs += [
        f"staff: caseworkers in post by team and contract (drafted: {assessment_staff} assessment, "
        f"{review_staff} review, from caseload benchmarks)",
        f"staff: educational psychologists (drafted: {ep_staff} FTE from {_mean('ep_advice_hours')} h of advice per assessment)",
        "workforce.establishment_fte: budgeted posts by team (drafted: the staff above, no vacancies)",
        "initial_state.open_assessments: open cases by age and stage (drafted from last year's flows)",
        "initial_state.reviews_overdue_share: reviews already overdue (drafted: 10%)",
        "workforce: turnover, pay, agency cap and recruitment (drafted: national defaults)",
    ]

    # --- assemble ---------------------------------------------------------------------------------
    target_label = f"; target {target_ex:.1%} on time" if target_ex is not None else ""
    config_name = f"{name} SEND 0-25 service (from SEN2 {y}{target_label})"
    raw: dict[str, Any] = {
        "name": config_name,
        "start_date": start,
        "months": 60,
        "seed": 1,
        "demand": {"requests_per_month": round(per_month, 1), "growth_per_year": growth, "seasonal_profile": SEASONAL},
        "assessment": {
            "decision_hours": EFFORT["decision_hours"][0],
            "refusal_probability": refusal,
            "withdrawal_probability": withdrawal,
            "ep_advice_hours": EFFORT["ep_advice_hours"][0],
            "other_advice_weeks": EFFORT["other_advice_weeks"][0],
            "exception_probability": exceptions,
            "exception_delay_weeks": EFFORT["exception_delay_weeks"][0],
            "draft_plan_hours": EFFORT["draft_plan_hours"][0],
            "no_plan_probability": no_plan,
            "parental_comment_days": 15,
            "final_plan_hours": EFFORT["final_plan_hours"][0],
        },
        "plans": {
            "ceasing_rate_per_year": ceasing,
            "transfers_in_rate_per_year": TRANSFERS_IN,
            "review_interval_months": 12,
            "review_release_weeks": 6,
            "earliest_meeting_weeks": 2,
            "review_hours": EFFORT["review_hours"][0],
            "review_decision_hours": EFFORT["review_decision_hours"][0],
            "outcomes": OUTCOMES,
            "amendment_hours": EFFORT["amendment_hours"][0],
            "amendment_comment_days": 15,
            "amendment_final_hours": EFFORT["amendment_final_hours"][0],
        },
        "initial_state": {
            "plans_in_force": plans_in_force,
            "reviews_overdue_share": 0.1,
            "reviews_overdue_max_weeks": 26,
            "open_assessments": [
                {"count": c, "min_age_weeks": lo, "max_age_weeks": hi, "stage": s} for c, lo, hi, s, _ in bands
            ],
        },
        "policy": {"priority": "deadline", "allocation": "least_loaded", "fast_track_share": FAST_TRACK_SHARE},
        "teams": {
            "assessment": {"role": "caseworker", "handles": ["assessments"], "caseload_cap_per_fte": 70},
            "review": {"role": "caseworker", "handles": ["plans"]},
            "psychology": {"role": "educational_psychologist", "handles": ["ep_advice"]},
        },
        "staff": [
            _group("caseworker", "assessment", assessment_staff, CASEWORK_SHARE),
            _group("caseworker", "review", review_staff, CASEWORK_SHARE),
            _group("educational_psychologist", "psychology", ep_staff, EP_CASEWORK_SHARE),
        ],
        "workforce": _workforce(agency_cap, assessment_staff, review_staff, ep_staff),
        "scenarios": starter_scenarios(start, agency_cap),
        "history": _history(h, y),
    }
    header = [
        f"{name} SEND 0-25 service from {start.day} {start:%B %Y}, drafted by `sendsim init` from DfE SEN2 calendar year {y}.",
        f'Source: DfE SEN2 "Education, health and care plans" (OGL v3.0), read from {sen2.folder}.',
        'Each figure says where it comes from: "SEN2" (read from the files), docs/domain.md or DfE (national',
        'figures), "assumption" (no source), or NEEDS LOCAL INPUT: SEN2 does not hold it, and the service\'s',
        "own figure should replace the draft before the results are used.",
        "",
        "Calibration target (not an input; the configuration has no field for targets):",
        f"  SEN2 {y} 20-week on-time rate {_pct(target_ex)} excluding exceptions, {_pct(target)} including"
        + (f" ({fmt_count(get('plans_issued_within_20_weeks'))} of {fmt_count(issued)} plans)." if issued else "."),
    ]
    if earlier:
        header.append(f"  Earlier years (excluding exceptions): {earlier}.")
    header += [
        "",
        "Nothing published for a year after " + str(y) + " is read: the history below ends with it, so a",
        "forecast from this file can be checked against the years that follow.",
    ]
    if notes:
        header += ["", "Notes on the data:"] + [f"  - {n}" for n in notes]
    text = _render(
        raw,
        header,
        {
            "growth": growth_note,
            "requests": f"SEN2 {y}: {fmt_count(requests)} requests / 12",
            "refusal": refusal_note,
            "no_plan": no_plan_note,
            "exceptions": exception_note,
            "withdrawal": withdrawal_note,
            "plans": plans_note,
            "ceasing": ceasing_note,
            "bands": [b[4] for b in bands],
            "open_total": open_total,
            "by_caseload": by_caseload,
            "by_hours": by_hours,
            "assessment_hours": assessment_hours,
            "review_by_caseload": review_by_caseload,
            "review_by_hours": review_by_hours,
            "ep_demand": ep_demand,
            "caseworker_hours": caseworker_hours,
            "ep_hours": ep_hours,
            "requests_n": requests,
            "assessed_v": assessed,
        },
    )
    try:  # figures sim/data/sen2.py lets through can still draft a service out of the schema's bounds
        parse_config(_yaml_roundtrip(text), f"<sendsim init {name}>")
    except ConfigError as exc:
        raise DataError(
            f"{sen2.folder}: {name}, {y}: the SEN2 figures draft a service out of bounds, so one of "
            f"them cannot be right: {str(exc).split(': ', 1)[-1]}"
        ) from None
    return Draft(name, y, raw, text, from_data, needs, notes, target_ex)


# The plans a planner starts from, to edit: their sizes and dates are examples, not advice.
STARTER_POSTS = 2  # assessment caseworker posts added


def starter_scenarios(start: dt.date, agency_cap: int) -> dict[str, dict[str, Any]]:
    """Three plans to compare with the base (add posts, a cohort of starters, cap agency cover),
    dated from the draft's start, so that `sendsim compare` has something to compare at once."""
    april, july = dt.date(start.year, 4, 1), dt.date(start.year, 7, 1)
    cap = agency_cap // 2
    return {
        "add_posts": {
            "description": f"{STARTER_POSTS} more assessment caseworker posts from {april:%B %Y}, filled by "
            "ordinary recruitment (an example: edit the count and the date).",
            "actions": [{"date": april, "action": "establishment", "team": "assessment", "change_fte": STARTER_POSTS}],
        },
        "starter_cohort": {
            "description": f"{STARTER_POSTS} assessment caseworkers start together in {april:%B %Y}, hired by a "
            "campaign outside ordinary recruitment, above the posts until leavers make room "
            "(an example: edit the count and the date).",
            "actions": [{"date": april, "action": "cohort", "team": "assessment", "count": STARTER_POSTS}],
        },
        "cap_agency": {
            "description": f"Cap agency caseworker cover at {cap} FTE, half the draft's cap, from {july:%B %Y} "
            "(an example: edit the cap and the date).",
            "actions": [{"date": july, "action": "agency_cap", "role": "caseworker", "fte": cap}],
        },
    }


def _history(h: pd.DataFrame, y: int) -> dict[int, dict[str, float]]:
    """The published figures of every year up to y, for `sendsim calibrate`."""
    columns = {
        "requests_received": "requests",
        "refusals": "decided_not_to_assess",
        "assessments_ended_no_plan": "no_plan",
        "plans_issued": "plans_issued",
        "plans_issued_within_20_weeks": "plans_issued_within_20_weeks",
        "plans_in_force_january": "plans_in_force_january",
    }
    out: dict[int, dict[str, float]] = {}
    for year in sorted(int(k) for k in h.index if k <= y):
        row = {key: float(h.loc[year, column]) for key, column in columns.items() if not pd.isna(h.loc[year, column])}  # type: ignore[arg-type]  # a cell of a float table (pandas-stubs: any scalar)
        row = {k: (int(v) if float(v).is_integer() else v) for k, v in row.items()}
        if row:
            out[year] = row
    return out


def _code(sen2: Sen2, table: str, column: str, name: str, year: int) -> str:
    t = sen2[table]
    rows = t.data.index[
        (t.data["name"] == name) & (t.data["year"] == year) & (t.data["geographic_level"] == "Local authority")
    ]
    code = t.codes.at[rows[0], column] if len(rows) else ""
    return f"published as {code!r}" if code else "not in the file"


def _group(role: str, team: str, count: int, share: float) -> dict[str, Any]:
    return {
        "role": role,
        "team": team,
        "count": count,
        "fte": 1.0,
        "hours_per_week": HOURS_PER_WEEK,
        "casework_share": share,
        "contract": "permanent",
    }


def _workforce(agency_cap: int, assessment: int, review: int, eps: int) -> dict[str, Any]:
    """National defaults, as configs/example.yaml."""
    return {
        "roles": {
            "caseworker": {
                "permanent_leaving_rate_per_year": 0.16, "agency_leaving_rate_per_year": 0.5,
                "salary_per_year": 33000, "on_cost_share": 0.3, "agency_hourly_rate": 44,
                "agency_cap_fte": agency_cap,
            },
            "educational_psychologist": {
                "permanent_leaving_rate_per_year": 0.1, "agency_leaving_rate_per_year": 0.4,
                "salary_per_year": 55000, "on_cost_share": 0.3, "agency_hourly_rate": 70,
                "agency_cap_fte": 1,
            },
        },
        "permanent_notice_weeks": {"dist": "fixed", "value": 4},
        "agency_notice_weeks": {"dist": "fixed", "value": 1},
        "pressure": {"strength": 0.5,
                     # none for EPs: no source, and their open advice requests are a queue
                     "reference_caseload_per_fte": {"assessment": ASSESSMENT_CASELOAD, "review": REVIEW_CASELOAD}},
        "handover_hours_per_item": 0.25,
        "absence": {
            "sickness_spells_per_year": SICKNESS_SPELLS,
            "sickness_spell_working_days": {"dist": "gamma", "mean": SPELL_DAYS, "cv": 1.0},
            "annual_leave_days_per_year": LEAVE_DAYS,
        },
        "new_starters": {"ramp_months": 3, "ramp_productivity": 0.5, "protected_months": 6,
                         "protected_caseload_share": 0.5},
        "recruitment": {
            "enabled": True,
            "campaign_weeks": {"dist": "triangular", "low": 4, "mode": 10, "high": 24},
            "fill_probability": 0.6,
            "readvertise_weeks": 4,
            "starter_notice_weeks": {"dist": "uniform", "low": 4, "high": 12},
            "cost_per_campaign": 3000,
        },
        "agency": {"cover_lag_weeks": 6, "conversion_rate_per_month": 0.0},
        "capacity_response": CAPACITY_RESPONSE,
        "establishment_fte": {"assessment": assessment, "review": review, "psychology": eps},
    }  # fmt: skip


# --- commented YAML ------------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESERVED = {"yes", "no", "true", "false", "on", "off", "null", "y", "n", "~"}


def _flow(value: Any) -> str:
    """A value as YAML flow text, e.g. {dist: lognormal, mean: 3.0, cv: 0.6}."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, int) or not float(value).is_integer() else repr(float(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value if _PLAIN.fullmatch(value) and value.casefold() not in _RESERVED else json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as YAML")


def _line(indent: int, key: str, value: Any, comment: str = "", width: int = 44) -> str:
    text = f"{' ' * indent}{key}: {_flow(value)}"
    return f"{text.ljust(width)} # {comment}" if comment else text


def _yaml_roundtrip(text: str) -> Any:
    import yaml

    return yaml.safe_load(text)


def _render(raw: dict[str, Any], header: list[str], why: dict[str, Any]) -> str:
    d, a, p, i, w = raw["demand"], raw["assessment"], raw["plans"], raw["initial_state"], raw["workforce"]
    out = [f"# {h}".rstrip() for h in header]
    out += [
        _line(0, "name", raw["name"]),
        _line(0, "start_date", raw["start_date"], "1 January after the SEN2 year"),
        _line(0, "months", raw["months"]),
        _line(0, "seed", raw["seed"]),
        "",
        "demand:",
        _line(2, "requests_per_month", d["requests_per_month"], why["requests"]),
        _line(2, "growth_per_year", d["growth_per_year"], why["growth"]),
        "  # January..December; assumption: Devon's shape (2018-19 FOI quarters, docs/domain.md); SEN2 has no months",
        _line(2, "seasonal_profile", d["seasonal_profile"]),
        "",
        "assessment:",
        _line(2, "decision_hours", a["decision_hours"], EFFORT["decision_hours"][1], 58),
        _line(2, "refusal_probability", a["refusal_probability"], why["refusal"], 58),
        _line(2, "withdrawal_probability", a["withdrawal_probability"], why["withdrawal"], 58),
        _line(2, "ep_advice_hours", a["ep_advice_hours"], EFFORT["ep_advice_hours"][1], 58),
        _line(2, "other_advice_weeks", a["other_advice_weeks"], EFFORT["other_advice_weeks"][1], 58),
        _line(2, "exception_probability", a["exception_probability"], why["exceptions"], 58),
        _line(2, "exception_delay_weeks", a["exception_delay_weeks"], EFFORT["exception_delay_weeks"][1], 58),
        _line(2, "draft_plan_hours", a["draft_plan_hours"], EFFORT["draft_plan_hours"][1], 58),
        _line(2, "no_plan_probability", a["no_plan_probability"], why["no_plan"], 58),
        _line(2, "parental_comment_days", a["parental_comment_days"], "Reg 13(1)", 58),
        _line(2, "final_plan_hours", a["final_plan_hours"], EFFORT["final_plan_hours"][1], 58),
        "",
        "plans:",
        _line(2, "ceasing_rate_per_year", p["ceasing_rate_per_year"], why["ceasing"]),
        _line(2, "transfers_in_rate_per_year", p["transfers_in_rate_per_year"], "national (docs/domain.md)"),
        _line(2, "review_interval_months", p["review_interval_months"], "statutory"),
        _line(2, "review_release_weeks", p["review_release_weeks"], "assumption"),
        _line(2, "earliest_meeting_weeks", p["earliest_meeting_weeks"], "notice goes out 2 weeks before the meeting"),
        _line(2, "review_hours", p["review_hours"], EFFORT["review_hours"][1], 58),
        _line(2, "review_decision_hours", p["review_decision_hours"], EFFORT["review_decision_hours"][1], 58),
        _line(2, "outcomes", p["outcomes"], 'national 2024; "no outcome" counted as maintain', 58),
        _line(2, "amendment_hours", p["amendment_hours"], EFFORT["amendment_hours"][1], 58),
        _line(2, "amendment_comment_days", p["amendment_comment_days"], "15 days for comment (docs/domain.md)", 58),
        _line(2, "amendment_final_hours", p["amendment_final_hours"], EFFORT["amendment_final_hours"][1], 58),
        "",
        "initial_state:",
        _line(2, "plans_in_force", i["plans_in_force"], why["plans"]),
        _line(
            2, "reviews_overdue_share", i["reviews_overdue_share"], "assumption; NEEDS LOCAL INPUT: reviews overdue now"
        ),
        _line(2, "reviews_overdue_max_weeks", i["reviews_overdue_max_weeks"], "assumption; NEEDS LOCAL INPUT"),
        "  # NEEDS LOCAL INPUT: the open cases by age and stage from the case system. Drafted as an",
        f"  # assumption from SEN2 {raw['start_date'].year - 1}'s flows: {why['open_total']:,} open in all.",
        "  open_assessments:",
    ]
    for band, note in zip(i["open_assessments"], why["bands"]):
        out.append(f"    - {_flow(band)}".ljust(80) + f" # assumption: {note}")
    if not i["open_assessments"]:
        out[-1] = "  open_assessments: []"
    cw, ep = why["caseworker_hours"], why["ep_hours"]
    s = raw["staff"]
    out += [
        "",
        "policy:",
        _line(2, "priority", raw["policy"]["priority"], "assumption"),
        _line(2, "allocation", raw["policy"]["allocation"], "assumption"),
        _line(
            2,
            "fast_track_share",
            raw["policy"]["fast_track_share"],
            "national default (docs/fidelity.md); `sendsim calibrate` fits each year's",
        ),
        "",
        "teams:",
        _line(2, "assessment", raw["teams"]["assessment"], "cap 70: assumption (as configs/example.yaml)", 84),
        _line(2, "review", raw["teams"]["review"], "", 84),
        _line(2, "psychology", raw["teams"]["psychology"], "", 84),
        "",
        "# NEEDS LOCAL INPUT: SEN2 holds no staffing. The counts below are sized from benchmarks so that",
        "# the draft runs, and should be replaced by the staff in post (FTE, contract) by team.",
        f"# Assessment: {why['open_total']:,} open cases / {ASSESSMENT_CASELOAD} per caseworker (national 50-60, docs/domain.md) = "
        f"{why['by_caseload']:.1f}; hours: {why['assessment_hours']:,.0f} h a year",
        f"#   ({why['requests_n']:,.0f} decisions x {_mean('decision_hours')} h + {why['assessed_v']:.0%} assessed x "
        f"{_mean('draft_plan_hours')} h + plans x {_mean('final_plan_hours')} h) / {cw:,.0f} h per FTE = {why['by_hours']:.1f}; the larger, rounded up.",
        f"#   Hours per FTE: {HOURS_PER_WEEK:g} h x casework share x {WORKING_WEEKS:.1f} weeks at work (the absence below)",
        f"#   x {TARGET_UTILISATION:.0%} busy (assumption: a queue ~100% busy never clears).",
        f"# Review: {raw['initial_state']['plans_in_force']:,} plans / {REVIEW_CASELOAD} per caseworker (national aim, docs/domain.md) = "
        f"{why['review_by_caseload']:.1f}; hours: {REVIEW_HOURS_PER_PLAN:.2f} h a plan a year",
        f"#   / {cw:,.0f} h per FTE = {why['review_by_hours']:.1f}; the larger, rounded up.",
        f"# EPs: {why['ep_demand']:,.0f} h of advice a year ({why['requests_n'] * why['assessed_v']:,.0f} assessments x "
        f"{_mean('ep_advice_hours')} h, DfE) / ({HOURS_PER_WEEK:g} h x {EP_CASEWORK_SHARE} x {WORKING_WEEKS:.1f} weeks x "
        f"{TARGET_UTILISATION:.0%} = {ep:,.0f} h per FTE), rounded up.",
        "staff:",
    ]
    for group in s:
        out.append(f"  - {_flow(group)}".ljust(80) + " # NEEDS LOCAL INPUT")
    r = w["roles"]
    cwr, epr = r["caseworker"], r["educational_psychologist"]
    rec = w["recruitment"]
    out += [
        "",
        "# National defaults (as configs/example.yaml); NEEDS LOCAL INPUT: the service's own turnover, pay,",
        "# agency use, budgeted posts and recruitment record.",
        "workforce:",
        "  roles:",
        "    caseworker:",
        _line(
            6,
            "permanent_leaving_rate_per_year",
            cwr["permanent_leaving_rate_per_year"],
            "national children's social work turnover 2023 (docs/domain.md)",
            46,
        ),
        _line(6, "agency_leaving_rate_per_year", cwr["agency_leaving_rate_per_year"], "assumption", 46),
        _line(
            6,
            "salary_per_year",
            cwr["salary_per_year"],
            "assumption: ~£22-24/h permanent pay (docs/domain.md); NEEDS LOCAL INPUT",
            46,
        ),
        _line(6, "on_cost_share", cwr["on_cost_share"], "assumption", 46),
        _line(6, "agency_hourly_rate", cwr["agency_hourly_rate"], "up to £44/h (docs/domain.md)", 46),
        _line(
            6,
            "agency_cap_fte",
            cwr["agency_cap_fte"],
            f"assumption: ~{AGENCY_CAP_SHARE:.0%} of caseworker FTE; NEEDS LOCAL INPUT",
            46,
        ),
        "    educational_psychologist:",
        _line(6, "permanent_leaving_rate_per_year", epr["permanent_leaving_rate_per_year"], "assumption", 46),
        _line(6, "agency_leaving_rate_per_year", epr["agency_leaving_rate_per_year"], "assumption", 46),
        _line(6, "salary_per_year", epr["salary_per_year"], "assumption; NEEDS LOCAL INPUT", 46),
        _line(6, "on_cost_share", epr["on_cost_share"], "assumption", 46),
        _line(6, "agency_hourly_rate", epr["agency_hourly_rate"], "assumption", 46),
        _line(6, "agency_cap_fte", epr["agency_cap_fte"], "assumption; NEEDS LOCAL INPUT", 46),
        _line(2, "permanent_notice_weeks", w["permanent_notice_weeks"], "assumption: one month's notice", 46),
        _line(2, "agency_notice_weeks", w["agency_notice_weeks"], "assumption", 46),
        "  pressure:",
        _line(4, "strength", w["pressure"]["strength"], "assumption: to calibrate", 46),
        _line(
            4,
            "reference_caseload_per_fte",
            w["pressure"]["reference_caseload_per_fte"],
            "national 50-60 and 200 (docs/domain.md); none for EPs (no source)",
            76,
        ),
        _line(2, "handover_hours_per_item", w["handover_hours_per_item"], "assumption", 46),
        "  absence:",
        _line(
            4,
            "sickness_spells_per_year",
            w["absence"]["sickness_spells_per_year"],
            "9.02 days a year in spells of ~4.5 days (docs/domain.md)",
            62,
        ),
        _line(4, "sickness_spell_working_days", w["absence"]["sickness_spell_working_days"], "assumption", 62),
        _line(
            4,
            "annual_leave_days_per_year",
            w["absence"]["annual_leave_days_per_year"],
            "assumption: 25 days + 8 bank holidays",
            62,
        ),
        _line(2, "new_starters", w["new_starters"], "assumption; seed recommendation 7 protects new staff's caseloads"),
        "  recruitment:",
        _line(4, "enabled", rec["enabled"], "", 66),
        _line(4, "campaign_weeks", rec["campaign_weeks"], "public sector 4-24 weeks, median ~10 (docs/domain.md)", 66),
        _line(4, "fill_probability", rec["fill_probability"], "assumption; NEEDS LOCAL INPUT", 66),
        _line(4, "readvertise_weeks", rec["readvertise_weeks"], "assumption", 66),
        _line(4, "starter_notice_weeks", rec["starter_notice_weeks"], "docs/domain.md", 66),
        _line(4, "cost_per_campaign", rec["cost_per_campaign"], "assumption", 66),
        _line(2, "agency", w["agency"], "assumption"),
        _line(2, "capacity_response", w["capacity_response"], "national defaults (docs/fidelity.md)"),
        _line(
            2,
            "establishment_fte",
            w["establishment_fte"],
            "NEEDS LOCAL INPUT: budgeted posts; drafted as the staff above",
        ),
    ]
    out += [
        "",
        "# Starter plans to compare with the base (sendsim compare FILE --scenarios add_posts cap_agency):",
        "# each adds its dated actions to the base above. Their sizes and dates are examples: replace them",
        "# with the plans the service is weighing (NEEDS LOCAL INPUT).",
        "scenarios:",
    ]
    for scenario, plan in raw["scenarios"].items():
        out += [f"  {scenario}:", f"    description: {_flow(plan['description'])}", "    actions:"]
        out += [f"      - {_flow(action)}" for action in plan["actions"]]
    out += [
        "",
        f"# Published figures up to {raw['start_date'].year - 1} (DfE SEN2), for `sendsim calibrate`: each year's",
        "# requests, refusals (decided not to assess), assessments ended with no plan, plans issued and",
        "# issued within 20 weeks, and the January census of plans in force.",
        "history:",
    ]
    for year, row in raw["history"].items():
        out.append(f"  {year}: {_flow(row)}")
    if not raw["history"]:
        out[-1] = "history: {}"
    return "\n".join(out) + "\n"
