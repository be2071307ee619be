"""The package layout and docs/architecture.md agree, and imports go down the layers."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _modules() -> set[str]:
    return {str(p.relative_to(ROOT)) for p in (ROOT / "sim").rglob("*.py") if p.name != "__init__.py"}


def test_every_module_is_in_the_module_map_and_every_entry_exists():
    documented = set(re.findall(r"^\| `(sim/[\w/]+\.py)`", (ROOT / "docs" / "architecture.md").read_text(), re.M))
    assert documented == _modules()


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim."):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("sim."))
    return names


def test_the_engine_and_the_model_import_nothing_above_them():
    above = {
        "engine": ("model", "experiments", "data", "outputs", "cli"),
        "model": ("experiments", "data", "outputs", "cli"),
    }
    for package, forbidden in above.items():
        for path in (ROOT / "sim" / package).glob("*.py"):
            for name in _imports(path):
                layer = name.split(".")[1]
                assert layer not in forbidden, f"{path.relative_to(ROOT)} imports {name}"


def test_the_package_s_names_are_all_there_and_loaded_only_when_used():
    import subprocess
    import sys

    import sim

    assert set(sim.__all__) == set(sim._EXPORTS)
    for name in sim.__all__:
        assert getattr(sim, name) is not None
    code = "import sys, sim; print('pandas' in sys.modules, 'simpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]  # `import sim` alone loads neither pandas nor the engine
    try:
        sim.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no attribute 'no_such_name'" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_no_component_holds_the_model_only_the_levers_and_dated_actions_reach_into_it():
    """Components get their collaborators when they are built (docs/architecture.md, "Components");
    the levers and dated actions are the two places that tell a component, by name, of a change."""
    reach = {"levers.py", "actions.py", "service.py"}
    for path in (ROOT / "sim" / "model").glob("*.py"):
        if path.name in reach:
            continue
        assert "sim.model.service" not in _imports(path), f"{path.relative_to(ROOT)} imports the Model"
        assert "self.model" not in path.read_text(encoding="utf-8"), f"{path.relative_to(ROOT)} holds the Model"


def test_the_month_clock_calls_each_hook_of_every_component_in_build_order():
    import sim
    from sim.model.component import Component
    from sim.model.service import Model

    calls: list[tuple[str, str]] = []
    model = Model(sim.config.load_config(ROOT / "configs" / "example.yaml"), seed=1, months=2)
    for component in model.components:
        assert isinstance(component, Component)
        kind = type(component).__name__
        for hook in ("month_start", "month_end", "run_end"):
            real = getattr(component, hook)
            setattr(component, hook, lambda *a, _real=real, _at=(kind, hook): (calls.append(_at), _real(*a))[1])
    model.run()
    order = [type(c).__name__ for c in model.components]
    assert order == ["Workforce", "ReviewService", "AssessmentService", "TeamMeasures", "CapacityResponse"]
    month = [(k, "month_start") for k in order] + [(k, "month_end") for k in order]
    assert calls == month + month + [(k, "run_end") for k in order]
