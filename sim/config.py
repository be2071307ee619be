"""The configuration schema: every lever of the model, in one readable place.

A configuration is YAML validated by these pydantic models. Unknown keys are errors, units are in
the field names, and a bad file raises ConfigError with one message that names the file, the
field path and what was expected. Dotted overrides (``demand.growth_per_year=0.08``) can change
any field before validation, so experiments never need code to move a lever.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from sim.distributions import Distribution

Probability = Field(ge=0.0, le=1.0)

WORK_KINDS = ("assessments", "plans", "ep_advice")
ROLES = ("caseworker", "educational_psychologist")
CONTRACTS = ("permanent", "agency")
Role = Literal["caseworker", "educational_psychologist"]
Contract = Literal["permanent", "agency"]
STAGES = ("decision", "advice", "draft_plan", "final_plan")


class ConfigError(Exception):
    """A configuration that cannot be used; the message is meant for the person who wrote it."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, validate_default=True)


class Demand(Strict):
    requests_per_month: NonNegativeFloat
    growth_per_year: float = Field(0.0, gt=-1.0)
    # January..December multipliers; rescaled to average 1 so requests_per_month stays the mean.
    seasonal_profile: list[PositiveFloat] = Field(default_factory=lambda: [1.0] * 12)
    # Observed counts by month ("2023-01": 180); these months use the count instead of a draw.
    history: dict[str, NonNegativeInt] = Field(default_factory=dict)

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
                dt.date.fromisoformat(f"{key}-01")
            except ValueError:
                raise ValueError(f"expected months written YYYY-MM, got {key!r}") from None
        return v


class Assessment(Strict):
    """The 20-week EHC needs assessment; deadlines are the statutory ones in DOMAIN.md."""

    decision_hours: Distribution
    refusal_probability: float = Probability
    # Of the requests not refused, the share withdrawn (or never decided) before an assessment:
    # SEN2 counts such requests, neither refused nor assessed, only from 2022.
    withdrawal_probability: float = Field(0.0, ge=0.0, le=1.0)
    ep_advice_hours: Distribution
    # Health, social care and school advice arrive from outside; this is the slowest of them.
    other_advice_weeks: Distribution
    exception_probability: float = Probability
    exception_delay_weeks: Distribution
    draft_plan_hours: Distribution
    no_plan_probability: float = Probability
    parental_comment_days: NonNegativeFloat = 15.0
    final_plan_hours: Distribution
    # Multiplies the hours of every step above (the caseworkers' and the EPs'): the authority's
    # effort per assessment relative to these figures, or equally the share of its staff's time
    # that assessments really get. What calibration fits as the service's effective capacity.
    effort_scale: PositiveFloat = 1.0
    decision_deadline_weeks: PositiveFloat = 6.0
    advice_deadline_weeks: PositiveFloat = 6.0  # counted from the request for advice
    draft_deadline_weeks: PositiveFloat = 16.0
    final_deadline_weeks: PositiveFloat = 20.0


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
    ceasing_rate_per_year: NonNegativeFloat
    transfers_in_rate_per_year: NonNegativeFloat
    review_interval_months: PositiveInt = 12
    # Review work enters the caseworker's queue this long before the review is due.
    review_release_weeks: NonNegativeFloat = 6.0
    # Meetings are not held earlier than this before the due date, so cycles do not drift early.
    earliest_meeting_weeks: NonNegativeFloat = 2.0
    review_hours: Distribution
    review_decision_hours: Distribution
    decision_deadline_weeks: PositiveFloat = 4.0
    outcomes: ReviewOutcomes
    amendment_hours: Distribution
    amendment_comment_days: NonNegativeFloat = 15.0
    amendment_final_hours: Distribution
    amendment_deadline_weeks: PositiveFloat = 8.0


