"""The configuration schema: every lever of the model, in one readable place.

A configuration is YAML validated by these pydantic models. Unknown keys are errors, units are in
the field names, and a bad file raises ConfigError with one message that names the file, the
field path and what was expected. Dotted overrides (``demand.growth_per_year=0.08``) can change
any field before validation, so experiments never need code to move a lever.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, core_schema

from sim.engine.distributions import Distribution
from sim.files import ConfigError, read_yaml  # noqa: F401 - both are this module's interface too
from sim.frozen import frozen

# --- bounds --------------------------------------------------------------------------------------
# Every number has a bound no real service approaches, so that a typo or a unit slip (1e9 for 1.9,
# hours for minutes) is refused here, in one message, instead of allocating gigabytes, running for
# ever or overflowing in the middle of a run. England's whole service is the yardstick.

MAX_MONTHS = 600  # a 50-year horizon (and as much warm-up); forecasts run 5 years
MAX_REQUESTS_PER_MONTH = 100_000  # England receives ~10,000 a month; also the peak a horizon may reach
MAX_PLANS = 2_000_000  # England has ~640,000 plans in force; also any count of a year's SEN2 history
MAX_OPEN_PER_BAND = 100_000  # England has ~60,000 assessments open at a time
MAX_OPEN_ASSESSMENTS = 1_000_000  # over all bands
MAX_STAFF = 10_000  # per group, cohort or team's FTE; England has a few thousand SEND caseworkers
MAX_TOTAL_STAFF = 100_000  # over all groups: every person is simulated
MAX_HOURS_PER_WEEK = 60.0  # a working week (the Working Time Regulations cap 48 on average)
MAX_RATE_PER_YEAR = 52.0  # events a year per person or plan: weekly is no real leaving or ceasing rate
# Transfers in add plans in proportion to the stock: at 1 a year the stock would double in 9 months.
MAX_TRANSFERS_IN_PER_YEAR = 1.0
MAX_GROWTH_PER_YEAR = 1.0  # requests doubling in a year; England's fastest year was +18%
MAX_WEEKS = 520.0  # a delay, deadline or age: ten years
MAX_DAYS = 3_650.0  # ten years
MAX_MONTHS_DURATION = 120.0  # a ramp-up, protection or adjustment period: ten years
MAX_HOURS_PER_STEP = 1_000.0  # effort of one step of one case (EP advice ~17 h)
MAX_CASELOAD_PER_FTE = 10_000.0  # items per FTE (caps of 70, references of 55 and 200)
# The calibrated capacity multiplies every step's hours; it is drawn with a yearly drift on its log
# scale (Devon's sd 0.3), so its bound leaves room for any draw of a 50-year run.
MAX_EFFORT_SCALE = 1e6
MAX_MULTIPLIER = 100.0  # a seasonal month or a pressure strength: shapes, not sizes
MAX_SALARY = 1_000_000.0  # £ a year per FTE (~£33,000 for a caseworker)
MAX_HOURLY_RATE = 1_000.0  # £ an hour (agency ~£44)
MAX_COST = 10_000_000.0  # £ for one recruitment campaign (~£3,000)
MAX_SEED = 2**63 - 1  # numpy's seeds and every process agree on 64 bits
MAX_SCENARIOS = 100  # each is validated and run in full
MAX_ITEMS = 10_000  # dated actions, staff groups or teams in one file
MAX_PARAMETERS = 100  # parameters a calibration fits and each replication draws
# A standard deviation of a calibrated parameter on its fitting scale, of its estimate or of a year's
# drift (Devon's largest is 1.55, on the logit): 5 is a factor of 150.
MAX_DRIFT = 5.0
EARLIEST_DATE, LATEST_START = dt.date(1990, 1, 1), dt.date(2100, 12, 1)  # SEN2 starts 2015; EHC plans 2014
LATEST_DATE = dt.date(2200, 12, 31)  # an action or month on the horizon of the latest start

Probability = Field(ge=0.0, le=1.0)
Weeks = Annotated[float, Field(ge=0.0, le=MAX_WEEKS)]
PositiveWeeks = Annotated[float, Field(gt=0.0, le=MAX_WEEKS)]
Days = Annotated[float, Field(ge=0.0, le=MAX_DAYS)]
MonthsDuration = Annotated[float, Field(ge=0.0, le=MAX_MONTHS_DURATION)]
RatePerYear = Annotated[float, Field(ge=0.0, le=MAX_RATE_PER_YEAR)]
StaffCount = Annotated[int, Field(ge=0, le=MAX_STAFF)]
StaffFte = Annotated[float, Field(ge=0.0, le=MAX_STAFF)]
CaseloadPerFte = Annotated[float, Field(gt=0.0, le=MAX_CASELOAD_PER_FTE)]
Money = Annotated[float, Field(ge=0.0, le=MAX_COST)]
HourlyRate = Annotated[float, Field(ge=0.0, le=MAX_HOURLY_RATE)]
Multiplier = Annotated[float, Field(ge=0.0, le=MAX_MULTIPLIER)]
Count = Annotated[float, Field(ge=0.0, le=MAX_PLANS)]  # a year's published count (SEN2)
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
Date = Annotated[dt.date, Field(ge=EARLIEST_DATE, le=LATEST_DATE)]
Year = Annotated[int, Field(ge=EARLIEST_DATE.year, le=LATEST_START.year)]
Text = Annotated[str, StringConstraints(max_length=10_000)]


def _not_blank(name: str) -> str:
    if not name.strip():
        raise ValueError("expected a name, got a blank one")
    return name


def _slug(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        raise ValueError("expected a name of 1 to 64 letters, digits, '-' or '_' (it names files and dotted paths)")
    return name


Name = Annotated[str, StringConstraints(max_length=500), AfterValidator(_not_blank)]
# Names of scenarios and teams reach file names (the report's charts) and dotted paths, so they are slugs.
Slug = Annotated[str, AfterValidator(_slug)]


@dataclass(frozen=True)
class AtMost:
    """A distribution whose values (its mean, or its highest value; not its cv) are at most `limit`
    `unit`: the check, and a bound `field_bounds` reads, as `le` is for a number."""

    limit: float
    unit: str

    def check(self, dist: Distribution) -> Distribution:
        if dist.largest > self.limit:
            raise ValueError(f"expected {self.unit} of at most {self.limit:g}, got {dist.largest:g}")
        return dist

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))


HoursDist = Annotated[Distribution, AtMost(MAX_HOURS_PER_STEP, "hours")]
WeeksDist = Annotated[Distribution, AtMost(MAX_WEEKS, "weeks")]
DaysDist = Annotated[Distribution, AtMost(MAX_DAYS, "days")]

WORK_KINDS = ("assessments", "plans", "ep_advice")
Role = Literal["caseworker", "educational_psychologist"]
ROLES: tuple[Role, ...] = ("caseworker", "educational_psychologist")
CONTRACTS = ("permanent", "agency")
Contract = Literal["permanent", "agency"]
STAGES = ("decision", "advice", "draft_plan", "final_plan")


class Strict(BaseModel):
    # every float finite: an inf or NaN is never a figure a service has. Frozen: a configuration is
    # what was read, for the whole of a run; a lever changed is a validated copy (`replaced`; the
    # model's levers during a run, sim/model/levers.py), never an assignment. Frozen all the way
    # down: once validated, its dictionaries and lists are read-only too (sim/frozen.py), so
    # nothing changes one in place either; this check runs before a model's own `after` checks,
    # which therefore read and never change its containers.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)

    @model_validator(mode="after")
    def _read_only(self) -> Self:
        for name, value in self.__dict__.items():
            self.__dict__[name] = frozen(value)
        return self

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy, its updated fields read-only as a validated model's are (they are not validated)."""
        if update is not None:
            update = {name: frozen(value) for name, value in update.items()}
        return super().model_copy(update=update, deep=deep)


