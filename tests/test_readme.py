"""Every `sendsim` command in the README runs as written, in order, on a copy of the project's
configurations (issue 12): runs and comparisons with a 3-month horizon (`--months`, the flag the
README's commands allow), everything else exactly as printed, the authority's `init` and
`calibrate` included. Each must exit 0 and leave what the README says it writes. The dashboard,
a server, is started on a free port (`--port`), must serve its page, and is stopped."""

from __future__ import annotations

import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SHORT = ("run", "compare")  # the commands whose horizon the test shortens


def readme_commands() -> list[list[str]]:
    """The `sendsim ...` lines of the README's shell blocks, without their comments."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.splitlines():
            if line.startswith("sendsim "):
                commands.append(shlex.split(line, comments=True)[1:])
    return commands


def test_the_readme_shows_the_planners_path():
    verbs = [c[0] for c in readme_commands()]
    verbs_shown = ("validate", "run", "compare", "report", "init", "calibrate", "assumptions", "sweep", "sensitivity")
    for verb in (*verbs_shown, "dashboard"):
        assert verb in verbs


@pytest.mark.slow
def test_every_readme_command_runs_as_written_in_order(tmp_path):
    work = tmp_path / "project"
    shutil.copytree(ROOT / "configs", work / "configs")
    (tmp_path / "shared").symlink_to(ROOT.parent / "shared")  # `../shared/data/sen2`, as in the README
    for args in readme_commands():
        if args[0] == "dashboard":
            serves_its_page(args, work)
            continue
        if args[0] in SHORT and "--months" not in args:
            args = [*args, "--months", "3"]
        done = subprocess.run([sys.executable, "-m", "sim.cli", *args], cwd=work, capture_output=True, text=True)
        assert done.returncode == 0, f"sendsim {shlex.join(args)}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    results = work / "results"
    for folder in ("example", "devon-what-if", "devon-compare", "devon-reps", "devon-precision", "england"):
        assert (results / folder / "provenance.json").is_file(), folder
    assert (results / "devon-compare" / "report.html").is_file()
    assert (results / "england" / "report.html").is_file()
    assert (results / "devon-compare" / "report.pdf").read_bytes().startswith(b"%PDF")
    assert (results / "example-morris" / "results.parquet").is_file()
    assert (results / "example-morris" / "sensitivity.html").is_file()
    assert (work / "configs" / "my-la.yaml").is_file() and (work / "configs" / "my-la-calibrated.yaml").is_file()
    assert (results / "my-la-calibrated-compare" / "report.html").is_file()  # init's starter plans, compared


def serves_its_page(args: list[str], work: Path) -> None:
    """`sendsim dashboard ...` as written, on a free port: it serves the page, and is stopped."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "sim.cli", *args, "--port", str(port)], cwd=work,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
                    assert page.status == 200 and b"sendsim" in page.read()
                    return
            except OSError:
                assert server.poll() is None, f"sendsim {shlex.join(args)} stopped:\n{server.communicate()[0][-2000:]}"
                assert time.monotonic() < deadline, f"sendsim {shlex.join(args)}: no page within 60 s"
                time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=30)
