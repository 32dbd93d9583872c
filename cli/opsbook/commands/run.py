"""`opsbook run SCENARIO`: run a scenario's playbook against an inventory and report."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import click

from opsbook.app import EXIT_RUN_FAILED, EXIT_USAGE


def parse_extra_vars(values: tuple[str, ...]) -> dict:
    """-e k=v (the value stays a string, as ansible-playbook keeps it), -e @file.yml, or -e '{"json": 1}'."""
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
            if not isinstance(data, dict):
                raise click.BadParameter(f"{raw!r} is not a mapping", param_hint="-e/--extra-vars")
            result.update(data)
        elif "=" in raw:
            key, _, value = raw.partition("=")
            if not key.isidentifier():
                raise click.BadParameter(f"{key!r} is not a valid variable name", param_hint="-e/--extra-vars")
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


def options(*decorators):
    """Apply click options in the order listed, as if written one above the other over a command."""
    def apply(func):
        for decorator in reversed(decorators):
            func = decorator(func)
        return func
    return apply


def complete_inventory(ctx, param, incomplete: str):
    """Shell completion of -i: files and directories (the shell lists them), and ``lab``."""
    from click.shell_completion import CompletionItem

    return [CompletionItem(incomplete, type="file")] + (
        [CompletionItem("lab", help="the local lab")] if "lab".startswith(incomplete) else [])


# The options `run` and `respond` share, defined once.
TARGET_OPTIONS = (
    click.option("-i", "--inventory", "inventories", multiple=True, metavar="PATH", shell_complete=complete_inventory,
                 help="Inventory file or directory (repeatable). Default: the local lab ('lab')."),
    click.option("-l", "--limit", metavar="PATTERN", help="Only these hosts/groups (Ansible --limit)."),
)
VARS_OPTIONS = (
    click.option("-e", "--extra-vars", "extra_vars", multiple=True, metavar="K=V|@FILE|{JSON}",
                 help="Variables for the scenario (repeatable). K=V values are strings (as with ansible-playbook; "
                      "roles convert numbers); typed values through @vars.yml or '{\"k\": 5000}'."),
    click.option("--ask-vault-pass", "-J", is_flag=True, help="Ask for the vault password (inventory secrets)."),
    click.option("--vault-password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 envvar="ANSIBLE_VAULT_PASSWORD_FILE", show_envvar=True,
                 help="File holding the vault password, or an executable that prints it."),
    click.option("--vault-id", "vault_ids", multiple=True, metavar="LABEL@SOURCE",
                 help="A vault identity (repeatable): LABEL@FILE or LABEL@CLIENT-SCRIPT, e.g. --vault-id prod@~/.vault-prod."),
)
OUTPUT_OPTIONS = (
    click.option("--json", "as_json", is_flag=True,
                 help="Print the report as JSON on stdout (schema opsbook.report/v2, shipped as opsbook/schemas/report-v2.json)."),
    click.option("--report", "--json-out", "report_file", type=click.Path(dir_okay=False, writable=True, path_type=Path),
                 help="Also write the JSON report to this file (atomically)."),
    click.option("--prometheus-textfile", "prometheus_textfile", metavar="PATH",
                 type=click.Path(writable=True, path_type=Path), callback=lambda ctx, param, value: _textfile(value),
                 help="Also write the run's findings and outcome as metrics for the node exporter's textfile collector "
                      "(atomically, 0644): PATH is a *.prom file, or a directory (then opsbook_<scenario>.prom in it). "
                      "One file per scenario: several scenarios writing into one directory need distinct files."),
    click.option("--artifacts-dir", type=click.Path(file_okay=False, path_type=Path),
                 help="Keep ansible-runner's artifacts (events, stdout) here; secrets are censored."),
    click.option("--timeout", type=click.IntRange(min=1), default=3600, show_default=True,
                 help="Seconds the whole run may take."),
    click.option("-v", "--verbose", count=True,
                 help="-v: each task's result per host; -vv: also Ansible's own output (stderr); -vvv and up: Ansible's -v..."),
)
HTML_OPTION = click.option(
    "--html", "html_file", type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the report as one self-contained HTML page to this file (atomically; as `opsbook report RUN "
         "--format html`).")
NODE_OPTIONS = (
    click.option("--node", metavar="USER@HOST[:PORT]|lab", envvar="OPSBOOK_NODE", show_envvar=True,
                 help="Run on this execution node (ansible-runner transmit | ssh NODE ansible-runner worker | process); "
                      "'lab' is the lab's (`opsbook lab up --with ssh`)."),
    click.option("--node-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), envvar="OPSBOOK_NODE_KEY",
                 show_envvar=True, help="Private key for the node's login (ssh -i)."),
    click.option("--node-known-hosts", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 envvar="OPSBOOK_NODE_KNOWN_HOSTS", show_envvar=True,
                 help="known_hosts file with the node's host key (default ~/.ssh/known_hosts; checked strictly)."),
    click.option("--node-runner", metavar="PATH", envvar="OPSBOOK_NODE_RUNNER", show_envvar=True,
                 help="The node's ansible-runner (default: ansible-runner on its PATH; its directory goes first on "
                      "the run's PATH)."),
)
LOCK_OPTIONS = (
    click.option("--wait", "lock_wait", type=click.FloatRange(min=0), default=0, metavar="SECONDS",
                 help="A remediating run holds a lock per scenario and inventory: when another run holds it, wait up "
                      "to SECONDS for it (default 0: refuse at once, exit 75). Read-only runs take no lock."),
)
HISTORY_OPTIONS = (
    click.option("--no-history", is_flag=True, envvar="OPSBOOK_NO_HISTORY", show_envvar=True,
                 help="Do not record this run in the history (`opsbook history`)."),
    click.option("--history-keep", type=click.IntRange(min=1), default=200, envvar="OPSBOOK_HISTORY_KEEP",
                 show_default=True, show_envvar=True, help="Keep the newest N runs in the history."),
    click.option("--history-max-age", metavar="AGE", default="30d", envvar="OPSBOOK_HISTORY_MAX_AGE",
                 show_default=True, show_envvar=True, callback=lambda ctx, param, value: _age(value),
                 help="Drop recorded runs older than AGE (90s, 30m, 12h, 30d, 1w)."),
)


def _textfile(value: Path | None) -> Path | None:
    from opsbook.textfile import textfile_path

    try:
        value is None or textfile_path(value, "scenario")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--prometheus-textfile")
    return value


def _age(value: str) -> float:
    from opsbook.history import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--history-max-age")


def make_vault(ask_vault_pass: bool, vault_password_file: Path | None, vault_ids: tuple[str, ...]):
    """The run's Vault from the vault options; a bad --vault-id is a usage error."""
    from opsbook.runner import Vault

    vault = Vault(password_file=vault_password_file, ids=tuple(vault_ids))
    for vault_id in vault_ids:
        label, sep, source = vault_id.partition("@")
        if not sep or not label or not source:
            raise click.BadParameter(f"{vault_id!r}: expected LABEL@SOURCE (a file or a client script)",
                                     param_hint="--vault-id")
        if source == "prompt":
            raise click.BadParameter(f"{vault_id!r}: prompts are not supported here; use --ask-vault-pass or a file",
                                     param_hint="--vault-id")
        if not Path(source).expanduser().exists():
            raise click.BadParameter(f"{source} does not exist", param_hint="--vault-id")
    if ask_vault_pass:
        vault.password = click.prompt("Vault password", hide_input=True, err=True)
    return vault


