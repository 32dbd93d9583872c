"""Prometheus (Debian's package) scraping itself and the lab API app every second.

Two processes, both detached with a pidfile and a log under the lab dir: the lab API
(``python -m opsbook.lab.labapi``, see ``labapi.py``: routes with a chosen delay and status,
``/metrics`` with ``http_request_duration_seconds`` and ``http_requests_total``) and
``prometheus`` with a generated config (jobs ``prometheus`` and ``lab-api``, 1 s scrape and
evaluation intervals, a small retention). A third process is Debian's node exporter on
127.0.0.1:19100 (``OPSBOOK_LAB_NODE_EXPORTER_PORT``; only the cpu, meminfo, filesystem and loadavg
collectors, and the textfile collector reading ``<lab>/prometheus/textfile/*.prom``, where
``opsbook run --prometheus-textfile`` can write), scraped as job ``node``; job ``kafka-jmx`` scrapes
the lab broker's JMX exporter agent (``kafka.py``; down while Kafka is not running). Ready when
``/-/ready`` answers and the ``lab-api`` target is up. Started with ``--web.enable-lifecycle``: a changed config or rule file is applied
with ``POST /-/reload`` (SIGHUP for a Prometheus an older lab started without it).

When the lab also runs Alertmanager (``--with alertmanager``, see ``alertmanager.py``) the config
gains ``alerting`` (the lab's Alertmanager), a ``blackbox`` job probing the lab's health endpoints
(the lab API's ``/health``, the compose backend's when Docker runs) and ``rule_files`` from
``<lab>/prometheus/rules/``, where the lab copies the collection's ``extensions/prometheus/rules/*.yml``.
**The lab compresses time** in those copies so that drills fire in seconds: every ``for:`` becomes
at most ``1s`` and every PromQL range (``[5m]``, ``[10m:1m]``) at most ``[15s]``
(``compress_rules``); ``promtool check rules`` checks the result before Prometheus loads it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from .base import (LabError, Service, collection_path, port_open, read_pid, require_tool, spawn, terminate, wait_for,
                   wait_running, write_atomic)

INSTALL = "apt-get install -y --no-install-recommends prometheus"
# The legacy discovery manager can leave the notifier with no Alertmanager after a reload
# (prometheus/prometheus#13064); the new one restores it within its 5 s update interval, and a short
# resend delay re-sends within seconds what that gap dropped. `lab up` restarts a Prometheus without them.
PROMETHEUS_ALERTING_FLAGS = ("--enable-feature=new-service-discovery-manager", "--rules.alert.resend-delay=3s")
NODE_EXPORTER_INSTALL = "apt-get install -y --no-install-recommends prometheus-node-exporter"
NODE_EXPORTER_PORT = 19100
NODE_EXPORTER_COLLECTORS = ("cpu", "meminfo", "filesystem", "loadavg")
JOBS = ("prometheus", "lab-api")
SATURATION_JOBS = ("node", "kafka-jmx")
BLACKBOX_JOB = "blackbox"
RETENTION = "1d"
# Drills cannot wait for production timings: the lab compresses time in the rule files it loads.
MAX_FOR = 1.0  # seconds: every `for:` becomes at most 1s
MAX_RANGE = 15.0  # seconds: every PromQL range ([5m], [10m:1m]) becomes at most [15s]
MAX_STEP = 1.0  # seconds: a subquery's resolution ([1h:5m]) at most 1s
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_DURATION = re.compile(r"^(?:\d+(?:ms|[smhdwy]))+$")
_RANGE = re.compile(r"\[\s*((?:\d+(?:ms|[smhdwy]))+)\s*(?::\s*((?:\d+(?:ms|[smhdwy]))+)?\s*)?\]")


def duration_seconds(text: str) -> float:
    """A Prometheus duration (``90s``, ``1h30m``, ``500ms``) in seconds; ValueError when it is not one."""
    text = str(text).strip()
    if not _DURATION.match(text):
        raise ValueError(f"not a Prometheus duration: {text!r}")
    return sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)(ms|[smhdwy])", text))


def _format(seconds: float) -> str:
    return f"{int(seconds)}s" if seconds == int(seconds) else f"{int(seconds * 1000)}ms"


def _cap(text: str, limit: float) -> str:
    return _format(limit) if duration_seconds(text) > limit else text


def compress_expr(expr: str) -> str:
    """PromQL with every range at most ``[15s]`` and every subquery step at most 1s."""
    def replace(match):
        rng, step = match.group(1), match.group(2)
        inner = _cap(rng, MAX_RANGE)
        if ":" in match.group(0):
            inner += ":" + (_cap(step, MAX_STEP) if step else "")
        return f"[{inner}]"

    return _RANGE.sub(replace, expr)


def compress_rules(document: dict) -> dict:
    """A rule file (parsed) with time compressed for drills: ``for:`` <= 1s, ranges <= [15s]."""
    out = dict(document)
    out["groups"] = []
    for group in document.get("groups") or []:
        group = dict(group)
        if group.get("interval") is not None:
            group["interval"] = _cap(group["interval"], MAX_FOR)
        rules = []
        for rule in group.get("rules") or []:
            rule = dict(rule)
            if rule.get("expr") is not None:
                rule["expr"] = compress_expr(str(rule["expr"]))
            if rule.get("for") is not None:
                rule["for"] = _cap(rule["for"], MAX_FOR)
            rules.append(rule)
        group["rules"] = rules
        out["groups"].append(group)
    return out


def compress_rules_text(text: str, source="rules") -> str:
    """``compress_rules`` of a rule file's YAML text, as YAML with a header naming the source."""
    try:
        document = yaml.safe_load(text)
        if not isinstance(document, dict) or not isinstance(document.get("groups"), list):
            raise ValueError("expected a mapping with a `groups` list")
        compressed = compress_rules(document)
    except (yaml.YAMLError, ValueError, TypeError, AttributeError) as exc:
        raise LabError(f"{source}: not a Prometheus rule file: {exc}") from None
    return (f"# generated by the opsbook lab from {source}: time compressed for drills "
            f"(for: <= {_format(MAX_FOR)}, ranges <= [{_format(MAX_RANGE)}])\n"
            + yaml.safe_dump(compressed, sort_keys=False, allow_unicode=True, width=1000))


