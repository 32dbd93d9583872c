"""The api-latency PromQL, built in Python: exactly the queries the seeds write, per route."""

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.prometheus import promql
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput


def test_the_seed_queries_by_route():
    queries = {q["name"]: q for q in promql.latency_queries("http_request_duration_seconds")}
    assert queries["api_latency_p99"]["query"] == (
        "histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{}[5m])))")
    assert (queries["api_latency_p95"]["warn"], queries["api_latency_p95"]["crit"]) == (0.5, 2)
    assert queries["api_request_rate"]["query"] == "sum by (route) (rate(http_request_duration_seconds_count{}[5m]))"
    assert queries["api_error_rate"]["query"] == (
        '100 * (sum by (route) (rate(http_request_duration_seconds_count{status=~"5.."}[5m])) or 0 * '
        'sum by (route) (rate(http_request_duration_seconds_count{}[5m]))) / '
        'sum by (route) (rate(http_request_duration_seconds_count{}[5m]))')
    assert queries["api_error_rate"]["strict"] is True


def test_selector_labels_and_window():
    queries = {q["name"]: q for q in promql.latency_queries(
        "http_server_seconds", "1m", ["route", "method"], 'job="api"', "code", (1, 3), (4, 6), (2, 4))}
    assert queries["api_latency_p95"]["query"] == (
        'histogram_quantile(0.95, sum by (le, route, method) (rate(http_server_seconds_bucket{job="api"}[1m])))')
    assert 'http_server_seconds_count{code=~"5..",job="api"}[1m]' in queries["api_error_rate"]["query"]
    assert (queries["api_error_rate"]["warn"], queries["api_latency_p99"]["crit"]) == (2, 6)


@pytest.mark.parametrize("args, message", [
    (("bad metric",), "histogram: 'bad metric' is not a Prometheus metric name"),
    (("m", "5 minutes"), "window: '5 minutes' is not a PromQL duration"),
    (("m", "5m", ["route", "le-x"]), "group_by/status_label: 'le-x' is not a label name"),
])
def test_bad_settings_name_the_option(args, message):
    with pytest.raises(InvalidInput, match=message):
        promql.latency_queries(*args)


# --- saturation ---------------------------------------------------------------------------------

def _saturation(**kwargs):
    return {q["name"]: q for q in promql.saturation_queries(**kwargs)}


def test_saturation_defaults_are_the_seed_thresholds_and_queries():
    queries = _saturation()
    assert sorted(queries) == ["cpu_usage", "disk_usage", "jvm_heap_usage", "kafka_log_dir_size", "memory_usage"]
    assert queries["cpu_usage"]["query"] == '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])))'
    assert queries["memory_usage"]["query"] == (
        "100 * (1 - sum by (instance) (node_memory_MemAvailable_bytes{}) / sum by (instance) (node_memory_MemTotal_bytes{}))")
    assert queries["jvm_heap_usage"]["query"] == (
        '100 * (sum by (job, instance) (jvm_memory_used_bytes{area="heap"}) / sum by (job, instance) '
        '(jvm_memory_max_bytes{area="heap"} > 0) or sum by (job, instance) (jvm_memory_bytes_used{area="heap"}) / '
        'sum by (job, instance) (jvm_memory_bytes_max{area="heap"} > 0))')
    assert queries["kafka_log_dir_size"]["query"] == "sum by (job, instance) (kafka_log_log_size{})"
    # Techbra "Métricas Críticas": CPU < 70 %, memory < 80 %, JVM heap < 75 %; disks 80/90 (ConectCRM, SparkOne)
    assert {n: (q.get("warn"), q.get("crit")) for n, q in queries.items()} == {
        "cpu_usage": (70, 90), "memory_usage": (80, 90), "disk_usage": (80, 90), "jvm_heap_usage": (75, 90),
        "kafka_log_dir_size": (None, None)}
    assert {q["empty"] for q in queries.values()} == {"unknown"}  # nothing exports it: no verdict, not ok
    assert queries["disk_usage"]["target_labels"] == ["instance", "mountpoint"]
    assert 'fstype!~"tmpfs|overlay|squashfs' in queries["disk_usage"]["query"]


def test_saturation_selectors_kafka_disks_containers_and_checks():
    queries = _saturation(window="1m", node_selector='job="node"', node_group_by=["job", "instance"], cpu_pct=[5, 6],
                          jvm_selector='job="kafka-jmx"', kafka_disk_mountpoints=["/", "/var/lib/kafka.d"],
                          kafka_log_size_bytes=[100, None], container_selector='namespace="techbra"')
    assert queries["cpu_usage"]["query"] == (
        '100 * (1 - avg by (job, instance) (rate(node_cpu_seconds_total{mode="idle",job="node"}[1m])))')
    assert (queries["cpu_usage"]["warn"], queries["cpu_usage"]["crit"]) == (5, 6)
    assert 'jvm_memory_bytes_used{area="heap",job="kafka-jmx"}' in queries["jvm_heap_usage"]["query"]
    assert (queries["kafka_log_dir_size"]["warn"], "crit" in queries["kafka_log_dir_size"]) == (100, False)
    # the mount points matched literally (RE2 escape, then PromQL string escape)
    assert 'mountpoint=~"/|/var/lib/kafka\\\\.d"' in queries["kafka_disk_usage"]["query"]
    assert queries["container_cpu_usage"]["query"] == (
        '100 * sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{container!="",container!="POD",'
        'namespace="techbra"}[1m])) / sum by (namespace, pod, container) (container_spec_cpu_quota{container!="",'
        'container!="POD",namespace="techbra"} / container_spec_cpu_period{container!="",container!="POD",namespace="techbra"})')
    assert "container_spec_memory_limit_bytes" in queries["container_memory_usage"]["query"]
    only = promql.saturation_queries(checks=["cpu_usage", "kafka_disk_usage"])
    assert [q["name"] for q in only] == ["cpu_usage"]  # kafka_disk_usage needs mount points