def resolve_node(spec: str | None, key: Path | None, known_hosts: Path | None, runner: str | None):
    """The --node options as an ``opsbook.remote.Node`` (None without --node); usage errors name the option."""
    if not spec:
        if key or known_hosts or runner:
            raise click.BadParameter("needs --node", param_hint="--node-key/--node-known-hosts/--node-runner")
        return None
    from opsbook.remote import Node

    if spec == "lab":
        from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import OpsbookError
        from ansible_collections.opsbook.runbooks.plugins.module_utils.common.labinfo import read_state

        try:
            ssh = read_state().get("services", {}).get("ssh")
        except OpsbookError as exc:
            raise click.BadParameter(str(exc), param_hint="--node") from None
        if not ssh:
            raise click.BadParameter("the lab has no execution node: `opsbook lab up --with ssh`", param_hint="--node")
        node = Node.from_lab(ssh)
        node.key_file = key or node.key_file
        node.known_hosts = known_hosts or node.known_hosts
        node.runner = runner or node.runner
        return node
    try:
        return Node.parse(spec, key, known_hosts, runner)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--node") from None


def write_report(path: Path, report: dict) -> None:
    """Write the JSON report to ``path`` atomically (temp file + rename)."""
    from opsbook.lab.base import write_atomic

    write_atomic(Path(path), json.dumps(report, indent=2, default=str) + "\n")


def write_html(app, path: Path, report: dict, run_id: str | None) -> None:
    """Write the report's HTML page to ``path`` atomically, with trends over the scenario's earlier runs."""
    from opsbook.history import censor_argv
    from opsbook.html_report import earlier_reports, render_html
    from opsbook.lab.base import write_atomic

    history = earlier_reports(report["scenario"], before_id=run_id)
    write_atomic(Path(path), render_html(report, run_id, ["opsbook"] + censor_argv(list(app.argv)), history))