class Demand(Strict):
    requests_per_month: float = Field(ge=0.0, le=MAX_REQUESTS_PER_MONTH)
    growth_per_year: float = Field(0.0, gt=-1.0, le=MAX_GROWTH_PER_YEAR)
    # January..December multipliers; rescaled to average 1 so requests_per_month stays the mean.
    seasonal_profile: list[Annotated[float, Field(gt=0.0, le=MAX_MULTIPLIER)]] = Field(
        default_factory=lambda: [1.0] * 12
    )
    # Observed counts by month ("2023-01": 180); these months use the count instead of a draw.
    history: dict[str, Annotated[int, Field(ge=0, le=MAX_REQUESTS_PER_MONTH)]] = Field(default_factory=dict)

    @field_validator("seasonal_profile")
    @classmethod
    def _twelve_months(cls, v: list[float]) -> list[float]:
        if len(v) != 12:
            raise ValueError(f"expected 12 monthly multipliers (January to December), got {len(v)}")
        mean = sum(v) / 12
        return [x / mean for x in v]

    @field_validator("history")
    @classmethod
    def _month_keys(cls, v: dict[str, int]) -> dict[str, int]:
        for key in v:
            try:
                month = dt.date.fromisoformat(f"{key}-01")
            except ValueError:
                raise ValueError(f"expected months written YYYY-MM, got {key!r}") from None
            if not EARLIEST_DATE <= month <= LATEST_DATE:
                raise ValueError(f"expected months from {EARLIEST_DATE:%Y-%m} to {LATEST_DATE:%Y-%m}, got {key!r}")
        return v


class Assessment(Strict):
    """The 20-week EHC needs assessment; deadlines are the statutory ones in docs/domain.md."""

    decision_hours: HoursDist
    refusal_probability: float = Probability
    # Of the requests not refused, the share withdrawn (or never decided) before an assessment:
    # SEN2 counts such requests, neither refused nor assessed, only from 2022.
    withdrawal_probability: float = Field(0.0, ge=0.0, le=1.0)
    ep_advice_hours: HoursDist
    # Health, social care and school advice arrive from outside; this is the slowest of them.
    other_advice_weeks: WeeksDist
    exception_probability: float = Probability
    exception_delay_weeks: WeeksDist
    draft_plan_hours: HoursDist
    no_plan_probability: float = Probability
    parental_comment_days: Days = 15.0
    final_plan_hours: HoursDist
    # Multiplies the hours of every step above (the caseworkers' and the EPs'): the authority's
    # effort per assessment relative to these figures, or equally the share of its staff's time
    # that assessments really get. What calibration fits as the service's effective capacity.
    effort_scale: float = Field(1.0, gt=0.0, le=MAX_EFFORT_SCALE)
    decision_deadline_weeks: PositiveWeeks = 6.0
    advice_deadline_weeks: PositiveWeeks = 6.0  # counted from the request for advice
    draft_deadline_weeks: PositiveWeeks = 16.0
    final_deadline_weeks: PositiveWeeks = 20.0


class ReviewOutcomes(Strict):
    maintain: float = Probability
    amend: float = Probability
    cease: float = Probability

    @model_validator(mode="after")
    def _sum_to_one(self):
        total = self.maintain + self.amend + self.cease
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"expected maintain + amend + cease = 1, got {total:g}")
        return self


class Plans(Strict):
    """The stock of plans in force and their annual reviews."""

    # Ceasing outside a review (moving away, leaving education); review outcomes cease more.
    ceasing_rate_per_year: RatePerYear
    transfers_in_rate_per_year: float = Field(ge=0.0, le=MAX_TRANSFERS_IN_PER_YEAR)
    review_interval_months: int = Field(12, ge=1, le=int(MAX_MONTHS_DURATION))
    # Review work enters the caseworker's queue this long before the review is due.
    review_release_weeks: Weeks = 6.0
    # Meetings are not held earlier than this before the due date, so cycles do not drift early.
    earliest_meeting_weeks: Weeks = 2.0
    review_hours: HoursDist
    review_decision_hours: HoursDist
    decision_deadline_weeks: PositiveWeeks = 4.0
    outcomes: ReviewOutcomes
    amendment_hours: HoursDist
    amendment_comment_days: Days = 15.0
    amendment_final_hours: HoursDist
    amendment_deadline_weeks: PositiveWeeks = 8.0