class OpenAssessments(Strict):
    count: NonNegativeInt
    min_age_weeks: NonNegativeFloat
    max_age_weeks: NonNegativeFloat
    stage: Literal["decision", "advice", "draft_plan", "final_plan"]

    @model_validator(mode="after")
    def _ordered(self):
        if self.max_age_weeks < self.min_age_weeks:
            raise ValueError("expected min_age_weeks <= max_age_weeks")
        return self


class InitialState(Strict):
    plans_in_force: NonNegativeInt = 0
    # Share of the plans whose review is already overdue at the start, and by how much at most.
    reviews_overdue_share: float = Field(0.0, ge=0.0, le=1.0)
    reviews_overdue_max_weeks: NonNegativeFloat = 26.0
    open_assessments: list[OpenAssessments] = Field(default_factory=list)


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
    caseload_cap_per_fte: PositiveFloat | None = None


class StaffGroup(Strict):
    role: Role = "caseworker"
    team: str
    count: NonNegativeInt
    fte: float = Field(1.0, gt=0.0, le=1.0)
    hours_per_week: PositiveFloat = 37.0
    # Share of paid hours spent on casework (the rest: supervision, training, admin).
    casework_share: float = Field(0.8, gt=0.0, le=1.0)
    contract: Contract = "permanent"


# --- the workforce -------------------------------------------------------------------------------


class RoleTerms(Strict):
    """Leaving and pay for one role."""

    permanent_leaving_rate_per_year: NonNegativeFloat = 0.0
    agency_leaving_rate_per_year: NonNegativeFloat = 0.0
    salary_per_year: NonNegativeFloat = 0.0  # permanent FTE, before on-costs
    on_cost_share: NonNegativeFloat = 0.0  # employer's national insurance, pension, ...
    agency_hourly_rate: NonNegativeFloat = 0.0
    agency_cap_fte: NonNegativeFloat = 0.0  # most agency FTE covering vacancies; 0: no agency cover


class Pressure(Strict):
    """Caseload pressure: caseload relative to the team's reference raises leaving (and slows work).

    x = caseload / (reference caseload per FTE x FTE). The leaving hazard is multiplied by
    1 + strength * max(0, x - 1) (linear) or exp(strength * (x - 1)) (exponential). Strength 0
    turns the feedback off.
    """

    strength: NonNegativeFloat = 0.0
    shape: Literal["linear", "exponential"] = "linear"
    reference_caseload_per_fte: dict[str, PositiveFloat] = Field(default_factory=dict)  # by team
    # productivity = max(min_productivity, 1 - productivity_strength * max(0, x - 1))
    productivity_strength: NonNegativeFloat = 0.0
    min_productivity: float = Field(0.5, gt=0.0, le=1.0)


class Absence(Strict):
    # spells start at this rate while a person is well, so a year holds slightly fewer of them
    sickness_spells_per_year: NonNegativeFloat = 0.0
    sickness_spell_working_days: Distribution = {"dist": "fixed", "value": 4.5}
    annual_leave_days_per_year: float = Field(0.0, ge=0.0, lt=261.0)  # working days, bank holidays in


class NewStarters(Strict):
    ramp_months: NonNegativeFloat = 0.0
    ramp_productivity: float = Field(1.0, gt=0.0, le=1.0)
    protected_months: NonNegativeFloat = 0.0
    protected_caseload_share: float = Field(1.0, gt=0.0, le=1.0)  # of the team's caseload cap


class Recruitment(Strict):
    """A vacancy opens a campaign; a campaign fills or fails; a failed one is re-advertised."""

    campaign_weeks: Distribution = {"dist": "fixed", "value": 10.0}
    fill_probability: float = Field(1.0, ge=0.0, le=1.0)
    readvertise_weeks: NonNegativeFloat = 4.0
    starter_notice_weeks: Distribution = {"dist": "fixed", "value": 8.0}
    cost_per_campaign: NonNegativeFloat = 0.0
    hire_fte: float = Field(1.0, gt=0.0, le=1.0)
    enabled: bool = False  # off: vacancies stay vacant unless a dated action fills them


