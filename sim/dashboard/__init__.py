"""The planning-session dashboard: `sendsim dashboard CONFIG`, or `sim.dashboard.serve(config)`."""

from sim.dashboard.server import serve

__all__ = ["serve"]