class OpenAssessments(Strict):
    count: int = Field(ge=0, le=MAX_OPEN_PER_BAND)
    min_age_weeks: Weeks
    max_age_weeks: Weeks
    stage: Literal["decision", "advice", "draft_plan", "final_plan"]

    @model_validator(mode="after")
    def _ordered(self):
        if self.max_age_weeks < self.min_age_weeks:
            raise ValueError("expected min_age_weeks <= max_age_weeks")
        return self


class InitialState(Strict):
    plans_in_force: int = Field(0, ge=0, le=MAX_PLANS)
    # Share of the plans whose review is already overdue at the start, and by how much at most.
    reviews_overdue_share: float = Field(0.0, ge=0.0, le=1.0)
    reviews_overdue_max_weeks: Weeks = 26.0
    open_assessments: list[OpenAssessments] = Field(default_factory=list, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _open_in_all(self):
        total = sum(band.count for band in self.open_assessments)
        if total > MAX_OPEN_ASSESSMENTS:
            raise ValueError(f"expected at most {MAX_OPEN_ASSESSMENTS:,} open assessments in all, got {total:,}")
        return self


class Policy(Strict):
    # Which waiting work goes first, both in the unallocated pool and in a caseworker's own queue.
    priority: Literal["deadline", "oldest", "fifo", "triage"] = "deadline"
    # Share of requests fast-tracked: their work goes first, earliest deadline first, while it can
    # still meet its statutory deadline; the rest goes in the priority order. 0: the priority
    # order alone. Real services sit between: they fast-track some new cases while the backlog
    # is worked in order (docs/fidelity.md). Ignored under triage.
    fast_track_share: float = Field(0.0, ge=0.0, le=1.0)
    allocation: Literal["least_loaded", "round_robin"] = "least_loaded"


class Team(Strict):
    role: Role = "caseworker"
    handles: list[Literal["assessments", "plans", "ep_advice"]]
    # Items (open assessments + plans, or advice requests) per FTE; beyond it work waits unallocated.
    caseload_cap_per_fte: CaseloadPerFte | None = None


class StaffGroup(Strict):
    role: Role = "caseworker"
    team: Slug
    count: StaffCount
    fte: float = Field(1.0, gt=0.0, le=1.0)
    hours_per_week: float = Field(37.0, gt=0.0, le=MAX_HOURS_PER_WEEK)
    # Share of paid hours spent on casework (the rest: supervision, training, admin).
    casework_share: float = Field(0.8, gt=0.0, le=1.0)
    contract: Contract = "permanent"


# --- the workforce -------------------------------------------------------------------------------


class RoleTerms(Strict):
    """Leaving and pay for one role."""

    permanent_leaving_rate_per_year: RatePerYear = 0.0
    agency_leaving_rate_per_year: RatePerYear = 0.0
    salary_per_year: float = Field(0.0, ge=0.0, le=MAX_SALARY)  # permanent FTE, before on-costs
    on_cost_share: float = Field(0.0, ge=0.0, le=1.0)  # employer's national insurance, pension, ...
    agency_hourly_rate: HourlyRate = 0.0
    agency_cap_fte: StaffFte = 0.0  # most agency FTE covering vacancies; 0: no agency cover


class Pressure(Strict):
    """Caseload pressure: caseload relative to the team's reference raises leaving (and slows work).

    x = caseload / (reference caseload per FTE x FTE). The leaving hazard is multiplied by
    1 + strength * max(0, x - 1) (linear) or exp(strength * (x - 1)) (exponential). Strength 0
    turns the feedback off.
    """

    strength: Multiplier = 0.0
    shape: Literal["linear", "exponential"] = "linear"
    reference_caseload_per_fte: dict[Slug, CaseloadPerFte] = Field(default_factory=dict)  # by team
    # productivity = max(min_productivity, 1 - productivity_strength * max(0, x - 1))
    productivity_strength: Multiplier = 0.0
    min_productivity: float = Field(0.5, gt=0.0, le=1.0)


class Absence(Strict):
    # spells start at this rate while a person is well, so a year holds slightly fewer of them
    sickness_spells_per_year: RatePerYear = 0.0
    sickness_spell_working_days: DaysDist = {"dist": "fixed", "value": 4.5}  # type: ignore[assignment]  # validate_default makes it a Distribution
    annual_leave_days_per_year: float = Field(0.0, ge=0.0, lt=261.0)  # working days, bank holidays in


class NewStarters(Strict):
    ramp_months: MonthsDuration = 0.0
    ramp_productivity: float = Field(1.0, gt=0.0, le=1.0)
    protected_months: MonthsDuration = 0.0
    protected_caseload_share: float = Field(1.0, gt=0.0, le=1.0)  # of the team's caseload cap


class Recruitment(Strict):
    """A vacancy opens a campaign; a campaign fills or fails; a failed one is re-advertised."""

    campaign_weeks: WeeksDist = {"dist": "fixed", "value": 10.0}  # type: ignore[assignment]  # validate_default makes it a Distribution
    fill_probability: float = Field(1.0, ge=0.0, le=1.0)
    readvertise_weeks: Weeks = 4.0
    starter_notice_weeks: WeeksDist = {"dist": "fixed", "value": 8.0}  # type: ignore[assignment]  # validate_default makes it a Distribution
    cost_per_campaign: Money = 0.0
    hire_fte: float = Field(1.0, gt=0.0, le=1.0)
    enabled: bool = False  # off: vacancies stay vacant unless a dated action fills them


class Agency(Strict):
    cover_lag_weeks: Weeks = 6.0  # from a vacancy opening to agency cover starting
    conversion_rate_per_month: float = Field(0.0, ge=0.0, le=1.0)  # agency workers taking a permanent post


class CapacityResponse(Strict):
    """Capacity that follows the workload (sim/model/response.py; docs/domain.md, how services respond to
    pressure): extra capacity when a team's pipeline is longer than it aims for (overtime, a
    backlog team, agency bought in), time released to other duties when it is shorter.

    x = (open work - inflow x target_share x deadline) / (inflow x deadline), over the kinds of work
    a team handles; the team's capacity moves towards 1 + clip(strength x x, -max_released_share,
    max_extra_share), closing 1/adjustment_months of the gap a month. Strength 0 turns it off.
    """

    strength: Multiplier = 0.0
    # the pipeline a team aims to hold, as a share of the statutory time its work is allowed
    target_share: float = Field(0.55, gt=0.0, le=MAX_MULTIPLIER)
    max_extra_share: Multiplier = 0.7
    max_released_share: float = Field(0.3, ge=0.0, lt=1.0)
    adjustment_months: float = Field(2.0, ge=1.0, le=MAX_MONTHS_DURATION)
    extra_hourly_cost: HourlyRate = 0.0  # what an extra hour of casework costs (agency rate)
    teams: list[Slug] | None = Field(None, max_length=MAX_ITEMS)  # the teams that respond; default: every team


class Workforce(Strict):
    roles: dict[Role, RoleTerms] = Field(default_factory=lambda: {r: RoleTerms() for r in ROLES})
    permanent_notice_weeks: WeeksDist = {"dist": "fixed", "value": 4.0}  # type: ignore[assignment]  # validate_default makes it a Distribution
    agency_notice_weeks: WeeksDist = {"dist": "fixed", "value": 1.0}  # type: ignore[assignment]  # validate_default makes it a Distribution
    pressure: Pressure = Field(default_factory=Pressure)
    handover_hours_per_item: float = Field(0.0, ge=0.0, le=MAX_HOURS_PER_STEP)
    absence: Absence = Field(default_factory=Absence)
    new_starters: NewStarters = Field(default_factory=NewStarters)
    recruitment: Recruitment = Field(default_factory=Recruitment)
    agency: Agency = Field(default_factory=Agency)
    capacity_response: CapacityResponse = Field(default_factory=CapacityResponse)
    # budgeted FTE by team; a team left out has its staff in post at the start as establishment
    establishment_fte: dict[Slug, StaffFte] = Field(default_factory=dict)

    @field_validator("roles")
    @classmethod
    def _every_role(cls, v: dict[Role, RoleTerms]) -> dict[Role, RoleTerms]:
        return {**v, **{role: RoleTerms() for role in ROLES if role not in v}}


# --- hiring plans: dated actions -----------------------------------------------------------------


class _Action(Strict):
    date: Date


class EstablishmentChange(_Action):
    action: Literal["establishment"]
    team: Slug
    change_fte: Annotated[float, Field(ge=-MAX_STAFF, le=MAX_STAFF)] | None = None
    set_fte: StaffFte | None = None

    @model_validator(mode="after")
    def _one_of(self):
        if (self.change_fte is None) == (self.set_fte is None):
            raise ValueError("expected exactly one of change_fte or set_fte")
        return self


class Cohort(_Action):
    """n hires starting on a date (an overseas cohort, a campaign run outside the model)."""

    action: Literal["cohort"]
    team: Slug
    count: int = Field(ge=1, le=MAX_STAFF)
    fte: float = Field(1.0, gt=0.0, le=1.0)
    contract: Contract = "permanent"


class AgencyCap(_Action):
    action: Literal["agency_cap"]
    role: Role = "caseworker"
    fte: StaffFte


class AgencyConversion(_Action):
    action: Literal["agency_conversion"]
    rate_per_month: float = Field(ge=0.0, le=1.0)


class CaseloadCap(_Action):
    action: Literal["caseload_cap"]
    team: Slug
    per_fte: CaseloadPerFte | None


class MergeTeams(_Action):
    action: Literal["merge_teams"]
    teams: list[Slug] = Field(min_length=2, max_length=MAX_ITEMS)
    into: Slug
    caseload_cap_per_fte: CaseloadPerFte | None = None


class SetParameter(_Action):
    """From `date`, set any numeric lever by its dotted path (e.g. demand.growth_per_year)."""

    action: Literal["set"]
    parameter: Annotated[str, StringConstraints(max_length=500)]
    value: float


Action = Annotated[
    EstablishmentChange | Cohort | AgencyCap | AgencyConversion | CaseloadCap | MergeTeams | SetParameter,
    Field(discriminator="action"),
]
# where a `set` may reach: levers the model reads when it uses them
SETTABLE_SECTIONS = ("demand", "assessment", "plans", "workforce", "teams")


class HistoryYear(Strict):
    """One calendar year of an authority's published figures (DfE SEN2), as counted there."""

    requests_received: Count | None = None
    refusals: Count | None = None  # requests decided not to assess
    assessments_ended_no_plan: Count | None = None
    plans_issued: Count | None = None
    plans_issued_within_20_weeks: Count | None = None
    plans_in_force_january: Count | None = None  # the census of January of that year

    @model_validator(mode="after")
    def _consistent(self):
        if self.plans_issued is not None and self.plans_issued_within_20_weeks is not None:
            if self.plans_issued_within_20_weeks > self.plans_issued:
                raise ValueError("expected plans_issued_within_20_weeks <= plans_issued")
        if self.requests_received is not None and self.refusals is not None and self.refusals > self.requests_received:
            raise ValueError("expected refusals <= requests_received")
        return self


SCALES = ("log", "logit", "linear")
Scale = Literal["log", "logit", "linear"]


class InputUncertainty(Strict):
    """What the calibration does not know about its parameters: each replication draws them from
    a multivariate normal on their fitting scale (log for positive ones, logit for shares),
    centred on the estimates, so the spread of outcomes covers the parameters as well as chance."""

    parameters: list[Annotated[str, StringConstraints(max_length=500)]] = Field(min_length=1, max_length=MAX_PARAMETERS)
    scales: list[Scale]
    estimates: list[float]  # on the natural scale, as in the rest of the configuration
    covariance: list[list[float]]  # on the fitting scale: what the fit leaves unknown
    # How far each parameter moves from one year to the next (standard deviation on its fitting
    # scale; 0 for one that does not change): each January from drift_from on, every replication
    # takes one more step, so the range of outcomes widens with the horizon.
    drift: list[Annotated[float, Field(ge=0.0, le=MAX_DRIFT)]] | None = None
    drift_from: Date | None = None

    @model_validator(mode="after")
    def _shapes(self):
        n = len(self.parameters)
        if len(self.scales) != n or len(self.estimates) != n:
            raise ValueError(f"expected one scale and one estimate per parameter ({n})")
        if len(self.covariance) != n or any(len(row) != n for row in self.covariance):
            raise ValueError(f"expected a {n} x {n} covariance matrix")
        if self.drift is not None and len(self.drift) != n:
            raise ValueError(f"expected one drift per parameter ({n})")
        if (self.drift is None) != (self.drift_from is None):
            raise ValueError("expected drift and drift_from together")
        if self.drift_from is not None and (self.drift_from.day, self.drift_from.month) != (1, 1):
            raise ValueError("expected drift_from to be a 1 January")
        import numpy as np

        cov = np.asarray(self.covariance, dtype=float)
        if np.abs(cov).max() > MAX_DRIFT**2:
            raise ValueError(f"expected variances of at most {MAX_DRIFT**2:g} on the fitting scale")
        if not np.all(np.isfinite(cov)) or not np.allclose(cov, cov.T) or np.linalg.eigvalsh(cov).min() < -1e-12:
            raise ValueError("expected a finite, symmetric, positive semi-definite covariance matrix")
        for scale, value in zip(self.scales, self.estimates):
            if (scale == "log" and value <= 0) or (scale == "logit" and not 0 < value < 1):
                raise ValueError(f"expected estimates inside the range of their {scale} scale, got {value}")
        return self


class CalibrationRecord(Strict):
    """How the configuration was calibrated: written by `sendsim calibrate`, read by the report."""

    source: Text
    method: Text
    years: list[int] = Field(default_factory=list)
    estimates: dict[str, float] = Field(default_factory=dict)
    objective: float
    degrees_of_freedom: int = Field(ge=0, le=MAX_ITEMS)
    p_value: float = Probability
    rejected: bool
    verdict: Text  # one plain sentence


class Scenario(Strict):
    description: Text = ""
    overrides: dict[str, Any] = Field(default_factory=dict)  # dotted keys, applied before the run
    actions: list[Action] = Field(default_factory=list, max_length=MAX_ITEMS)  # added to the base's dated actions


class Config(Strict):
    name: Name
    start_date: dt.date = Field(ge=EARLIEST_DATE, le=LATEST_START)
    months: int = Field(60, ge=1, le=MAX_MONTHS)
    # Months simulated from start_date before the reported period begins: they let the queues
    # and allocations settle from the initial state, and are left out of every measure.
    warm_up_months: int = Field(0, ge=0, le=MAX_MONTHS)
    seed: Seed = 0
    demand: Demand
    assessment: Assessment
    plans: Plans
    initial_state: InitialState = Field(default_factory=InitialState)
    policy: Policy = Field(default_factory=Policy)
    teams: dict[Slug, Team] = Field(max_length=MAX_ITEMS)
    staff: list[StaffGroup] = Field(max_length=MAX_ITEMS)
    workforce: Workforce = Field(default_factory=Workforce)
    actions: list[Action] = Field(default_factory=list, max_length=MAX_ITEMS)
    scenarios: dict[Slug, Scenario] = Field(default_factory=dict, max_length=MAX_SCENARIOS)
    scenario: Slug | None = None  # the scenario this configuration was resolved for, if any
    # Published figures of the years before start_date (what `sendsim init` read), for calibration.
    history: dict[Year, HistoryYear] = Field(default_factory=dict)
    uncertainty: InputUncertainty | None = None
    calibration: CalibrationRecord | None = None

    @field_validator("start_date")
    @classmethod
    def _first_of_month(cls, v: dt.date) -> dt.date:
        if v.day != 1:
            raise ValueError("expected the first day of a month, e.g. 2023-01-01")
        return v

    @field_validator("scenarios")
    @classmethod
    def _base_is_reserved(cls, v: dict[str, Scenario]) -> dict[str, Scenario]:
        if "base" in v:
            raise ValueError("'base' is the configuration without a scenario; expected another name")
        return v

    @model_validator(mode="after")
    def _within_bounds(self):
        people = sum(group.count for group in self.staff)
        if people > MAX_TOTAL_STAFF:
            raise ValueError(f"staff: expected at most {MAX_TOTAL_STAFF:,} people in all, got {people:,}")
        check_horizon(self)
        return self

    @model_validator(mode="after")
    def _teams_cover_work(self):
        # Staff naming a team that is not there first: the dangling name is the clearest message.
        for i, group in enumerate(self.staff):
            if group.team not in self.teams:
                raise ValueError(f"staff[{i}]: expected team to be one of {sorted(self.teams)}, got {group.team!r}")
            if group.role != self.teams[group.team].role:
                raise ValueError(f"staff[{i}]: expected role {self.teams[group.team].role} for team {group.team!r}")
        for kind in WORK_KINDS:
            owners = [name for name, team in self.teams.items() if kind in team.handles]
            if len(owners) != 1:
                raise ValueError(f"teams: expected exactly one team to handle {kind}, got {owners or 'none'}")
        for name, team in self.teams.items():
            wanted = "educational_psychologist" if "ep_advice" in team.handles else "caseworker"
            if team.role != wanted or (team.role == "educational_psychologist" and len(team.handles) > 1):
                raise ValueError(
                    f"teams.{name}: expected ep_advice to be handled by an educational_psychologist "
                    "team of its own and casework by caseworker teams"
                )
        return self

    @model_validator(mode="after")
    def _actions_make_sense(self):
        teams = set(self.teams)
        every_team = set(self.teams) | {a.into for a in self.actions if isinstance(a, MergeTeams)}
        for where, names in (
            ("workforce.establishment_fte", self.workforce.establishment_fte),
            ("workforce.pressure.reference_caseload_per_fte", self.workforce.pressure.reference_caseload_per_fte),
        ):
            for name in names:
                if name not in every_team:
                    raise ValueError(f"{where}: expected a team name, one of {sorted(every_team)}, got {name!r}")
        for action in sorted(self.actions, key=lambda a: a.date):
            where = f"actions ({action.action} on {action.date})"
            if action.date < self.start_date:
                raise ValueError(f"{where}: expected a date on or after start_date {self.start_date}")
            named = [action.team] if hasattr(action, "team") else getattr(action, "teams", [])
            for name in named:
                if name not in teams:
                    raise ValueError(
                        f"{where}: expected a team in place on that date, one of {sorted(teams)}, got {name!r}"
                    )
            if isinstance(action, MergeTeams):
                if action.into in teams and action.into not in action.teams:
                    raise ValueError(
                        f"{where}: expected into to be a new name or one of the merged teams, got {action.into!r}"
                    )
                if any(self.teams.get(t, Team(handles=["plans"])).role != "caseworker" for t in action.teams):
                    raise ValueError(f"{where}: expected caseworker teams to merge")
                teams = (teams - set(action.teams)) | {action.into}
            if isinstance(action, SetParameter) and action.parameter.startswith("teams."):
                _check_team_lever(action.parameter, action.value, teams, where)
            elif isinstance(action, SetParameter):
                _check_settable(self, action.parameter, action.value, where)
        if self.uncertainty is not None:
            for path, value in zip(self.uncertainty.parameters, self.uncertainty.estimates):
                check_numeric(self, path, value, f"uncertainty ({path})")
        return self

    def team_for(self, kind: str) -> str:
        return next(name for name, team in self.teams.items() if kind in team.handles)


# --- a national (or regional) view ---------------------------------------------------------------


class NationalTotals(Strict):
    plans_in_force: int = Field(ge=1, le=MAX_PLANS)
    requests_per_year: float = Field(gt=0.0, le=12 * MAX_REQUESTS_PER_MONTH)


class National(Strict):
    """Many authorities, each its own service, simulated apart and added up. Either

    - `services`: a folder of service configurations, one per authority (each drafted and
      calibrated on its own history: configs/england.yaml), or
    - `template` and `authorities`: the template's service at each authority's size (requests and
      plans in force from the table; staff, establishment, agency caps, open assessments and cohorts
      scaled to match: teams that review plans by plans in force, the others by requests).
    """

    name: Name
    services: str | None = None  # a folder of service configurations, relative to this file
    template: str | None = None  # a service configuration, relative to this file
    authorities: str | None = None  # CSV: authority, requests_per_year, plans_in_force; relative to this file
    # rescale every authority in proportion so that the national totals are these
    scale_to: NationalTotals | None = None
    seed: Seed = 0
    months: int | None = Field(None, ge=1, le=MAX_MONTHS)  # default: the services' (or the template's)

    @model_validator(mode="after")
    def _one_form(self):
        if (self.services is None) == (self.template is None):
            raise ValueError("expected either services (a folder of configurations) or template and authorities")
        if self.template is not None and self.authorities is None:
            raise ValueError("expected authorities (the table of sizes) with template")
        if self.services is not None and (self.authorities is not None or self.scale_to is not None):
            raise ValueError("expected no authorities or scale_to with services: each service has its own size")
        return self


def check_horizon(config: Config, months: int | None = None) -> None:
    """ValueError if the requests or the plans in force grow past their bounds within the horizon
    (`months`, default the configuration's, and the warm-up): a run of a service growing without
    end would never finish. Growth and net transfers in are taken as they are at the start."""
    months = config.months if months is None else months
    years = (months + config.warm_up_months) / 12
    demand = config.demand
    peak = demand.requests_per_month * max(demand.seasonal_profile) * max(1.0, 1.0 + demand.growth_per_year) ** years
    if peak > MAX_REQUESTS_PER_MONTH:
        raise ValueError(
            f"demand: {demand.requests_per_month:g} requests a month growing {demand.growth_per_year:+.0%} a "
            f"year reach {peak:,.0f} in a month within {months + config.warm_up_months} months; expected "
            f"at most {MAX_REQUESTS_PER_MONTH:,} (a shorter horizon or less growth)"
        )
    net = max(0.0, config.plans.transfers_in_rate_per_year - config.plans.ceasing_rate_per_year)
    plans = config.initial_state.plans_in_force * math.exp(min(net * years, 700.0))
    if plans > MAX_PLANS:
        raise ValueError(
            f"plans: {config.initial_state.plans_in_force:,} plans in force, with transfers in exceeding "
            f"ceasing by {net:.1%} a year, reach {plans:,.0f} within {months + config.warm_up_months} "
            f"months; expected at most {MAX_PLANS:,}"
        )


def _lever(node: Any, keys: list[str], dotted: str, where: str) -> Any:
    """The field a dotted path reaches, or ValueError naming where the path stopped."""
    for key in keys:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, BaseModel) and key in type(node).model_fields:
            node = getattr(node, key)
        else:
            raise ValueError(f"{where}: no parameter {dotted!r} (stopped at {key!r})")
    return node