class Agency(Strict):
    cover_lag_weeks: NonNegativeFloat = 6.0  # from a vacancy opening to agency cover starting
    conversion_rate_per_month: float = Field(0.0, ge=0.0, le=1.0)  # agency workers taking a permanent post


class CapacityResponse(Strict):
    """Capacity that follows the workload (sim/response.py; DOMAIN.md, how services respond to
    pressure): extra capacity when a team's pipeline is longer than it aims for (overtime, a
    backlog team, agency bought in), time released to other duties when it is shorter.

    x = (open work - inflow x target_share x deadline) / (inflow x deadline), over the kinds of work
    a team handles; the team's capacity moves towards 1 + clip(strength x x, -max_released_share,
    max_extra_share), closing 1/adjustment_months of the gap a month. Strength 0 turns it off.
    """

    strength: NonNegativeFloat = 0.0
    # the pipeline a team aims to hold, as a share of the statutory time its work is allowed
    target_share: PositiveFloat = 0.55
    max_extra_share: NonNegativeFloat = 0.7
    max_released_share: float = Field(0.3, ge=0.0, lt=1.0)
    adjustment_months: float = Field(2.0, ge=1.0)
    extra_hourly_cost: NonNegativeFloat = 0.0  # what an extra hour of casework costs (agency rate)
    teams: list[str] | None = None  # the teams that respond; default: every team


class Workforce(Strict):
    roles: dict[Role, RoleTerms] = Field(default_factory=lambda: {r: RoleTerms() for r in ROLES})
    permanent_notice_weeks: Distribution = {"dist": "fixed", "value": 4.0}
    agency_notice_weeks: Distribution = {"dist": "fixed", "value": 1.0}
    pressure: Pressure = Field(default_factory=Pressure)
    handover_hours_per_item: NonNegativeFloat = 0.0
    absence: Absence = Field(default_factory=Absence)
    new_starters: NewStarters = Field(default_factory=NewStarters)
    recruitment: Recruitment = Field(default_factory=Recruitment)
    agency: Agency = Field(default_factory=Agency)
    capacity_response: CapacityResponse = Field(default_factory=CapacityResponse)
    # budgeted FTE by team; a team left out has its staff in post at the start as establishment
    establishment_fte: dict[str, NonNegativeFloat] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _every_role(self):
        for role in ROLES:
            self.roles.setdefault(role, RoleTerms())
        return self


# --- hiring plans: dated actions -----------------------------------------------------------------


class _Action(Strict):
    date: dt.date


class EstablishmentChange(_Action):
    action: Literal["establishment"]
    team: str
    change_fte: float | None = None
    set_fte: NonNegativeFloat | None = None

    @model_validator(mode="after")
    def _one_of(self):
        if (self.change_fte is None) == (self.set_fte is None):
            raise ValueError("expected exactly one of change_fte or set_fte")
        return self


class Cohort(_Action):
    """n hires starting on a date (an overseas cohort, a campaign run outside the model)."""

    action: Literal["cohort"]
    team: str
    count: PositiveInt
    fte: float = Field(1.0, gt=0.0, le=1.0)
    contract: Contract = "permanent"


class AgencyCap(_Action):
    action: Literal["agency_cap"]
    role: Role = "caseworker"
    fte: NonNegativeFloat


class AgencyConversion(_Action):
    action: Literal["agency_conversion"]
    rate_per_month: float = Field(ge=0.0, le=1.0)


class CaseloadCap(_Action):
    action: Literal["caseload_cap"]
    team: str
    per_fte: PositiveFloat | None


class MergeTeams(_Action):
    action: Literal["merge_teams"]
    teams: list[str] = Field(min_length=2)
    into: str
    caseload_cap_per_fte: PositiveFloat | None = None


class SetParameter(_Action):
    """From `date`, set any numeric lever by its dotted path (e.g. demand.growth_per_year)."""

    action: Literal["set"]
    parameter: str
    value: float


