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
