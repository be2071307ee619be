"""Keeping what the room decided: a what-if written as a named scenario into a copy of the
configuration file, its comments kept (ruamel.yaml), valid for `sendsim compare`."""

from __future__ import annotations

import io
import re
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from sim.config import Scenario, load_config
from sim.files import read_text, write_atomic

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def _flow(mapping: dict) -> CommentedMap:
    """A dated action on one line, as the shipped configurations write them."""
    node = CommentedMap(mapping)
    node.fa.set_flow_style()
    return node


def save_scenario(
    source: str | Path, copy: str | Path, name: str, scenario: Scenario, comment: str = "saved from sendsim dashboard"
) -> Path:
    """Add `scenario` as `name` to the configuration at `copy` (made from `source` on the first
    save), atomically; ValueError for a bad or taken name, and the copy is left as it was."""
    if not NAME.match(name):
        raise ValueError(
            f"scenario name {name!r}: expected lower-case letters, digits and underscores, starting with a letter"
        )
    copy = Path(copy)
    yaml = YAML(typ="rt")
    yaml.width = 4096  # keep each action on its line
    document = yaml.load(read_text(copy if copy.exists() else source))
    scenarios = document.setdefault("scenarios", CommentedMap())
    if name == "base" or name in scenarios:
        raise ValueError(f"scenario name {name!r}: the configuration already has a scenario of that name")
    entry = CommentedMap()
    entry["description"] = scenario.description
    if scenario.overrides:
        # its dump: the schema's containers are read-only types (sim/frozen.py) YAML cannot write
        entry["overrides"] = CommentedMap(scenario.model_dump()["overrides"])
    if scenario.actions:
        entry["actions"] = CommentedSeq([_flow(a.model_dump(exclude_none=True)) for a in scenario.actions])
    scenarios[name] = entry
    scenarios.yaml_set_comment_before_after_key(name, before=comment, indent=2)
    text = io.StringIO()
    yaml.dump(document, text)
    copy.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(copy, text.getvalue(), check=load_config)  # what compare will read: refused here
