"""sendsim: a discrete-event simulator of an English local authority's SEND 0-25 service.

The names below are imported when first used (PEP 562), so that `import sim` and every `sendsim`
command pay only for the parts they use: pandas, pyarrow and the model are not loaded to print
`sendsim --help` or to validate a file.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name -> (module, attribute)
_EXPORTS = {
    "Config": ("sim.config", "Config"),
    "ConfigError": ("sim.config", "ConfigError"),
    "load_config": ("sim.config", "load_config"),
    "compare": ("sim.experiments.experiment", "compare"),
    "load_results": ("sim.experiments.experiment", "load_results"),
    "load_national": ("sim.experiments.national", "load_national"),
    "run_national": ("sim.experiments.national", "run_national"),
    "Result": ("sim.experiments.runner", "Result"),
    "run": ("sim.experiments.runner", "run"),
    "write_result": ("sim.experiments.runner", "write_result"),
    "sweep": ("sim.sweeps.sweep", "run_sweep"),
    "optimise": ("sim.optimise.study", "optimise"),
    "goal_seek": ("sim.optimise.study", "goal_seek"),
}

__all__ = [
    "Config",
    "ConfigError",
    "Result",
    "compare",
    "goal_seek",
    "load_config",
    "load_national",
    "load_results",
    "optimise",
    "run",
    "run_national",
    "sweep",
    "write_result",
]

if TYPE_CHECKING:  # what mypy and editors see: the same names, imported at once
    from sim.config import Config, ConfigError, load_config
    from sim.experiments.experiment import compare, load_results
    from sim.experiments.national import load_national, run_national
    from sim.experiments.runner import Result, run, write_result
    from sim.optimise.study import goal_seek, optimise
    from sim.sweeps.sweep import run_sweep as sweep


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # once: later look-ups find it without this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
