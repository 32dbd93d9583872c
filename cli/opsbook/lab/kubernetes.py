"""A real Kubernetes control plane, built from the Go module proxy, with KWOK as the node.

kube-apiserver, kube-controller-manager and kube-scheduler come from ``k8s.io/kubernetes``
through a small wrapper module of ours (``require`` plus one ``replace`` per staging module,
pinned to the same release); etcd is Debian's ``etcd-server`` (3.4 works with 1.33; 1.34+
needs etcd >= 3.5); KWOK (``sigs.k8s.io/kwok``) simulates one node, so pods are scheduled
and turn Running/Ready and rollouts complete, but no container actually runs.

Binaries are cached per version under ``<cache>/kubernetes/<v>/bin`` and
``<cache>/kwok/<v>/bin``; certificates, kubeconfigs and etcd's data live in the lab dir.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import yaml

from . import gobuild
from .base import (LabError, Service, collection_path, port_open, read_pid, require_tool, spawn, terminate, wait_for,
                   wait_running, write_atomic)

DEFAULT_VERSION = "v1.33.13"
KWOK_VERSION = "v0.8.0"
ETCD_INSTALL = "apt-get install -y etcd-server"
NODE_NAME = "kwok-node-0"
NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
PROCESSES = ("etcd", *COMMANDS, "kwok")  # start order
# KWOK's default stages (module cache, kustomize/stage): node ready + lease heartbeat, pods ready.
KWOK_STAGES = (
    "node/fast/node-initialize.yaml",
    "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "pod/fast/pod-ready.yaml",
    "pod/fast/pod-complete.yaml",
    "pod/fast/pod-delete.yaml",
)
# Ours, after KWOK's: pod faults a kubelet would report (image pull error, crash loop, OOMKilled, never ready).
FAULT_STAGES = Path(__file__).with_name("kwok-fault-stages.yaml")
FAULT_ANNOTATION = "opsbook.io/fault"  # pod annotation: one of FAULTS
FAULTS = ("crashloop", "oomkilled", "unready")
BAD_IMAGE_SUFFIX = ":opsbook-bad"  # an image tag the lab's node cannot pull
TOOLS_GO = """//go:build tools

// Package tools pins the control-plane commands the lab builds.
package tools

