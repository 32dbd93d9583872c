"""The Kafka scenarios end to end through the CLI (ansible-runner) against the lab:
kafka-consumer-lag (lag over the threshold, DLQ, scaling the consumers on the lab's Kubernetes, the recovery watch),
kafka-connectivity (reachable cluster; unreachable bootstrap is critical), payment-saga,
and the kafka_retention role."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.helpers import REPO, closed_port, run_cli
from tests.integration.k8s_seed import deployment, replica_set_revisions, seed_namespace, statefulset_revision
from tests.kafka_lab import scratch, tool_topic_overrides  # noqa: F401 - scratch is a fixture

pytestmark = pytest.mark.lab


def report(proc):
    assert "Traceback" not in proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def test_kafka_consumer_lag_scenario_scales_the_consumers(scratch, k8s_lab):
    """techbra-lab inventory (order-service -> 3, billing-service -> 2) pointed at a namespace of our own."""
    prefix = f"kafkat-{uuid.uuid4().hex[:8]}"
    topic = scratch.topic(partitions=1, name=f"{prefix}-orders")
    dlq = scratch.topic(partitions=1, name=f"{prefix}-orders.dlq")
    group = scratch.group()
    scratch.produce(topic, 30)
    scratch.produce(dlq, 2)
    scratch.commit(group, topic, {0: 10})
    techbra = ["-i", str(REPO / "inventories" / "techbra-lab")]
    with seed_namespace(k8s_lab, "kafkat", {"order-service": 2, "billing-service": 2, "inventory-service": 2}) as ns:
        variables = json.dumps({"kafka_consumer_lag_groups": [group], "kafka_consumer_lag_threshold": 15,
                                "kafka_consumer_lag_dlq_pattern": f"^{prefix}.*dlq",
                                "opsbook_kubernetes": {"kubeconfig": k8s_lab["kubeconfig"], "namespace": ns},
                                "kafka_consumer_lag_watch_samples": 2, "kafka_consumer_lag_watch_interval": 0.2})

        unconfigured = report(run_cli("run", "kafka-consumer-lag", "--json", "--remediate", "-e", variables))
        skipped = [f for f in unconfigured["findings"] if f["check"] == "kafka_consumer_scale"]
        assert [(f["status"], f["message"]) for f in skipped] == [("warning", "skipped: scale the consumers - no workload "
                                                                   "configured (set kafka_consumer_lag_scale_workloads in the inventory)")]

        dry = report(run_cli("run", "kafka-consumer-lag", *techbra, "--json", "--check", "--remediate", "-e", variables))
        assert [(a["target"], a["changed"], a["dry_run"], a["detail"]) for a in dry["actions"]] == [
            (f"{ns}/order-service", True, True, "would scale to 3 replicas"),
            (f"{ns}/billing-service", False, True, "already at 2 replicas (target 2): not scaled down")]
        assert [deployment(k8s_lab, ns, d).spec.replicas for d in ("order-service", "billing-service")] == [2, 2]

        proc = run_cli("run", "kafka-consumer-lag", *techbra, "--json", "--remediate", "-e", variables)
        result = report(proc)
        assert proc.returncode == 2, proc.stderr  # critical
        checks = [(f["check"], f["status"], f["target"]) for f in result["findings"]]
        assert ("kafka_consumer_lag", "critical", group) in checks  # 20 >= 15
        assert ("kafka_topic_messages", "warning", dlq) in checks
        assert ("kafka_consumer_lag_trend", "critical", group) in checks  # nobody really consumes here: STOP
        assert "kafka_consumer_scale" not in {c[0] for c in checks}
        assert [(a["target"], a["changed"], a["dry_run"]) for a in result["actions"]] == [
            (f"{ns}/order-service", True, False), (f"{ns}/billing-service", False, False)]
        order, billing, inventory = (deployment(k8s_lab, ns, d) for d in ("order-service", "billing-service", "inventory-service"))
        assert (order.spec.replicas, order.status.ready_replicas) == (3, 3)
        assert (billing.spec.replicas, billing.status.ready_replicas) == (2, 2)
        assert inventory.spec.replicas == 2  # not a consumer to scale


def test_kafka_consumer_lag_scenario_without_remediation_is_diagnosis_only(scratch):
    topic = scratch.topic(partitions=1)
    group = scratch.group()
    scratch.produce(topic, 5)
    scratch.commit(group, topic, {0: 5})
    proc = run_cli("run", "kafka-consumer-lag", "--json", "-e",
                   json.dumps({"kafka_consumer_lag_groups": [group], "kafka_consumer_lag_dlq_pattern": "^kafkat-none-"}))
    result = report(proc)
    checks = {f["check"] for f in result["findings"]}
    assert "kafka_consumer_scale" not in checks and "kafka_consumer_lag_trend" not in checks
    lag = next(f for f in result["findings"] if f["check"] == "kafka_consumer_lag")
    assert lag["status"] == "ok" and lag["value"] == 0


def test_kafka_connectivity_scenario(tmp_path):
    proc = run_cli("run", "kafka-connectivity", "--json")
    result = report(proc)
    assert result["status"] == "ok", result["findings"]
    isr = next(f for f in result["findings"] if f["check"] == "kafka_isr_below_min")
    assert isr["status"] == "ok" and isr["value"] == 0  # one broker, replication factor 1: nothing can shrink


def test_kafka_connectivity_broker_down_restarts_broker_then_consumers(tmp_path, k8s_lab):
    """Broker-stopped drill without stopping the shared broker (a closed port); the broker StatefulSet and the
    consumers in a namespace of our own; the consumers' pods' logs and a log file with connection errors."""
    import datetime

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    log = tmp_path / "order-service.log"
    log.write_text(f"{now} INFO started\n"
                   f"{now} WARN [Consumer clientId=order-service] Connection to node 1 (kafka:9092) could not be "
                   "established. Connection refused\n"
                   f"{now} ERROR org.apache.kafka.common.errors.TimeoutException: Timeout expired while fetching metadata\n")
    with seed_namespace(k8s_lab, "kafkat", {"order-service": 2, "billing-service": 1, "bff": 1}, {"kafka": 1}) as ns:
        inventory = tmp_path / "hosts.yml"
        inventory.write_text(
            "all:\n  hosts:\n    down:\n      ansible_connection: local\n"
            "      ansible_python_interpreter: \"{{ ansible_playbook_python }}\"\n"
            f"      opsbook_kafka: {{bootstrap_servers: ['127.0.0.1:{closed_port()}'], request_timeout: 2}}\n"
            f"      opsbook_kubernetes: {{kubeconfig: '{k8s_lab['kubeconfig']}', namespace: {ns}}}\n"
            "      kafka_connectivity_broker_workload: statefulset/kafka\n"
            "      kafka_connectivity_consumer_workloads: [order-service, deployment/billing-service]\n"
            f"      kafka_connectivity_log_paths: ['{log}']\n"
            "      kafka_connectivity_groups: [order-service-group]\n"
        )
        proc = run_cli("run", "kafka-connectivity", "-i", str(inventory), "--json")
        result = report(proc)
        assert proc.returncode == 2
        checks = {}
        for f in result["findings"]:
            checks.setdefault(f["check"], []).append(f)
        assert checks["kafka_reachable"][0]["status"] == "critical"
        assert "cannot reach Kafka" in checks["kafka_reachable"][0]["message"]
        assert sorted((f["target"], f["status"], f["value"]) for f in checks["workload_ready"]) == [
            (f"{ns}/billing-service", "ok", 1), (f"{ns}/order-service", "ok", 2)]  # namespace from opsbook_kubernetes
        logs = {f["target"].split("/")[2].rsplit("-", 2)[0] if f["target"].startswith("pod/") else "file":
                (f["target"].count(f"pod/{ns}/"), f["status"], f["value"]) for f in checks["log_pattern_kafka_connection_errors"]}
        # the simulated pod log (KWOK) has no connection errors; the file has the refused connection and the timeout
        assert logs == {"order-service": (2, "ok", 0), "billing-service": (1, "ok", 0), "file": (0, "warning", 2)}
        assert "kafka_consumer_lag_trend" not in checks and result["actions"] == []

        broker_before = statefulset_revision(k8s_lab, ns, "kafka")
        dry = report(run_cli("run", "kafka-connectivity", "-i", str(inventory), "--json", "--check", "--remediate"))
        assert [(a["target"], a["dry_run"]) for a in dry["actions"]] == [
            (f"{ns}/kafka", True), (f"{ns}/order-service", True), (f"{ns}/billing-service", True)]
        assert replica_set_revisions(k8s_lab, ns, "order-service") == [1]
        assert statefulset_revision(k8s_lab, ns, "kafka") == broker_before

        done = report(run_cli("run", "kafka-connectivity", "-i", str(inventory), "--json", "--remediate"))
        assert done["run"]["failed"] is False, done["failures"]
        assert [(a["action"], a["target"], a["changed"]) for a in done["actions"]] == [
            ("restart", f"{ns}/kafka", True),  # the broker first (Techbra §4 step 1), then the consumers
            ("restart", f"{ns}/order-service", True), ("restart", f"{ns}/billing-service", True)]
        current, update = statefulset_revision(k8s_lab, ns, "kafka")
        assert current == update != broker_before[0]  # a new controller revision, rolled out
        assert [replica_set_revisions(k8s_lab, ns, d) for d in ("order-service", "billing-service", "bff")] == [
            [1, 2], [1, 2], [1]]
        assert deployment(k8s_lab, ns, "order-service").status.updated_replicas == 2
        after = [f for f in done["findings"] if f["check"] == "kafka_reachable"]
        assert [f["status"] for f in after] == ["critical", "critical"]  # checked again after the broker restart

        unconfigured = report(run_cli("run", "kafka-connectivity", "-i", str(inventory), "--json", "--check",
                                      "--remediate", "-e", "kafka_connectivity_broker_workload="))
        skipped = [f for f in unconfigured["findings"] if f["check"] == "kafka_broker_restart"]
        assert [(f["status"], f["message"]) for f in skipped] == [("warning", "skipped: rolling restart of the broker - no "
                                                                   "workload configured (set kafka_connectivity_broker_workload in the inventory)")]


def test_payment_saga_scenario_finds_the_stuck_order(scratch):
    import time

    billing = scratch.topic(partitions=1, kind="billing.events")
    inventory = scratch.topic(partitions=1, kind="inventory.events")
    old = int(time.time() * 1000) - 3600 * 1000
    scratch.produce_events(billing, [("O1", {"type": "PaymentFailed", "orderId": "O1"}, old),
                                     ("O2", {"type": "PaymentFailed", "orderId": "O2"}, old)])
    scratch.produce_events(inventory, [("O2", {"type": "InventoryReleased", "orderId": "O2"}, old + 1000)])
    variables = json.dumps({"payment_saga_failure_topic": billing, "payment_saga_compensation_topic": inventory})
    proc = run_cli("run", "payment-saga", "--json", "-C", "--remediate", "-e", variables,
                   "-e", f"payment_saga_retry_url=http://127.0.0.1:{closed_port()}/api/payments/{{order_id}}/retry")
    result = report(proc)
    stuck = next(f for f in result["findings"] if f["check"] == "payment_saga_stuck_orders")
    assert stuck["status"] == "critical" and stuck["message"].endswith(": O1")
    assert [(a["target"], a["dry_run"]) for a in result["actions"]] == [("O1", True)]


def test_retention_role_check_mode_then_remediate(lab, scratch, tmp_path):
    topic = scratch.topic(partitions=1, config={"retention.ms": "86400000"})
    playbook = tmp_path / "retention.yml"
    import subprocess
    import sys
    from pathlib import Path

    from tests.helpers import REPO

    playbook.write_text(  # the role alone (maintenance.yml runs it only for hosts with kafka_retention_topics)
        f"- name: Kafka retention\n  ansible.builtin.import_playbook: {REPO / 'playbooks' / '_scenario.yml'}\n"
        "  vars:\n    opsbook_scenario_role: kafka_retention\n"
    )

    base = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(REPO / "inventories" / "lab"),
            str(playbook), "-e", json.dumps({"kafka_retention_topics": [topic]})]
    dry = subprocess.run(base, capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stdout
    assert "retention.ms=86400000 " in tool_topic_overrides(lab["services"]["kafka"], topic)
    done = subprocess.run(base + ["-e", "opsbook_remediate=true"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout
    assert "changed=1" in done.stdout
    assert "retention.ms=604800000 " in tool_topic_overrides(lab["services"]["kafka"], topic)


def test_isr_below_min_matches_kafkas_own_under_min_isr_list(scratch, kafka_params, lab):
    """A topic whose min.insync.replicas exceeds its replicas: every partition is under min ISR although
    none is under-replicated; kafka_cluster_info names exactly what `kafka-topics --describe
    --under-min-isr-partitions` lists."""
    from tests.helpers import run_module
    from tests.kafka_lab import kafka_tool

    topic = scratch.topic(partitions=2, config={"min.insync.replicas": "2"})
    own = kafka_tool(lab["services"]["kafka"], "org.apache.kafka.tools.TopicCommand", "--describe",
                     "--under-min-isr-partitions", "--topic", topic)
    assert own.returncode == 0, own.stderr
    listed = sorted(f"{topic}-{line.split('Partition:')[1].split()[0]}" for line in own.stdout.splitlines() if "Partition:" in line)
    assert listed == [f"{topic}-0", f"{topic}-1"]
    result = run_module("kafka_cluster_info", {"bootstrap_servers": kafka_params["bootstrap_servers"]})
    assert sorted(b["partition"] for b in result["isr_below_min"] if b["partition"].startswith(topic)) == listed
    isr = next(f for f in result["findings"] if f["check"] == "kafka_isr_below_min")
    assert isr["status"] == "critical" and topic in isr["message"]
    under = next(f for f in result["findings"] if f["check"] == "kafka_under_replicated_partitions")
    assert topic not in (under["message"] or "")  # all replicas are in sync: not under-replicated
