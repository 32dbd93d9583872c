"""`opsbook drill`: a scenario's fault injected into the local lab, the scenario run on it, judged."""

from __future__ import annotations

import json

import click

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.outcome import EXIT_NOT_CHECKED
from opsbook.app import EXIT_CRITICAL, EXIT_OK, EXIT_RUN_FAILED

COLUMNS = (("DRILL", lambda r: r["drill"]), ("SCENARIO", lambda r: r["scenario"]),
           ("SERVICES", lambda r: ",".join(r["services"])), ("FAULT", lambda r: r["fault"]))
VERDICTS = {True: ("PASS", "green"), False: ("FAIL", "red"), None: ("SKIP", "yellow")}

class DrillGroup(click.Group):
    """`list`, plus one command per drill (commands generated from opsbook.drills.core.DRILLS)."""

    def list_commands(self, ctx):
        from opsbook.drills.core import DRILLS

        return ["list", *DRILLS]

    def get_command(self, ctx, name):
        if name == "list":
            return list_drills
        from opsbook.drills.core import DRILLS

        return drill_command(DRILLS[name]) if name in DRILLS else None


@click.group(cls=DrillGroup)
def drill():
    """Rehearse a scenario on the LOCAL LAB: inject its fault, run it, judge detect -> fix -> verify.

    \b
    A drill reads the lab's own state (--lab-dir / OPSBOOK_LAB_DIR, its lab.json) and never takes
    an inventory: it refuses to run anywhere but the local lab. The scenario runs exactly as
    `opsbook run` runs it, on the collection's lab inventory for that fault. Remediation is ON by
    default (it is the lab, and the point is to see the fix); --no-remediate diagnoses only and then
    expects the fault detected and NOT fixed. Destructive steps are confirmed only for objects the
    drill itself created. Whatever happens, the fault is cleaned up afterwards. Drills are not
    recorded in `opsbook history`.

    \b
    Examples:
      opsbook drill list                       drills, their faults, the lab services they need
      opsbook lab up --with docker && opsbook drill api-down
      opsbook drill api-down --no-remediate    detected, left alone, then cleaned up
      opsbook drill api-down --json            stages and the scenario's report as JSON

    \b
    Exit codes: 0 every stage passed; 2 a stage failed (the line says which);
    3 nothing injected (lab missing/stopped, or already faulty); 4 the run failed; 64 usage error.
    """


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="The drills as JSON.")
@click.pass_obj
def list_drills(app, as_json):
    """The drills: scenario, fault injected, lab services needed."""
    from opsbook.drills.core import DRILLS

    rows = [{"drill": d.name, "scenario": d.scenario, "fault": d.fault, "services": list(d.services),
             "lab_up": d.up_command} for d in DRILLS.values()]
    if as_json:
        app.display(json.dumps(rows, indent=2))
        return EXIT_OK
    widths = [max(len(head), *(len(value(r)) for r in rows)) for head, value in COLUMNS[:-1]]
    app.display(app.style("  ".join(h.ljust(w) for (h, _), w in zip(COLUMNS, widths)) + f"  {COLUMNS[-1][0]}", bold=True))
    for r in rows:
        app.display("  ".join(v(r).ljust(w) for (_, v), w in zip(COLUMNS, widths)) + f"  {COLUMNS[-1][1](r)}")
    return EXIT_OK


def drill_command(spec) -> click.Command:
    @click.command(spec.name, help=f"""Drill {spec.name}: {spec.fault}; runs `{spec.scenario}`.

    \b
    Needs the lab services {', '.join(spec.services)}: `{spec.up_command}`.
    Stages: inject, detect, fix (--remediate, the default), verify, cleanup (always).

    \b
    Examples:
      opsbook drill {spec.name}
      opsbook drill {spec.name} --no-remediate --json
      opsbook drill {spec.name} --lab-dir /var/tmp/opsbook-lab-mine
    """)
    @click.option("--lab-dir", envvar="OPSBOOK_LAB_DIR", show_envvar=True, type=click.Path(file_okay=False),
                  help="The lab to drill (default /var/tmp/opsbook-lab-<uid>); never an inventory.")
    @click.option("--remediate/--no-remediate", default=True, show_default=True,
                  help="Let the scenario fix the fault (--no-remediate: diagnose only; the fault must stay).")
    @click.option("--json", "as_json", is_flag=True,
                  help="Print {schema opsbook.drill/v1, stages, ok, exit_code, report} as JSON on stdout.")
    @click.option("--timeout", type=click.IntRange(min=1), default=900, show_default=True,
                  help="Seconds the scenario's run may take.")
    @click.option("-v", "--verbose", count=True, help="As for `opsbook run`.")
    @click.pass_obj
    def command(app, lab_dir, remediate, as_json, timeout, verbose):
        return run(app, spec, lab_dir, remediate, as_json, timeout, verbose)

    return command


def run(app, spec, lab_dir, remediate, as_json, timeout, verbose) -> int:
    from opsbook.drills.core import DRILL_SCHEMA, NotALab, lab_state, run_drill
    from opsbook.report import render

    app.verbosity += verbose
    try:
        state = lab_state(spec, lab_dir)
    except NotALab as exc:
        app.abort(f"drill {spec.name}: refused, nothing injected: {exc}", EXIT_NOT_CHECKED)
    app.display_info(f"drill {spec.name} on the lab at {state['lab_dir']}: {spec.fault}")
    stages, ran = run_drill(spec, state, remediate, progress=app.progress(),
                            verbosity=app.verbosity, timeout=timeout)
    failed = next((s for s in stages if s.ok is False), None)
    if failed is None:
        code = EXIT_OK
    elif failed.stage in ("baseline", "inject"):
        code = EXIT_NOT_CHECKED
    elif failed.stage == "run":
        code = EXIT_RUN_FAILED
    else:
        code = EXIT_CRITICAL
    if as_json:
        app.display(json.dumps({"schema": DRILL_SCHEMA, "drill": spec.name, "scenario": spec.scenario,
                                "lab_dir": state["lab_dir"], "remediate": remediate,
                                "stages": [s.as_dict() for s in stages], "ok": failed is None, "exit_code": code,
                                "report": ran[1] if ran else None}, indent=2, default=str))
    else:
        if ran:
            app.display(render(app, ran[0]))
        for s in stages:
            word, colour = VERDICTS[s.ok]
            app.display(f"{s.stage:<8} {app.style(word, fg=colour, bold=True)}  {s.message}")
    if failed:
        app.display_error(f"drill {spec.name} failed at stage {failed.stage}: {failed.message}")
    else:
        app.display_success(f"drill {spec.name} passed: "
                            + (" -> ".join(s.stage for s in stages if s.ok is not None)))
    return code
