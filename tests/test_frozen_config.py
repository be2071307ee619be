"""The configuration is read-only all the way down: its dictionaries and lists refuse a change in
place as its models refuse an assignment, while they read, compare, dump, pickle and copy as
ordinary ones."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from sim.config import Config, RoleTerms, Team, dump_config, load_config, parse_config, replaced, resolve_scenario

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def devon() -> Config:
    """Devon's file has every kind of container: history, scenarios, uncertainty, calibration."""
    return load_config(ROOT / "configs" / "devon.yaml")


def _containers(node: Any, path: str = "config") -> list[tuple[str, Any]]:
    """Every dictionary and list reachable from `node`, through models, dictionaries and lists."""
    found: list[tuple[str, Any]] = []
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            found += _containers(getattr(node, name), f"{path}.{name}")
    elif isinstance(node, dict):
        found.append((path, node))
        for key, value in node.items():
            found += _containers(value, f"{path}[{key!r}]")
    elif isinstance(node, list):
        found.append((path, node))
        for i, value in enumerate(node):
            found += _containers(value, f"{path}[{i}]")
    return found


def _plain(node: Any) -> None:
    """A dump is made of ordinary dictionaries and lists, as YAML and JSON writers expect."""
    assert type(node) in (dict, list, str, int, float, bool, type(None)), type(node)
    for value in node.values() if isinstance(node, dict) else node if isinstance(node, list) else ():
        _plain(value)


def _refused(change: Callable[[], Any]) -> None:
    with pytest.raises(TypeError, match="read-only"):
        change()


MUTATIONS: dict[str, Callable[[Config], Any]] = {
    "dict item set": lambda c: c.workforce.establishment_fte.__setitem__("assessment", 1.0),
    "dict item added": lambda c: c.workforce.establishment_fte.__setitem__("new", 1.0),
    "dict item deleted": lambda c: c.workforce.roles.__delitem__("caseworker"),
    "dict pop": lambda c: c.workforce.roles.pop("caseworker"),
    "dict popitem": lambda c: c.teams.popitem(),
    "dict update": lambda c: c.teams.update(extra=Team(handles=["plans"])),
    "dict setdefault": lambda c: c.workforce.roles.setdefault("caseworker", RoleTerms()),
    "dict clear": lambda c: c.history.clear(),
    "dict |=": lambda c: c.workforce.roles.__ior__({}),
    "dict of a scenario": lambda c: c.scenarios["merge_teams"].overrides.__setitem__("months", 3),
    "dict of calibration": lambda c: c.calibration.estimates.__setitem__("x", 1.0),
    "dict of pressure": lambda c: c.workforce.pressure.reference_caseload_per_fte.__setitem__("review", 1.0),
    "list item set": lambda c: c.demand.seasonal_profile.__setitem__(0, 2.0),
    "list slice set": lambda c: c.demand.seasonal_profile.__setitem__(slice(0, 2), [2.0, 2.0]),
    "list item deleted": lambda c: c.demand.seasonal_profile.__delitem__(0),
    "list append": lambda c: c.staff.append(c.staff[0]),
    "list extend": lambda c: c.actions.extend(c.actions),
    "list insert": lambda c: c.actions.insert(0, c.actions[0]),
    "list pop": lambda c: c.staff.pop(),
    "list remove": lambda c: c.staff.remove(c.staff[0]),
    "list clear": lambda c: c.staff.clear(),
    "list sort": lambda c: c.demand.seasonal_profile.sort(),
    "list reverse": lambda c: c.demand.seasonal_profile.reverse(),
    "list +=": lambda c: c.demand.seasonal_profile.__iadd__([1.0]),
    "list *=": lambda c: c.demand.seasonal_profile.__imul__(2),
    "list in a dict's model": lambda c: c.teams["assessment"].handles.append("plans"),
    "list in a list": lambda c: c.uncertainty.covariance[0].__setitem__(0, 1.0),
    "list of a scenario": lambda c: c.scenarios["merge_teams"].actions.append(c.actions[0]),
    "list in a scenario's action": lambda c: c.scenarios["merge_teams"].actions[0].teams.append("psychology"),
    "list of calibration": lambda c: c.calibration.years.append(2024),
}


@pytest.mark.parametrize("what", sorted(MUTATIONS))
def test_a_container_in_the_configuration_refuses_a_change_in_place(devon, what):
    before = devon.model_dump()
    _refused(lambda: MUTATIONS[what](devon))
    assert devon.model_dump() == before


