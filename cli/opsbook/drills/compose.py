"""Docker compose faults: a service of a compose project stopped (`docker-compose stop`), and put back.

The lab's conectsuite project (`opsbook lab up --with docker`) and the test suite's own projects use
the same class: the project name, its file and the Docker engine (DOCKER_HOST) say which one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request

from opsbook.lab.base import LabError, wait_for


def http_status(url: str, timeout: float = 2) -> int | None:
    """The HTTP status ``url`` answers with, None when nothing answers (bounded by ``timeout``)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


class Compose:
    """One compose project on one Docker engine, driven with docker-compose and docker as an SRE would."""

    def __init__(self, project: str, compose_file: str, docker_host: str, timeout: float = 120):
        self.project, self.file, self.docker_host, self.timeout = project, str(compose_file), docker_host, timeout
        self.env = dict(os.environ, DOCKER_HOST=docker_host)

    def _run(self, cmd: list[str], what: str) -> str:
        try:
            out = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise LabError(f"{what} did not finish within {self.timeout:.0f}s")
        if out.returncode != 0:
            raise LabError(f"{what} failed: {(out.stderr or out.stdout).strip()[-400:]}")
        return out.stdout

    def compose(self, *args: str) -> str:
        tool = shutil.which("docker-compose")
        if not tool:
            raise LabError("docker-compose not found: install it with `apt-get install -y docker-compose`")
        return self._run([tool, "-p", self.project, "-f", self.file, *args], f"docker-compose {' '.join(args)}")

    def state(self, service: str) -> dict:
        """``docker inspect``'s State of the service's container ({} when it has none)."""
        container = self.compose("ps", "-q", service).strip()
        if not container:
            return {}
        tool = shutil.which("docker") or "docker"
        return json.loads(self._run([tool, "inspect", container], f"docker inspect {service}"))[0]["State"]

    def running(self, service: str) -> bool:
        return bool(self.state(service).get("Running"))

    def healthy(self, service: str) -> bool:
        return (self.state(service).get("Health") or {}).get("Status") == "healthy"

    def stop(self, service: str, wait: float = 30) -> None:
        """The fault: ``docker-compose stop -t 1 SERVICE``, then wait until Docker says it is not running."""
        self.compose("stop", "-t", "1", service)
        wait_for(lambda: not self.running(service), wait, f"{self.project}/{service} to stop")

    def start(self, service: str, wait: float = 60) -> None:
        """Put it back: ``docker-compose start SERVICE``, then wait until its HEALTHCHECK says healthy."""
        self.compose("start", service)
        wait_for(lambda: self.healthy(service), wait, f"{self.project}/{service} to be healthy")


class ServiceStopped:
    """Fault ``api-down``: the lab's compose backend stopped, as in ConectCRM's APIDown (Ação 1 restarts it).

    ``present()`` asks the backend's health endpoint and Docker, not the scenario: the drill judges the
    scenario's fix by what the system itself shows afterwards.
    """

    service = "backend"
    detect_checks = ("http_reachable", "http_status", "workload_status")

    def __init__(self, docker: dict):
        self.compose = Compose(docker["compose_project"], docker["compose_file"], docker["docker_host"])
        self.url = docker["backend_url"]
        self.target = self.service
        self.injected_at: float | None = None

    def describe(self) -> str:
        return f"compose service {self.compose.project}/{self.service} stopped (docker-compose stop)"

    def present(self) -> bool:
        return http_status(self.url) != 200 or not self.running()

    def running(self) -> bool:
        return self.compose.running(self.service)

    def observe(self) -> str:
        """What the lab shows now, in the words an SRE would check it with (curl, docker-compose ps)."""
        return (f"{self.url} answers {http_status(self.url) or 'nothing'}, {self.compose.project}/{self.service} "
                f"{'running' if self.running() else 'not running'}")

    def baseline(self) -> str | None:
        """None when the lab is as the drill needs it before the fault, else what is wrong."""
        if self.present():
            return (f"{self.compose.project}/{self.service} is already down ({self.url} does not answer 200): "
                    "`opsbook lab up --with docker` brings it back")
        return None

    def inject(self) -> str:
        self.injected_at = time.time()
        self.compose.stop(self.service)
        return f"stopped {self.compose.project}/{self.service}; {self.url} answers {http_status(self.url) or 'nothing'}"

    def variables(self) -> dict:
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.injected_at or time.time()))
        return {"api_down_incident_started": started}

    def confirm(self) -> tuple[str, ...]:
        return ()  # a stopped backend is restarted (Ação 1): nothing destructive to confirm

    def cleanup(self) -> str:
        if not self.present():
            return f"{self.compose.project}/{self.service} running and healthy: nothing to put back"
        self.compose.start(self.service)
        wait_for(lambda: http_status(self.url) == 200, 60, f"{self.url} to answer 200")
        return f"started {self.compose.project}/{self.service} again; {self.url} answers 200"
