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
    joined = "".join(text).lstrip(" \t")
    # a comment that starts on a later line is about the next field, not this one
    if not joined.startswith("#"):
        return ""
    return joined.splitlines()[0].lstrip("# ").strip()


def _numbers(value, path: str) -> list[tuple[str, float]]:
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [(path, value)]
    if isinstance(value, CommentedMap):
        return [(f"{path}.{k}", v) for k, v in value.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return []


def _fields(path: str | Path) -> list[tuple[str, object, str]]:
    """(dotted path, value, the comment on its line) of every field a dotted path reaches, in file order."""
    document = YAML(typ="rt").load(read_text(path))
    found: list[tuple[str, object, str]] = []

    def walk(node, prefix: str) -> None:
        if isinstance(node, CommentedMap):
            for key, value in node.items():
                dotted = f"{prefix}.{key}" if prefix else str(key)
                found.append((dotted, value, _comment(node, key)))
                if prefix != "scenarios" and dotted != "scenarios":
                    walk(value, dotted)
        elif isinstance(node, CommentedSeq):
            pass  # staff groups and dated actions: not levers a dotted path reaches

    walk(document, "")
    return found


def comments(path: str | Path) -> dict[str, str]:
    """The comment on each field's line, by dotted path (fields without one left out): a lever's help."""
    return {dotted: comment for dotted, _, comment in _fields(path) if comment}


def assumptions(path: str | Path) -> list[Assumption]:
    """Every number of the configuration at `path` whose line says it is an assumption, in file order."""
    return [
        Assumption(p, v, comment)
        for dotted, value, comment in _fields(path)
        if "assumption" in comment.lower()
        for p, v in _numbers(value, dotted)
    ]