Action = Annotated[
    Union[EstablishmentChange, Cohort, AgencyCap, AgencyConversion, CaseloadCap, MergeTeams, SetParameter],
    Field(discriminator="action"),
]
# where a `set` may reach: levers the model reads when it uses them
SETTABLE_SECTIONS = ("demand", "assessment", "plans", "workforce", "teams")


class HistoryYear(Strict):
    """One calendar year of an authority's published figures (DfE SEN2), as counted there."""

    requests_received: NonNegativeFloat | None = None
    refusals: NonNegativeFloat | None = None  # requests decided not to assess
    assessments_ended_no_plan: NonNegativeFloat | None = None
    plans_issued: NonNegativeFloat | None = None
    plans_issued_within_20_weeks: NonNegativeFloat | None = None
    plans_in_force_january: NonNegativeFloat | None = None  # the census of January of that year

    @model_validator(mode="after")
    def _consistent(self):
        if None not in (self.plans_issued, self.plans_issued_within_20_weeks):
            if self.plans_issued_within_20_weeks > self.plans_issued:
                raise ValueError("expected plans_issued_within_20_weeks <= plans_issued")
        if None not in (self.requests_received, self.refusals) and self.refusals > self.requests_received:
            raise ValueError("expected refusals <= requests_received")
        return self


SCALES = ("log", "logit", "linear")


class InputUncertainty(Strict):
    """What the calibration does not know about its parameters: each replication draws them from
    a multivariate normal on their fitting scale (log for positive ones, logit for shares),
    centred on the estimates, so the spread of outcomes covers the parameters as well as chance."""

    parameters: list[str] = Field(min_length=1)
    scales: list[Literal["log", "logit", "linear"]]
    estimates: list[float]  # on the natural scale, as in the rest of the configuration
    covariance: list[list[float]]  # on the fitting scale: what the fit leaves unknown
    # How far each parameter moves from one year to the next (standard deviation on its fitting
    # scale; 0 for one that does not change): each January from drift_from on, every replication
    # takes one more step, so the range of outcomes widens with the horizon.
    drift: list[NonNegativeFloat] | None = None
    drift_from: dt.date | None = None

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
        if not np.all(np.isfinite(cov)) or not np.allclose(cov, cov.T) or np.linalg.eigvalsh(cov).min() < -1e-12:
            raise ValueError("expected a finite, symmetric, positive semi-definite covariance matrix")
        for scale, value in zip(self.scales, self.estimates):
            if (scale == "log" and value <= 0) or (scale == "logit" and not 0 < value < 1):
                raise ValueError(f"expected estimates inside the range of their {scale} scale, got {value}")
        return self


class CalibrationRecord(Strict):
    """How the configuration was calibrated: written by `sendsim calibrate`, read by the report."""

    source: str
    method: str
    years: list[int] = Field(default_factory=list)
    estimates: dict[str, float] = Field(default_factory=dict)
    objective: float
    degrees_of_freedom: NonNegativeInt
    p_value: float = Probability
    rejected: bool
    verdict: str  # one plain sentence


class Scenario(Strict):
    description: str = ""
    overrides: dict[str, Any] = Field(default_factory=dict)  # dotted keys, applied before the run
    actions: list[Action] = Field(default_factory=list)  # added to the base's dated actions


