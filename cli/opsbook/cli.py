"""`opsbook`: run operations runbooks (Ansible playbooks of opsbook.runbooks) and the local lab."""

from __future__ import annotations

import sys

import click

from opsbook import __version__, app
from opsbook.app import EXIT_USAGE, App
from opsbook.commands import awx_survey, drill, history, lab, list_cmd, respond, run, shortcuts

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def versions() -> list[str]:
    """`opsbook --version`: opsbook, the collection it runs, ansible-core, ansible-runner, Python."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from opsbook.catalog import collection_root, collection_version

    def dist(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    return [f"opsbook {__version__}",
            f"collection opsbook.runbooks {collection_version()} ({collection_root()})",
            f"ansible-core {dist('ansible-core')}",
            f"ansible-runner {dist('ansible-runner')}",
            f"Python {platform.python_version()} ({sys.executable})"]


def show_versions(ctx: click.Context, param, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo("\n".join(versions()))
        ctx.exit()


@click.group(context_settings=CONTEXT_SETTINGS)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=show_versions,
              help="Show the versions of opsbook, its collection, ansible-core, ansible-runner and Python.")
@click.option("-v", "--verbose", count=True, envvar="OPSBOOK_VERBOSE", help="More detail (-vv: Ansible's own).")
@click.option("-q", "--quiet", is_flag=True, envvar="OPSBOOK_QUIET", help="Only the report and errors.")
@click.option(
    "--color/--no-color",
    "colour",
    default=None,
    envvar="OPSBOOK_COLOR",
    help="Colour output (default: on for a terminal, off with NO_COLOR or in CI).",
)
@click.pass_context
def opsbook(ctx: click.Context, verbose: int, quiet: bool, colour: bool | None) -> None:
    """Operations runbooks as tested automation.

    \b
    Diagnose -> evaluate against thresholds -> remediate (opt-in) -> verify -> report.
    Every scenario is a playbook of the opsbook.runbooks Ansible collection, run
    against an inventory; the local lab (`opsbook lab up`) is the default target.

    \b
    Examples:
      opsbook lab up                          start PostgreSQL, Redis and Kafka locally
      opsbook list                            scenarios and the runbook sections they automate
      opsbook run health-check                read-only check of everything in the lab
      opsbook run health-check -i prod/ --json
      opsbook run postgres-connection-pool -i prod/ --check --remediate
      opsbook respond RedisMemoryHigh         the scenario the catalogue maps an alert to
      opsbook history                         the recorded runs; `opsbook report last --format md`
      opsbook backup --verify                 shortcuts: backup, maintenance weekly|monthly, dr rehearse

    \b
    Exit codes: 0 ok, 1 warning, 2 critical, 3 unknown, 4 run failed, 64 usage error,
    75 another remediating run holds the scenario's lock, 130 interrupted (SIGINT), 143 (SIGTERM).
    """
    ctx.obj = App(verbosity=verbose, colour=colour, quiet=quiet)


opsbook.add_command(list_cmd.list_scenarios)
opsbook.add_command(run.run)
opsbook.add_command(respond.respond)
opsbook.add_command(lab.lab)
opsbook.add_command(history.history)
opsbook.add_command(history.report)
opsbook.add_command(awx_survey.awx_survey)
opsbook.add_command(shortcuts.backup)
opsbook.add_command(shortcuts.maintenance)
opsbook.add_command(shortcuts.dr)
opsbook.add_command(drill.drill)


def main(argv: list[str] | None = None) -> None:
    app.INVOCATION = list(sys.argv[1:] if argv is None else argv)
    try:
        rv = opsbook.main(args=argv, prog_name="opsbook", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.UsageError as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code if exc.exit_code not in (0, 1, 2) else EXIT_USAGE)
    sys.exit(rv or 0)