def shipped_rule_files() -> list[Path]:
    """The collection's rule files, ``extensions/prometheus/rules/*.yml``."""
    return sorted(collection_path("extensions", "prometheus", "rules").glob("*.yml"))


def prometheus_config(host: str, port: int, api_port: int, alerting: dict | None = None,
                      node_exporter_port: int | None = None, kafka_jmx_port: int | None = None) -> dict:
    """The lab's Prometheus config: jobs ``prometheus`` and ``lab-api``, ``node`` and ``kafka-jmx`` when their
    ports are given (the node exporter, the lab broker's JMX exporter agent); with ``alerting``
    (``alertmanager``, ``blackbox`` host:port, ``probe_urls``, ``rules_dir``) also the Alertmanager,
    the rule files and the ``blackbox`` job (``instance`` is the probed URL, ``__address__`` the exporter).
    """
    every = {"scrape_interval": "1s", "scrape_timeout": "1s"}
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {"job_name": JOBS[0], **every, "static_configs": [{"targets": [f"{host}:{port}"]}]},
            {"job_name": JOBS[1], **every, "static_configs": [{"targets": [f"{host}:{api_port}"]}]},
        ],
    }
    for job, target_port in zip(SATURATION_JOBS, (node_exporter_port, kafka_jmx_port)):
        if target_port:
            config["scrape_configs"].append({"job_name": job, **every,
                                             "static_configs": [{"targets": [f"{host}:{target_port}"]}]})
    if alerting:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alerting["alertmanager"]]}],
                                                 "timeout": "5s"}]}
        config["rule_files"] = [f"{alerting['rules_dir']}/*.yml"]
        config["scrape_configs"].append({
            "job_name": BLACKBOX_JOB, **every, "metrics_path": "/probe", "params": {"module": ["http_2xx"]},
            "static_configs": [{"targets": list(alerting["probe_urls"])}],
            "relabel_configs": [
                {"source_labels": ["__address__"], "target_label": "__param_target"},
                {"source_labels": ["__param_target"], "target_label": "instance"},
                {"target_label": "__address__", "replacement": alerting["blackbox"]},
            ],
        })
    return config


def http_json(url: str, timeout: float = 3.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read().decode())


