"""sendsim: a discrete-event simulator of an English local authority's SEND 0-25 service."""

from sim.config import Config, ConfigError, load_config
from sim.runner import Result, run, write_result

__all__ = ["Config", "ConfigError", "Result", "load_config", "run", "write_result"]
