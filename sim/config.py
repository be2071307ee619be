"""The configuration schema: every lever of the model, in one readable place.

A configuration is YAML validated by these pydantic models. Unknown keys are errors, units are in
the field names, and a bad file raises ConfigError with one message that names the file, the
field path and what was expected. Dotted overrides (``demand.growth_per_year=0.08``) can change
any field before validation, so experiments never need code to move a lever.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

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
STAGES = ("decision", "advice", "draft_plan", "final_plan")


class ConfigError(Exception):
    """A configuration that cannot be used; the message is meant for the person who wrote it."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


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
    ep_advice_hours: Distribution
    # Health, social care and school advice arrive from outside; this is the slowest of them.
    other_advice_weeks: Distribution
    exception_probability: float = Probability
    exception_delay_weeks: Distribution
    draft_plan_hours: Distribution
    no_plan_probability: float = Probability
    parental_comment_days: NonNegativeFloat = 15.0
    final_plan_hours: Distribution
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
    allocation: Literal["least_loaded", "round_robin"] = "least_loaded"


class Team(Strict):
    role: Literal["caseworker", "educational_psychologist"] = "caseworker"
    handles: list[Literal["assessments", "plans", "ep_advice"]]
    # Items (open assessments + plans, or advice requests) per FTE; beyond it work waits unallocated.
    caseload_cap_per_fte: PositiveFloat | None = None


class StaffGroup(Strict):
    role: Literal["caseworker", "educational_psychologist"] = "caseworker"
    team: str
    count: NonNegativeInt
    fte: float = Field(1.0, gt=0.0, le=1.0)
    hours_per_week: PositiveFloat = 37.0
    # Share of paid hours spent on casework (the rest: supervision, training, admin).
    casework_share: float = Field(0.8, gt=0.0, le=1.0)
    contract: Literal["permanent", "agency"] = "permanent"


class Config(Strict):
    name: str
    start_date: dt.date
    months: PositiveInt = 60
    seed: NonNegativeInt = 0
    demand: Demand
    assessment: Assessment
    plans: Plans
    initial_state: InitialState = Field(default_factory=InitialState)
    policy: Policy = Field(default_factory=Policy)
    teams: dict[str, Team]
    staff: list[StaffGroup]

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

    def team_for(self, kind: str) -> str:
        return next(name for name, team in self.teams.items() if kind in team.handles)


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
        return Config.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe(e) for e in exc.errors()]
        raise ConfigError(f"{source}: invalid configuration\n" + "\n".join(lines)) from None


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> Config:
    path = Path(path)
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
    return parse_config(raw, str(path), overrides)


def dump_config(config: Config) -> str:
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
