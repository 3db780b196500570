"""The `billing` command run inside the test process.

The same `main` the console script calls, with its own environment, output and
exit status, but without a process start (seconds of imports) per command.
`test_billing_run` runs the installed console script itself.
"""

import io
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass

from orchestration.cli import main


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str
    stderr: str


@contextmanager
def _environment(environ: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_billing(*args: str, environ: Mapping[str, str] | None = None) -> CommandResult:
    """`billing *args` with `environ` as the whole environment (default: this process's)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with (
        _environment(os.environ if environ is None else environ),
        redirect_stdout(stdout),
        redirect_stderr(stderr),
    ):
        try:
            returncode = main(list(args))
        except SystemExit as exit_:
            returncode = exit_.code if isinstance(exit_.code, int) else 1
    return CommandResult(returncode, stdout.getvalue(), stderr.getvalue())
