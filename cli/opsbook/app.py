"""The object every command receives: output, verbosity, colour, exit codes."""

from __future__ import annotations

import os
import sys

import click

# Exit codes follow a run's outcome (module_utils.outcome has the table).
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.outcome import (  # noqa: F401 - re-exported
    EXIT_BUSY,
    EXIT_CRITICAL,
    EXIT_OK,
    EXIT_RUN_FAILED,
    EXIT_USAGE,
)

# The command line as given (cli.main sets it): the run history records it, censored.
INVOCATION: list[str] | None = None

STATUS_COLOUR = {"ok": "green", "warning": "yellow", "critical": "red", "unknown": "magenta"}


class App:
    def __init__(self, verbosity: int = 0, colour: bool | None = None, quiet: bool = False):
        self.verbosity = verbosity
        self.quiet = quiet
        self.colour_option = colour
        if colour is None:
            colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ and not os.environ.get("CI")
        self.colour = colour
        self.argv = list(sys.argv[1:] if INVOCATION is None else INVOCATION)

    def style(self, text: str, **kwargs) -> str:
        return click.style(text, **kwargs) if self.colour else text

    def status(self, status: str) -> str:
        return self.style(status.upper(), fg=STATUS_COLOUR.get(status), bold=True)

    def progress(self):
        """A run's progress on stderr (opsbook.progress): a live line on a terminal, plain lines elsewhere;
        None with --quiet (only the report and errors)."""
        if self.quiet:
            return None
        from opsbook.progress import Progress, interactive

        live = interactive(sys.stderr) and self.colour_option is not False
        # -v on a pipe: the event handler's own result lines (with each status count), not a second set
        return Progress(sys.stderr, live=live, results=live or self.verbosity == 0)

    def display(self, text: str = "", err: bool = False) -> None:
        click.echo(text, err=err)

    def display_info(self, text: str) -> None:
        if not self.quiet:
            click.echo(text, err=True)

    def display_debug(self, text: str, level: int = 1) -> None:
        if self.verbosity >= level:
            click.echo(self.style(text, dim=True), err=True)

    def display_warning(self, text: str) -> None:
        click.echo(self.style(f"warning: {text}", fg="yellow"), err=True)

    def display_error(self, text: str) -> None:
        click.echo(self.style(f"error: {text}", fg="red", bold=True), err=True)

    def display_success(self, text: str) -> None:
        if not self.quiet:
            click.echo(self.style(text, fg="green"), err=True)

    def abort(self, text: str, code: int = EXIT_RUN_FAILED):
        self.display_error(text)
        raise SystemExit(code)