def field_bounds(config: Config, dotted: str) -> tuple[float, float]:
    """The closed range a number field accepts (an open end a step inside it), from its schema:
    a replication's draw of its parameters is kept inside it, as the file's value is. The path
    goes through models, dictionaries and lists by position (`staff.4.count`)."""
    from pydantic.fields import FieldInfo

    node: Any = config
    field: FieldInfo | None = None
    limit = math.inf  # a distribution's bound on its values
    for key in dotted.split("."):
        if isinstance(node, BaseModel):
            field = type(node).model_fields[key]
            node = getattr(node, key)
        elif isinstance(node, (dict, list)) and field is not None:  # an item: its declared type's bounds
            field = FieldInfo.from_annotation(typing.get_args(field.annotation)[-1])
            node = node[int(key)] if isinstance(node, list) else node[key]
        else:
            raise KeyError(dotted)
        limit = min([limit] + [bound.limit for bound in constraints(field) if isinstance(bound, AtMost)])
    low, high = metadata_bounds(constraints(field))
    return low, (high if dotted.endswith(".cv") else min(high, limit))


def constraints(field: Any) -> list[Any]:
    """A field's constraints, an optional field's (`CaseloadPerFte | None`) among them."""
    from pydantic.fields import FieldInfo

    if field is None:
        return []
    if field.metadata:
        return list(field.metadata)
    members = [a for a in typing.get_args(field.annotation) if a is not type(None)]
    return list(FieldInfo.from_annotation(members[0]).metadata) if len(members) == 1 else []


