"""Drill: `opsbook run slo-error-budget` on the lab's Prometheus and lab API, then `opsbook run deploy` on the
lab's Kubernetes against the freeze it wrote.

The lab API is given a known error ratio over a window: a first round (both series exist, their counters are
well above zero) older than the SLO window, then ``ERRORS`` 503s and ``OKS`` 200s inside every window. Both
series come from one scrape target (the same sample times), so rate()'s extrapolation is the same factor for
both and the ratio is exactly the request counts' ratio. The scenario's numbers must equal that arithmetic
and what Prometheus's own API answers for the same PromQL at the same time.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.prometheus import promql
from tests.integration import scenario_lab as sl
from opsbook.drills.postgres import connect, execute, rows, scratch_database
from tests.integration.test_etl_pipeline_drill import SCHEMA as ETL_SCHEMA, SEED_SLA
from tests.integration.prom_seed import api_traffic, scraped_after, unique_route
from tests.integration.scenario_lab import scen_namespace  # noqa: F401 - fixture

pytestmark = pytest.mark.lab

WINDOW, SHORT = 30, 10  # seconds: the SLO window and the short window of both pairs (the lab holds them)
OKS, ERRORS = 190, 10  # 5 % errors
OBJECTIVE = 99.0  # a 1 % budget: burn rate 5, budget left 100 * (1 - 5) = -400 %
PAIRS = [{"long": "30s", "short": "10s", "factor": 4}, {"long": "20s", "short": "10s", "factor": 6}]


def prom_at(prom_url: str, query: str, at: float) -> float:
    """Prometheus's own answer (``/api/v1/query`` at ``at``), one series."""
    url = f"{prom_url}/api/v1/query?{urllib.parse.urlencode({'query': query, 'time': repr(at)})}"
    with urllib.request.urlopen(url, timeout=5) as response:
        body = json.loads(response.read().decode())
    assert body["status"] == "success" and len(body["data"]["result"]) == 1, body
    return float(body["data"]["result"][0]["value"][1])


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


@pytest.fixture
def orders(k8s_lab, scen_namespace, tmp_path):  # noqa: F811 - the fixture above
    sl.create_deployment(k8s_lab, scen_namespace, "orders", image="lab.local/orders:1")
    return {"opsbook_kubernetes": {"kubeconfig": k8s_lab["kubeconfig"], "namespace": scen_namespace},
            "deploy_workload": "deployment/orders", "deploy_timeout": 60, "deploy_freeze_dir": str(tmp_path / "freezes")}


def image(k8s_lab, namespace):
    return sl.read_deployment(k8s_lab, namespace, "orders").spec.template.spec.containers[0].image


