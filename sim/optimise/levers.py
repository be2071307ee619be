"""The decision variables of a hiring plan: each lever a whole number of steps between two bounds,
and the scenario a set of their values makes (dated actions, or a value from the start).

    assessment_posts: {kind: posts, team: assessment, date: 2023-04-01, low: 0, high: 12}
    agency_cap: {kind: agency_cap, date: 2024-01-01, low: 0, high: 10, step: 1}
    conversion: {kind: agency_conversion, date: 2024-01-01, low: 0, high: 0.2, step: 0.05}
    assessment_cap: {kind: caseload_cap, team: assessment, date: 2023-04-01, low: 40, high: 70, step: 5}
    merge: {kind: merge_date, teams: [assessment, review], into: casework, earliest: 2023-06-01, latest: 2025-06-01, step_months: 6}
    caseworkers: {kind: parameter, parameter: staff.solo.count, low: 1, high: 10, posts: true}

A lever's value is held as its step number (0 at `low`), so every search and bisection moves on
the lever's own grid; `posts` levers (and any marked `posts: true`) add up to the plan's posts.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Literal

from pydantic import Field, model_validator

from sim.config import Contract, Date, Role, Scenario, Slug, Strict
from sim.engine.clock import add_months

MAX_STEPS = 100_000  # values a lever may take: more is a continuous lever, not a plan's choice

Kind = Literal["posts", "agency_cap", "agency_conversion", "caseload_cap", "merge_date", "parameter"]


class Lever(Strict):
    kind: Kind
    low: float | None = Field(None, allow_inf_nan=False)
    high: float | None = Field(None, allow_inf_nan=False)
    step: float = Field(1.0, gt=0.0, allow_inf_nan=False)
    team: Slug | None = None  # posts, caseload_cap
    date: Date | None = None  # the day the plan's action takes effect; none for a parameter: from the start
    contract: Contract = "permanent"  # posts
    role: Role = "caseworker"  # agency_cap
    parameter: str | None = Field(None, max_length=500)  # parameter: a dotted path of the configuration
    posts: bool | None = None  # counts in the plan's posts (default: posts levers only)
    teams: list[Slug] | None = None  # merge_date
    into: Slug | None = None  # merge_date
    earliest: Date | None = None  # merge_date: the first and last dates the merge may take
    latest: Date | None = None
    step_months: int = Field(1, ge=1, le=120)  # merge_date

    @model_validator(mode="after")
    def _complete(self) -> Lever:
        needs = {
            "posts": ("team", "date", "low", "high"),
            "agency_cap": ("date", "low", "high"),
            "agency_conversion": ("date", "low", "high"),
            "caseload_cap": ("team", "date", "low", "high"),
            "merge_date": ("teams", "into", "earliest", "latest"),
            "parameter": ("parameter", "low", "high"),
        }[self.kind]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(
                f"a {self.kind} lever needs {', '.join(needs)} (its bounds among them); missing {', '.join(missing)}"
            )
        if self.kind == "merge_date":
            assert self.earliest is not None and self.latest is not None
            if self.earliest.day != 1 or self.latest.day != 1 or not self.earliest < self.latest:
                raise ValueError("expected earliest < latest, each the first day of a month")
            return self
        assert self.low is not None and self.high is not None
        if not self.low < self.high:
            raise ValueError(f"expected low < high, got low {self.low:g} and high {self.high:g}")
        if self.kind == "posts" and (self.low != int(self.low) or self.step != int(self.step) or self.low < 0):
            raise ValueError("posts: expected whole numbers of posts (low and step), low at least 0")
        if self.steps > MAX_STEPS:
            raise ValueError(f"expected at most {MAX_STEPS:,} steps between low and high, got {self.steps:,}")
        return self

    @property
    def steps(self) -> int:
        """The highest step number: values are low, low + step, ..., up to high."""
        if self.kind == "merge_date":
            assert self.earliest is not None and self.latest is not None
            months = (self.latest.year - self.earliest.year) * 12 + self.latest.month - self.earliest.month
            return months // self.step_months
        assert self.low is not None and self.high is not None
        return int(math.floor((self.high - self.low) / self.step + 1e-9))

    @property
    def counts_posts(self) -> bool:
        return self.kind == "posts" if self.posts is None else self.posts

    def value(self, step: int) -> float | dt.date:
        """The lever's value at a step number."""
        if self.kind == "merge_date":
            assert self.earliest is not None
            return add_months(self.earliest, step * self.step_months)
        assert self.low is not None
        value = self.low + step * self.step
        rounded = round(value, 9)
        return int(rounded) if self.whole else rounded

    @property
    def whole(self) -> bool:
        return self.kind == "posts" or (
            self.low is not None and self.low == int(self.low) and self.step == int(self.step)
        )

    def shown(self, step: int) -> str:
        value = self.value(step)
        return f"{value:%B %Y}" if isinstance(value, dt.date) else f"{value:g}"


