"""The workforce: leaving, recruitment, staff accounting, handover, pay, agency cover, new starters.

Statistical checks run replications with different seeds and put a 99% confidence interval (t)
around the mean of the per-replication estimates; the figure each is checked against is worked
out from the configuration alone.
"""

from __future__ import annotations

import bisect
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim.config import CONTRACTS, ROLES, parse_config
from sim.engine.clock import DAYS_PER_MONTH
from sim.model.service import Model
from sim.outputs.summary import wide

DAY = pd.Timedelta(days=1)
FIXED = lambda value: {"dist": "fixed", "value": value}  # noqa: E731


def ci99(sample) -> tuple[float, float]:
    sample = np.asarray(sample, dtype=float)
    half = stats.t.ppf(0.995, len(sample) - 1) * sample.std(ddof=1) / math.sqrt(len(sample))
    return sample.mean() - half, sample.mean() + half


def spell_days(result, frame: pd.DataFrame | None = None) -> tuple[pd.Series, pd.Series]:
    """Start and end of each staff spell in model days."""
    frame = result.staff if frame is None else frame
    origin = pd.Timestamp(result.config.start_date)
    return (frame["start_date"] - origin) / DAY, (frame["end_date"] - origin) / DAY


def reported_boundaries(result, w: pd.DataFrame) -> list[float]:
    """Model days of the reported months' boundaries (after any warm-up): starts, then the last end."""
    origin = pd.Timestamp(result.config.start_date)
    months = [*w.index, w.index[-1] + pd.DateOffset(months=1)]
    return [(pd.Timestamp(m) - origin) / DAY for m in months]


def resignation_rate(result, team: str, spells: pd.DataFrame | None = None) -> float:
    """Resignations per FTE-year in post, permanent staff of one team (notice is 0 in these runs,
    so time in post is time at risk)."""
    s = result.staff if spells is None else spells
    s = s[(s["team"] == team) & (s["contract"] == "permanent")]
    start, end = spell_days(result, s)
    exposure_years = (s["fte"] * (end - start)).sum() / 365.25
    return s.loc[s["ended_by"] == "resigned", "fte"].sum() / exposure_years


# --- 1. leaving and recruitment against the configuration, pressure off ---------------------------

# permanent resignations per year, and the team holding each role
RATES = {"caseworker": ("review", 2.0), "educational_psychologist": ("psychology", 1.5)}
CAMPAIGN = {"dist": "uniform", "low": 4, "high": 12}  # mean 8 weeks
FILL = 0.5
READVERTISE = 4.0
STARTER_NOTICE = {"dist": "uniform", "low": 4, "high": 8}  # mean 6 weeks
# a campaign count N ~ Geometric(p): N campaigns, N - 1 waits to re-advertise, then the notice
EXPECTED_FILL_WEEKS = 8 / FILL + (1 / FILL - 1) * READVERTISE + 6
MONTHS, OPENED_BY_MONTH, REPS = 96, 36, 20


@pytest.fixture(scope="module")
def no_feedback(make_workforce_only):
    """20 replications of 100 caseworkers (leaving at 2 a year) and 100 EPs (1.5 a year) replaced by
    recruitment, over 8 years."""
    raw = make_workforce_only(review_staff=100, psychology_staff=100, months=MONTHS)
    raw["workforce"].update(
        roles={role: {"permanent_leaving_rate_per_year": rate} for role, (_, rate) in RATES.items()},
        pressure={"strength": 0.0},
        recruitment={
            "enabled": True, "campaign_weeks": CAMPAIGN, "fill_probability": FILL,
            "readvertise_weeks": READVERTISE, "starter_notice_weeks": STARTER_NOTICE,
        },
    )  # fmt: skip
    config = parse_config(raw, "<no feedback>")
    return [sim.run(config, seed=1000 + rep, cases=False) for rep in range(REPS)]


@pytest.mark.slow
@pytest.mark.parametrize("role", sorted(RATES))
def test_staff_in_post_at_the_start_resign_at_the_configured_rate(no_feedback, role):
    """Resignations per FTE-year of the staff in post on day one: 99% CI holds the role's configured rate."""
    team, rate = RATES[role]
    rates = []
    for result in no_feedback:
        initial = result.staff[result.staff["start_date"] == pd.Timestamp(result.config.start_date)]
        rates.append(resignation_rate(result, team, initial))
    low, high = ci99(rates)
    assert low <= rate <= high, f"{role}: configured {rate}/yr outside 99% CI [{low:.3f}, {high:.3f}]"


@pytest.mark.slow
@pytest.mark.parametrize("role", sorted(RATES))
def test_realised_turnover_of_all_permanent_staff_matches_the_configured_rate(no_feedback, role):
    """Resignations per FTE-year in post, starters included: 99% CI holds the role's configured rate."""
    team, rate = RATES[role]
    rates = [resignation_rate(result, team) for result in no_feedback]
    low, high = ci99(rates)
    assert low <= rate <= high, (
        f"{role}: configured {rate}/yr outside 99% CI [{low:.3f}, {high:.3f}] of the realised turnover "
        f"(mean {np.mean(rates):.3f}); starters' time in post is under-exposed to leaving"
    )


