"""The lab as a whole: which services, where their state lives, up/down/status/reset."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from pathlib import Path

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.labinfo import STATE_FILE, default_lab_dir

from .alertmanager import Alertmanager
from .base import Health, LabContext, LabError, MissingTool, Service, write_atomic
from .docker import Docker
from .kafka import Kafka
from .kubernetes import Kubernetes
from .postgres import Postgres
from .prometheus import Prometheus
from .redis import Redis
from .ssh import Ssh
from .tls import Tls

# Services started by a plain `opsbook lab up`, in start order.
DEFAULT_SERVICES: dict[str, type[Service]] = {"postgres": Postgres, "redis": Redis, "kafka": Kafka}
# Services a later `--with NAME` adds (Kubernetes, Docker, Prometheus, ...).
OPTIONAL_SERVICES: dict[str, type[Service]] = {"kubernetes": Kubernetes, "docker": Docker, "prometheus": Prometheus,
                                               "alertmanager": Alertmanager, "tls": Tls,
                                               "ssh": Ssh}
# An optional service that needs another one: `--with alertmanager` starts Prometheus too.
IMPLIES = {"alertmanager": ("prometheus",)}


def default_cache_dir() -> Path:
    env = os.environ.get("OPSBOOK_CACHE_DIR")
    if env:
        return Path(env).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "opsbook"


class Lab:
    def __init__(self, lab_dir: str | Path | None = None, cache_dir: str | Path | None = None, log=print):
        lab_dir = Path(lab_dir).expanduser().resolve() if lab_dir else Path(default_lab_dir())
        cache_dir = Path(cache_dir).expanduser().resolve() if cache_dir else default_cache_dir()
        self.ctx = LabContext(lab_dir=lab_dir, cache_dir=cache_dir, log=log)
        self.log = log

    @property
    def dir(self) -> Path:
        return self.ctx.lab_dir

    @property
    def state_file(self) -> Path:
        return self.dir / STATE_FILE

    def services(self, names: list[str] | None = None, extra: tuple[str, ...] = (), implied: bool = False
                 ) -> list[Service]:
        """``names``, else the default services plus the optional ones started before; plus ``extra``
        (and, when ``implied``, the services those need: ``up`` starts them, ``down -s`` leaves them)."""
        known = {**DEFAULT_SERVICES, **OPTIONAL_SERVICES}
        if names is None:
            names = list(DEFAULT_SERVICES) + [n for n in self._recorded_services() if n in OPTIONAL_SERVICES]
        names = list(names) + [n for n in extra if n not in names]
        if implied:
            names += [dep for n in list(names) for dep in IMPLIES.get(n, ()) if dep not in names]
        self.ctx.enabled = frozenset(names) | frozenset(self._recorded_services())
        unknown = [n for n in names if n not in known]
        if unknown:
            raise LabError(f"unknown lab service(s): {', '.join(unknown)} (known: {', '.join(known)})")
        return [known[name](self.ctx) for name in known if name in names]

    def _recorded_services(self) -> list[str]:
        try:
            return list(json.loads(self.state_file.read_text()).get("services", {}))
        except (OSError, ValueError):
            return []

    @contextlib.contextmanager
    def locked(self):
        """One lab operation at a time per lab directory."""
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)
        with open(self.dir / ".lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.log(f"lab: waiting for another lab operation on {self.dir}")
                fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    # --- operations --------------------------------------------------------------
    def up(self, names: list[str] | None = None, extra: tuple[str, ...] = ()) -> dict[str, float]:
        """Start the services (idempotent), plus the optional ``extra`` ones; seconds spent per service."""
        timings = {}
        with self.locked():
            services = self.services(names if names else None, extra, implied=True)
            for service in services:
                service.check_tools()  # fail before starting anything when a tool is missing
            for service in services:
                started = time.monotonic()
                if service.up():
                    timings[service.name] = round(time.monotonic() - started, 1)
                    self.log(f"{service.name}: up in {timings[service.name]}s")
                else:
                    self.log(f"{service.name}: already running")
            self._write_state(services)
        return timings

    def down(self, names: list[str] | None = None) -> None:
        with self.locked():
            for service in reversed(self.services(names)):
                if service.running():
                    self.log(f"{service.name}: stopping")
                    service.check_tools()
                    service.stop()
                else:
                    self.log(f"{service.name}: not running")

    def reset(self, names: list[str] | None = None) -> dict[str, float]:
        """Stop, delete all lab state (data, secrets), start afresh."""
        names = names or [s.name for s in self.services()]  # keep the optional ones lab.json recorded
        self.down(names)
        with self.locked():
            for entry in self.dir.iterdir():
                if entry.name == ".lock":
                    continue
                if entry.is_dir():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        return self.up(names)

    def status(self) -> dict:
        report = {"lab_dir": str(self.dir), "cache_dir": str(self.ctx.cache_dir), "services": {}}
        for service in self.services():
            try:
                service.check_tools()
                info = service.describe()
                health = service.health()
            except MissingTool as exc:
                info, health = {}, Health("unknown", str(exc))
            except LabError as exc:
                info, health = {}, Health("unknown", str(exc))
            report["services"][service.name] = {"status": health.status, "detail": health.detail, **info}
        return report

    def _write_state(self, services: list[Service]) -> None:
        state = {"lab_dir": str(self.dir), "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "services": {}}
        try:
            state["services"].update(json.loads(self.state_file.read_text()).get("services", {}))
        except (OSError, ValueError):
            pass
        for service in services:
            state["services"][service.name] = service.describe()
        write_atomic(self.state_file, json.dumps(state, indent=2, sort_keys=True) + "\n")