def metadata_bounds(metadata: list[Any]) -> tuple[float, float]:
    """The closed range a field's constraints allow (an open end a step inside it)."""
    import annotated_types as at

    low, high = -math.inf, math.inf
    # annotated_types types a bound only as comparable; the schema's bounds are all numbers
    for bound in metadata:
        if isinstance(bound, at.Ge):
            low = max(low, float(typing.cast(float, bound.ge)))
        elif isinstance(bound, at.Gt):
            low = max(low, math.nextafter(float(typing.cast(float, bound.gt)), math.inf))
        elif isinstance(bound, at.Le):
            high = min(high, float(typing.cast(float, bound.le)))
        elif isinstance(bound, at.Lt):
            high = min(high, math.nextafter(float(typing.cast(float, bound.lt)), -math.inf))
    return low, high


def _is_number(node: Any) -> bool:
    return not isinstance(node, bool) and isinstance(node, (int, float))


def replaced(config: Config, dotted: str, value: Any) -> Config:
    """The configuration with the lever at a dotted path set to `value` (the same object
    otherwise: it is frozen), checked as the file's value would be (`with_value`). The Config's own
    checks across sections are not run again for a lever in a section: they would check every
    dated action once more, and `check_horizon`, the one a lever can fail, is the caller's."""
    section, *rest = dotted.split(".")
    if not rest:
        return with_value(config, [section], value)
    return config.model_copy(update={section: with_value(getattr(config, section), rest, value)})


