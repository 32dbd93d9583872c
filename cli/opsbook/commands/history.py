"""`opsbook history` and `opsbook report RUN|diff`: the runs kept under the state directory."""

from __future__ import annotations

import json
import time

import click

from opsbook.app import EXIT_USAGE

FORMATS = ("table", "md", "json", "junit", "html")
EXIT_DIFFERENT = 1


def _since(value: str | None) -> float | None:
    """``2h`` ago (any duration of history.parse_duration) or an ISO time ``2026-01-02T03:04:05Z``."""
    from opsbook.history import epoch, parse_duration

    if not value:
        return None
    try:
        return time.time() - parse_duration(value)
    except ValueError:
        pass
    for shape in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"):
        try:
            return epoch(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.strptime(value, shape)))
        except ValueError:
            continue
    raise click.BadParameter(f"{value!r}: a duration (90s, 30m, 2h, 7d) or a UTC time (2026-01-02T03:04:05Z, 2026-01-02)",
                             param_hint="--since")


def complete_run(ctx, param, incomplete: str):
    """Shell completion of a RUN: the recorded run ids (newest first, with scenario and outcome), and ``last``."""
    from click.shell_completion import CompletionItem

    from opsbook.history import list_runs

    try:
        runs = list_runs()
    except (OSError, ValueError):
        runs = []
    items = [CompletionItem("last", help="the newest run")] if "last".startswith(incomplete) else []
    return items + [CompletionItem(r["id"], help=f"{r['scenario']} {r['outcome']}") for r in runs
                    if r["id"].startswith(incomplete)]


def _load(app, ref: str):
    from opsbook.history import HistoryError, load_run

    try:
        return load_run(ref)
    except HistoryError as exc:
        app.abort(str(exc), EXIT_USAGE)


def history_table(runs: list[dict]) -> str:
    """The runs as `opsbook history` prints them (newest first)."""
    header = ("ID", "STARTED", "SCENARIO", "INVENTORY", "OUTCOME", "EXIT", "DURATION")
    rows = [(r["id"], r["started"], r["scenario"], ", ".join(r["inventory"]) or "-", r["outcome"], str(r["exit_code"]),
             f"{r['duration']:.1f}s") for r in runs]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header] + rows)


@click.command()
@click.option("--scenario", "-s", metavar="SCENARIO", help="Only runs of this scenario.")
@click.option("--since", metavar="AGE|TIME", help="Only runs started within AGE (90s, 30m, 2h, 7d) or after a UTC TIME.")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=20, show_default=True, help="At most N runs (newest first).")
@click.option("--json", "as_json", is_flag=True, help="The runs' records (opsbook.run/v1) as a JSON list.")
@click.pass_obj
def history(app, scenario, since, limit, as_json):
    """List the recorded runs, newest first.

    \b
    Every `opsbook run` and `opsbook respond` is kept under $OPSBOOK_STATE_DIR/runs
    (else $XDG_STATE_HOME/opsbook/runs, ~/.local/state/opsbook/runs) unless run with
    --no-history; the newest --history-keep runs (200) younger than --history-max-age
    (30d) stay. `opsbook report RUN` shows one again, `opsbook report diff A B` compares two.

    \b
    Examples:
      opsbook history                              the last 20 runs
      opsbook history --scenario redis-health --since 2h
      opsbook history --since 2026-01-02 -n 100 --json | jq '.[].outcome'
    """
    from opsbook.history import list_runs, runs_dir

    runs = list_runs(scenario=scenario, since=_since(since), limit=limit)
    if as_json:
        app.display(json.dumps(runs, indent=2))
    elif not runs:
        app.display_info(f"no recorded run in {runs_dir()}{' matches' if scenario or since else ''}")
    else:
        app.display(history_table(runs))
    return 0