def record_history(app, report: dict, no_history: bool, keep: int, max_age: float,
                   run_id: str | None = None) -> str | None:
    """Keep the run under <state>/runs (opsbook.history) and say its id; a failure to record is a warning."""
    if no_history:
        return None
    from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import OpsbookError
    from opsbook.history import record_run, runs_dir

    try:
        run_id = record_run(report, app.argv, keep=keep, max_age=max_age, run_id=run_id)
    except (OSError, ValueError, KeyError, OpsbookError) as exc:  # the run's result matters more than its record
        app.display_warning(f"run not recorded in {runs_dir()}: {exc}")
        return None
    app.display_info(f"run {run_id} recorded: `opsbook report {run_id}` shows it again")
    return run_id


def write_textfile(app, path: Path, report: dict) -> None:
    """The report as node exporter textfile metrics (opsbook.textfile); a failure to write is a warning."""
    from opsbook import textfile

    try:
        written = textfile.write(path, report)
    except (OSError, ValueError) as exc:  # the run's result matters more than its metrics
        app.display_warning(f"metrics not written to {path}: {exc}")
        return
    app.display_debug(f"metrics written to {written}")


def new_run_id(scenario: str) -> str:
    """The id the run is known by from its start: its lock names it, the history records it."""
    from opsbook.history import new_run_id as make

    return make(time.time(), scenario)


def run_lock(app, scenario: str, paths: list[Path], run_id: str, wait: float, active: bool) -> contextlib.ExitStack:
    """``with run_lock(...):`` the scenario's lock for a remediating run (``active``), else nothing.

    Held: exit 75 naming the other run (its id, pid, start), after waiting ``wait`` seconds for it.
    """
    from opsbook.app import EXIT_BUSY
    from opsbook.history import censor_argv
    from opsbook.runlock import RunLocked, describe_holder, scenario_lock

    stack = contextlib.ExitStack()
    if not active:
        return stack
    on_wait = lambda holder: app.display_info(  # noqa: E731
        f"waiting up to {wait:g}s for {describe_holder(holder)} of {scenario} to finish ...")
    try:
        stack.enter_context(scenario_lock(scenario, paths, run_id, wait=wait,
                                          command=["opsbook"] + censor_argv(app.argv), on_wait=on_wait))
    except RunLocked as exc:
        app.abort(str(exc), EXIT_BUSY)
    return stack


def publish(app, result, run_id: str, as_json: bool, report_files, prometheus_textfile: Path | None,
            no_history: bool, keep: int, max_age: float) -> dict:
    """Everything a finished (or interrupted) run leaves: the report printed and written, metrics, history."""
    report = show_report(app, result, as_json)
    for path in report_files:
        if path:
            write_report(path, report)
    if prometheus_textfile:
        write_textfile(app, prometheus_textfile, report)
    record_history(app, report, no_history, keep, max_age, run_id)
    return report


def show_report(app, result, as_json: bool) -> dict:
    """Print a run's report on stdout (the table, or JSON with --json) and return it."""
    from opsbook.report import render

    report = result.as_dict()
    app.display(json.dumps(report, indent=2, default=str) if as_json else render(app, result))
    return report


# Every option of `run`, in its order: the shortcuts (opsbook backup, maintenance, dr) take them all.
RUN_OPTIONS = (
    *TARGET_OPTIONS,
    click.option("-C", "--check", is_flag=True, help="Check mode: report what remediation would do, change nothing."),
    click.option("--remediate", is_flag=True,
                 help="Allow the scenario's remediation steps (off by default; destructive ones also need confirmation)."),
    click.option("--confirm", "confirm", multiple=True, metavar="TARGET",
                 help="Allow the destructive steps on TARGET (repeatable; needs --remediate): the queue, database, "
                      "workload (namespace/name on Kubernetes) or namespace a refused step names in its message."),
    click.option("--yes", "confirm_all", is_flag=True,
                 help="Confirm every target the scenario's plan names (needs --remediate; try -C first)."),
    *VARS_OPTIONS, *OUTPUT_OPTIONS, HTML_OPTION, *NODE_OPTIONS, *LOCK_OPTIONS, *HISTORY_OPTIONS,
)


def complete_scenario(ctx, param, incomplete: str):
    """Shell completion of SCENARIO: the catalogue's runnable scenarios."""
    from click.shell_completion import CompletionItem

    from opsbook.catalog import load_catalog

    return [CompletionItem(name, help=entry.title) for name, entry in load_catalog().items()
            if entry.available and name.startswith(incomplete)]