def test_every_container_of_every_configuration_is_read_only(devon, example_config):
    for config in (devon, example_config, resolve_scenario(devon, "merge_teams")):
        containers = _containers(config)
        assert len(containers) > 15
        for path, container in containers:
            before = copy.copy(container)
            if isinstance(container, dict):
                _refused(lambda c=container: c.__setitem__("x", 1))
            else:
                _refused(lambda c=container: c.append(1))
            assert container == before, path


def test_a_container_reads_as_before(devon):
    profile, establishment = devon.demand.seasonal_profile, devon.workforce.establishment_fte
    assert isinstance(profile, list) and isinstance(establishment, dict)
    assert establishment == {"assessment": 14, "review": 29.5, "psychology": 24}
    assert devon.teams["assessment"].handles == ["assessments"]
    assert len(profile) == 12 and profile[0] in profile and profile[:2] == [profile[0], profile[1]]
    assert establishment.get("assessment") == 14 and establishment.get("none") is None and "review" in establishment
    assert list(establishment.items())[0] == ("assessment", 14) and list(devon.teams) == [
        "assessment",
        "review",
        "psychology",
    ]
    assert sorted(profile) == sorted(list(profile)) and sum(profile) == pytest.approx(12)
    assert list(devon.workforce.roles) == ["caseworker", "educational_psychologist"]


def test_a_copy_of_a_container_is_an_ordinary_one(devon):
    establishment = devon.workforce.establishment_fte
    for copied in (dict(establishment), establishment.copy(), {**establishment}, establishment | {}):
        assert type(copied) is dict and copied == establishment
        copied["new"] = 1.0  # the copy is the caller's to change
    profile = devon.demand.seasonal_profile
    for listed in (list(profile), profile.copy(), profile[:], profile + []):
        assert type(listed) is list and listed == profile
        listed.append(1.0)
    assert "new" not in establishment and len(profile) == 12


def test_a_dump_is_made_of_ordinary_containers(devon):
    for mode in ("python", "json"):
        dumped = devon.model_dump(mode=mode)
        if mode == "json":
            _plain(dumped)
        assert type(dumped["demand"]["seasonal_profile"]) is list
        assert type(dumped["workforce"]["establishment_fte"]) is dict
        assert type(dumped["uncertainty"]["covariance"][0]) is list
    yaml.safe_dump(devon.model_dump(mode="json"))  # the safe dumper refuses any subclass of dict or list
    assert parse_config(yaml.safe_load(dump_config(devon))) == devon


def test_a_configuration_pickles_and_copies_still_read_only(devon):
    for copied in (pickle.loads(pickle.dumps(devon)), copy.deepcopy(devon), copy.copy(devon)):
        assert copied == devon and copied.model_dump() == devon.model_dump()
        _refused(lambda c=copied: c.demand.seasonal_profile.append(1.0))
        _refused(lambda c=copied: c.workforce.establishment_fte.__setitem__("x", 1.0))
    profile = devon.demand.seasonal_profile
    assert pickle.loads(pickle.dumps(profile)) == profile and copy.deepcopy(profile) == profile


def test_a_lever_replaced_gives_a_read_only_copy(devon):
    for dotted, value in (
        ("teams.assessment.caseload_cap_per_fte", 30.0),
        ("workforce.establishment_fte.review", 20.0),
        ("demand.growth_per_year", 0.05),
    ):
        changed = replaced(devon, dotted, value)
        for _path, container in _containers(changed):
            _refused(lambda c=container: c.__setitem__(0 if isinstance(c, list) else "x", 1))
    assert replaced(devon, "workforce.establishment_fte.review", 20.0).workforce.establishment_fte["review"] == 20.0
    assert devon.workforce.establishment_fte["review"] == 29.5
    copied = devon.model_copy(update={"teams": {**devon.teams}, "history": {}})
    _refused(lambda: copied.teams.__setitem__("x", Team(handles=["plans"])))
    _refused(lambda: copied.history.__setitem__(2023, None))


def test_a_scenario_may_set_a_list_then_an_item_of_it_and_keeps_its_own_overrides(example_raw):
    profile = [1.0] * 12
    example_raw["scenarios"] = {
        "busy": {"overrides": {"demand.seasonal_profile": profile, "demand.seasonal_profile.0": 3.0}}
    }
    config = parse_config(example_raw)
    resolved = resolve_scenario(config, "busy")
    assert resolved.demand.seasonal_profile[0] == pytest.approx(3 / (14 / 12))
    assert config.scenarios["busy"].overrides["demand.seasonal_profile"] == profile  # not changed by resolving
    assert resolve_scenario(config, "busy") == resolved
