"""`opsbook respond ALERTNAME`: run the catalogue's scenario for an alert, by hand or from the EDA rulebook."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.state import default_state_dir
from opsbook.app import EXIT_USAGE
from opsbook.commands.run import (
    HISTORY_OPTIONS,
    LOCK_OPTIONS,
    OUTPUT_OPTIONS,
    TARGET_OPTIONS,
    VARS_OPTIONS,
    make_vault,
    new_run_id,
    options,
    parse_extra_vars,
    publish,
    resolve_inventory,
    run_lock,
)

ALERT_KEYS = ("status", "labels", "annotations", "startsAt", "endsAt", "fingerprint", "generatorURL")


def default_report_dir() -> Path:
    """``$OPSBOOK_STATE_DIR/reports``, else ``$XDG_STATE_HOME/opsbook/reports`` (``~/.local/state``), beside the
    run history, incident records and freezes (one state dir rule: module_utils/common/state.py)."""
    return Path(default_state_dir("reports"))


def parse_pairs(values: tuple[str, ...], hint: str) -> dict:
    pairs = {}
    for raw in values:
        key, sep, value = raw.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {raw!r}", param_hint=hint)
        pairs[key] = value
    return pairs


def build_alert(alertname: str, alert_json: str | None, labels: tuple[str, ...], annotations: tuple[str, ...],
                starts_at: str | None, fingerprint: str | None) -> dict:
    """The alert the scenario gets as ``opsbook_alert``: Alertmanager's fields plus ``name``."""
    alert: dict = {}
    if alert_json:
        text = alert_json
        if alert_json.startswith("@"):
            try:
                text = Path(alert_json[1:]).read_text()
            except OSError as exc:
                raise click.BadParameter(f"cannot read {alert_json[1:]}: {exc.strerror}", param_hint="--alert")
        try:
            alert = json.loads(text)
        except ValueError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--alert")
        if not isinstance(alert, dict):
            raise click.BadParameter("expected one alert, a JSON object", param_hint="--alert")
        alert = {k: alert[k] for k in ALERT_KEYS if k in alert}
    alert_labels = dict(alert.get("labels") or {}, **parse_pairs(labels, "--label"))
    if alert_labels.setdefault("alertname", alertname) != alertname:
        raise click.BadParameter(f"the alert's alertname label is {alert_labels['alertname']!r}, not {alertname!r}",
                                 param_hint="--alert/--label")
    alert["labels"] = alert_labels
    alert["annotations"] = dict(alert.get("annotations") or {}, **parse_pairs(annotations, "--annotation"))
    alert.setdefault("status", "firing")
    if starts_at:
        alert["startsAt"] = starts_at
    alert.setdefault("startsAt", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    if fingerprint:
        alert["fingerprint"] = fingerprint
    alert.setdefault("fingerprint", None)
    alert["name"] = alertname
    return alert


# The silence outlives the run's --timeout by this much (it is expired as soon as the run ends).
SILENCE_MARGIN_SECONDS = 300


def silence_matchers(alert: dict) -> list[dict]:
    """The alert's own: its exact label set (API matchers). Alertname and instance alone would also mute the
    alert's siblings on that instance (HighLatencyP95 of another route), other problems than the one worked on."""
    labels = alert["labels"]
    return [{"name": k, "value": str(labels[k]), "isRegex": False, "isEqual": True} for k in sorted(labels)]


def silence_vars(alert: dict, state: str, comment: str, timeout: int) -> dict:
    """Variables of playbooks/alert_silence.yml (the role alert_silence) for ``state`` present or absent."""
    return {"alert_silence_state": state, "alert_silence_matchers": silence_matchers(alert),
            "alert_silence_duration": f"{timeout + SILENCE_MARGIN_SECONDS}s", "alert_silence_comment": comment}


def show_silence(app, record, state: str) -> None:
    """respond's lines for its silence run: what each host's Alertmanager did, or why nothing."""
    for finding in record.findings:
        app.display_info(f"silence ({state}) on {finding.get('host')}: {finding['message']}")
    if record.failed:
        messages = "; ".join(f["message"] for f in record.failures)[:500]
        app.display_warning(f"silence ({state}) failed ({record.runner_status}): {messages}")


def report_path(directory: Path, scenario: str) -> Path:
    """``<dir>/<UTC timestamp>-<scenario>.json``, a new name even within the same second."""
    stem = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{scenario}"
    path, n = directory / f"{stem}.json", 1
    while path.exists():
        n += 1
        path = directory / f"{stem}-{n}.json"
    return path


@click.command()
@click.argument("alertname")
@click.option("--label", "labels", multiple=True, metavar="K=V", help="A label of the alert (repeatable).")
@click.option("--annotation", "annotations", multiple=True, metavar="K=V", help="An annotation of the alert (repeatable).")
@click.option("--alert", "alert_json", metavar="JSON|@FILE",
              help="The alert as Alertmanager sends it (one element of the webhook's alerts); --label and "
                   "--annotation add to it. The EDA rulebook passes the event's alert here.")
@click.option("--starts-at", metavar="ISO", help="When the alert started firing (default: now).")
@click.option("--fingerprint", metavar="ID", help="Alertmanager's fingerprint of the alert.")
@click.option("--remediate", is_flag=True,
              help="By hand: your explicit consent to the scenario's remediation steps (destructive ones still "
                   "need the scenario's confirmation, which respond never gives).")
@click.option("--allow-remediation", "allow", multiple=True, metavar="SCENARIO[,SCENARIO]",
              help="The allow-list: remediate only when the alert's scenario is on it (repeatable or "
                   "comma-separated). The rulebook passes opsbook_respond_remediate here, never --remediate.")
@options(*TARGET_OPTIONS, *VARS_OPTIONS)
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), default=default_report_dir,
              envvar="OPSBOOK_REPORT_DIR", show_envvar=True, show_default="$OPSBOOK_STATE_DIR/reports or ~/.local/state/opsbook/reports",
              help="Write the report to DIR/<timestamp>-<scenario>.json (atomically).")
