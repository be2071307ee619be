"""Serving the dashboard: `sim.dashboard.serve(config)`, on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
from pathlib import Path

from sim.config import Config, load_config

LOOPBACK = "127.0.0.1"
DEFAULT_MONTHS = 36  # three years: a hiring plan's horizon, and an answer in seconds


def is_loopback(host: str) -> bool:
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
    except (socket.gaierror, ValueError):
        return False


def serve(
    config: Config | str | Path,
    host: str = LOOPBACK,
    port: int = 8050,
    reps: int = 20,
    months: int | None = DEFAULT_MONTHS,
    seed: int | None = None,
    jobs: int | None = None,
    out: str | Path = "results/dashboard",
) -> None:
    """Start the dashboard on `config` (a path, so that saved scenarios go into a copy of the file
    with its comments, or a Config) at http://host:port/ and serve until interrupted."""
    from sim.dashboard.app import Session, make_app
    from sim.dashboard.forecasts import Forecasts

    source = None if isinstance(config, Config) else Path(config)
    loaded = config if isinstance(config, Config) else load_config(config)
    if not is_loopback(host):
        print(
            f"warning: the dashboard is reachable from other machines at {host}:{port}; "
            "anyone who can reach it can run forecasts and write files in its folder",
            file=sys.stderr,
        )
    months = min(months, loaded.months) if months else loaded.months
    forecasts = Forecasts(loaded, reps=reps, months=months, seed=seed, jobs=jobs)
    try:
        app = make_app(Session(loaded, source, Path(out), forecasts))
        print(f"sendsim dashboard: http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # not a line per request of the page's timer
        app.run(host=host, port=port, debug=False)
    finally:
        forecasts.close()
