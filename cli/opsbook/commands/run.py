"""`opsbook run SCENARIO`: run a scenario's playbook against an inventory and report."""

from __future__ import annotations

import json
from pathlib import Path

import click

from opsbook.app import EXIT_RUN_FAILED, EXIT_USAGE, STATUS_EXIT


def parse_extra_vars(values: tuple[str, ...]) -> dict:
    """-e k=v (value parsed as YAML), -e @file.yml, or -e '{"json": 1}'."""
    import yaml

    result: dict = {}
    for raw in values:
        if raw.startswith("@"):
            path = Path(raw[1:])
            try:
                data = yaml.safe_load(path.read_text())
            except OSError as exc:
                raise click.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="-e/--extra-vars")
            except yaml.YAMLError as exc:
                raise click.BadParameter(f"{path} is not valid YAML: {exc}", param_hint="-e/--extra-vars")
            if not isinstance(data, dict):
                raise click.BadParameter(f"{path} must hold a mapping", param_hint="-e/--extra-vars")
            result.update(data)
        elif raw.lstrip().startswith("{"):
            try:
                data = yaml.safe_load(raw)
            except yaml.YAMLError as exc:
                raise click.BadParameter(f"not valid JSON/YAML: {exc}", param_hint="-e/--extra-vars")
            result.update(data)
        elif "=" in raw:
            key, _, value = raw.partition("=")
            if not key.isidentifier():
                raise click.BadParameter(f"{key!r} is not a valid variable name", param_hint="-e/--extra-vars")
            try:
                result[key] = yaml.safe_load(value) if value else ""
            except yaml.YAMLError:
                result[key] = value
        else:
            raise click.BadParameter(f"expected KEY=VALUE, @FILE or a JSON object, got {raw!r}",
                                     param_hint="-e/--extra-vars")
    return result


def resolve_inventory(value: str | None) -> Path:
    from opsbook.catalog import lab_inventory

    if value in (None, "lab"):
        return lab_inventory()
    path = Path(value).expanduser()
    if not path.exists():
        raise click.BadParameter(f"{value} does not exist (a file or directory, or 'lab')", param_hint="-i/--inventory")
    return path.resolve()


@click.command()
@click.argument("scenario")
@click.option("-i", "--inventory", "inventories", multiple=True, metavar="PATH",
              help="Inventory file or directory (repeatable). Default: the local lab ('lab').")
@click.option("-l", "--limit", metavar="PATTERN", help="Only these hosts/groups (Ansible --limit).")
@click.option("-C", "--check", is_flag=True, help="Check mode: report what remediation would do, change nothing.")
@click.option("--remediate", is_flag=True,
              help="Allow the scenario's remediation steps (off by default; destructive ones also need confirmation).")
@click.option("--confirm", "confirm", multiple=True, metavar="TARGET",
              help="Allow the destructive steps on TARGET (repeatable; needs --remediate): the queue, database, "
                   "workload (namespace/name on Kubernetes) or namespace a refused step names in its message.")
@click.option("--yes", "confirm_all", is_flag=True,
              help="Confirm every target the scenario's plan names (needs --remediate; try -C first).")
@click.option("-e", "--extra-vars", "extra_vars", multiple=True, metavar="K=V|@FILE",
              help="Variables for the scenario (repeatable), e.g. -e kafka_lag_threshold=5000.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (schema opsbook.report/v1) on stdout.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write the JSON report to this file (atomically).")
@click.option("--artifacts-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Keep ansible-runner's artifacts (events, stdout) here; secrets are censored.")
@click.option("--timeout", type=click.IntRange(min=1), default=3600, show_default=True,
              help="Seconds the whole run may take.")
@click.option("-v", "--verbose", count=True, help="More detail (-vv and up: Ansible's own verbosity).")
@click.pass_obj
def run(app, scenario, inventories, limit, check, remediate, confirm, confirm_all, extra_vars, as_json, report_file,
        artifacts_dir, timeout, verbose):
    """Run SCENARIO (see `opsbook list`) against an inventory and print its findings.

    \b
    Progress goes to stderr; the report (table or --json) to stdout.
    Exit code: 0 ok, 1 warning, 2 critical, 3 unknown, 4 run failed, 64 usage error.

    \b
    Examples:
      opsbook run health-check                          # the local lab
      opsbook run health-check -i inventories/techbra --json > report.json
      opsbook run postgres-connection-pool -i prod/ -C --remediate   # what would be terminated
      opsbook run queue-backlog --remediate -e queue_backlog_purge_queue=sync_queue --confirm sync_queue

    \b
    Destructive steps (stop, scale to zero, purge, terminate, replace) run only for the targets
    confirmed with --confirm TARGET or --yes; otherwise they are refused with a warning naming
    the exact --confirm value. With -C the report lists what each confirmation would allow.
    """
    from opsbook.catalog import load_catalog
    from opsbook.report import render

    app.verbosity += verbose
    from opsbook.runner import run_playbook

    catalog = load_catalog()
    if scenario not in catalog:
        app.abort(f"unknown scenario {scenario!r}; `opsbook list --all` shows the catalogue", EXIT_USAGE)
    entry = catalog[scenario]
    if not entry.available:
        app.abort(f"scenario {scenario!r} is planned but not implemented yet", EXIT_USAGE)
    if remediate and entry.read_only:
        app.abort(f"scenario {scenario!r} is read-only; --remediate does not apply", EXIT_USAGE)
    if (confirm or confirm_all) and not remediate:
        app.abort("--confirm and --yes confirm remediation steps: add --remediate", EXIT_USAGE)
    variables = parse_extra_vars(extra_vars)
    paths = [resolve_inventory(i) for i in inventories] or [resolve_inventory(None)]

    app.display_info(f"running {scenario} against {', '.join(str(p) for p in paths)}"
                     f"{' in check mode' if check else ''}{' with remediation' if remediate else ''}")
    result = run_playbook(
        scenario,
        entry.playbook_path,
        paths,
        variables,
        check=check,
        remediate=remediate,
        confirm=confirm,
        confirm_all=confirm_all,
        limit=limit,
        verbosity=max(0, app.verbosity - 1),
        timeout=timeout,
        artifacts_dir=artifacts_dir,
        progress=None if app.quiet else app.display_info,
    )
    report = result.as_dict()
    if report_file:
        from opsbook.lab.base import write_atomic

        write_atomic(report_file, json.dumps(report, indent=2, default=str) + "\n")
    if as_json:
        app.display(json.dumps(report, indent=2, default=str))
    else:
        app.display(render(app, result))
    if result.failed:
        return EXIT_RUN_FAILED
    return STATUS_EXIT[result.status]