def _opened_early(result) -> pd.DataFrame:
    v = result.vacancies
    return v[v["opened_date"] < pd.Timestamp(result.config.start_date) + pd.DateOffset(months=OPENED_BY_MONTH)]


@pytest.mark.slow
def test_vacancies_opened_early_are_all_filled_by_the_end(no_feedback):
    """No vacancy opened in the first three years is still open or withdrawn at the end (no censoring)."""
    for result in no_feedback:
        early = _opened_early(result)
        assert len(early) > 200 and {"review", "psychology"} <= set(early["team"])
        assert early["started_date"].notna().all() and not early["withdrawn"].any()
        assert (early["accepted_date"] >= early["opened_date"]).all()
        assert (early["started_date"] >= early["accepted_date"]).all()


@pytest.mark.slow
def test_time_to_fill_a_post_matches_theory(no_feedback):
    """Mean days from vacancy to starter: 99% CI holds E[campaign]/p + (1/p - 1) readvertise + E[notice];
    mean campaigns per post holds 1/p."""
    fill_days, campaigns = [], []
    for result in no_feedback:
        early = _opened_early(result)
        fill_days.append(((early["started_date"] - early["opened_date"]) / DAY).mean())
        campaigns.append(early["campaigns"].mean())
    low, high = ci99(fill_days)
    expected = EXPECTED_FILL_WEEKS * 7
    assert low <= expected <= high, f"theory {expected:.1f} days outside 99% CI [{low:.1f}, {high:.1f}]"
    low, high = ci99(campaigns)
    assert low <= 1 / FILL <= high, f"1/p = {1 / FILL} campaigns outside 99% CI [{low:.3f}, {high:.3f}]"


@pytest.mark.slow
def test_vacancies_open_when_someone_resigns(no_feedback):
    """Each resignation opens one vacancy (notice 0, recruitment on): vacancies opened = resignations, by month."""
    for result in no_feedback[:3]:
        w = wide(result.metrics)
        opened = result.vacancies.groupby(result.vacancies["opened_date"].dt.to_period("M")).size()
        resigned = sum(w[f"resignations_fte.{role}.permanent"] for role in ROLES)
        resigned.index = resigned.index.to_period("M")
        assert resigned.sum() == len(result.vacancies)
        np.testing.assert_array_equal(opened.reindex(resigned.index, fill_value=0).to_numpy(), resigned.to_numpy())


@pytest.mark.parametrize("join_date", ["2023-01-01", "2023-01-16"])
def test_a_new_starter_is_at_risk_of_leaving_from_their_first_day(make_workforce_only, join_date):
    """A cohort at 12 resignations a year: the share resigning within 16 days of joining is 1 - exp(-12 * 16 / 365.25)."""
    raw = make_workforce_only(review_staff=0, months=3)
    raw["workforce"]["roles"] = {"caseworker": {"permanent_leaving_rate_per_year": 12.0}}
    raw["actions"] = [{"date": join_date, "action": "cohort", "team": "review", "count": 400}]
    result = sim.run(parse_config(raw, "<cohort>"), seed=5, cases=False)
    joined = pd.Timestamp(join_date)
    cohort = result.staff[(result.staff["start_date"] == joined) & (result.staff["team"] == "review")]
    assert len(cohort) == 400
    window = 16
    left = ((cohort["ended_by"] == "resigned") & (cohort["end_date"] < joined + window * DAY)).sum()
    p = -math.expm1(-12.0 * window / 365.25)
    low, high = stats.binom.interval(0.999, 400, p)
    assert low <= left <= high, (
        f"{left} of 400 joining on {join_date} resigned within {window} days; expected about {400 * p:.0f} "
        f"(99.9% range {low:.0f}-{high:.0f})"
    )


# --- 2. staff accounting ---------------------------------------------------------------------------

HISTORIES = {
    "example": {},
    # heavy churn, no recruitment: agency cover, and agency workers converting to permanent posts
    "conversions": {
        "workforce.roles.caseworker.permanent_leaving_rate_per_year": 1.0,
        "workforce.roles.caseworker.agency_leaving_rate_per_year": 1.0,
        "workforce.roles.caseworker.agency_cap_fte": 4,
        "workforce.roles.educational_psychologist.permanent_leaving_rate_per_year": 1.0,
        "workforce.recruitment.enabled": False,
        "workforce.agency.conversion_rate_per_month": 0.3,
    },
    # four months of warm-up left out of the measures: the stocks at the start are those after it
    "warm_up": {"warm_up_months": 4, "workforce.roles.caseworker.permanent_leaving_rate_per_year": 0.8},
    # mid-month dated actions: a part-time cohort, a cap cut, and two teams merged
    "actions": {
        "workforce.roles.caseworker.permanent_leaving_rate_per_year": 0.8,
        "actions": [
            {"date": "2023-03-10", "action": "cohort", "team": "review", "count": 2, "fte": 0.5},
            {"date": "2023-05-20", "action": "agency_cap", "role": "caseworker", "fte": 0.5},
            {"date": "2023-08-17", "action": "merge_teams", "teams": ["assessment", "review"], "into": "casework"},
            {"date": "2023-09-09", "action": "cohort", "team": "casework", "count": 1, "contract": "agency"},
        ],
    },
}
HISTORY_MONTHS = 18