import (
{imports}
)
"""
SERVICE_CIDR = "10.96.0.0/16"
APISERVER_SANS = (
    "IP:127.0.0.1", "IP:10.96.0.1", "DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local",
)
# name -> (subject, signing CA): client certificates the control plane's parts use.
CLIENT_CERTS = {
    "admin": ("/O=system:masters/CN=opsbook-admin", "ca"),
    "controller-manager": ("/CN=system:kube-controller-manager", "ca"),
    "scheduler": ("/CN=system:kube-scheduler", "ca"),
    "front-proxy-client": ("/CN=front-proxy-client", "front-proxy-ca"),
}
# Least-privilege principals (docs/permissions.md): name in lab.json -> the user (client certificate CN)
# bound cluster-wide to the ClusterRole of the same name in extensions/permissions/kubernetes/<name>.yml.
PRINCIPALS = {"diagnose": "opsbook-diagnose", "remediate": "opsbook-remediate", "backup": "opsbook-backup"}
CLIENT_CERTS.update((user, ("/CN=%s" % user, "ca")) for user in PRINCIPALS.values())
RBAC = "/apis/rbac.authorization.k8s.io/v1"


def _env_port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Kubernetes(Service):
    name = "kubernetes"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.version = os.environ.get("OPSBOOK_K8S_VERSION", DEFAULT_VERSION)
        self.kwok_version = os.environ.get("OPSBOOK_KWOK_VERSION", KWOK_VERSION)
        self.port = _env_port("OPSBOOK_LAB_K8S_API_PORT", 16443)
        self.etcd_port = _env_port("OPSBOOK_LAB_ETCD_PORT", 12379)
        self.etcd_peer_port = _env_port("OPSBOOK_LAB_ETCD_PEER_PORT", 12380)
        self.kwok_port = _env_port("OPSBOOK_LAB_KWOK_PORT", 16250)
        self.bin_dir = ctx.cache_dir / "kubernetes" / self.version / "bin"
        self.kwok_dir = ctx.cache_dir / "kwok" / self.kwok_version / "bin"
        self.pki = self.dir / "pki"
        self.kubeconfig = self.dir / "admin.kubeconfig"

    @property
    def server(self) -> str:
        return f"https://{self.ctx.host}:{self.port}"

    # --- tools and cache ----------------------------------------------------------------
    def check_tools(self) -> None:
        self.etcd = require_tool("etcd", ETCD_INSTALL)
        self.openssl = require_tool("openssl", "apt-get install -y openssl")
        if not (gobuild.is_built(self.bin_dir) and gobuild.is_built(self.kwok_dir)):
            gobuild.go_tool()

    def build(self) -> None:
        """Build what the cache lacks; a warm cache costs nothing."""
        if not gobuild.is_built(self.bin_dir):
            gobuild.build_into(
                self.bin_dir, f"kubernetes {self.version}", self.ctx.log, self._build_control_plane)
        if not gobuild.is_built(self.kwok_dir):
            gobuild.build_into(
                self.kwok_dir, f"kwok {self.kwok_version}", self.ctx.log, self._build_kwok)

    def _build_control_plane(self, work: Path, bin_tmp: Path, log_path: Path) -> None:
        version = self.version
        what = f"kubernetes {version}"
        gobuild.run_go(["mod", "download", f"k8s.io/kubernetes@{version}"], work, what, log_path)
        upstream = Path(gobuild.go_env("GOMODCACHE")) / "cache/download/k8s.io/kubernetes/@v" / f"{version}.mod"
        staging = [line.split()[0] for line in upstream.read_text().splitlines()
                   if "=> ./staging/" in line and line.strip().startswith("k8s.io/")]
        if not staging:
            raise LabError(f"{what}: no staging modules in {upstream}")
        staging_version = "v0." + version.split(".", 1)[1]
        replaces = "\n".join(f"\t{mod} => {mod} {staging_version}" for mod in staging)
        (work / "go.mod").write_text(
            f"module opsbook.local/kube\n\ngo 1.24\n\nrequire k8s.io/kubernetes {version}\n\nreplace (\n{replaces}\n)\n")
        imports = "\n".join(f'\t_ "k8s.io/kubernetes/cmd/{cmd}"' for cmd in COMMANDS)
        (work / "tools.go").write_text(TOOLS_GO.format(imports=imports))
        gobuild.run_go(["mod", "tidy"], work, what, log_path)
        major, minor = version.lstrip("v").split(".")[:2]
        ldflags = ["-s", "-w"]
        for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
            ldflags += [f"-X {pkg}.gitVersion={version}", f"-X {pkg}.gitMajor={major}",
                        f"-X {pkg}.gitMinor={minor}", f"-X {pkg}.gitTreeState=clean"]
        for cmd in COMMANDS:
            gobuild.run_go(["build", "-ldflags", " ".join(ldflags), "-o", str(bin_tmp / cmd),
                            f"k8s.io/kubernetes/cmd/{cmd}"], work, what, log_path)

    def _build_kwok(self, work: Path, bin_tmp: Path, log_path: Path) -> None:
        what = f"kwok {self.kwok_version}"
        os.environ["GOBIN"] = str(bin_tmp)
        try:
            gobuild.run_go(["install", "-ldflags", "-s -w", f"sigs.k8s.io/kwok/cmd/kwok@{self.kwok_version}"],
                           work, what, log_path)
        finally:
            os.environ.pop("GOBIN", None)
        copy_kwok_stages(Path(gobuild.go_env("GOMODCACHE")), self.kwok_version, bin_tmp / "stages.yaml")

    # --- set-up ---------------------------------------------------------------------------
    def prepare(self) -> None:
        self.build()
        self._certs()
        for name in ("admin", "controller-manager", "scheduler", *PRINCIPALS.values()):
            self._write_kubeconfig(name)
        self._write_kwok_config()

    def _openssl(self, *args: str) -> None:
        result = subprocess.run([self.openssl, *args], cwd=self.pki, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise LabError(f"openssl {args[0]} failed: {result.stderr.strip()[-400:]}")

    def _certs(self) -> None:
        """CA, front-proxy CA, serving and client certificates, service-account keys (once)."""
        self.pki.mkdir(mode=0o700, parents=True, exist_ok=True)
        for ca in ("ca", "front-proxy-ca"):
            if not (self.pki / f"{ca}.crt").exists():
                self._openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
                              "-subj", f"/CN=opsbook-lab-{ca}", "-keyout", f"{ca}.key", "-out", f"{ca}.crt")
        if not (self.pki / "sa.pub").exists():
            self._openssl("genrsa", "-out", "sa.key", "2048")
            self._openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub")
        self._signed("apiserver", "/CN=kube-apiserver", "ca",
                     extensions=f"subjectAltName={','.join(APISERVER_SANS)}\nextendedKeyUsage=serverAuth\n")
        for name, (subject, ca) in CLIENT_CERTS.items():
            self._signed(name, subject, ca, extensions="extendedKeyUsage=clientAuth\n")

    def _signed(self, name: str, subject: str, ca: str, extensions: str) -> None:
        if (self.pki / f"{name}.crt").exists():
            return
        (self.pki / f"{name}.ext").write_text(extensions)
        self._openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject,
                      "-keyout", f"{name}.key", "-out", f"{name}.csr")
        self._openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
                      "-CAcreateserial", "-days", "3650", "-extfile", f"{name}.ext", "-out", f"{name}.crt")

    def kubeconfig_for(self, name: str) -> Path:
        return self.kubeconfig if name == "admin" else self.dir / f"{name}.kubeconfig"

    def _write_kubeconfig(self, name: str) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "opsbook-lab", "cluster": {
                "server": self.server, "certificate-authority": str(self.pki / "ca.crt")}}],
            "users": [{"name": name, "user": {
                "client-certificate": str(self.pki / f"{name}.crt"),
                "client-key": str(self.pki / f"{name}.key")}}],
            "contexts": [{"name": "opsbook-lab", "context": {"cluster": "opsbook-lab", "user": name}}],
            "current-context": "opsbook-lab",
        }
        write_atomic(self.kubeconfig_for(name), json.dumps(config, indent=2) + "\n", mode=0o600)

    def _write_kwok_config(self) -> None:
        """KWOK's --config: its Stage objects and the lab's fault stages, plus simulated pod logs and exec.

        Faults (``kwok-fault-stages.yaml``): an image tag ending ``:opsbook-bad`` gives
        ErrImagePull / ImagePullBackOff; the pod annotation ``opsbook.io/fault`` set to
        ``crashloop``, ``oomkilled`` or ``unready`` gives CrashLoopBackOff with a rising
        restartCount, OOMKilled as the last state with a rising restartCount, or a readiness that
        never turns true.

        Logs: every container's log is the same CRI-format file (``pod.log`` in the lab dir).
        Exec: KWOK runs the command on this machine (not in a container), as ``nobody`` in
        ``exec/`` under the lab dir: `kubectl exec ... -- sh -c 'echo hi'` works, a tool
        that only lives in an image does not.
        """
        stages = (self.kwok_dir / "stages.yaml").read_text().rstrip() + "\n---\n" + FAULT_STAGES.read_text()
        exec_dir = self.dir / "exec"
        exec_dir.mkdir(exist_ok=True)
        os.chmod(exec_dir, 0o777)
        # stamped with the start time of this control plane, so a log window of minutes sees the lines
        lines = ("INFO started (simulated by the opsbook lab's KWOK node)",
                 "INFO ready: serving on :8080", "WARN simulated warning line for runbook greps",
                 "ERROR simulated error line for runbook greps")
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        write_atomic(self.dir / "pod.log",
                     "".join(f"{stamp}.{i:09d}Z stdout F {line}\n" for i, line in enumerate(lines)))
        extra = {
            "ClusterLogs": {"logs": [{"logsFile": str(self.dir / "pod.log"), "follow": False}]},
            "ClusterExec": {"execs": [{"local": {"workDir": str(exec_dir),
                                                 "securityContext": {"runAsUser": 65534, "runAsGroup": 65534}}}]},
        }
        docs = [stages.rstrip() + "\n"] + [
            json.dumps({"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": kind,
                        "metadata": {"name": f"opsbook-lab-{kind.lower()}"}, "spec": spec}) + "\n"
            for kind, spec in extra.items()]
        write_atomic(self.dir / "kwok.yaml", "---\n".join(docs))

    # --- processes ------------------------------------------------------------------------
    def _commands(self) -> dict[str, list[str]]:
        pki, bin_dir = self.pki, self.bin_dir
        etcd_url = f"http://{self.ctx.host}:{self.etcd_port}"
        peer_url = f"http://{self.ctx.host}:{self.etcd_peer_port}"
        common = ["--leader-elect=false", "--secure-port=0", "--v=1"]
        return {
            "etcd": [
                self.etcd, "--name=lab", f"--data-dir={self.dir / 'etcd'}",
                f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=lab={peer_url}", "--log-level=warn", "--logger=zap",
            ],
            "kube-apiserver": [
                str(bin_dir / "kube-apiserver"), f"--etcd-servers={etcd_url}",
                f"--bind-address={self.ctx.host}", f"--secure-port={self.port}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--kubelet-client-certificate={pki / 'admin.crt'}", f"--kubelet-client-key={pki / 'admin.key'}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--authorization-mode=Node,RBAC", "--allow-privileged=true", "--profiling=false",
                f"--requestheader-client-ca-file={pki / 'front-proxy-ca.crt'}",
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-username-headers=X-Remote-User",
                f"--proxy-client-cert-file={pki / 'front-proxy-client.crt'}",
                f"--proxy-client-key-file={pki / 'front-proxy-client.key'}",
                "--v=1",
            ],
            "kube-controller-manager": [
                str(bin_dir / "kube-controller-manager"), *common,
                f"--kubeconfig={self.kubeconfig_for('controller-manager')}",
                f"--authentication-kubeconfig={self.kubeconfig_for('controller-manager')}",
                f"--authorization-kubeconfig={self.kubeconfig_for('controller-manager')}",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.crt'}", "--use-service-account-credentials=true",
                f"--cluster-signing-cert-file={pki / 'ca.crt'}", f"--cluster-signing-key-file={pki / 'ca.key'}",
            ],
            "kube-scheduler": [
                str(bin_dir / "kube-scheduler"), *common,
                f"--kubeconfig={self.kubeconfig_for('scheduler')}",
                f"--authentication-kubeconfig={self.kubeconfig_for('scheduler')}",
                f"--authorization-kubeconfig={self.kubeconfig_for('scheduler')}",
            ],
            "kwok": [
                str(self.kwok_dir / "kwok"), f"--kubeconfig={self.kubeconfig}", f"--config={self.dir / 'kwok.yaml'}",
                "--manage-all-nodes=false",
                f"--manage-nodes-with-annotation-selector={NODE_ANNOTATION[0]}={NODE_ANNOTATION[1]}",
                "--node-lease-duration-seconds=40",
                f"--server-address={self.ctx.host}:{self.kwok_port}",
                f"--node-ip={self.ctx.host}", f"--node-port={self.kwok_port}",
            ],
        }

    def pidfile(self, proc: str) -> Path:
        return self.dir / f"{proc}.pid"

    def logfile(self, proc: str) -> Path:
        return self.dir / f"{proc}.log"

    def _spawn(self, proc: str, cmd: list[str]) -> None:
        if read_pid(self.pidfile(proc)):
            return
        spawn(cmd, self.logfile(proc), self.pidfile(proc))

    def _wait(self, proc: str, ready, timeout: float, what: str, interval: float = 0.5) -> None:
        wait_running(self.pidfile(proc), self.logfile(proc), ready, timeout, what, proc, interval=interval)

    def start(self) -> None:
        started = time.monotonic()
        self.ctx.log(f"kubernetes: starting etcd, control plane {self.version} on {self.server}, kwok node")
        cmds = self._commands()
        self._spawn("etcd", cmds["etcd"])
        self._wait("etcd", lambda: port_open(self.ctx.host, self.etcd_port), 30,
                   f"etcd on {self.ctx.host}:{self.etcd_port}", interval=0.2)
        self._spawn("kube-apiserver", cmds["kube-apiserver"])
        self._wait("kube-apiserver", lambda: self._get("/readyz", raw=True) == "ok", 120,
                   f"kube-apiserver on {self.server}")
        for proc in ("kube-controller-manager", "kube-scheduler", "kwok"):
            self._spawn(proc, cmds[proc])
        self._ensure_node()
        self._wait("kwok", self.node_ready, 60, f"node {NODE_NAME} Ready")
        wait_for(lambda: self._default_service_account(), 60, "the default service account", interval=0.5)
        self.ctx.log(f"kubernetes: control plane and node Ready in {time.monotonic() - started:.1f}s (start, no build)")

    def _ensure_node(self) -> None:
        node = {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {
                "name": NODE_NAME,
                "annotations": {NODE_ANNOTATION[0]: NODE_ANNOTATION[1], "node.alpha.kubernetes.io/ttl": "0"},
                "labels": {"type": "kwok", "kubernetes.io/hostname": NODE_NAME, "kubernetes.io/os": "linux",
                           "kubernetes.io/arch": "amd64", "kubernetes.io/role": "agent"},
            },
            "status": {"allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                       "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"}},
        }
        try:
            self._get(f"/api/v1/nodes/{NODE_NAME}")
        except LabError:
            self._request("POST", "/api/v1/nodes", node)

    def _default_service_account(self) -> bool:
        return bool(self._get("/api/v1/namespaces/default/serviceaccounts/default"))

    def node_ready(self) -> bool:
        node = self._get(f"/api/v1/nodes/{NODE_NAME}")
        return any(c["type"] == "Ready" and c["status"] == "True" for c in node.get("status", {}).get("conditions", []))

    def stop(self) -> None:
        for proc in reversed(PROCESSES):
            pid = read_pid(self.pidfile(proc))
            if pid:
                terminate(pid, timeout=20)

    def running(self) -> bool:
        """Any of the five processes alive (so `lab down` stops what is left)."""
        return any(read_pid(self.pidfile(p)) for p in PROCESSES)

    def up(self) -> bool:
        started = super().up()
        if not started and not all(read_pid(self.pidfile(p)) for p in PROCESSES):
            self.start()  # starts only the processes that died
            started = True
        self.ensure_principals()
        return started

    def ensure_principals(self) -> None:
        """The shipped ClusterRoles, each bound cluster-wide to the lab user of its name (the shipped
        RoleBindings are examples for a real namespace and ServiceAccount: not applied)."""
        for name, user in PRINCIPALS.items():
            source = collection_path("extensions", "permissions", "kubernetes", f"{name}.yml")
            for obj in yaml.safe_load(source.read_text())["items"]:  # a List, as kubectl apply -f takes it
                if obj["kind"] == "ClusterRole":
                    self._apply(f"{RBAC}/clusterroles", obj)
            self._apply(f"{RBAC}/clusterrolebindings", {
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": f"opsbook-lab-{name}", "labels": {"app.kubernetes.io/part-of": "opsbook"}},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": user},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]})

    def _apply(self, collection: str, obj: dict) -> None:
        """Create ``obj`` under ``collection``, or replace it when it exists."""
        path = f"{collection}/{obj['metadata']['name']}"
        try:
            current = self._get(path)
        except LabError:
            self._request("POST", collection, obj)
            return
        self._request("PUT", path, dict(obj, metadata=dict(obj["metadata"],
                                                           resourceVersion=current["metadata"]["resourceVersion"])))

    # --- API access (admin client certificate; every call has a timeout) --------------------
    def _ssl(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        context.load_cert_chain(str(self.pki / "admin.crt"), str(self.pki / "admin.key"))
        return context

    def _request(self, method: str, path: str, body: dict | None = None, raw: bool = False):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.server + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5, context=self._ssl()) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as exc:
            raise LabError(f"{method} {path}: HTTP {exc.code} {exc.read().decode(errors='replace')[:300]}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise LabError(f"{method} {path}: {exc}") from None
        return text if raw else json.loads(text)

    def _get(self, path: str, raw: bool = False):
        return self._request("GET", path, raw=raw)

    # --- reporting ----------------------------------------------------------------------------
    def probe(self) -> str:
        version = self._get("/version")["gitVersion"]
        if self._get("/readyz", raw=True) != "ok":
            raise LabError("kube-apiserver is not ready")
        down = [p for p in PROCESSES if not read_pid(self.pidfile(p))]
        if down:
            raise LabError(f"not running: {', '.join(down)}")
        if not self.node_ready():
            raise LabError(f"node {NODE_NAME} is not Ready")
        return f"Kubernetes {version}, node {NODE_NAME} Ready (KWOK {self.kwok_version})"

    def describe(self) -> dict:
        return {
            "host": self.ctx.host,
            "port": self.port,
            "server": self.server,
            "kubeconfig": str(self.kubeconfig),
            "principals": {name: {"user": user, "kubeconfig": str(self.kubeconfig_for(user))}
                           for name, user in PRINCIPALS.items()},
            "version": self.version,
            "kwok_version": self.kwok_version,
            "node": NODE_NAME,
            "etcd_endpoint": f"http://{self.ctx.host}:{self.etcd_port}",
            "kwok_port": self.kwok_port,
            "bin_dir": str(self.bin_dir),
            "kwok_bin_dir": str(self.kwok_dir),
            "logs": {p: str(self.logfile(p)) for p in PROCESSES},
            "cold_build_seconds": {"kubernetes": gobuild.build_seconds(self.bin_dir),
                                   "kwok": gobuild.build_seconds(self.kwok_dir)},
        }


def copy_kwok_stages(modcache: Path, version: str, target: Path) -> None:
    """Concatenate KWOK's default Stage objects from the module cache into one --config file."""
    stage_dir = modcache / f"sigs.k8s.io/kwok@{version}/kustomize/stage"
    docs = []
    for rel in KWOK_STAGES:
        path = stage_dir / rel
        if not path.exists():
            raise LabError(f"kwok {version}: stage {path} is missing from the Go module cache")
        docs.append(path.read_text().strip() + "\n")
    target.write_text("---\n".join(docs))

