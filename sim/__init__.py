"""sendsim: a discrete-event simulator of an English local authority's SEND 0-25 service."""

from sim.config import Config, ConfigError, load_config
from sim.experiments.experiment import compare, load_results
from sim.experiments.national import load_national, run_national
from sim.experiments.runner import Result, run, write_result
from sim.sweeps.sweep import run_sweep as sweep

__all__ = [
    "Config",
    "ConfigError",
    "Result",
    "compare",
    "load_config",
    "load_national",
    "load_results",
    "run",
    "run_national",
    "sweep",
    "write_result",
]
