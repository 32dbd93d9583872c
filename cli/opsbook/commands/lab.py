"""`opsbook lab`: the local lab of real services on loopback."""

from __future__ import annotations

import json
import time

import click

from opsbook.app import EXIT_CRITICAL, EXIT_OK, EXIT_RUN_FAILED

lab_dir_option = click.option(
    "--lab-dir",
    envvar="OPSBOOK_LAB_DIR",
    type=click.Path(file_okay=False),
    help="Where the lab keeps its state [env OPSBOOK_LAB_DIR; default /var/tmp/opsbook-lab-<uid>].",
)
services_option = click.option(
    "-s", "--service", "services", multiple=True, metavar="NAME",
    help="Only this service (repeatable): postgres, redis, kafka, kubernetes, docker, prometheus, alertmanager, tls, ssh.",
)


def _lab(app, lab_dir):
    from opsbook.lab.core import Lab

    return Lab(lab_dir, log=app.display_info)


def _guard(app, func):
    from opsbook.lab.base import LabError

    try:
        return func()
    except LabError as exc:
        app.abort(str(exc), EXIT_RUN_FAILED)


@click.group()
def lab():
    """Start, stop and inspect the local lab (PostgreSQL, Redis, Kafka on 127.0.0.1).

    \b
    The lab is what inventories/lab points at: the default target of `opsbook run`,
    the tests and the drills. Ports: PostgreSQL 15432, Redis 16379, Kafka 19092.
    """


@lab.command()
@lab_dir_option
@services_option
@click.option("--with", "extra", multiple=True, metavar="NAME",
              help="Also start this optional service (repeatable): kubernetes, docker, prometheus, "
                   "alertmanager, tls, ssh.")
@click.option("--profile", "profiles", multiple=True, metavar="NAME",
              help="Seed a system's topology (repeatable): techbra, mlbling, etl; starts what it needs.")
@click.pass_obj
def up(app, lab_dir, services, extra, profiles):
    """Start the lab's services (idempotent: running ones are left alone).

    \b
    Kubernetes (kube-apiserver, controller-manager, scheduler built from the Go module proxy,
    etcd, a KWOK node) and Docker (dockerd, the conectsuite compose project) are optional:
    `--with kubernetes`, `--with docker`, or a profile that needs them. The first Kubernetes
    start builds the binaries into the cache (minutes); later starts reuse them.
    Prometheus (`--with prometheus`) scrapes itself and the lab API app every second.
    Alertmanager (`--with alertmanager`, starts Prometheus too) on 127.0.0.1:19193 with the
    blackbox exporter (19115) probing the lab's health endpoints; Prometheus loads the
    collection's alert rules with time compressed for drills (`for:` <= 1s, ranges <= [15s]) and
    Alertmanager posts them to the EDA webhook http://127.0.0.1:15050/alerts (bearer token in
    <lab>/alertmanager/eda-token).
    TLS (`--with tls`) serves certificates from the lab's own CA on OPSBOOK_LAB_TLS_PORT (18443) and up:
    valid, expiring in 10 days, expired, wrong host name, self-signed, SMTP with STARTTLS.
    SSH (`--with ssh`, as root) runs OpenSSH's sshd on OPSBOOK_LAB_SSH_PORT (12222) for the node user
    opsbook-node (key only): the execution node of `opsbook run SCENARIO --node lab`.
    """
    from opsbook.lab.profiles import apply_profile, load_profile

    started = time.monotonic()
    lab_ = _lab(app, lab_dir)
    loaded = [_guard(app, lambda name=name: load_profile(name)) for name in profiles]
    extra = tuple(extra) + tuple(n for p in loaded for n in p.services if n not in extra)
    timings = _guard(app, lambda: lab_.up(list(services) or None, extra))
    for profile in loaded:
        summary = _guard(app, lambda profile=profile: apply_profile(lab_, profile))
        app.display_info(f"profile {profile.name}: {summary}")
    app.display_success(f"lab up in {time.monotonic() - started:.1f}s ({lab_.dir})"
                        + (f"; started {', '.join(f'{k} {v}s' for k, v in timings.items())}" if timings else ""))
    return EXIT_OK


@lab.command()
@lab_dir_option
@services_option
@click.pass_obj
def down(app, lab_dir, services):
    """Stop the lab's services (data is kept; `reset` wipes it)."""
    _guard(app, lambda: _lab(app, lab_dir).down(list(services) or None))
    return EXIT_OK


@lab.command()
@lab_dir_option
@services_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def reset(app, lab_dir, services, yes):
    """Stop the lab, delete all its data and secrets, and start it afresh."""
    lab_ = _lab(app, lab_dir)
    if not yes:
        click.confirm(f"Delete all lab data under {lab_.dir}?", abort=True)
    _guard(app, lambda: lab_.reset(list(services) or None))
    return EXIT_OK


@lab.command()
@lab_dir_option
@click.option("--json", "as_json", is_flag=True, help="Endpoints, users, tool paths and health as JSON.")
@click.pass_obj
def status(app, lab_dir, as_json):
    """Show each service, its endpoint and health. Exit 2 when one is not healthy."""
    report = _guard(app, lambda: _lab(app, lab_dir).status())
    if as_json:
        app.display(json.dumps(report, indent=2, sort_keys=True))
    else:
        app.display(f"lab: {report['lab_dir']}")
        for name, svc in report["services"].items():
            endpoint = ", ".join(svc.get("bootstrap_servers") or []) or (
                f"{svc['host']}:{svc['port']}" if svc.get("host") else "-")
            colour = {"ok": "green", "critical": "red", "stopped": "yellow"}.get(svc["status"], "magenta")
            app.display(f"  {name:<12} {app.style(svc['status'].upper().ljust(8), fg=colour, bold=True)} "
                        f"{endpoint:<22} {svc['detail']}")
            if svc.get("kubeconfig"):
                app.display(f"  {'':<12} KUBECONFIG={svc['kubeconfig']}")
            if svc.get("docker_host"):
                app.display(f"  {'':<12} DOCKER_HOST={svc['docker_host']}")
            if svc.get("api_url"):
                app.display(f"  {'':<12} lab API {svc['api_url']} (scraped as job lab-api)")
            if svc.get("webhook_url"):
                app.display(f"  {'':<12} Alertmanager {svc['url']} -> webhook {svc['webhook_url']} "
                            f"(bearer token in {svc['webhook_token_file']})")
                app.display(f"  {'':<12} blackbox exporter {svc['blackbox_url']} (module {svc['blackbox_module']})")
    healthy = all(s["status"] == "ok" for s in report["services"].values())
    return EXIT_OK if healthy else EXIT_CRITICAL
