"""Apache Kafka, one broker in KRaft mode, from the official jars on Maven Central."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import common as kafka_common

from .base import LabError, Service, port_open, read_pid, require_tool, spawn, terminate, wait_running, write_atomic

DEFAULT_VERSION = "4.1.2"
LOG4J_VERSION = "2.24.3"
CONSUMER_GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"

POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>opsbook.lab</groupId>
  <artifactId>kafka-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{version}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>{version}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>{log4j}</version></dependency>
  </dependencies>
</project>
"""

LOG4J2 = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="STDOUT" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Logger name="kafka" level="INFO"/>
    <Logger name="org.apache.kafka" level="WARN"/>
    <Root level="WARN"><AppenderRef ref="STDOUT"/></Root>
  </Loggers>
</Configuration>
"""


class Kafka(Service):
    name = "kafka"
    port = 19092
    controller_port = 19093

    def __init__(self, ctx):
        super().__init__(ctx)
        self.version = os.environ.get("OPSBOOK_KAFKA_VERSION", DEFAULT_VERSION)
        self.port = int(os.environ.get("OPSBOOK_LAB_KAFKA_PORT", self.port))
        self.controller_port = int(os.environ.get("OPSBOOK_LAB_KAFKA_CONTROLLER_PORT", self.controller_port))
        self.jar_dir = ctx.cache_dir / "kafka" / self.version / "libs"
        self.data = self.dir / "data"
        self.properties = self.dir / "server.properties"
        self.log4j = self.dir / "log4j2.xml"
        self.pidfile = self.dir / "kafka.pid"
        self.logfile = self.dir / "kafka.log"

    @property
    def bootstrap(self) -> str:
        return f"{self.ctx.host}:{self.port}"

    def check_tools(self) -> None:
        self.java = require_tool("java", "apt-get install -y openjdk-17-jre-headless")
        if not self._jars_ready():
            self.mvn = require_tool("mvn", "apt-get install -y maven")

    # --- jars --------------------------------------------------------------------
    def _jars_ready(self) -> bool:
        return (self.jar_dir / ".complete").exists()

    def resolve_jars(self) -> None:
        """Resolve Kafka's jars with Maven into the cache (atomically, once per version)."""
        if self._jars_ready():
            return
        self.ctx.log(f"kafka: resolving Apache Kafka {self.version} jars from Maven Central into {self.jar_dir}")
        self.jar_dir.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="resolve-", dir=self.jar_dir.parent))
        try:
            (work / "pom.xml").write_text(POM.format(version=self.version, log4j=LOG4J_VERSION))
            libs = work / "libs"
            result = subprocess.run(
                [
                    self.mvn, "-q", "-B",
                    f"-Dmaven.repo.local={self.ctx.cache_dir / 'm2'}",
                    "dependency:copy-dependencies",
                    f"-DoutputDirectory={libs}",
                ],
                cwd=work,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-5:])
                raise LabError(f"Maven could not resolve Apache Kafka {self.version}: {tail}")
            (libs / ".complete").write_text(self.version + "\n")
            if self.jar_dir.exists():
                shutil.rmtree(self.jar_dir)
            os.replace(libs, self.jar_dir)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    @property
    def classpath(self) -> str:
        return str(self.jar_dir / "*")

    def java_cmd(self, main_class: str, *args: str, heap: tuple[str, ...] = ("-Xmx256m",)) -> list[str]:
        return [
            self.java,
            *heap,
            f"-Dlog4j2.configurationFile={self.log4j}",
            "-cp",
            self.classpath,
            main_class,
            *args,
        ]

    # --- set-up ------------------------------------------------------------------
    def prepare(self) -> None:
        self.resolve_jars()
        self.data.mkdir(parents=True, exist_ok=True)
        write_atomic(self.log4j, LOG4J2)
        host = self.ctx.host
        write_atomic(
            self.properties,
            "# opsbook lab: single broker, KRaft\n"
            "process.roles=broker,controller\n"
            "node.id=1\n"
            f"controller.quorum.voters=1@{host}:{self.controller_port}\n"
            f"listeners=PLAINTEXT://{host}:{self.port},CONTROLLER://{host}:{self.controller_port}\n"
            f"advertised.listeners=PLAINTEXT://{host}:{self.port}\n"
            "controller.listener.names=CONTROLLER\n"
            "inter.broker.listener.name=PLAINTEXT\n"
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n"
            f"log.dirs={self.data}\n"
            "num.partitions=3\n"
            "offsets.topic.replication.factor=1\n"
            "offsets.topic.num.partitions=10\n"
            "transaction.state.log.replication.factor=1\n"
            "transaction.state.log.min.isr=1\n"
            "share.coordinator.state.topic.replication.factor=1\n"
            "share.coordinator.state.topic.min.isr=1\n"
            "group.initial.rebalance.delay.ms=0\n"
            "auto.create.topics.enable=true\n",
        )
        if (self.data / "meta.properties").exists():
            return
        self.ctx.log("kafka: formatting KRaft storage")
        cluster_id = subprocess.run(
            self.java_cmd("kafka.tools.StorageTool", "random-uuid"), capture_output=True, text=True
        )
        if cluster_id.returncode != 0:
            raise LabError(f"kafka StorageTool random-uuid failed: {cluster_id.stderr.strip()[-500:]}")
        fmt = subprocess.run(
            self.java_cmd(
                "kafka.tools.StorageTool", "format", "-t", cluster_id.stdout.strip().splitlines()[-1],
                "-c", str(self.properties),
            ),
            capture_output=True,
            text=True,
        )
        if fmt.returncode != 0:
            raise LabError(f"kafka StorageTool format failed: {(fmt.stderr or fmt.stdout).strip()[-500:]}")

    def start(self) -> None:
        self.ctx.log(f"kafka: starting Apache Kafka {self.version} on {self.bootstrap}")
        spawn(
            self.java_cmd("kafka.Kafka", str(self.properties), heap=("-Xms256m", "-Xmx512m")),
            self.logfile,
            self.pidfile,
        )

        wait_running(self.pidfile, self.logfile, lambda: port_open(self.ctx.host, self.port) and self.probe(), 90,
                     f"Kafka on {self.bootstrap}", "the broker", interval=0.5)

    def stop(self) -> None:
        pid = read_pid(self.pidfile)
        if pid:
            terminate(pid, timeout=30)

    def running(self) -> bool:
        return read_pid(self.pidfile) is not None

    # --- reporting -----------------------------------------------------------------
    def connection_params(self) -> dict:
        return {"bootstrap_servers": [self.bootstrap], "request_timeout": 5.0}

    def probe(self) -> str:
        params = self.connection_params()
        metadata = kafka_common.cluster_metadata(kafka_common.admin_client(params), params)
        return f"Apache Kafka {self.version}, cluster {metadata.cluster_id}, {len(metadata.brokers)} broker(s)"

    def describe(self) -> dict:
        return {
            "host": self.ctx.host,
            "port": self.port,
            "bootstrap_servers": [self.bootstrap],
            "controller_port": self.controller_port,
            "version": self.version,
            "data_dir": str(self.data),
            "log": str(self.logfile),
            "java": getattr(self, "java", None) or shutil.which("java"),
            "jar_dir": str(self.jar_dir),
            "classpath": self.classpath,
            "log4j_config": str(self.log4j),
            "tools": {"consumer_group_command": CONSUMER_GROUP_COMMAND},
        }