def plan_scenario(levers: dict[str, Lever], steps: dict[str, int], description: str = "") -> Scenario:
    """The scenario of one set of lever values: its dated actions and its values from the start."""
    actions: list[dict] = []
    overrides: dict[str, float] = {}
    for name, lever in levers.items():
        value = lever.value(steps[name])
        if lever.kind == "posts":
            if value:
                actions.append(
                    {
                        "date": lever.date,
                        "action": "cohort",
                        "team": lever.team,
                        "count": value,
                        "contract": lever.contract,
                    }
                )
        elif lever.kind == "agency_cap":
            actions.append({"date": lever.date, "action": "agency_cap", "role": lever.role, "fte": value})
        elif lever.kind == "agency_conversion":
            actions.append({"date": lever.date, "action": "agency_conversion", "rate_per_month": value})
        elif lever.kind == "caseload_cap":
            actions.append({"date": lever.date, "action": "caseload_cap", "team": lever.team, "per_fte": value})
        elif lever.kind == "merge_date":
            actions.append({"date": value, "action": "merge_teams", "teams": lever.teams, "into": lever.into})
        elif lever.date is None:
            assert lever.parameter is not None
            overrides[lever.parameter] = value  # type: ignore[assignment]
        else:
            actions.append({"date": lever.date, "action": "set", "parameter": lever.parameter, "value": value})
    return Scenario.model_validate({"description": description, "overrides": overrides, "actions": actions})


def posts(levers: dict[str, Lever], steps: dict[str, int]) -> float:
    """The plan's posts: the values of the levers that count as posts, added up."""
    total = 0.0
    for name, lever in levers.items():
        value = lever.value(steps[name])
        if lever.counts_posts and not isinstance(value, dt.date):
            total += float(value)
    return total


LEVER = re.compile(
    r"^\s*([A-Za-z_][\w.]*)\s*=\s*([-+]?[\d.]+)\s*\.\.\s*([-+]?[\d.]+)(?::([\d.]+))?(?:@(\d{4}-\d{2}-\d{2}))?\s*$"
)


def parse_lever(text: str, where: str = "--lever") -> tuple[str, dict]:
    """A lever from the command line, as its name and its fields in an optimisation file:

    posts.assessment=0..20@2023-04-01           posts added to a team from a date (a cohort)
    staff.assessment.count=8..30                 any number of the configuration, from the start
    caseload_cap.assessment=40..70:5@2023-04-01  a team's caseload cap from a date, in steps of 5
    agency_cap=0..10@2024-01-01, agency_conversion=0..0.2:0.05@2024-01-01
    teams.review.caseload_cap_per_fte=100..300:20@2023-04-01   any number, from a date (a `set`)
    """
    from sim.config import ConfigError

    match = LEVER.match(text)
    if not match:
        raise ConfigError(
            f"{where} {text!r}: expected NAME=LOW..HIGH[:STEP][@DATE], e.g. posts.assessment=0..20@2023-04-01 "
            "or staff.assessment.count=8..30"
        )
    name, low, high, step, date = match.groups()
    fields: dict = {"low": float(low), "high": float(high)}
    if step is not None:
        fields["step"] = float(step)
    if date is not None:
        fields["date"] = date
    head, _, rest = name.partition(".")
    if head == "posts" and rest:
        fields.update(kind="posts", team=rest)
    elif head == "caseload_cap" and rest:
        fields.update(kind="caseload_cap", team=rest)
    elif name in ("agency_cap", "agency_conversion"):
        fields.update(kind=name)
    else:
        fields.update(kind="parameter", parameter=name, posts=name.startswith("staff.") and name.endswith(".count"))
    return name.replace(".", "_"), fields