def with_value(node: Any, keys: list[str], value: Any) -> Any:
    """A copy of `node` (a model or a dictionary) with the field at the path `keys` set to `value`.

    Each model on the way is validated with its new field, so the value meets the field's bounds
    and the model's own checks (a distribution's, a dictionary of values as a whole) as a file's
    would; only the new field is taken from that validation, so the other fields keep their very
    values (a validator that rescales, as the seasonal profile's, is not run on them twice).
    """
    key, rest = keys[0], keys[1:]
    if rest:
        value = with_value(node[key] if isinstance(node, dict) else getattr(node, key), rest, value)
    if isinstance(node, dict):
        return {**node, key: value}
    checked = type(node).model_validate({**dict(node), key: value})
    return node.model_copy(update={key: getattr(checked, key)})


def _check_value(config: Config, dotted: str, value: float, where: str) -> None:
    """Set the lever on a copy, so the value meets exactly the checks the file's would: the field's
    bounds (dictionaries of values as a whole) and the horizon's."""
    try:
        check_horizon(replaced(config, dotted, value))
    except ValidationError as exc:
        raise _out_of_bounds(where, dotted, value, exc) from None
    except ValueError as exc:
        raise ValueError(f"{where}: {dotted} = {value!r}: {exc}") from None


def _out_of_bounds(where: str, dotted: str, value: float, exc: ValidationError) -> ValueError:
    """A lever's value the schema refuses, in the words of its first complaint."""
    problem = exc.errors()[0]
    return ValueError(f"{where}: {dotted} = {value!r}: {problem['msg'].removeprefix('Value error, ')}")


