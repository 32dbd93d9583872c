"""Drills of the whole alert loop, all real: the lab's Prometheus evaluates the collection's rules (time
compressed), Alertmanager posts to the collection's rulebook under ansible-rulebook, which runs
`opsbook respond`: the scenario's report, the incident record and its notifications (a webhook receiver
and an SMTP server on loopback).

- The lab API under load on a route (its capacity model: latency follows the ready replicas of a bff
  Deployment on the lab's Kubernetes): HighLatencyP95 fires; diagnose-only by default (a report, an incident
  declared and notified, nothing scaled); with api-latency on the allow-list the bff is scaled out, the
  verification sees p95 fall, the incident closes with an MTTR and the alert resolves - nothing in the test
  brings the latency down.
- The lab's compose backend stopped while a silence covers its APIDown: nothing runs; the silence expired,
  the alert arrives and api-down restarts the backend (allow-list): outcome resolved.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from opsbook.catalog import lab_inventory
from opsbook.drills.compose import Compose
from opsbook.lab.base import LabError
from tests.helpers import poll, run_module
from tests.integration.eda_lab import reports, rulebook_process
from tests.integration.k8s_seed import deployment, seed_namespace
from tests.integration.prom_seed import capacity_load, unique_route
from tests.integration.test_incident import PASSWORD, receivers  # noqa: F401 - fixture

pytestmark = [pytest.mark.lab, pytest.mark.slow]
QUIET = 8  # seconds a silenced alert is given to (wrongly) start a run


def am_alerts(am_url: str, *matchers: str) -> list[dict]:
    query = urllib.parse.urlencode([("filter", m) for m in matchers])
    with urllib.request.urlopen(f"{am_url}/api/v2/alerts?{query}", timeout=5) as response:
        return json.loads(response.read())


def epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def namespace(k8s_lab):
    with seed_namespace(k8s_lab, "alertloop", {"bff": 1}) as ns:
        yield ns


@pytest.fixture
def drill(tmp_path, alertmanager_lab, k8s_lab, docker_lab, pg_params, namespace, receivers):  # noqa: F811
    """An inventory: the lab's, plus the drill's api-latency and api-down settings and the incident's
    receivers; ``rulebook(allow)`` starts the collection's rulebook on the port the lab Alertmanager posts to."""
    hook, box, smtp = receivers
    inv = tmp_path / "inventory"
    shutil.copytree(lab_inventory(), inv)
    (inv / "host_vars").mkdir(exist_ok=True)
    state_dir = tmp_path / "incidents"
    host_vars = {
        "opsbook_kubernetes": {"kubeconfig": k8s_lab["kubeconfig"], "namespace": namespace},
        "opsbook_docker": {"docker_host": docker_lab["docker_host"], "project": docker_lab["compose_project"]},
        "api_latency_window": "15s", "api_latency_check_cache": False, "api_latency_check_database": False,
        "api_latency_scale_workloads": [{"name": "bff", "replicas": 3}],
        "api_latency_verify_attempts": 40, "api_latency_verify_delay": 1,
        "api_down_health_url": docker_lab["backend_url"],
        "api_down_database_endpoint": {"host": "127.0.0.1", "port": pg_params["port"]},
        "api_down_timeout": 60, "api_down_verify_delay": 1,
    }
    # the incident playbook runs on the controller (implicit localhost): its settings live in group_vars/all
    (inv / "group_vars" / "all").mkdir()
    (inv / "group_vars" / "all" / "incident.yml").write_text(yaml.safe_dump({
        "opsbook_incident": {
            "state_dir": str(state_dir),
            "escalation": [{"level": "L1", "after": "0m", "contacts": ["sre-oncall@example.com"]}],
            "notify": {"webhook": {"url": hook.url, "timeout": 5},
                       "email": {"host": "127.0.0.1", "port": smtp.port, "user": "opsbook", "password": PASSWORD,
                                 "sender": "opsbook@example.com", "to": ["sre-oncall@example.com"], "timeout": 5}}},
    }))
    port = urllib.parse.urlsplit(alertmanager_lab["webhook_url"]).port

    def rulebook(allow: list[str], selector: str):
        (inv / "host_vars" / "lab-local.yml").write_text(yaml.safe_dump(dict(host_vars, api_latency_selector=selector)))
        work = tmp_path / f"eda-{len(list(tmp_path.glob('eda-*')))}"
        work.mkdir()
        return rulebook_process(work, inv, {"opsbook_respond_remediate": allow}, port,
                                Path(alertmanager_lab["webhook_token_file"]))

    return {"rulebook": rulebook, "incidents": state_dir, "hook": hook, "box": box, "am": alertmanager_lab,
            "prom": alertmanager_lab["prometheus"]}


def firing(drill, *matchers) -> dict:
    """The one active (notified) alert matching, once Alertmanager has it."""
    return poll(lambda: next((a for a in am_alerts(drill["am"]["url"], *matchers)
                              if a["status"]["state"] == "active"), None), timeout=90)


def incident(drill, fingerprint: str, state: str) -> dict:
    path = drill["incidents"] / f"{fingerprint}.json"
    return poll(lambda: path.exists() and json.loads(path.read_text())["state"] == state
                and json.loads(path.read_text()), timeout=240)


def route_reports(rb, route: str) -> list[dict]:
    return [r for r in reports(rb) if any(f["target"] == f"route={route}" for f in r["findings"])]


