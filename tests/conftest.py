"""Shared fixtures: the example configuration, small variants of it, and memoised runs.

Variants are built from the example's raw YAML mapping and validated with `parse_config`, so each
is a real configuration a person could have written. Runs are memoised per session (keyed by
variant, seed, months and whether cases are kept) because several test files check the same run
from different angles; tests must treat a returned Result as read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from sim.config import Config, load_config, parse_config
from sim.experiments.runner import Result, run
from sim.outputs.summary import wide

ROOT = Path(__file__).parents[1]
EXAMPLE_PATH = ROOT / "configs" / "example.yaml"


def _example_raw() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE_PATH.read_text(encoding="utf-8"))


# --- variants --------------------------------------------------------------------------------------


def _unified(raw: dict, cap: float | None = None) -> None:
    """One caseworker team handles both assessments and plans; EPs stay a team of their own."""
    team: dict[str, Any] = {"role": "caseworker", "handles": ["assessments", "plans"]}
    if cap is not None:
        team["caseload_cap_per_fte"] = cap
    raw["teams"] = {"casework": team, "psychology": raw["teams"]["psychology"]}
    for group in raw["staff"]:
        if group["role"] == "caseworker":
            group["team"] = "casework"
    workforce = raw.get("workforce", {})
    establishment = workforce.get("establishment_fte", {})
    if establishment:
        casework = establishment.pop("assessment", 0) + establishment.pop("review", 0)
        establishment["casework"] = casework
    references = workforce.get("pressure", {}).get("reference_caseload_per_fte", {})
    if references:
        references["casework"] = references.pop("review")
        references.pop("assessment", None)
    raw["actions"] = []
    raw["scenarios"] = {}


def _set(**dotted: Any) -> Callable[[dict], None]:
    def change(raw: dict) -> None:
        for key, value in dotted.items():
            node = raw
            *parents, leaf = key.split(".")
            for part in parents:
                node = node[int(part)] if isinstance(node, list) else node[part]
            if isinstance(node, list):
                node[int(leaf)] = value
            else:
                node[leaf] = value

    return change


# name -> how to change the example's raw mapping
VARIANTS: dict[str, Callable[[dict], None]] = {
    "example": lambda raw: None,
    # nothing in force and nothing open on day one: every stock starts from zero
    "empty_start": _set(**{"initial_state.plans_in_force": 0, "initial_state.open_assessments": []}),
    "unified": _unified,
    # the stock of plans (~1,500 over 12 FTE) sits near this cap, so new work queues unallocated
    "unified_capped": lambda raw: _unified(raw, cap=135),
    # 5 FTE x 8 items is far fewer places than the 90 assessments open at the start
    "tight_cap": _set(**{"teams.assessment.caseload_cap_per_fte": 8}),
    "fifo": _set(**{"policy.priority": "fifo"}),
    "oldest": _set(**{"policy.priority": "oldest"}),
    "triage": _set(**{"policy.priority": "triage"}),
    "round_robin": _set(**{"policy.allocation": "round_robin"}),
    "overloaded": _set(**{"demand.requests_per_month": 150, "staff.0.count": 3}),
    "high_refusal": _set(**{"assessment.refusal_probability": 0.85}),
    # EPs take one advice request each at a time; the rest wait unallocated
    "ep_capped": _set(**{"teams.psychology.caseload_cap_per_fte": 1}),
    # plenty of plans leaving and arriving, so the stock identity is exercised hard
    "plan_churn": _set(
        **{
            "plans.ceasing_rate_per_year": 0.9,
            "plans.transfers_in_rate_per_year": 0.7,
            "plans.outcomes": {"maintain": 0.4, "amend": 0.3, "cease": 0.3},
        }
    ),
}


def build_variant(name: str, **dotted: Any) -> Config:
    """The example configuration changed as variant `name` says, then by any dotted overrides."""
    raw = _example_raw()
    VARIANTS[name](raw)
    _set(**dotted)(raw)
    return parse_config(raw, f"<variant {name}>")


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def example_path() -> Path:
    """Path to configs/example.yaml."""
    return EXAMPLE_PATH


@pytest.fixture(scope="session")
def example_config(example_path) -> Config:
    """The example configuration, loaded and validated."""
    return load_config(example_path)


@pytest.fixture
def example_raw() -> dict[str, Any]:
    """A fresh, mutable copy of the example's raw YAML mapping."""
    return _example_raw()