class Config(Strict):
    name: str
    start_date: dt.date
    months: PositiveInt = 60
    # Months simulated from start_date before the reported period begins: they let the queues
    # and allocations settle from the initial state, and are left out of every measure.
    warm_up_months: NonNegativeInt = 0
    seed: NonNegativeInt = 0
    demand: Demand
    assessment: Assessment
    plans: Plans
    initial_state: InitialState = Field(default_factory=InitialState)
    policy: Policy = Field(default_factory=Policy)
    teams: dict[str, Team]
    staff: list[StaffGroup]
    workforce: Workforce = Field(default_factory=Workforce)
    actions: list[Action] = Field(default_factory=list)
    scenarios: dict[str, Scenario] = Field(default_factory=dict)
    scenario: str | None = None  # the scenario this configuration was resolved for, if any
    # Published figures of the years before start_date (what `sendsim init` read), for calibration.
    history: dict[int, HistoryYear] = Field(default_factory=dict)
    uncertainty: InputUncertainty | None = None
    calibration: CalibrationRecord | None = None

    @field_validator("start_date")
    @classmethod
    def _first_of_month(cls, v: dt.date) -> dt.date:
        if v.day != 1:
            raise ValueError("expected the first day of a month, e.g. 2023-01-01")
        return v

    @model_validator(mode="after")
    def _teams_cover_work(self):
        for kind in WORK_KINDS:
            owners = [name for name, team in self.teams.items() if kind in team.handles]
            if len(owners) != 1:
                raise ValueError(f"expected exactly one team to handle {kind}, got {owners or 'none'}")
        for name, team in self.teams.items():
            wanted = "educational_psychologist" if "ep_advice" in team.handles else "caseworker"
            if team.role != wanted or (team.role == "educational_psychologist" and len(team.handles) > 1):
                raise ValueError(
                    f"team {name!r}: expected ep_advice to be handled by an educational_psychologist "
                    "team of its own and casework by caseworker teams"
                )
        for i, group in enumerate(self.staff):
            if group.team not in self.teams:
                raise ValueError(f"staff[{i}]: expected team to be one of {sorted(self.teams)}, got {group.team!r}")
            if group.role != self.teams[group.team].role:
                raise ValueError(f"staff[{i}]: expected role {self.teams[group.team].role} for team {group.team!r}")
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
        for i, action in enumerate(sorted(self.actions, key=lambda a: a.date)):
            where = f"actions ({action.action} on {action.date})"
            if action.date < self.start_date:
                raise ValueError(f"{where}: expected a date on or after start_date {self.start_date}")
            named = [action.team] if hasattr(action, "team") else getattr(action, "teams", [])
            for name in named:
                if name not in teams:
                    raise ValueError(f"{where}: expected a team in place on that date, one of {sorted(teams)}, got {name!r}")
            if isinstance(action, MergeTeams):
                if action.into in teams and action.into not in action.teams:
                    raise ValueError(f"{where}: expected into to be a new name or one of the merged teams, got {action.into!r}")
                if any(self.teams.get(t, Team(handles=["plans"])).role != "caseworker" for t in action.teams):
                    raise ValueError(f"{where}: expected caseworker teams to merge")
                teams = (teams - set(action.teams)) | {action.into}
            if isinstance(action, SetParameter):
                _check_settable(self, action.parameter, action.value, where)
        if self.uncertainty is not None:
            for path, value in zip(self.uncertainty.parameters, self.uncertainty.estimates):
                check_numeric(self, path, value, f"uncertainty ({path})")
        return self

    def team_for(self, kind: str) -> str:
        return next(name for name, team in self.teams.items() if kind in team.handles)


# --- a national (or regional) view ---------------------------------------------------------------


class NationalTotals(Strict):
    plans_in_force: PositiveInt
    requests_per_year: PositiveFloat


class National(Strict):
    """Many authorities, each its own service, simulated apart and added up. Either

    - `services`: a folder of service configurations, one per authority (each drafted and
      calibrated on its own history: configs/england.yaml), or
    - `template` and `authorities`: the template's service at each authority's size (requests and
      plans in force from the table; staff, establishment, agency caps, open assessments and cohorts
      scaled to match: teams that review plans by plans in force, the others by requests).
    """

    name: str
    services: str | None = None  # a folder of service configurations, relative to this file
    template: str | None = None  # a service configuration, relative to this file
    authorities: str | None = None  # CSV: authority, requests_per_year, plans_in_force; relative to this file
    # rescale every authority in proportion so that the national totals are these
    scale_to: NationalTotals | None = None
    seed: NonNegativeInt = 0
    months: PositiveInt | None = None  # default: the services' (or the template's)

    @model_validator(mode="after")
    def _one_form(self):
        if (self.services is None) == (self.template is None):
            raise ValueError("expected either services (a folder of configurations) or template and authorities")
        if self.template is not None and self.authorities is None:
            raise ValueError("expected authorities (the table of sizes) with template")
        if self.services is not None and (self.authorities is not None or self.scale_to is not None):
            raise ValueError("expected no authorities or scale_to with services: each service has its own size")
        return self