@pytest.fixture(params=sorted(HISTORIES))
def history(request, simulate):
    return simulate("example", seed=7, months=HISTORY_MONTHS, cases=False, **HISTORIES[request.param])


def _flows(w: pd.DataFrame, role: str, contract: str) -> pd.Series:
    sign = 1 if contract == "permanent" else -1
    return (
        w[f"starters_fte.{role}.{contract}"] - w[f"leavers_fte.{role}.{contract}"] + sign * w[f"conversions_fte.{role}"]
    )


def test_histories_exercise_every_flow(simulate):
    """The runs below see starters, leavers and conversions, so the identities are not vacuous."""
    w = wide(simulate("example", seed=7, months=HISTORY_MONTHS, cases=False, **HISTORIES["conversions"]).metrics)
    assert w["conversions_fte.caseworker"].sum() > 0
    assert w["starters_fte.caseworker.agency"].sum() > 0
    assert w["leavers_fte.caseworker.permanent"].sum() > 0
    w = wide(simulate("example", seed=7, months=HISTORY_MONTHS, cases=False).metrics)
    assert w["starters_fte.caseworker.permanent"].sum() > 0
    assert w["leavers_fte.caseworker.agency"].sum() > 0


def test_fte_in_post_is_start_plus_starters_minus_leavers_month_by_month(history, monthly):
    """Per role and contract: FTE at month end = previous month end (or the start) + starters - leavers +/- conversions."""
    w = monthly(history)
    for role in ROLES:
        for contract in CONTRACTS:
            stock = w[f"fte_in_post.{role}.{contract}"]
            at_start = w[f"fte_in_post_at_start.{role}.{contract}"].iloc[0]
            before = stock.shift(1)
            before.iloc[0] = at_start
            flows = _flows(w, role, contract)
            np.testing.assert_allclose(stock.to_numpy(), (before + flows).to_numpy(), rtol=0, atol=1e-9)
            assert stock.iloc[-1] == pytest.approx(at_start + flows.sum(), abs=1e-9)
            assert (stock >= -1e-12).all(), f"negative FTE for {role}.{contract}"


def test_staff_history_agrees_with_fte_in_post_at_every_month_end(history, monthly):
    """Sum of the FTE of the spells in progress at each month end equals fte_in_post, by role and contract."""
    w = monthly(history)
    staff = history.staff
    start, end = spell_days(history)
    boundaries = reported_boundaries(history, w)
    for k, month in enumerate(w.index):
        t = boundaries[k + 1]
        at_end = staff[(start < t) & (end >= t)]  # in post just before the month-end instant
        for role in ROLES:
            for contract in CONTRACTS:
                held = at_end.loc[(at_end["role"] == role) & (at_end["contract"] == contract), "fte"].sum()
                assert held == pytest.approx(w.loc[month, f"fte_in_post.{role}.{contract}"], abs=1e-9), (
                    f"{month:%Y-%m} {role}.{contract}"
                )


def test_staff_history_dates_the_months_starters_leavers_and_conversions(history, monthly):
    """Spells starting, ending and converting in each month add up to that month's flow metrics."""
    w = monthly(history)
    staff = history.staff.copy()
    start, end = spell_days(history)
    boundaries = reported_boundaries(history, w)
    staff["start_month"] = [bisect.bisect_right(boundaries, d) - 1 for d in start]
    staff["end_month"] = [bisect.bisect_right(boundaries, d) - 1 for d in end]
    first = ~staff["staff_id"].duplicated()
    starters = staff[first & (start > 0)]
    leavers = staff[staff["ended_by"].isin(["resigned", "placement ended"])]
    converted = staff[staff["ended_by"] == "converted"]
    for role in ROLES:
        for contract in CONTRACTS:
            for frame, month_col, metric in (
                (starters, "start_month", "starters_fte"),
                (leavers, "end_month", "leavers_fte"),
            ):
                rows = frame[(frame["role"] == role) & (frame["contract"] == contract)]
                by_month = rows.groupby(month_col)["fte"].sum().reindex(range(len(w)), fill_value=0.0)  # warm-up: -1
                np.testing.assert_allclose(by_month.to_numpy(), w[f"{metric}.{role}.{contract}"].to_numpy(), atol=1e-9)
        rows = converted[converted["role"] == role]
        by_month = rows.groupby("end_month")["fte"].sum().reindex(range(len(w)), fill_value=0.0)
        np.testing.assert_allclose(by_month.to_numpy(), w[f"conversions_fte.{role}"].to_numpy(), atol=1e-9)


