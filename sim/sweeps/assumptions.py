"""The numbers a configuration file marks as assumptions: where a sweep should look first.

A figure with no source carries `# assumption` in its line's comment (the convention of every
configuration in configs/). This lists each such number by its dotted lever path, with its value
and comment, so a researcher can build a sweep file from the figures least pinned down. A
distribution marked as an assumption gives each of its numeric members (`.mean`, `.cv`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from sim.files import read_text


@dataclass(frozen=True)
class Assumption:
    path: str
    value: float
    comment: str


def _comment(node: CommentedMap, key: str) -> str:
    """The comment at the end of `key`'s line (ruamel keeps it on the key or on its value)."""
    tokens = node.ca.items.get(key) or []
    text = []
    for token in tokens:
        for part in token if isinstance(token, list) else [token]:
            if part is not None and hasattr(part, "value"):
                text.append(part.value)
    first = "".join(text).strip().splitlines()
    return first[0].lstrip("# ").strip() if first else ""


def _numbers(value, path: str) -> list[tuple[str, float]]:
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [(path, value)]
    if isinstance(value, CommentedMap):
        return [(f"{path}.{k}", v) for k, v in value.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return []


def assumptions(path: str | Path) -> list[Assumption]:
    """Every number of the configuration at `path` whose line says it is an assumption, in file order."""
    document = YAML(typ="rt").load(read_text(path))
    found: list[Assumption] = []

    def walk(node, prefix: str) -> None:
        if isinstance(node, CommentedMap):
            for key, value in node.items():
                dotted = f"{prefix}.{key}" if prefix else str(key)
                comment = _comment(node, key)
                if "assumption" in comment.lower():
                    found.extend(Assumption(p, v, comment) for p, v in _numbers(value, dotted))
                if prefix != "scenarios" and dotted != "scenarios":
                    walk(value, dotted)
        elif isinstance(node, CommentedSeq):
            pass  # staff groups and dated actions: not levers a dotted path reaches

    walk(document, "")
    return found