@pytest.fixture(scope="session")
def make_variant() -> Callable[..., Config]:
    """Build a variant config by name, with optional dotted overrides as keyword arguments."""
    return build_variant


@pytest.fixture(params=sorted(VARIANTS))
def variant_name(request) -> str:
    """Every variant in turn; a test that asks for this is run once per variant."""
    return request.param


_RUNS: dict[tuple, Result] = {}


@pytest.fixture(scope="session")
def simulate() -> Callable[..., Result]:
    """Run a variant (memoised): simulate(name, seed=..., months=..., cases=True, **dotted)."""

    def _simulate(name: str, seed: int = 1, months: int = 24, cases: bool = True, **dotted: Any) -> Result:
        key = (name, seed, months, cases, tuple(sorted((k, repr(v)) for k, v in dotted.items())))
        if key not in _RUNS:
            _RUNS[key] = run(build_variant(name, **dotted), seed=seed, months=months, cases=cases)
        return _RUNS[key]

    return _simulate


@pytest.fixture(scope="session")
def monthly() -> Callable[[Result], pd.DataFrame]:
    """Months as rows and metrics as columns for one result."""
    return lambda result: wide(result.metrics)


# --- a service with no casework: only the workforce moves ----------------------------------------

_ZERO = {"dist": "fixed", "value": 0}


def workforce_only_raw(
    review_staff: int = 40, months: int = 24, plans_in_force: int = 0, psychology_staff: int = 1
) -> dict[str, Any]:
    """A raw configuration with no requests and plans that never change: a team of caseworkers
    ("review", holding any plans in force) and one of educational psychologists ("psychology"),
    whose only events are joining, leaving and recruitment.
    Each run takes a fraction of a second, so statistics over many replications stay cheap."""
    return {
        "name": "workforce only",
        "start_date": "2023-01-01",
        "months": months,
        "demand": {"requests_per_month": 0},
        "assessment": {
            "decision_hours": _ZERO,
            "refusal_probability": 0,
            "ep_advice_hours": _ZERO,
            "other_advice_weeks": _ZERO,
            "exception_probability": 0,
            "exception_delay_weeks": _ZERO,
            "draft_plan_hours": _ZERO,
            "no_plan_probability": 0,
            "final_plan_hours": _ZERO,
        },  # fmt: skip
        "plans": {
            "ceasing_rate_per_year": 0,
            "transfers_in_rate_per_year": 0,
            "review_hours": _ZERO,
            "review_decision_hours": _ZERO,
            "outcomes": {"maintain": 1, "amend": 0, "cease": 0},
            "amendment_hours": _ZERO,
            "amendment_final_hours": _ZERO,
        },  # fmt: skip
        "initial_state": {"plans_in_force": plans_in_force},
        "teams": {
            "assessment": {"handles": ["assessments"]},
            "review": {"handles": ["plans"]},
            "psychology": {"role": "educational_psychologist", "handles": ["ep_advice"]},
        },
        "staff": [
            {"team": "assessment", "count": 1},
            {"team": "review", "count": review_staff},
            {"role": "educational_psychologist", "team": "psychology", "count": psychology_staff},
        ],
        "workforce": {"permanent_notice_weeks": _ZERO},
    }


@pytest.fixture(scope="session")
def make_workforce_only() -> Callable[..., dict[str, Any]]:
    """Build the raw mapping of a workforce-only service:
    make_workforce_only(review_staff=, months=, plans_in_force=, psychology_staff=)."""
    return workforce_only_raw


# The slow tier's longest files, longest first (2026-12-08, 2 cores: the README's commands in order
# 324 s, the mutated configurations 208 s, SEN2 to a report 109 s, the calibration's recovery 68 s).
# `make test-slow` hands whole files to the workers in collection order (--no-loadscope-reorder),
# so starting with these lets the other worker take the rest meanwhile: the tier ends when its
# longest file does, not several minutes after.
LONGEST_FIRST = ("test_readme.py", "test_bad_inputs.py", "test_sen2.py", "test_fidelity.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest as collected