def test_staff_history_spells_are_well_formed(history):
    """A person's spells are back to back, only a conversion starts a second spell, and everyone
    still in post has a spell ending at the end of the run."""
    staff = history.staff
    start, end = spell_days(history)
    run_end = reported_boundaries(history, wide(history.metrics))[-1]
    assert set(staff["ended_by"]) <= {"resigned", "placement ended", "converted", "in post at the end"}
    assert (end >= start).all()
    assert (end[staff["ended_by"] == "in post at the end"] == run_end).all()
    assert (end[staff["ended_by"] != "in post at the end"] <= run_end).all()
    for _, spells in staff.groupby("staff_id"):
        if len(spells) == 1:
            continue
        assert len(spells) == 2
        first, second = spells.iloc[0], spells.iloc[1]
        assert first["ended_by"] == "converted"
        assert (first["contract"], second["contract"]) == ("agency", "permanent")
        assert first["end_date"] == second["start_date"]


# --- 3. caseload pressure raises leaving, monotonely ------------------------------------------------

LOADS = (1.0, 1.5, 2.0, 3.0)
REFERENCE, TEAM_SIZE, BASE_RATE, PRESSURE_REPS = 10, 20, 0.5, 10


@pytest.fixture(scope="module")
def pressure_rates(make_workforce_only):
    """Resignations per FTE-year of a 20-person review team holding LOADS x the reference caseload."""
    rates, loads_seen = {}, {}
    for load in LOADS:
        raw = make_workforce_only(review_staff=TEAM_SIZE, months=48, plans_in_force=round(load * REFERENCE * TEAM_SIZE))
        raw["workforce"].update(
            roles={"caseworker": {"permanent_leaving_rate_per_year": BASE_RATE}},
            pressure={"strength": 1.0, "shape": "linear", "reference_caseload_per_fte": {"review": REFERENCE}},
            recruitment={
                "enabled": True,
                "campaign_weeks": FIXED(6),
                "fill_probability": 1.0,
                "starter_notice_weeks": FIXED(4),
            },
        )
        config = parse_config(raw, f"<load {load}>")
        results = [sim.run(config, seed=300 + rep, cases=False) for rep in range(PRESSURE_REPS)]
        rates[load] = np.array([resignation_rate(r, "review") for r in results])
        model = Model(config, seed=300, months=1)  # the load each person carries on day one
        loads_seen[load] = [model.workforce.pressure.load_ratio(m) for m in model.teams["review"].members]
    return rates, loads_seen


@pytest.mark.slow
def test_pressure_runs_hold_the_intended_caseloads(pressure_rates):
    """On day one every member of the review team carries the intended multiple of the reference caseload."""
    _, loads_seen = pressure_rates
    for load, seen in loads_seen.items():
        assert len(seen) == TEAM_SIZE
        np.testing.assert_allclose(seen, load)


@pytest.mark.slow
def test_turnover_rises_with_overload_monotonely(pressure_rates):
    """Mean resignations per FTE-year rise at each step up in caseload, by more than twice the combined standard error."""
    rates, _ = pressure_rates
    means = {load: r.mean() for load, r in rates.items()}
    errors = {load: r.std(ddof=1) / math.sqrt(len(r)) for load, r in rates.items()}
    assert means[LOADS[0]] > BASE_RATE * 0.9
    for lower, higher in zip(LOADS, LOADS[1:]):
        step = means[higher] - means[lower]
        combined = math.hypot(errors[lower], errors[higher])
        assert step > 2 * combined, f"{lower}x -> {higher}x: step {step:.3f} vs 2 SE {2 * combined:.3f} ({means})"
    # the linear shape: at 3x the reference the hazard is at least 1 + 1.0 * (3 - 1) = 3 times the base
    assert means[3.0] > 2.5 * BASE_RATE


@pytest.mark.slow
def test_turnover_under_overload_exceeds_turnover_at_the_reference(pressure_rates):
    """At 1.5x the reference and above, turnover exceeds the reference caseload's (Welch t-test, one-sided, 1%)."""
    rates, _ = pressure_rates
    for load in LOADS[1:]:
        test = stats.ttest_ind(rates[load], rates[1.0], equal_var=False, alternative="greater")
        assert test.pvalue < 0.01, f"{load}x vs 1x: p = {test.pvalue:.4f}"


# --- 4. handover: no case is lost when its caseworker leaves ----------------------------------------