def test_budget_and_burn_rates_equal_the_arithmetic_a_freeze_blocks_deploy_until_confirmed_or_recovered(
        tmp_path, prometheus_lab, k8s_lab, scen_namespace, orders):  # noqa: F811
    prom, api = prometheus_lab["url"], prometheus_lab["api_url"]
    route = unique_route("budget")
    selector = f'route="{route}"'
    series = f"http_requests_total{{{selector}}}"
    # the first round: both series exist with counters far above their increase (rate()'s zero point stays out)
    api_traffic(api, route, 50, status=200)
    api_traffic(api, route, 5, status=503)
    scraped_after(prom, series, time.time())
    first_round = time.time()
    sleep_until(first_round + WINDOW - 1)  # the SLO window will start after the first round
    started = time.time()
    statuses = api_traffic(api, route, ERRORS, status=503) + api_traffic(api, route, OKS, status=200, concurrency=10)
    assert sorted(set(statuses)) == [200, 503] and len(statuses) == OKS + ERRORS
    scraped_after(prom, series, time.time())
    at = time.time()
    # every window holds the whole second round and only the second round's increase
    assert at - WINDOW > first_round and at - SHORT < started - 1, (first_round, started, at)

    name = f"slo-{route}"
    freeze_file = tmp_path / "freezes" / f"{name}.json"
    variables = {"opsbook_prometheus": {"url": prom, "timeout": 5},
                 "slo_error_budget_slos": [{"name": route, "objective": OBJECTIVE, "window": f"{WINDOW}s",
                                            "selector": selector}],
                 "slo_error_budget_burn_pairs": PAIRS, "slo_error_budget_time": repr(at),
                 "slo_error_budget_freeze_dir": str(tmp_path / "freezes")}
    proc, report = sl.run_scenario(tmp_path, "slo-error-budget", variables)
    assert report["run"]["failed"] is False, report["failures"]

    ratio = ERRORS / (OKS + ERRORS)
    budget = 1 - OBJECTIVE / 100
    expected = {"slo_sli": 100 * (1 - ratio), "slo_error_budget_left": 100 * (1 - ratio / budget),
                "slo_burn_rate_30s_10s": ratio / budget, "slo_burn_rate_20s_10s": ratio / budget}
    assert expected["slo_error_budget_left"] == pytest.approx(-400) and expected["slo_burn_rate_30s_10s"] == pytest.approx(5)
    queries = {q["name"]: q["query"] for q in promql.slo_queries(variables["slo_error_budget_slos"][0], PAIRS)}
    for check, value in expected.items():
        finding = sl.findings_by(report, check)[route]
        assert finding["value"] == pytest.approx(value, rel=1e-9, abs=1e-9), (check, finding)
        assert finding["value"] == pytest.approx(prom_at(prom, queries[check], at), rel=1e-12, abs=1e-12), check
    statuses = {check: sl.findings_by(report, check)[route]["status"] for check in expected}
    assert statuses == {"slo_sli": "critical", "slo_error_budget_left": "critical",
                        "slo_burn_rate_30s_10s": "critical", "slo_burn_rate_20s_10s": "ok"}  # 5 > 4, not > 6

    # the budget is spent: a freeze record, written once
    frozen = sl.findings_by(report, "deploy_freeze", "remediate")[name]
    assert (frozen["status"], frozen["state"]) == ("critical", "frozen")
    assert sl.findings_by(report, "deploy_freeze", "verify")[name]["state"] == "frozen"  # it stands
    assert [(a["action"], a["target"], a["changed"]) for a in report["actions"]] == [("freeze_deploys", name, True)]
    assert (report["outcome"], proc.returncode) == ("unresolved", 2)
    record = json.loads(freeze_file.read_text())
    assert record["name"] == name and record["details"]["budget_left_pct"] == pytest.approx(expected["slo_error_budget_left"])
    assert record["reason"] == (f"error budget of {route} spent: availability 95 % over {WINDOW}s (SLO 99.0 %), "
                                "-400 % of the budget left")
    assert [p.name for p in freeze_file.parent.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")] == []
    proc, report = sl.run_scenario(tmp_path, "slo-error-budget", variables)
    assert report["actions"] == [] and (report["outcome"], proc.returncode) == ("action_needed", 2)
    assert json.loads(freeze_file.read_text()) == record  # the standing freeze is kept as it was

    # the freeze blocks a deploy: a clear finding, nothing changed
    deploy = dict(orders, deploy_image="lab.local/orders:2")
    proc, report = sl.run_scenario(tmp_path, "deploy", deploy)
    refused = sl.findings_by(report, "deploy_freeze")[name]
    assert (refused["status"], refused["state"]) == ("critical", "frozen")
    assert refused["message"].endswith(f"pass --remediate --confirm {name} to deploy anyway")
    assert (report["outcome"], proc.returncode) == ("action_needed", 2) and report["actions"] == []
    assert "deploy_result" not in {f["check"] for f in report["findings"]}
    assert image(k8s_lab, scen_namespace) == "lab.local/orders:1"
    # --yes does not lift it, another name does not either
    proc, report = sl.run_scenario(tmp_path, "deploy", deploy, "--remediate", "--yes", "--confirm", "orders")
    assert proc.returncode == 2 and image(k8s_lab, scen_namespace) == "lab.local/orders:1"
    # confirming the freeze by name lets the deploy through
    proc, report = sl.run_scenario(tmp_path, "deploy", deploy, "--remediate", "--confirm", name)
    assert proc.returncode == 0, report["failures"]
    assert sl.findings_by(report, "deploy_freeze")[name]["state"] == "confirmed"
    assert image(k8s_lab, scen_namespace) == "lab.local/orders:2"

    # lifted by the explicit option ...
    proc, report = sl.run_scenario(tmp_path, "slo-error-budget", dict(variables, slo_error_budget_lift=[name]))
    assert [(a["action"], a["target"]) for a in report["actions"]] == [("lift_freeze", name)] and not freeze_file.exists()
    sl.run_scenario(tmp_path, "slo-error-budget", variables)  # frozen again from the same numbers
    assert freeze_file.exists()

    # ... and by the budget's recovery: once the window has moved past the errors, only good requests in it
    sleep_until(at + WINDOW + 1)
    api_traffic(api, route, 20, status=200)
    scraped_after(prom, series, time.time())
    later = time.time()
    proc, report = sl.run_scenario(tmp_path, "slo-error-budget", dict(variables, slo_error_budget_time=repr(later)))
    assert sl.findings_by(report, "slo_error_budget_left")[route]["value"] == pytest.approx(100)
    lifted = sl.findings_by(report, "deploy_freeze", "remediate")[name]
    assert (lifted["status"], lifted["state"]) == ("ok", "lifted") and not freeze_file.exists()
    assert (report["outcome"], proc.returncode) == ("healthy", 0)
    proc, report = sl.run_scenario(tmp_path, "deploy", dict(orders, deploy_image="lab.local/orders:3"))
    assert proc.returncode == 0, report["failures"]
    assert image(k8s_lab, scen_namespace) == "lab.local/orders:3"


def test_etl_sla_from_the_seed_query(tmp_path, pg_params):
    """The ETL runbook's tables (the etl-pipeline drill's rows): 95 of 102 files of the last 24 h loaded (93.14 %,
    under the seed's 95 %: breach), 94 of the 95 completed ones processed within 2 hours (98.95 %, over 95 %)."""
    with scratch_database(pg_params) as db:
        conn = connect(db)
        try:
            execute(conn, ETL_SCHEMA)
            seed = rows(conn, SEED_SLA.replace("::float", "::numeric"))[0]  # round(double precision, int) does not exist
            done = rows(conn, "SELECT EXTRACT(EPOCH FROM (completed_at - processing_started_at))/60 FROM etl_file "
                              "WHERE completed_at > now() - interval '24 hours' AND processing_started_at IS NOT NULL")
        finally:
            conn.close()
        proc, report = sl.run_scenario(tmp_path, "slo-error-budget", {
            "slo_error_budget_slos": [], "slo_error_budget_etl_sla": True, "slo_error_budget_etl_database": db["database"]})
    assert report["run"]["failed"] is False, report["failures"]
    success = sl.findings_by(report, "etl_sla_success_rate")
    processing = sl.findings_by(report, "etl_sla_processing_time")
    [success], [processing] = success.values(), processing.values()
    assert success["value"] == float(seed[2]) == 93.14 and success["status"] == "critical"
    within = round(100.0 * sum(1 for (minutes,) in done if minutes <= 120) / len(done), 2)
    assert processing["value"] == within == 98.95 and processing["status"] == "ok"
    assert (report["outcome"], proc.returncode) == ("action_needed", 2) and report["actions"] == []
