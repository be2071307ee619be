"""Provenance is built in one place (sim/outputs/provenance.py) and every folder carries it whole: the
code (version, commit, whether the tree was dirty), Python, the platform and each dependency's
version, beside what the run itself records."""

from __future__ import annotations

import json
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

import sim
from sim.experiments.experiment import run_experiment, write_experiment
from sim.experiments.runner import write_result
from sim.outputs.provenance import dependency_versions, environment, git_dirty

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "configs" / "example.yaml"
ENVIRONMENT = ("package", "version", "git_commit", "git_dirty", "python", "platform", "dependencies")


def test_every_runtime_dependency_is_recorded_with_its_installed_version():
    versions = dependency_versions()
    for name in ("simpy", "numpy", "pandas", "pydantic"):
        assert versions[name] == metadata.version(name)
    assert "pytest" not in versions and "hypothesis" not in versions  # test extras are not the result's


def test_git_dirty_says_what_git_status_says():
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                            capture_output=True, text=True)  # fmt: skip
    if status.returncode != 0:
        pytest.skip("not a git checkout")
    assert git_dirty() is bool(status.stdout.strip())


def _provenance(folder: Path) -> dict:
    return json.loads((folder / "provenance.json").read_text(encoding="utf-8"))


def test_a_run_and_an_experiment_carry_the_same_environment(tmp_path):
    result = sim.run(EXAMPLE, seed=3, months=2)
    single = _provenance(write_result(result, tmp_path / "run", str(EXAMPLE)))
    experiment = run_experiment(sim.load_config(EXAMPLE), reps=2, seed=3, months=2, jobs=1)
    many = _provenance(write_experiment(experiment, tmp_path / "experiment"))
    expected = environment()
    for record in (single, many):
        assert {key: record[key] for key in ENVIRONMENT} == expected
    assert single["seed"] == 3 and many["seed"] == 3 and many["replications"] == 2


def test_outside_git_the_commit_and_dirtiness_are_unknown_not_made_up(monkeypatch):
    """No git on the machine (or a failing one): the record says None rather than failing the run."""
    from sim.outputs import provenance as p

    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(p.subprocess, "run", no_git)
    assert p.git_commit() is None and p.git_dirty() is None
    env = p.environment()
    assert env["git_commit"] is None and env["git_dirty"] is None and env["version"]


def test_a_package_not_installed_has_an_unknown_version_and_no_dependencies(monkeypatch):
    from sim.outputs import provenance as p

    monkeypatch.setattr(p, "PACKAGE", "sendsim-not-installed-anywhere")
    assert p.package_version() == "unknown"
    assert p.dependency_versions.__wrapped__() == {}


def test_a_dependency_missing_from_the_environment_is_recorded_as_missing(monkeypatch):
    """Test-only extras are left out; a dependency that is not installed is named, as missing."""
    from importlib import metadata

    from sim.outputs import provenance as p

    requires = ["numpy>=1.24", "not-a-real-dependency-xyz>=1", "pytest>=8; extra == 'test'", ">=odd"]
    monkeypatch.setattr(p.metadata, "requires", lambda name: requires)
    versions = p.dependency_versions.__wrapped__()
    assert versions == {"numpy": metadata.version("numpy"), "not-a-real-dependency-xyz": "missing"}
