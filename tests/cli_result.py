"""What a command run in-process by click's CliRunner really ended with.

CliRunner catches an exception that escapes a command and keeps it in `result.exception`; it
prints no traceback, so `"Traceback" not in result.output` can never fail. These checks look at the
exception itself (a command's own `sys.exit` is a SystemExit) and show its traceback when they fail.
"""

from __future__ import annotations

import traceback


def assert_no_exception(result) -> None:
    """The command ended by itself, with an exit status of its own choosing, and no exception."""
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        raise AssertionError(
            "the command raised:\n"
            + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            + f"\noutput:\n{result.output}"
        )


def assert_refused(result) -> None:
    """Exit status 2 by the command's own choice (a message, no exception)."""
    assert_no_exception(result)
    assert result.exit_code == 2, result.output
