"""Every number of a configuration a person can move, with its value, unit and the range the schema
accepts: what `sendsim levers` lists, by the dotted path `--set`, a dated `set`, a sweep or a
calibration names it by.

A staff group is named as `--set` names it (its team, then its contract or role, as far as needed
to tell it from the others; its position where nothing else does). The unit comes from the field's
name, by the conventions the schema keeps (`_weeks`, `_share`, `_per_year`, `_fte`...), so a
field whose name says nothing is caught by a test rather than listed without one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from sim.config import SETTABLE_SECTIONS, Config, field_bounds, staff_group_name

SECTIONS = ("demand", "assessment", "plans", "initial_state", "policy", "teams", "staff", "workforce")
DISTRIBUTION_MEMBERS = {"mean", "cv", "low", "high", "mode", "value", "sd"}


@dataclass(frozen=True)
class LeverField:
    path: str
    value: float
    unit: str
    low: float  # -inf or inf where the schema sets no bound
    high: float
    settable: bool  # whether a dated `set` may move it during a run
    help: str = ""

    @property
    def range(self) -> str:
        """The accepted range as a person writes it: `0 to 1`, `> 0 and ≤ 60`, `any`."""
        ends = []
        if not math.isinf(self.low):
            open_end = math.nextafter(round(self.low, 9), math.inf) == self.low  # a `gt` bound
            ends.append(f"> {_number(self.low)}" if open_end else f"≥ {_number(self.low)}")
        if not math.isinf(self.high):
            open_end = math.nextafter(round(self.high, 9), -math.inf) == self.high
            ends.append(f"< {_number(self.high)}" if open_end else f"≤ {_number(self.high)}")
        if len(ends) == 2 and ends[0][0] == "≥" and ends[1][0] == "≤":
            return f"{_number(self.low)} to {_number(self.high)}"
        return " and ".join(ends) or "any"


# A field's unit from its name, first match wins: (name ends with, unit). A field whose own name
# says nothing (a dictionary's key, a distribution's member) takes its parent's.
UNITS: tuple[tuple[str, str], ...] = (
    ("seasonal_profile", "× an average month"),
    ("effort_scale", "× the hours"),
    ("requests_per_month", "requests a month"),
    ("rate_per_month", "share a month"),
    ("spells_per_year", "spells a year"),
    ("days_per_year", "days a year"),
    ("salary_per_year", "£ a year"),
    ("_per_year", "share a year"),
    ("hourly_rate", "£ an hour"),
    ("hourly_cost", "£ an hour"),
    ("cost_per_campaign", "£ a campaign"),
    ("caseload_per_fte", "cases per FTE"),
    ("caseload_cap_per_fte", "cases per FTE"),
    ("hours_per_week", "hours a week"),
    ("hours_per_item", "hours a case"),
    ("_hours", "hours"),
    ("working_days", "working days"),
    ("_days", "days"),
    ("_weeks", "weeks"),
    ("_months", "months"),
    ("_probability", "probability"),
    ("_share", "share"),
    ("outcomes", "share"),
    ("productivity", "share of full pace"),
    ("strength", "× (0: off)"),
    ("fte", "FTE"),
    ("plans_in_force", "plans"),
    ("open_assessments", "cases"),
    ("staff", "people"),
)


def unit(path: str) -> str:
    """A lever's unit, from its name or, failing that, the nearest name above it."""
    parts = [p for p in path.split(".") if not p.isdigit()]
    if parts[-1] == "cv":
        return "sd ÷ mean"
    for name in reversed(parts):
        for ending, found in UNITS:
            if name.endswith(ending):
                return found
    return ""


def _number(bound: float) -> str:
    return f"{round(bound, 9):,.12g}"  # an open end is a step inside a round number: shown as the number


def _numbers(node: Any, path: str) -> list[tuple[str, float]]:
    """(path, value) of every number under `node`, lists by position."""
    if isinstance(node, BaseModel):
        return [found for name in type(node).model_fields for found in _numbers(getattr(node, name), f"{path}.{name}")]
    if isinstance(node, (dict, list)):
        items = node.items() if isinstance(node, dict) else enumerate(node)
        return [found for key, value in items for found in _numbers(value, f"{path}.{key}")]
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return [(path, float(node))]
    return []


def levers(config: Config, comments: dict[str, str] | None = None) -> list[LeverField]:
    """Every number lever of `config`, section by section, with its help from `comments` (the
    configuration file's comment on each field's line, by dotted path)."""
    comments = comments or {}
    staff = [group.model_dump() for group in config.staff]
    found = []
    for section in SECTIONS:
        for path, value in _numbers(getattr(config, section), section):
            low, high = field_bounds(config, path)
            if section == "staff":  # named as `--set` names it
                _, position, rest = path.split(".", 2)
                path = f"staff.{staff_group_name(staff, int(position))}.{rest}"
            settable = section in SETTABLE_SECTIONS and (section != "teams" or path.endswith("caseload_cap_per_fte"))
            found.append(LeverField(path, value, unit(path), low, high, settable, comments.get(path, "")))
    return found