@pytest.mark.parametrize("kwargs, message", [
    ({"window": "5 min"}, "window: '5 min' is not a PromQL duration"),
    ({"node_group_by": ["in-stance"]}, "node_group_by: 'in-stance' is not a label name"),
    ({"cpu_pct": [70]}, r"cpu_pct: expected \[warn, crit\]"),
    ({"checks": ["cpu", "memory_usage"]}, "checks: cpu unknown"),
])
def test_saturation_bad_settings_name_the_option(kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        promql.saturation_queries(**kwargs)


def test_saturation_queries_parse_with_promtool(tmp_path):
    """Every query is valid PromQL by Prometheus's own parser (promtool check rules)."""
    import shutil
    import subprocess

    import yaml

    promtool = shutil.which("promtool")
    if not promtool:
        pytest.skip("promtool not installed (scripts/bootstrap.sh installs prometheus)")
    queries = promql.saturation_queries(kafka_disk_mountpoints=["/", "/var/lib/kafka.d"], node_selector='job="node"',
                                        container_selector='namespace="t"')
    rules = {"groups": [{"name": "saturation", "rules": [{"record": "opsbook:%s" % q["name"], "expr": q["query"]}
                                                         for q in queries]}]}
    path = tmp_path / "saturation.yml"
    path.write_text(yaml.safe_dump(rules))
    check = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: %d rules found" % len(queries) in check.stdout + check.stderr
    broken = dict(rules["groups"][0]["rules"][0], expr=queries[0]["query"] + ")")
    path.write_text(yaml.safe_dump({"groups": [{"name": "broken", "rules": [broken]}]}))
    assert subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, timeout=60).returncode != 0


# --- SLO error budget ------------------------------------------------------------------------------------------

def slo_by_name(slo, pairs=None):
    return {q["name"]: q for q in promql.slo_queries(slo, pairs)}


def test_availability_slo_the_seed_ratio_budget_and_workbook_pairs():
    queries = slo_by_name({"name": "conectcrm", "objective": 99.9})
    ratio = ('((sum(rate(http_requests_total{status=~"5.."}[30d])) or vector(0)) / '
             'sum(rate(http_requests_total{}[30d])))')
    assert queries["slo_sli"]["query"] == "100 * (1 - %s)" % ratio
    assert (queries["slo_sli"]["crit"], queries["slo_sli"]["direction"], queries["slo_sli"]["strict"]) == (99.9, "below", True)
    assert queries["slo_error_budget_left"]["query"] == "100 * (1 - %s / (1 - 99.9 / 100))" % ratio
    assert (queries["slo_error_budget_left"]["crit"], queries["slo_error_budget_left"]["warn"]) == (0, None)
    assert [n for n in queries if n.startswith("slo_burn")] == ["slo_burn_rate_1h_5m", "slo_burn_rate_6h_30m"]
    assert (queries["slo_burn_rate_1h_5m"]["crit"], queries["slo_burn_rate_6h_30m"]["crit"]) == (14.4, 6)
    long_rate = '(((sum(rate(http_requests_total{status=~"5.."}[1h])) or vector(0)) / sum(rate(http_requests_total{}[1h]))) / (1 - 99.9 / 100))'
    short_rate = long_rate.replace("[1h]", "[5m]")
    assert queries["slo_burn_rate_1h_5m"]["query"] == "(%s <= %s) or %s" % (long_rate, short_rate, short_rate)


def test_latency_slo_counts_the_bucket_as_good():
    queries = slo_by_name({"name": "p95", "kind": "latency", "objective": 95, "latency_le": "2.5", "window": "1m",
                           "selector": 'route="a"'}, [{"long": "1m", "short": "10s", "factor": 2}])
    assert queries["slo_sli"]["query"] == (
        '100 * (1 - (1 - (sum(rate(http_request_duration_seconds_bucket{le="2.5",route="a"}[1m])) or vector(0)) / '
        'sum(rate(http_request_duration_seconds_count{route="a"}[1m]))))')
    assert list(queries) == ["slo_sli", "slo_error_budget_left", "slo_burn_rate_1m_10s"]


@pytest.mark.parametrize("slo, pairs, message", [
    ({"name": "a", "objective": 100}, None, "objective must be between 0 and 100"),
    ({"name": "a", "objective": "99.9"}, None, "objective must be a number"),
    ({"name": "a", "objective": 99, "window": "30 days"}, None, "is not a PromQL duration"),
    ({"name": "a", "objective": 99, "kind": "latency"}, None, "needs latency_le"),
    ({"name": "a", "objective": 99, "kind": "errors"}, None, "kind must be one of"),
    ({"name": "a", "objective": 99, "metric": "bad metric"}, None, "not a Prometheus metric name"),
    ({"name": "a", "objective": 99, "error_status": '5"'}, None, "without quotes"),
    ({"objective": 99}, None, "needs a name"),
    ({"name": "a", "objective": 99}, [{"long": "1h", "short": "5m", "factor": 0}], "factor must be a positive number"),
    ({"name": "a", "objective": 99}, [{"long": "1h", "short": "5m", "factor": 1, "x": 1}], "expected {long, short, factor}"),
])
def test_slo_bad_input(slo, pairs, message):
    with pytest.raises(InvalidInput, match=message):
        promql.slo_queries(slo, pairs)