HIGH_CHURN = {
    "workforce.roles.caseworker.permanent_leaving_rate_per_year": 4.0,
    "workforce.roles.caseworker.agency_leaving_rate_per_year": 4.0,
    "workforce.roles.educational_psychologist.permanent_leaving_rate_per_year": 4.0,
    "workforce.roles.educational_psychologist.agency_leaving_rate_per_year": 4.0,
    "workforce.handover_hours_per_item": 2.0,
}
HANDOVER_VARIANTS = {
    "uncapped": {},
    # caps bind, so much of a leaver's work waits in the unallocated pool
    "capped": {
        "teams.assessment.caseload_cap_per_fte": 12,
        "teams.review.caseload_cap_per_fte": 150,
        "teams.psychology.caseload_cap_per_fte": 2,
    },
    # the two caseworker teams merge part-way through
    "merged": {
        "actions": [
            {"date": "2023-05-17", "action": "merge_teams", "teams": ["assessment", "review"], "into": "casework"}
        ]
    },
}


class WatchedModel(Model):
    """A model that checks, at every month end, who holds each open case, plan and advice request."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.left: list = []  # everyone who has left, to check they hold nothing
        self.advice: dict[int, object] = {}
        self.problems: list[str] = []
        self.month_ends = 0
        self.items_handed_over = 0
        workforce, leave = self.workforce, self.workforce.leave

        def counted_leave(member, reason):
            self.items_handed_over += member.caseload
            leave(member, reason)
            self.left.append(member)

        workforce.leave = counted_leave
        ep_team = self.assessments.ep_team
        allocate = ep_team.allocate

        def recorded_allocate(item):
            self.advice[item.seq] = item
            allocate(item)

        ep_team.allocate = recorded_allocate

    def _month_end(self, days_in_month: float) -> None:
        super()._month_end(days_in_month)
        self.month_ends += 1
        self.problems.extend(f"month end {self.month_ends}: {p}" for p in ownership_problems(self))


def ownership_problems(model: WatchedModel) -> list[str]:
    problems = []
    in_post = {id(m) for m in model.staff}
    pooled = {name: [x for x in team._pool if not x.closed] for name, team in model.teams.items()}
    pooled_ids = {name: {id(x) for x in items} for name, items in pooled.items()}

    def check(item, team, what):
        owner = item.owner
        if owner is None:
            if id(item) not in pooled_ids[team.name]:
                problems.append(f"{what} {item.seq} has no owner and is not in {team.name}'s unallocated pool")
        elif id(owner) not in in_post or owner.gone:
            problems.append(f"{what} {item.seq} is owned by staff {owner.ident}, who has left")
        elif not any(m is owner for m in team.members):
            problems.append(f"{what} {item.seq} is owned by staff {owner.ident} of team {owner.team}, not {team.name}")
        elif owner.owned.get(item.seq) is not item:
            problems.append(f"{what} {item.seq} names staff {owner.ident} as owner, who does not hold it")

    for case in model.assessments.open.values():
        check(case, model.assessments.team, "assessment")
    for plan in model.reviews.plans:
        check(plan, model.reviews.team, "plan")
    for advice in model.advice.values():
        if not advice.closed:
            check(advice, model.assessments.ep_team, "advice request")
    for name, items in pooled.items():
        for item in items:
            if item.owner is not None:
                problems.append(f"item {item.seq} is in {name}'s pool and owned by staff {item.owner.ident}")
    for member in model.left:
        if member.gone and (member.owned or member.current is not None or member.queued):
            problems.append(
                f"staff {member.ident} has left but still holds {member.caseload} items / {member.queued} tasks"
            )
    for member in model.staff:
        for item in member.owned.values():
            if item.closed or item.owner is not member:
                problems.append(f"staff {member.ident} holds item {item.seq}, closed or owned by someone else")
        tasks = ([member.current] if member.current is not None else []) + list(member._queue)
        for task in tasks:
            if not task.item.closed and task.item.owner is not member:
                problems.append(f"staff {member.ident} has a task for item {task.item.seq}, which they do not hold")
    return problems


@pytest.fixture(params=sorted(HANDOVER_VARIANTS), scope="module")
def watched(request, make_variant):
    config = make_variant("example", **HIGH_CHURN, **HANDOVER_VARIANTS[request.param])
    model = WatchedModel(config, seed=21, months=12)
    model.run()
    return request.param, model


def test_every_open_item_is_held_by_staff_in_post_or_waits_in_the_pool(watched):
    """At every month end each open assessment, plan and advice request is owned by someone in post
    in its team, or waits unallocated; nobody who left holds anything."""
    _, model = watched
    assert model.month_ends == 12
    assert model.problems == [], "\n".join(model.problems[:10])


def test_leavers_really_did_hand_over_work(watched):
    """The runs above lose many people with caseloads, so handover is exercised (and the pool, when capped)."""
    name, model = watched
    w = wide(model.metrics.to_frame())
    assert w["leavers_fte.caseworker.permanent"].sum() >= 10
    assert model.items_handed_over > 500
    if name == "capped":
        assert (w["unallocated.review"] > 0).any() and (w["unallocated.assessment"] > 0).any()


def test_assessments_and_plans_are_conserved_under_high_churn(watched):
    """Open at start + requests = closed + open at the end; plans at start + issued + transferred - ceased = in force."""
    _, model = watched
    w = wide(model.metrics.to_frame())
    assert w["assessments_open_at_start"].iloc[0] + w["requests_received"].sum() == (
        w["refusals"].sum()
        + w["assessments_ended_no_plan"].sum()
        + w["plans_issued"].sum()
        + w["assessments_open"].iloc[-1]
    )
    assert (
        w["plans_in_force_at_start"].iloc[0] + (w["plans_issued"] + w["plans_transferred_in"] - w["plans_ceased"]).sum()
        == w["plans_in_force"].iloc[-1]
    )
    assert w["assessments_open"].iloc[-1] == len(model.assessments.open)
    assert w["plans_in_force"].iloc[-1] == len(model.reviews.plans)


# --- 5. costs are the staff history priced -------------------------------------------------------------


def test_costs_are_pay_over_the_staff_history_plus_campaigns(history, monthly):
    """Each month's pay recomputed from the spells (salary with on-costs a day, or agency hours at the
    hourly rate) plus campaigns x cost per campaign equals the cost series, to 1e-6."""
    w = monthly(history)
    workforce = history.config.workforce
    staff = history.staff
    start, end = spell_days(history)
    salary = staff["role"].map({r: t.salary_per_year * (1 + t.on_cost_share) for r, t in workforce.roles.items()})
    hourly = staff["role"].map({r: t.agency_hourly_rate for r, t in workforce.roles.items()})
    permanent = staff["contract"] == "permanent"
    daily = np.where(permanent, staff["fte"] * salary / 365.25, staff["fte"] * staff["hours_per_week"] * hourly / 7)
    boundaries = reported_boundaries(history, w)
    for k, month in enumerate(w.index):
        overlap = (np.minimum(end, boundaries[k + 1]) - np.maximum(start, boundaries[k])).clip(lower=0)
        pay_permanent = (daily * overlap)[permanent].sum()
        pay_agency = (daily * overlap)[~permanent].sum()
        recruitment = w.loc[month, "campaigns_started"] * workforce.recruitment.cost_per_campaign
        row = w.loc[month]
        assert row["cost_permanent_staff"] == pytest.approx(pay_permanent, rel=1e-6), f"{month:%Y-%m}"
        assert row["cost_agency_staff"] == pytest.approx(pay_agency, rel=1e-6, abs=1e-6), f"{month:%Y-%m}"
        assert row["cost_recruitment"] == pytest.approx(recruitment, rel=1e-6, abs=1e-6), f"{month:%Y-%m}"
        assert row["cost_total"] == pytest.approx(pay_permanent + pay_agency + recruitment, rel=1e-6), f"{month:%Y-%m}"
        if row["plans_issued"] > 0:
            assert row["cost_per_plan_issued"] == pytest.approx(row["cost_total"] / row["plans_issued"], rel=1e-9)


def test_cost_check_sees_agency_pay_and_campaigns(simulate):
    """The example history has agency staff and campaigns, so the cost check covers every part."""
    w = wide(simulate("example", seed=7, months=HISTORY_MONTHS, cases=False).metrics)
    assert (w["cost_agency_staff"] > 0).all() and w["cost_recruitment"].sum() > 0


# --- 6. agency cover within the cap -------------------------------------------------------------------

CAP_CUT = "2023-07-12"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_agency_cover_stays_within_the_cap_and_follows_a_cut(make_variant, seed):
    """Agency FTE in post never exceeds the role's cap at a month end, before a cut or (after the
    placements' week of notice) after it."""
    config = make_variant(
        "example",
        **{
            "workforce.roles.caseworker.permanent_leaving_rate_per_year": 1.5,
            "workforce.roles.educational_psychologist.permanent_leaving_rate_per_year": 1.5,
            "workforce.recruitment.fill_probability": 0.3,
            "actions": [{"date": CAP_CUT, "action": "agency_cap", "role": "caseworker", "fte": 0.5}],
            "scenarios": {},
        },
    )
    result = sim.run(config, seed=seed, months=14, cases=False)
    w = wide(result.metrics)
    cut = pd.Timestamp(CAP_CUT)
    month_end = w.index + pd.DateOffset(months=1)
    assert (w.loc[month_end <= cut, "agency_cap_fte.caseworker"] == 2).all()
    assert (w.loc[month_end > cut, "agency_cap_fte.caseworker"] == 0.5).all()
    assert w.loc[month_end <= cut, "fte_in_post.caseworker.agency"].max() >= 1.5, (
        "the cap should be reached before the cut"
    )
    settled = (month_end <= cut) | (month_end >= cut + pd.Timedelta(weeks=1))
    for role in ROLES:
        over = w[f"fte_in_post.{role}.agency"] - w[f"agency_cap_fte.{role}"]
        assert (over[settled] <= 1e-9).all(), f"{role}: agency above the cap by {over[settled].max():.2f}"
    ended = result.staff[result.staff["ended_by"] == "placement ended"]
    assert (ended["end_date"] == cut + pd.Timedelta(weeks=1)).any(), "the cut should end placements a week later"


