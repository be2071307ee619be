"""Where a result came from, built in one place for every folder sendsim writes (a run, an
experiment, a national run): the package and its version, the git commit and whether the tree
had uncommitted changes, Python and the platform, and the version of every dependency, so that
a number in a report can be traced to the code that made it as well as to its configuration
and seed."""

from __future__ import annotations

import functools
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGE = "sendsim"


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_commit() -> str | None:
    return _git("rev-parse", "HEAD") or None


def git_dirty() -> bool | None:
    """Whether tracked files differ from the commit (None outside a git checkout)."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return None if status is None else bool(status)


def package_version() -> str:
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return "unknown"


@functools.cache
def dependency_versions() -> dict[str, str]:
    """The installed version of each of the package's own (not test) dependencies."""
    try:
        required = metadata.requires(PACKAGE) or []
    except metadata.PackageNotFoundError:
        return {}
    versions = {}
    for requirement in required:
        if "extra ==" in requirement:
            continue
        name = re.match(r"[A-Za-z0-9_.\-]+", requirement)
        if name:
            try:
                versions[name.group(0)] = metadata.version(name.group(0))
            except metadata.PackageNotFoundError:
                versions[name.group(0)] = "missing"
    return versions


def environment() -> dict[str, Any]:
    """The code and machine a result was made with."""
    return {
        "package": PACKAGE,
        "version": package_version(),
        "git_commit": git_commit(),
        "git_dirty": git_dirty(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "dependencies": dependency_versions(),
    }


def provenance(**fields: Any) -> dict[str, Any]:
    """A folder's provenance.json: the environment, then what the run itself records."""
    return {**environment(), **fields}
