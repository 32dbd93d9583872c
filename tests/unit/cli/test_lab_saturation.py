"""The lab's saturation targets: the node exporter and the broker's JMX exporter agent in the Prometheus config,
the agent on the broker's command line with its rules."""

import yaml

from opsbook.lab.base import LabContext
from opsbook.lab.kafka import JMX_EXPORTER_CONFIG, JMX_EXPORTER_VERSION, Kafka
from opsbook.lab.prometheus import prometheus_config


def test_prometheus_config_scrapes_the_node_exporter_and_the_broker_agent():
    config = prometheus_config("127.0.0.1", 19090, 18081, node_exporter_port=19100, kafka_jmx_port=19404)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert list(jobs) == ["prometheus", "lab-api", "node", "kafka-jmx"]
    assert jobs["node"]["static_configs"] == [{"targets": ["127.0.0.1:19100"]}]
    assert jobs["kafka-jmx"]["static_configs"] == [{"targets": ["127.0.0.1:19404"]}]
    assert jobs["kafka-jmx"]["scrape_interval"] == "1s" and "metrics_path" not in jobs["kafka-jmx"]


def test_the_broker_runs_with_the_agent(tmp_path, monkeypatch):
    monkeypatch.setenv("OPSBOOK_LAB_KAFKA_JMX_PORT", "29404")
    kafka = Kafka(LabContext(lab_dir=tmp_path / "lab", cache_dir=tmp_path / "cache", log=lambda *_: None))
    assert kafka.jmx_agent_jar == tmp_path / "cache" / "jmx_exporter" / "0.20.0" / "jmx_prometheus_javaagent-0.20.0.jar"
    assert JMX_EXPORTER_VERSION == "0.20.0"
    assert kafka.describe()["jmx_url"] == "http://127.0.0.1:29404/metrics"
    config = yaml.safe_load(JMX_EXPORTER_CONFIG)
    assert [rule["name"] for rule in config["rules"]] == ["kafka_log_log_size", "kafka_server_brokerstate"]
    assert config["lowercaseOutputName"] is True


def test_the_agent_resolves_from_maven_central_into_the_cache(tmp_path):
    """The pom the lab writes, resolved by Maven itself (from this machine's Maven Central, through the shared m2 cache)."""
    import shutil

    import pytest

    from opsbook.lab.core import default_cache_dir
    from opsbook.lab.kafka import pom, resolve_maven

    if not shutil.which("mvn"):
        pytest.skip("no mvn (scripts/bootstrap.sh installs maven)")
    ctx = LabContext(lab_dir=tmp_path / "lab", cache_dir=default_cache_dir(), log=lambda *_: None)
    dest = tmp_path / "agent"
    resolve_maven(ctx, "mvn", pom("jmx-exporter", ("io.prometheus.jmx", "jmx_prometheus_javaagent", JMX_EXPORTER_VERSION)),
                  dest, "the agent")
    assert sorted(p.name for p in dest.iterdir()) == [".complete", "jmx_prometheus_javaagent-0.20.0.jar"]
    with pytest.raises(Exception, match="Maven could not resolve nothing"):
        resolve_maven(ctx, "mvn", pom("x", ("io.prometheus.jmx", "jmx_prometheus_javaagent", "0.0.0-none")),
                      tmp_path / "none", "nothing")