def test_high_latency_alert_runs_api_latency_diagnose_only_and_declares_an_incident(drill, k8s_lab, namespace):
    route = unique_route("loop-diag")
    capacity = {"kubeconfig": k8s_lab["kubeconfig"], "namespace": namespace, "deployment": "bff"}
    with drill["rulebook"]([], f'route="{route}"') as rb, \
            capacity_load(drill["prom"]["api_url"], route, rps=10, work_ms=400, concurrency=3, capacity=capacity):
        alert = firing(drill, "alertname=HighLatencyP95", f"route={route}")
        assert alert["labels"]["scenario"] == "api-latency" and alert["labels"]["severity"] == "warning"
        record = incident(drill, alert["fingerprint"], "declared")
        [report, *_] = poll(lambda: route_reports(rb, route), timeout=60)
        # the report is written before the rulebook's playbook prints respond's output
        poll(lambda: "diagnose only" in rb["log"](), timeout=60)
    fired_to_report = report["_written"] - epoch(alert["startsAt"])
    print(f"HighLatencyP95 fired -> report written: {fired_to_report:.1f} s")
    assert 0 < fired_to_report < 120
    assert (report["scenario"], report["remediate"], report["actions"]) == ("api-latency", False, [])
    p95 = next(f for f in report["findings"] if f["check"] == "api_latency_p95" and f["target"] == f"route={route}")
    assert p95["status"] != "ok" and p95["value"] > 1  # 1.2 s requests on one replica
    assert report["outcome"] == "action_needed" and report["exit_code"] in (1, 2)
    assert deployment(k8s_lab, namespace, "bff").spec.replicas == 1  # diagnose-only: nothing scaled
    assert record["alertname"] == "HighLatencyP95" and record["priority"] in ("P1", "P2", "P3")
    texts = [b["json"]["text"] for b in drill["hook"].bodies]
    assert any(t.startswith("🚨 INCIDENT DECLARED: HighLatencyP95") for t in texts), texts
    assert any(m["message"]["Subject"].startswith("🚨 INCIDENT DECLARED: HighLatencyP95") for m in drill["box"].messages)


def test_allow_listed_high_latency_is_scaled_out_resolved_and_the_incident_closed(drill, k8s_lab, namespace):
    route = unique_route("loop-fix")
    capacity = {"kubeconfig": k8s_lab["kubeconfig"], "namespace": namespace, "deployment": "bff"}
    with drill["rulebook"](["api-latency"], f'route="{route}"') as rb, \
            capacity_load(drill["prom"]["api_url"], route, rps=10, work_ms=400, concurrency=3, capacity=capacity):
        alert = firing(drill, "alertname=HighLatencyP95", f"route={route}")
        record = incident(drill, alert["fingerprint"], "resolved")
        fixed = poll(lambda: [r for r in route_reports(rb, route) if r["actions"]], timeout=60)[0]
        # the alert itself resolves: the lab API's latency follows the three ready replicas now
        poll(lambda: not [a for a in am_alerts(drill["am"]["url"], "alertname=HighLatencyP95", f"route={route}")
                          if a["status"]["state"] == "active"], timeout=120)
        # the rulebook's actions run one after another: other alerts' runs may come first
        poll(lambda: "resolved: HighLatencyP95" in rb["log"](), timeout=180)
    assert [(a["action"], a["target"], a["changed"]) for a in fixed["actions"]] == [("scale", f"{namespace}/bff", True)]
    assert (fixed["outcome"], fixed["exit_code"], fixed["remediate"]) == ("resolved", 0, True), fixed["findings"]
    after = next(f for f in fixed["findings"] if f["check"] == "api_latency_p95" and f["phase"] == "verify"
                 and f["target"] == f"route={route}")
    assert after["status"] == "ok" and after["value"] <= 0.5
    assert deployment(k8s_lab, namespace, "bff").spec.replicas == 3
    assert record["mttr_minutes"] is not None and record["mttr_minutes"] > 0, record
    texts = [b["json"]["text"] for b in drill["hook"].bodies]
    assert any(t.startswith("✅ INCIDENT RESOLVED: HighLatencyP95") for t in texts), texts


def test_silenced_api_down_runs_nothing_then_the_backend_is_restarted(drill, docker_lab):
    backend = docker_lab["backend_url"]
    compose = Compose(docker_lab["compose_project"], docker_lab["compose_file"], docker_lab["docker_host"])
    matchers = ["alertname=APIDown", f"instance={backend}"]
    silence = {"url": drill["am"]["url"], "timeout": 5, "matchers": matchers, "comment": "opsbook drill: maintenance",
               "duration": "10m"}
    created = run_module("alertmanager_silence", silence)
    assert created["silence_state"] == "created", created
    assert run_module("alertmanager_silence", silence)["silence_state"] == "unchanged"  # once, run twice
    try:
        with drill["rulebook"](["api-down"], 'route="none"') as rb:
            compose.stop("backend")  # the api-down drill's fault (opsbook.drills.compose)
            suppressed = poll(lambda: next((a for a in am_alerts(drill["am"]["url"], *matchers)
                                            if a["status"]["state"] == "suppressed"), None), timeout=90)
            assert created["silence_id"] in suppressed["status"]["silencedBy"]
            time.sleep(QUIET)
            assert [r for r in reports(rb) if r["scenario"] == "api-down"] == []  # silenced: nothing ran
            expired = run_module("alertmanager_silence", dict(silence, state="absent"))
            assert expired["changed"] is True, expired
            alert = firing(drill, *matchers)
            report = poll(lambda: next((r for r in reports(rb) if r["scenario"] == "api-down"), None), timeout=180)
            record = incident(drill, alert["fingerprint"], "resolved")
    finally:  # leave the shared lab's backend running whatever happened (cleanup, after the assertions' data)
        with contextlib.suppress(LabError):
            compose.compose("start", "backend")
    assert [(a["action"], a["dry_run"]) for a in report["actions"]] == [("restart", False)]
    assert (report["outcome"], report["initial_status"], report["exit_code"]) == ("resolved", "critical", 0)
    assert record["alertname"] == "APIDown" and record["mttr_minutes"] is not None