@click.command()
@click.argument("scenario", shell_complete=complete_scenario)
@options(*RUN_OPTIONS)
@click.pass_obj
def run(app, scenario, **opts):
    """Run SCENARIO (see `opsbook list`) against an inventory and print its findings.

    \b
    The scenario diagnoses; with --remediate it fixes what it may, then verifies.
    The report shows the diagnosis, what was done, and the verification, and ends
    with the outcome. Progress goes to stderr (on a terminal one live line: host, step,
    elapsed time; elsewhere plain lines); the report (table or --json) to stdout.

    \b
    Outcome         exit  meaning
    healthy           0   nothing wrong
    resolved          0   something was wrong, remediation ran, verification ok
    action_needed   1/2   problems found (warning/critical), nothing was changed
    unresolved        2   remediation ran or failed, and the problem remains
    not_checked       3   no check gave a verdict (no service configured?)
    (run failed)      4   Ansible failed or timed out
    (usage error)    64   bad options or variables
    (busy)           75   another remediating run of SCENARIO on the inventory holds its lock
    interrupted  130/143  SIGINT (Ctrl-C) / SIGTERM: Ansible stopped, the partial report recorded

    \b
    Examples:
      opsbook run health-check                          # the local lab
      opsbook run health-check -i inventories/techbra --json > report.json
      opsbook run health-check -i inventories/prod --ask-vault-pass
      opsbook run postgres-connection-pool -i prod/ -C --remediate   # what would be terminated
      opsbook run queue-backlog --remediate -e queue_backlog_purge_queue=sync_queue --confirm sync_queue
      opsbook run redis-health --no-history             # not kept in `opsbook history`
      opsbook run kafka-consumer-lag --html lag.html    # also a page to share (timeline, trends)
      opsbook run health-check --node lab               # on the lab's execution node, over ssh
      opsbook run health-check -i prod/ --node ops@runner1:22 --node-key ~/.ssh/opsbook --node-runner /opt/opsbook/bin/ansible-runner
      opsbook run health-check --prometheus-textfile /var/lib/prometheus/node-exporter/
      opsbook run api-down --remediate --wait 300       # queue behind another remediating api-down run

    \b
    Destructive steps (stop, scale to zero, purge, terminate, replace) run only for the targets
    confirmed with --confirm TARGET or --yes; otherwise they are refused with a warning naming
    the exact --confirm value. With -C the report lists what each confirmation would allow.

    \b
    A remediating run (--remediate, not -C) holds a lock per scenario and inventory under the
    state directory: a second one refuses (exit 75), naming the run that holds it, or waits
    --wait SECONDS for it. SIGINT or SIGTERM stops Ansible; the findings so far are reported and
    recorded with the outcome `interrupted`, and the run exits 130 (SIGINT) or 143 (SIGTERM).
    """
    return run_scenario(app, scenario, **opts)


def run_scenario(app, scenario, inventories, limit, check, remediate, confirm, confirm_all, extra_vars,
                 ask_vault_pass, vault_password_file, vault_ids, as_json, report_file, prometheus_textfile,
                 artifacts_dir, timeout, verbose, html_file, lock_wait, node, node_key, node_known_hosts,
                 node_runner, no_history, history_keep, history_max_age, preset: dict | None = None):
    """What `opsbook run SCENARIO` does; ``preset`` are a shortcut's variables (-e given by hand win)."""
    from opsbook.catalog import load_catalog

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
    variables = dict(preset or {}, **parse_extra_vars(extra_vars))
    paths = [resolve_inventory(i) for i in inventories] or [resolve_inventory(None)]
    vault = make_vault(ask_vault_pass, vault_password_file, vault_ids)
    node = resolve_node(node, node_key, node_known_hosts, node_runner)

    run_id = new_run_id(scenario)
    from opsbook.remote import NodeError

    with run_lock(app, scenario, paths, run_id, lock_wait, active=remediate and not check):
        app.display_info(f"running {scenario} against {', '.join(str(p) for p in paths)}"
                         f"{' in check mode' if check else ''}{' with remediation' if remediate else ''}"
                         f"{f' on node {node.label}' if node else ''}")
        try:
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
                verbosity=app.verbosity,
                timeout=timeout,
                artifacts_dir=artifacts_dir,
                progress=app.progress(),
                vault=vault,
                node=node,
            )
        except NodeError as exc:
            app.abort(str(exc), EXIT_RUN_FAILED)
        report = publish(app, result, run_id, as_json, [report_file], prometheus_textfile, no_history, history_keep,
                         history_max_age)
    if html_file:
        write_html(app, html_file, report, run_id)
    return result.exit_code