def check_numeric(config: Config, dotted: str, value: float, where: str) -> None:
    """A number field that can be given a value before a run (by calibration or by a replication's
    draw of its parameters), and that value within the field's bounds; otherwise ValueError."""
    if not _is_number(_lever(config, dotted.split("."), dotted, where)):
        raise ValueError(f"{where}: expected {dotted!r} to be a number in the configuration")
    _check_value(config, dotted, value, where)


def _check_team_lever(dotted: str, value: float, teams: set[str], where: str) -> None:
    """A dated `set` of a team's lever names a team in place on its date (a merged team's new
    name, not the names merged away) and a value within the field's bounds."""
    parts = dotted.split(".")
    name = parts[1] if len(parts) > 1 else ""
    if name not in teams:
        raise ValueError(f"{where}: expected a team in place on that date, one of {sorted(teams)}, got {name!r}")
    if dotted != f"teams.{name}.caseload_cap_per_fte":
        raise ValueError(
            f"{where}: expected teams.{name}.caseload_cap_per_fte, a team's one numeric lever, got {dotted!r}"
        )
    try:
        Team(handles=["plans"], caseload_cap_per_fte=value)
    except ValidationError as exc:
        raise _out_of_bounds(where, dotted, value, exc) from None


def _check_settable(config: Config, dotted: str, value: float, where: str) -> None:
    """A dated `set` reaches a numeric lever the model reads when it uses it, or is refused."""
    section, *rest = dotted.split(".")
    if section not in SETTABLE_SECTIONS or not rest:
        raise ValueError(f"{where}: expected a parameter under {', '.join(SETTABLE_SECTIONS)}, got {dotted!r}")
    node = _lever(getattr(config, section), rest, dotted, where)
    if rest[-1] != "caseload_cap_per_fte" and not _is_number(node):
        raise ValueError(f"{where}: expected {dotted!r} to be a number in the configuration")
    _check_value(config, dotted, value, where)


# --- loading -------------------------------------------------------------------------------------