class Prometheus(Service):
    name = "prometheus"
    port = 19090
    api_port = 18081

    def __init__(self, ctx):
        super().__init__(ctx)
        self.port = int(os.environ.get("OPSBOOK_LAB_PROMETHEUS_PORT", self.port))
        self.api_port = int(os.environ.get("OPSBOOK_LAB_API_PORT", self.api_port))
        self.node_exporter_port = int(os.environ.get("OPSBOOK_LAB_NODE_EXPORTER_PORT", NODE_EXPORTER_PORT))
        self.node_exporter_url = f"http://{ctx.host}:{self.node_exporter_port}"
        self.url = f"http://{ctx.host}:{self.port}"
        self.api_url = f"http://{ctx.host}:{self.api_port}"
        self.conf = self.dir / "prometheus.yml"
        self.rules_dir = self.dir / "rules"
        self.config_changed = self.rules_changed = False
        self.data = self.dir / "data"
        self.pidfile = self.dir / "prometheus.pid"
        self.logfile = self.dir / "prometheus.log"
        self.api_pidfile = self.dir / "labapi.pid"
        self.api_logfile = self.dir / "labapi.log"
        self.node_pidfile = self.dir / "node-exporter.pid"
        self.node_logfile = self.dir / "node-exporter.log"
        # the node exporter's textfile collector reads <lab>/prometheus/textfile/*.prom (opsbook run --prometheus-textfile)
        self.textfile_dir = self.dir / "textfile"

    def check_tools(self) -> None:
        self.prometheus = require_tool("prometheus", INSTALL)
        self.promtool = require_tool("promtool", INSTALL)
        self.node_exporter = require_tool("prometheus-node-exporter", NODE_EXPORTER_INSTALL)

    def alerting(self) -> bool:
        """Whether the lab runs Alertmanager (then alerts, rules and blackbox probes are configured)."""
        return "alertmanager" in self.ctx.enabled

    def probe_urls(self) -> list[str]:
        """The lab's health endpoints the ``blackbox`` job probes: the lab API, the compose backend."""
        urls = [f"{self.api_url}/health"]
        if "docker" in self.ctx.enabled:
            from .docker import Docker

            urls.append(f"http://{self.ctx.host}:{Docker(self.ctx).backend_port}/health")
        return urls

    def prepare(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        self.textfile_dir.mkdir(parents=True, exist_ok=True)
        alerting = None
        if self.alerting():
            from .alertmanager import lab_port

            alerting = {"alertmanager": f"{self.ctx.host}:{lab_port('alertmanager')}",
                        "blackbox": f"{self.ctx.host}:{lab_port('blackbox')}",
                        "probe_urls": self.probe_urls(), "rules_dir": str(self.rules_dir)}
            self.rules_changed = self.sync_rules(shipped_rule_files())
        from .kafka import Kafka

        config = prometheus_config(self.ctx.host, self.port, self.api_port, alerting,
                                   node_exporter_port=self.node_exporter_port, kafka_jmx_port=Kafka(self.ctx).jmx_port)
        text = ("# opsbook lab (generated by `opsbook lab up --with prometheus`)\n"
                + yaml.safe_dump(config, sort_keys=False))
        self.config_changed = not self.conf.exists() or self.conf.read_text() != text
        if self.config_changed:
            write_atomic(self.conf, text)

    # --- alert rules (the lab compresses time) ---------------------------------------
    def sync_rules(self, files) -> bool:
        """Copy rule files into ``<lab>/prometheus/rules/`` with time compressed; True when one changed.

        The result is checked with ``promtool check rules``; a file that fails is removed again
        and LabError names it with promtool's output.
        """
        changed = False
        for source in files:
            source = Path(source)
            text = compress_rules_text(source.read_text(), source)
            dest = self.rules_dir / source.name
            if dest.exists() and dest.read_text() == text:
                continue
            previous = dest.read_text() if dest.exists() else None
            write_atomic(dest, text)
            check = subprocess.run([self.promtool, "check", "rules", str(dest)], capture_output=True, text=True,
                                   timeout=30)
            if check.returncode != 0:
                if previous is None:
                    dest.unlink()
                else:
                    write_atomic(dest, previous)
                raise LabError(f"promtool check rules failed for {source} (compressed into {dest}):\n"
                               f"{(check.stdout + check.stderr).strip()}")
            changed = True
        return changed

    def add_rules(self, *files) -> None:
        """Install rule files (tests', drills') into the running lab and reload Prometheus."""
        self.check_tools()
        if self.sync_rules(files) and self.prometheus_running():
            self.reload()

    def remove_rules(self, *names) -> None:
        """Remove installed rule files by name and reload Prometheus."""
        removed = False
        for name in names:
            path = self.rules_dir / Path(name).name
            if path.exists():
                path.unlink()
                removed = True
        if removed and self.prometheus_running():
            self.reload()

    def reload(self) -> None:
        """Reload config and rules: ``POST /-/reload``, or SIGHUP when started without ``--web.enable-lifecycle``."""
        before = self.runtimeinfo().get("lastConfigTime")
        try:
            request = urllib.request.Request(f"{self.url}/-/reload", method="POST")
            with urllib.request.urlopen(request, timeout=30):
                pass
        except urllib.error.HTTPError as exc:
            if exc.code != 403:  # 403: lifecycle API off (a Prometheus an older lab started)
                raise LabError(f"Prometheus on {self.url} refused to reload its config: "
                               f"{exc.read().decode(errors='replace').strip()} (see {self.logfile})") from None
            os.kill(read_pid(self.pidfile), signal.SIGHUP)
            wait_for(lambda: self.runtimeinfo().get("lastConfigTime") != before, 20,
                     f"Prometheus on {self.url} to reload its config")
            if not self.runtimeinfo().get("reloadConfigSuccess"):
                raise LabError(f"Prometheus on {self.url} failed to reload its config (see {self.logfile})")
        self.wait_alertmanagers()

    def wait_alertmanagers(self) -> None:
        """After a reload, wait until the notifier has its Alertmanager again (when the lab runs one)."""
        if self.alerting():
            wait_for(lambda: http_json(f"{self.url}/api/v1/alertmanagers")["data"]["activeAlertmanagers"], 20,
                     f"Prometheus on {self.url} to rediscover the lab's Alertmanager after a reload")

    def runtimeinfo(self) -> dict:
        return http_json(f"{self.url}/api/v1/status/runtimeinfo")["data"]

    def start(self) -> None:
        if not self.api_running():
            self._port_free(self.api_port, "OPSBOOK_LAB_API_PORT")
            self.ctx.log(f"prometheus: starting the lab API on {self.api_url}")
            spawn([sys.executable, "-m", "opsbook.lab.labapi", "--host", self.ctx.host, "--port", str(self.api_port)],
                  self.api_logfile, self.api_pidfile)
            wait_running(self.api_pidfile, self.api_logfile, self.api_healthy, 20, f"the lab API on {self.api_url}",
                         "labapi")
        if not self.node_exporter_running():
            self._port_free(self.node_exporter_port, "OPSBOOK_LAB_NODE_EXPORTER_PORT")
            self.ctx.log(f"prometheus: starting the node exporter on {self.node_exporter_url}")
            spawn([self.node_exporter, f"--web.listen-address={self.ctx.host}:{self.node_exporter_port}",
                   "--collector.disable-defaults", *(f"--collector.{c}" for c in NODE_EXPORTER_COLLECTORS),
                   "--collector.textfile", f"--collector.textfile.directory={self.textfile_dir}",
                   "--log.level=warn"], self.node_logfile, self.node_pidfile)
            wait_running(self.node_pidfile, self.node_logfile, self.node_exporter_ready, 20,
                         f"the node exporter on {self.node_exporter_url}", "prometheus-node-exporter")
        if not self.prometheus_running():
            self._port_free(self.port, "OPSBOOK_LAB_PROMETHEUS_PORT")
            self.ctx.log(f"prometheus: starting on {self.url}")
            spawn([
                self.prometheus, f"--config.file={self.conf}", f"--storage.tsdb.path={self.data}",
                f"--storage.tsdb.retention.time={RETENTION}", f"--web.listen-address={self.ctx.host}:{self.port}",
                "--web.enable-lifecycle", "--log.level=warn", *PROMETHEUS_ALERTING_FLAGS,
            ], self.logfile, self.pidfile)
        wait_running(self.pidfile, self.logfile, self.ready, 60, f"Prometheus on {self.url} with the lab-api target up",
                     "prometheus")

    def _port_free(self, port: int, env: str) -> None:
        if port_open(self.ctx.host, port):
            raise LabError(f"port {self.ctx.host}:{port} is taken by another process: choose another with {env}")

    def api_healthy(self) -> bool:
        return http_json(f"{self.api_url}/health", timeout=2).get("status") == "UP"

    def node_exporter_ready(self) -> bool:
        with urllib.request.urlopen(f"{self.node_exporter_url}/metrics", timeout=2) as response:
            return response.status == 200

    def ready(self) -> bool:
        """``/-/ready`` answers 200 and Prometheus has scraped the lab-api target successfully."""
        with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
            if response.status != 200:
                return False
        return self.targets_up().get(JOBS[1], False)

    def targets_up(self) -> dict:
        """``{job: up?}`` for the active targets."""
        targets = http_json(f"{self.url}/api/v1/targets?state=active")["data"]["activeTargets"]
        return {t["labels"].get("job"): t.get("health") == "up" for t in targets}

    def stop(self) -> None:
        for pidfile in (self.pidfile, self.api_pidfile, self.node_pidfile):
            pid = read_pid(pidfile)
            if pid:
                terminate(pid, timeout=30)

    def prometheus_running(self) -> bool:
        return read_pid(self.pidfile) is not None

    def api_running(self) -> bool:
        return read_pid(self.api_pidfile) is not None

    def node_exporter_running(self) -> bool:
        return read_pid(self.node_pidfile) is not None

    def running(self) -> bool:
        return self.prometheus_running() or self.api_running() or self.node_exporter_running()

    @staticmethod
    def started_with(pidfile: Path, *flags: str) -> bool:
        """Whether the process of ``pidfile`` was started with every one of ``flags`` (an older lab's may not be)."""
        pid = read_pid(pidfile)
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            return True  # gone, or no /proc: nothing to restart
        return all(flag in args for flag in flags)

    def up(self) -> bool:
        self.config_changed = self.rules_changed = False
        if self.node_exporter_running() and not self.started_with(
                self.node_pidfile, f"--collector.textfile.directory={self.textfile_dir}"):
            self.ctx.log("prometheus: restarting the node exporter with the textfile collector")
            terminate(read_pid(self.node_pidfile), timeout=30)
        if self.prometheus_running() and not self.started_with(self.pidfile, *PROMETHEUS_ALERTING_FLAGS):
            self.ctx.log("prometheus: restarting Prometheus with " + " ".join(PROMETHEUS_ALERTING_FLAGS))
            terminate(read_pid(self.pidfile), timeout=30)
        started = super().up()
        if not started and not (self.prometheus_running() and self.api_running() and self.node_exporter_running()):
            self.start()  # one of the three died (or an older lab ran no node exporter): start the missing one
            return True
        if not started and (self.config_changed or self.rules_changed):
            self.ctx.log(f"prometheus: reloading {self.conf} and {self.rules_dir}")
            self.reload()
        return started

    def probe(self) -> str:
        version = http_json(f"{self.url}/api/v1/status/buildinfo")["data"]["version"]
        up = self.targets_up()
        jobs = JOBS + SATURATION_JOBS
        healthy = sum(up.get(job, False) for job in jobs)
        if not up.get(JOBS[1], False):
            raise LabError(f"Prometheus {version}: the {JOBS[1]} target is down ({self.api_url}/metrics)")
        down = [job for job in jobs if not up.get(job, False)]
        return f"Prometheus {version}; targets up {healthy}/{len(jobs)}" + (f" (down: {', '.join(down)})" if down else "")

    def describe(self) -> dict:
        return {
            "host": self.ctx.host,
            "port": self.port,
            "url": self.url,
            "api_port": self.api_port,
            "api_url": self.api_url,
            "jobs": list(JOBS + SATURATION_JOBS) + ([BLACKBOX_JOB] if self.alerting() else []),
            "node_exporter_port": self.node_exporter_port,
            "node_exporter_url": self.node_exporter_url,
            "node_exporter_log": str(self.node_logfile),
            "textfile_dir": str(self.textfile_dir),
            "scrape_interval": "1s",
            "rules_dir": str(self.rules_dir) if self.alerting() else None,
            "config": str(self.conf),
            "data_dir": str(self.data),
            "log": str(self.logfile),
            "api_log": str(self.api_logfile),
            "tools": {"prometheus": self.prometheus, "promtool": self.promtool, "node_exporter": self.node_exporter},
        }