@click.option("--no-incident", is_flag=True, help="Do not run playbooks/incident.yml after the scenario.")
@options(*OUTPUT_OPTIONS, *LOCK_OPTIONS, *HISTORY_OPTIONS)
@click.pass_obj
def respond(app, alertname, labels, annotations, alert_json, starts_at, fingerprint, remediate, allow, inventories,
            limit, extra_vars, ask_vault_pass, vault_password_file, vault_ids, report_dir, no_incident, as_json,
            report_file, prometheus_textfile, artifacts_dir, timeout, verbose, lock_wait, no_history, history_keep,
            history_max_age):
    """Run the scenario the catalogue maps ALERTNAME to, diagnose-only unless allowed.

    \b
    The mapping is playbooks/catalog.yml's `alerts:` lists (the same one the EDA rulebook
    uses: its playbook runs this command). An alert's `scenario` label may confirm the
    catalogue's choice but never overrides it. An alert the catalogue does not list, or one
    whose scenario is still planned, runs nothing and exits 64.

    \b
    Remediation: off by default. By hand, --remediate is your explicit consent. From Event-Driven
    Ansible only the allow-list counts (--allow-remediation, from opsbook_respond_remediate).
    Read-only scenarios only diagnose. Destructive steps stay refused (no --confirm here).

    \b
    A remediating run of a firing alert silences the alert's own label set (that alert only, not
    its siblings on the same instance) in the inventory's Alertmanager (opsbook_alertmanager.url) for --timeout
    plus 5 minutes before the scenario, and expires that silence after it, whatever the outcome
    (playbooks/alert_silence.yml; opsbook_respond_silence: false in the inventory turns it off).

    \b
    The scenario gets the alert as the variable opsbook_alert {name, status, labels, annotations,
    startsAt, fingerprint, ...}. The report is written to --report-dir (and --report PATH);
    afterwards, if the collection has playbooks/incident.yml, it runs against the same inventory
    with opsbook_incident_report (the report's path) and opsbook_incident_alert (--no-incident: not).
    The exit code is the scenario's (see `opsbook run --help`). A remediating response holds the
    scenario's lock as `opsbook run --remediate` does (another holding it: exit 75, or --wait);
    an interrupted one (SIGINT 130, SIGTERM 143) still expires its silence and runs no incident.

    \b
    Examples:
      opsbook respond RedisMemoryHigh                          # redis-health against the lab
      opsbook respond APIDown -i inventories/prod --label instance=api-1:8080
      opsbook respond APIDown -i prod/ --remediate              # by hand: restart the API if down
      opsbook respond HighLatencyP95 --allow-remediation api-latency,api-down --report-dir /var/lib/opsbook
    """
    from opsbook.catalog import NoScenario, collection_root, load_catalog, scenario_for_alert
    from opsbook.runner import run_playbook

    app.verbosity += verbose
    alert = build_alert(alertname, alert_json, labels, annotations, starts_at, fingerprint)
    catalog = load_catalog()
    allowed = {name.strip() for item in allow for name in item.split(",") if name.strip()}
    unknown = sorted(allowed - set(catalog))
    if unknown:
        raise click.BadParameter(f"not in the catalogue: {', '.join(unknown)}", param_hint="--allow-remediation")
    try:
        entry, why = scenario_for_alert(alertname, alert["labels"], catalog)
    except NoScenario as exc:
        app.abort(f"{exc}: nothing run", EXIT_USAGE)
    if entry.read_only:
        act, mode = False, "diagnose only (a read-only scenario)"
    elif remediate:
        act, mode = True, "with remediation (--remediate given by hand)"
    elif entry.name in allowed:
        act, mode = True, f"with remediation ({entry.name} is on the allow-list)"
    else:
        act, mode = False, f"diagnose only ({entry.name} is not on the remediation allow-list)"
    variables = parse_extra_vars(extra_vars)
    paths = [resolve_inventory(i) for i in inventories] or [resolve_inventory(None)]
    vault = make_vault(ask_vault_pass, vault_password_file, vault_ids)

    app.display_info(f"alert {alertname} ({alert['status']}) -> scenario {entry.name}: {why}; {mode}")
    app.display_info(f"running {entry.name} against {', '.join(str(p) for p in paths)}"
                     f"{f' limited to {limit}' if limit else ''}")
    common = dict(limit=limit, verbosity=app.verbosity, timeout=timeout, progress=app.progress(),
                  vault=vault)
    silence = collection_root() / "playbooks" / "alert_silence.yml"
    silenced = act and alert["status"] == "firing" and silence.is_file()
    run_id = new_run_id(entry.name)
    with run_lock(app, entry.name, paths, run_id, lock_wait, active=act):
        if silenced:  # the alert's own silence while the run works on it (opsbook_respond_silence: false: not)
            comment = (f"opsbook respond {alertname} -> {entry.name} (remediating), "
                       f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}")
            show_silence(app, run_playbook("alert_silence", silence, paths,
                                           dict(variables, **silence_vars(alert, "present", comment, timeout)),
                                           **common), "present")
        try:
            result = run_playbook(entry.name, entry.playbook_path, paths, dict(variables, opsbook_alert=alert),
                                  remediate=act, artifacts_dir=artifacts_dir, **common)
        finally:
            if silenced:
                show_silence(app, run_playbook("alert_silence", silence, paths,
                                               dict(variables, **silence_vars(alert, "absent", comment, timeout)),
                                               **common), "absent")
        saved = report_path(report_dir, entry.name)
        report = publish(app, result, run_id, as_json, [saved, report_file], prometheus_textfile, no_history,
                         history_keep, history_max_age)
        app.display_info(f"report: {saved}")

    incident = collection_root() / "playbooks" / "incident.yml"
    if result.interrupted:
        app.display_info(f"incident: not run, the response was interrupted ({result.signal_name})")
    elif no_incident or not incident.is_file():
        app.display_debug(f"incident: {'--no-incident' if no_incident else 'no playbooks/incident.yml'}, skipped")
    else:
        app.display_info(f"incident: running {incident.name}")
        # it runs on the controller (hosts: localhost): the scenario's --limit would match no host there
        record = run_playbook("incident", incident, paths,
                              dict(variables, opsbook_incident_report=str(saved), opsbook_incident_alert=alert),
                              **dict(common, limit=None))
        if record.failed:
            messages = "; ".join(f["message"] for f in record.failures)[:500]
            app.display_warning(f"incident playbook failed ({record.runner_status}): {messages}")
    app.display_info(f"outcome {report['outcome']}, exit {result.exit_code}")
    return result.exit_code