def test_agency_cover_starting_on_the_first_of_a_month_counts_in_that_month(make_variant):
    """Cover arranged on 20 May with a 6-week lag starts on 1 July: a July starter, not in June's month-end stock."""
    config = make_variant(
        "example",
        **{
            "workforce.roles.caseworker.permanent_leaving_rate_per_year": 0,
            "workforce.roles.caseworker.agency_leaving_rate_per_year": 0,
            "workforce.roles.caseworker.agency_cap_fte": 1.2,  # the agency staff in post at the start
            "workforce.recruitment.enabled": False,
            "actions": [{"date": "2023-05-20", "action": "agency_cap", "role": "caseworker", "fte": 4}],
            "scenarios": {},
        },
    )
    result = sim.run(config, seed=2, months=8, cases=False)
    first_of_july = pd.Timestamp("2023-07-01")
    arrived = result.staff[(result.staff["contract"] == "agency") & (result.staff["start_date"] == first_of_july)]
    assert arrived["fte"].sum() >= 1
    w = wide(result.metrics)
    june, july = pd.Timestamp("2023-06-01"), first_of_july
    assert w.loc[june, "starters_fte.caseworker.agency"] == 0, "cover starting on 1 July was counted as a June starter"
    assert w.loc[june, "fte_in_post.caseworker.agency"] == pytest.approx(1.2)
    assert w.loc[july, "starters_fte.caseworker.agency"] == pytest.approx(arrived["fte"].sum())