class _ReportGroup(click.Group):
    """`opsbook report RUN ...` is `opsbook report show RUN ...`; `diff` is the other subcommand."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["show", *args]
        return super().parse_args(ctx, args)

    def shell_complete(self, ctx, incomplete):
        """`opsbook report <TAB>`: the subcommands and the run ids (`report RUN` is `report show RUN`)."""
        return super().shell_complete(ctx, incomplete) + complete_run(ctx, None, incomplete)


@click.group(cls=_ReportGroup)
def report():
    """Show a recorded run's report again, in a format for people or CI; compare two runs.

    \b
      opsbook report RUN [--format table|md|json|junit|html]   (the same as `opsbook report show RUN`)
      opsbook report diff RUN_A RUN_B

    \b
    RUN is a run id as `opsbook history` prints it, a unique prefix of one, or `last`.

    \b
    Examples:
      opsbook report last                          the text report `opsbook run` printed
      opsbook report last --format md > ticket.md  Markdown for a ticket
      opsbook report 20260102T0304 --format junit > opsbook.xml
      opsbook report last --format html > report.html   one page, no external assets
      opsbook report diff 20260102T0304 last       what changed since then (exit 1 if anything did)
    """


@report.command("show")
@click.argument("run", shell_complete=complete_run)
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table: the text report of `opsbook run`; md: Markdown for tickets; json: the opsbook.report/v2 "
                   "report; junit: JUnit XML, one testcase per finding; html: one self-contained page (inline CSS "
                   "and SVG: timeline, trends over the scenario's earlier recorded runs).")
@click.pass_obj
def show(app, run, fmt):
    """Print the report of RUN (an id, a unique id prefix, or `last`) in --format.

    \b
    Examples:
      opsbook report last
      opsbook report last --format md
      opsbook report 20260102T030405Z-redis-health --format junit > results.xml
      opsbook report last --format json | jq .outcome
      opsbook report last --format html > report.html
    """
    meta, data = _load(app, run)
    if fmt == "json":
        app.display(json.dumps(data, indent=2, default=str))
    elif fmt == "md":
        from opsbook.formats import markdown

        app.display(markdown(data, meta["id"]).rstrip("\n"))
    elif fmt == "junit":
        from opsbook.formats import junit

        app.display(junit(data, meta["id"]).rstrip("\n"))
    elif fmt == "html":
        from opsbook.html_report import earlier_reports, render_html

        history = earlier_reports(data["scenario"], before_id=meta["id"])
        app.display(render_html(data, meta["id"], meta.get("command"), history).rstrip("\n"))
    else:
        from opsbook.report import render
        from opsbook.runner import RunResult

        app.display(render(app, RunResult.from_report(data)))
    return 0


@report.command("diff")
@click.argument("run_a", shell_complete=complete_run)
@click.argument("run_b", shell_complete=complete_run)
@click.option("--json", "as_json", is_flag=True, help="The differences as JSON ({a, b, new, cleared, changed, unchanged}).")
@click.pass_obj
def diff(app, run_a, run_b, as_json):
    """Compare the findings of RUN_A (before) and RUN_B (after).

    \b
    A finding is the same one in both runs when its host, check, target and phase are:
    NEW ones are only in RUN_B, CLEARED ones only in RUN_A, CHANGED ones differ in status,
    value or state. Exit 0: no differences; 1: differences; 64: no such run.

    \b
    Examples:
      opsbook report diff 20260102T030405Z last
      opsbook report diff A B --json | jq '.changed[].after.status'
    """
    from opsbook.formats import diff_reports, diff_text

    meta_a, report_a = _load(app, run_a)
    meta_b, report_b = _load(app, run_b)
    changes = diff_reports(report_a, report_b)
    if as_json:
        app.display(json.dumps(dict(a=meta_a["id"], b=meta_b["id"], **changes), indent=2, default=str))
    else:
        app.display(diff_text(changes, meta_a["id"], meta_b["id"], meta_a["outcome"], meta_b["outcome"]))
    return EXIT_DIFFERENT if changes["new"] or changes["cleared"] or changes["changed"] else 0