def check_numeric(config: "Config", dotted: str, value: float, where: str) -> None:
    """A number field that can be given a value before a run (by calibration or by a replication's
    draw of its parameters), and that value within the field's bounds; otherwise ValueError."""
    node: Any = config
    keys = dotted.split(".")
    for key in keys:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, BaseModel) and key in type(node).model_fields:
            node = getattr(node, key)
        else:
            raise ValueError(f"{where}: no parameter {dotted!r} (stopped at {key!r})")
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise ValueError(f"{where}: expected {dotted!r} to be a number in the configuration")
    from sim.actions import set_live

    trial = config.model_copy(deep=True)
    try:
        set_live(trial, dotted, value)
    except ValidationError as exc:
        problem = exc.errors()[0]
        raise ValueError(f"{where}: {dotted} = {value!r}: {problem['msg'].removeprefix('Value error, ')}") from None


def _check_settable(config: "Config", dotted: str, value: float, where: str) -> None:
    """A dated `set` reaches a numeric lever the model reads when it uses it, or is refused."""
    section, *rest = dotted.split(".")
    if section not in SETTABLE_SECTIONS or not rest:
        raise ValueError(f"{where}: expected a parameter under {', '.join(SETTABLE_SECTIONS)}, got {dotted!r}")
    node: Any = getattr(config, section)
    for key in rest:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, BaseModel) and key in type(node).model_fields:
            node = getattr(node, key)
        else:
            raise ValueError(f"{where}: no parameter {dotted!r} (stopped at {key!r})")
    if rest[-1] != "caseload_cap_per_fte" and (isinstance(node, bool) or not isinstance(node, (int, float))):
        raise ValueError(f"{where}: expected {dotted!r} to be a number in the configuration")
    from sim.actions import set_live

    trial = config.model_copy(deep=True)
    try:
        set_live(trial, dotted, value)
    except ValidationError as exc:
        problem = exc.errors()[0]
        raise ValueError(f"{where}: {dotted} = {value!r}: {problem['msg'].removeprefix('Value error, ')}") from None


# --- loading -------------------------------------------------------------------------------------


def _describe(error: dict[str, Any]) -> str:
    path = ".".join(str(p) for p in error["loc"] if not str(p).startswith("function-after"))
    # pydantic names the discriminated member in the path; a person wants the field.
    path = path.replace(".fixed.", ".").replace(".exponential.", ".").replace(".lognormal.", ".")
    path = path.replace(".gamma.", ".").replace(".uniform.", ".").replace(".triangular.", ".")
    msg = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        msg = "unknown key (check the spelling; see configs/example.yaml for the fields)"
    elif error["type"] == "missing":
        msg = "required field is missing"
    got = error.get("input")
    if error["type"] not in ("missing", "extra_forbidden") and not isinstance(got, (dict, list)):
        msg += f" (got {got!r})"
    return f"  {path or '(top level)'}: {msg}"


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Set dotted keys (``plans.outcomes.amend``) in a raw configuration mapping."""
    for dotted, value in overrides.items():
        node = raw
        *parents, leaf = dotted.split(".")
        try:
            for key in parents:
                node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
            if isinstance(node, list):
                node[int(leaf)] = value
            elif isinstance(node, dict):
                node[leaf] = value
            else:
                raise TypeError
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
    return parse_config(raw, f"{source}: scenarios.{name}", scenario.overrides)


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> Config:
    path = Path(path)
    return parse_config(read_yaml(path), str(path), overrides)


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file ({exc.strerror})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        raise ConfigError(f"{path}: not valid YAML{at}: {getattr(exc, 'problem', exc)}") from None
    return raw


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