# --- 7. new starters: ramp-up and a protected caseload ----------------------------------------------

COHORT_DATE = "2023-03-10"
RAMP_MONTHS, PROTECTED_MONTHS, CAP = 2, 4, 10


class CohortWatch(Model):
    """Records, at each month end, each member's caseload and pace."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.records: list[dict] = []

    def _month_end(self, days_in_month: float) -> None:
        super()._month_end(days_in_month)
        team = self.teams["assessment"]
        for m in team.members:
            self.records.append(
                dict(day=self.env.now, ident=m.ident, joined=m.joined_day, fte=m.fte, caseload=m.caseload, rate=m.rate,
                     full=m.casework_hours_per_day * m.available_share, pool=team.unallocated)
            )  # fmt: skip


@pytest.fixture(scope="module")
def cohort_watch(make_variant):
    config = make_variant(
        "example",
        **{
            "teams.assessment.caseload_cap_per_fte": CAP,
            "demand.requests_per_month": 120,
            "workforce.roles.caseworker.permanent_leaving_rate_per_year": 0,
            "workforce.roles.caseworker.agency_leaving_rate_per_year": 0,
            "workforce.absence.sickness_spells_per_year": 0,
            "workforce.recruitment.enabled": False,
            "workforce.new_starters": {
                "ramp_months": RAMP_MONTHS, "ramp_productivity": 0.5,
                "protected_months": PROTECTED_MONTHS, "protected_caseload_share": 0.5,
            },
            "actions": [{"date": COHORT_DATE, "action": "cohort", "team": "assessment", "count": 3}],
            "scenarios": {},
        },
    )  # fmt: skip
    model = CohortWatch(config, seed=4, months=9)
    model.run()
    records = pd.DataFrame(model.records)
    joined = model.calendar.day_of(pd.Timestamp(COHORT_DATE).date())
    records["cohort"] = records["joined"] == joined
    records["months_in"] = (records["day"] - joined) / DAYS_PER_MONTH
    return records


def test_a_cohort_has_a_protected_caseload_then_a_full_one(cohort_watch):
    """While protected the cohort hold half the cap (work is waiting, so exactly that); after it, the full cap."""
    r = cohort_watch
    assert r["cohort"].sum() > 0
    assert (r["pool"] > 0).all(), "work should be waiting unallocated throughout"
    veterans = r[~r["cohort"]]  # staff in post at the start and agency cover, some part-time
    np.testing.assert_array_equal(veterans["caseload"], np.floor(CAP * veterans["fte"] + 1e-9))
    protected = r[r["cohort"] & (r["months_in"] < PROTECTED_MONTHS)]
    after = r[r["cohort"] & (r["months_in"] > PROTECTED_MONTHS)]
    assert len(protected) >= 3 * 3 and len(after) >= 3
    assert (protected["caseload"] == CAP * 0.5).all()
    assert (after["caseload"] == CAP).all()


def test_a_cohort_works_at_the_ramp_productivity_then_at_full_pace(cohort_watch):
    """During the ramp a starter's pace is the ramp productivity times full pace; afterwards, full pace;
    staff in post at the start are never ramped."""
    r = cohort_watch
    ramping = r[r["cohort"] & (r["months_in"] < RAMP_MONTHS)]
    after = r[r["cohort"] & (r["months_in"] > RAMP_MONTHS)]
    assert len(ramping) >= 3 and len(after) >= 3
    np.testing.assert_allclose(ramping["rate"], 0.5 * ramping["full"], rtol=1e-12)
    np.testing.assert_allclose(after["rate"], after["full"], rtol=1e-12)
    veterans = r[~r["cohort"]]
    np.testing.assert_allclose(veterans["rate"], veterans["full"], rtol=1e-12)


# --- 8. sickness and leave --------------------------------------------------------------------------


@pytest.mark.slow
def test_sickness_absence_matches_the_renewal_share(make_workforce_only):
    """Each person is well for Exp(1/rate) then sick for the spell: the mean FTE off sick per FTE in post
    is D / (365.25 / rate + D), D the spell in calendar days (99% CI); annual leave FTE is FTE x days/261."""
    spells_per_year, working_days = 3.0, 10.0
    raw = make_workforce_only(review_staff=100, months=36)
    raw["workforce"]["absence"] = {
        "sickness_spells_per_year": spells_per_year,
        "sickness_spell_working_days": FIXED(working_days),
        "annual_leave_days_per_year": 30,
    }
    config = parse_config(raw, "<sickness>")
    calendar_days = working_days * 7 / 5
    expected = calendar_days / (365.25 / spells_per_year + calendar_days)
    shares = []
    for rep in range(8):
        w = wide(sim.run(config, seed=500 + rep, cases=False).metrics)
        fte = w["fte_in_post.caseworker.permanent"]
        shares.append((w["sickness_absence_fte.caseworker"] / fte).mean())
        np.testing.assert_allclose(w["annual_leave_fte.caseworker"], fte * 30 / 261, rtol=1e-12)
    low, high = ci99(shares)
    assert low <= expected <= high, f"theory {expected:.4f} outside 99% CI [{low:.4f}, {high:.4f}]"


# --- 9. measures of a team with nobody in post ------------------------------------------------------


def test_a_team_with_nobody_in_post_has_no_caseload_per_fte_utilisation_or_agency_share(make_variant):
    """With no educational psychologists at all, ratios with 0 FTE below them are missing (NaN), not 0."""
    config = make_variant(
        "example",
        **{"staff.3.count": 0, "workforce.establishment_fte.psychology": 0, "scenarios": {}, "actions": []},
    )
    w = wide(sim.run(config, seed=3, months=3, cases=False).metrics)
    assert (w["fte_in_post.psychology"] == 0).all() and (w["unallocated.psychology"] > 0).all()
    for metric in (
        "caseload_per_fte_mean.psychology",
        "caseload_per_fte_p90.psychology",
        "utilisation.psychology",
        "agency_share.educational_psychologist",
        "turnover_12_months.educational_psychologist",
    ):
        assert w[metric].isna().all(), f"{metric}: {w[metric].tolist()}"


def test_running_fte_totals_agree_with_the_staff_in_post_every_month(example_config):
    """The workforce's running FTE totals equal a fresh count of its staff at every month end."""
    from sim.model.service import Model

    raw = example_config.model_dump(mode="json")
    raw["workforce"]["roles"]["caseworker"]["permanent_leaving_rate_per_year"] = 1.5
    raw["workforce"]["agency"]["conversion_rate_per_month"] = 0.2
    raw["actions"] = [
        {"date": "2023-07-01", "action": "merge_teams", "teams": ["assessment", "review"], "into": "casework"}
    ]
    config = sim.config.parse_config(raw)
    checked = []

    class Checked(Model):
        def _month_end(self, days_in_month):
            posts = self.workforce.posts
            for name, team in self.teams.items():
                for contract in ("permanent", "agency"):
                    in_post = sum(m.fte for m in team.members if m.contract == contract)
                    staying = sum(m.fte for m in team.members if m.contract == contract and not m.resigned)
                    assert posts.in_post_fte(name, contract) == pytest.approx(in_post, abs=1e-9)
                    assert posts.staying_fte(name, contract) == pytest.approx(staying, abs=1e-9)
            for role in ("caseworker", "educational_psychologist"):
                agency = sum(m.fte for m in self.staff if m.role == role and m.contract == "agency" and not m.resigned)
                assert posts.agency_staying(role) == pytest.approx(agency, abs=1e-9)
            checked.append(self.env.now)
            super()._month_end(days_in_month)

    Checked(config, seed=5, months=18).run()
    assert len(checked) == 18