def _describe(error: ErrorDetails) -> str:
    loc = [str(p) for p in error["loc"] if not str(p).startswith("function-after")]
    if loc[-1:] == ["[key]"]:  # a dictionary's key (a scenario's name): the dictionary, then the key
        error = {**error, "msg": f"{loc[-2]!r}: {error['msg'].removeprefix('Value error, ')}", "input": {}}
        loc = loc[:-2]
    path = ".".join(loc)
    msg = error["msg"].removeprefix("Value error, ")
    named = re.match(r"([A-Za-z_][\w\[\]]*(?:\.[\w\[\]]+)*(?: \([^)]*\))?): (.*)", msg, re.S)
    if not path and named:  # a check across fields names its own field: "(top level)" would only add noise
        return f"  {named.group(1)}: {named.group(2)}"
    # pydantic names the discriminated member in the path; a person wants the field.
    path = path.replace(".fixed.", ".").replace(".exponential.", ".").replace(".lognormal.", ".")
    path = path.replace(".gamma.", ".").replace(".uniform.", ".").replace(".triangular.", ".")
    if error["type"] == "extra_forbidden":
        msg = "unknown key (check the spelling; see configs/example.yaml for the fields)"
    elif error["type"] == "missing":
        msg = "required field is missing"
    got = error.get("input")
    if error["type"] not in ("missing", "extra_forbidden") and not isinstance(got, (dict, list)):
        shown = got.isoformat() if isinstance(got, dt.date) else repr(got)  # a date as a person writes it
        msg += f" (got {shown})"
    return f"  {path or '(top level)'}: {msg}"


# What names a staff group in a dotted path, with the schema's default where a group omits one:
# `staff.assessment.agency.count` is the assessment team's agency group (its role is implied).
GROUP_NAMES = {
    name: None if StaffGroup.model_fields[name].is_required() else StaffGroup.model_fields[name].default
    for name in ("team", "contract", "role")
}


class GroupNameError(ValueError):
    """A dotted path's names fit no staff group, or several."""


def _names_of(item: Any) -> list[str]:
    """A raw staff group's team, contract and role, the schema's defaults where it omits them."""
    return [str(item.get(k, d)) for k, d in GROUP_NAMES.items()] if isinstance(item, dict) else []


def _named_item(items: list, keys: list[str], dotted: str) -> tuple[Any, int]:
    """The one element of a list of groups that the leading `keys` name (a team, then a contract or
    a role), and how many keys named it; a name that fits none, or several, is refused with the
    groups there are."""
    matched, used = list(range(len(items))), 0
    # each key narrows the groups until one is left; a key that fits none of them ends the names
    while used < len(keys) and (used == 0 or len(matched) > 1):
        narrower = [i for i in matched if keys[used] in _names_of(items[i])]
        if not narrower:
            break
        matched, used = narrower, used + 1
    if used and len(matched) == 1:
        return items[matched[0]], used
    described = "; ".join(
        f"{'.'.join(_names_of(items[i]))} (position {i})"
        for i in (matched if used else range(len(items)))
        if isinstance(items[i], dict)
    )
    what = "several groups" if used else "no group"
    raise GroupNameError(
        f"{dotted}: {'.'.join(keys[: max(used, 1)])!r} names {what}; expected a team, then a contract or "
        f"role, that names one (team.contract.role of each: {described}), or the group's position"
    )


def staff_group_name(staff: list[dict], index: int) -> str:
    """The shortest name a dotted path resolves to `staff[index]` by (its team, then its contract,
    then its role), or its position where no name tells it from the others."""
    keys = _names_of(staff[index])
    for used in range(1, len(keys) + 1):
        try:
            item, named_by = _named_item(staff, keys[:used], "")
        except GroupNameError:
            continue
        if item is staff[index] and named_by == used:
            return ".".join(keys[:used])
    return str(index)


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Set dotted keys (``plans.outcomes.amend``) in a raw configuration mapping. An element of a
    list is reached by its position (``staff.0.count``) or by the names of its group
    (``staff.review.agency.count``: the review team's agency staff)."""
    for dotted, value in overrides.items():
        node: Any = raw
        keys = dotted.split(".")
        try:
            k = 0
            while k < len(keys) - 1:
                key = keys[k]
                if isinstance(node, list) and not key.isdigit():
                    node, used = _named_item(node, keys[k:-1], dotted)
                    k += used
                    continue
                node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
                k += 1
            leaf = keys[-1]
            if isinstance(node, list):
                node[int(leaf)] = value
            elif isinstance(node, dict):
                node[leaf] = value
            else:
                raise TypeError
        except GroupNameError:
            raise
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            raise ValueError(f"{dotted}: no such field to set (expected a dotted path to a field)") from None
    return raw


def parse_config(raw: Any, source: str = "<config>", overrides: dict[str, Any] | None = None) -> Config:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a YAML mapping of configuration fields, got {type(raw).__name__}")
    if overrides:
        try:
            raw = apply_overrides(raw, overrides)
        except ValueError as exc:
            raise ConfigError(f"{source}: cannot apply override {exc}") from None
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe(e) for e in exc.errors()]
        raise ConfigError(f"{source}: invalid configuration\n" + "\n".join(lines)) from None
    for name in config.scenarios:
        resolve_scenario(config, name, source)  # a bad scenario is an error in the file, now
    return config


def resolve_scenario(config: Config, name: str | None, source: str = "<config>") -> Config:
    """The configuration a scenario runs: the base with its overrides and extra dated actions."""
    if name is None or name == "base":
        return config
    if name not in config.scenarios:
        raise ConfigError(f"{source}: no scenario {name!r}; expected one of {['base', *config.scenarios]}")
    scenario = config.scenarios[name]
    raw = config.model_dump(mode="json")
    raw["scenarios"] = {}
    raw["scenario"] = name
    raw["actions"] = raw["actions"] + [a.model_dump(mode="json") for a in scenario.actions]
    # the overrides' dump: a value (a list, a mapping) goes into the raw mapping, where a later
    # override may set an item of it, and the scenario's own is read-only
    return parse_config(raw, f"{source}: scenarios.{name}", scenario.model_dump()["overrides"])


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> Config:
    path = Path(path)
    return parse_config(read_yaml(path), str(path), overrides)


def parse_national(raw: Any, source: str) -> National:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a YAML mapping, got {type(raw).__name__}")
    try:
        return National.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe(e) for e in exc.errors()]
        raise ConfigError(f"{source}: invalid national configuration\n" + "\n".join(lines)) from None


def dump_config(config: Config) -> str:
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
