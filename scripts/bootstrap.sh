#!/usr/bin/env bash
# Install everything opsbook needs on a fresh Debian 12 machine (idempotent):
# Debian packages for the lab, a Python venv with opsbook installed (editable) and
# its test/lint tools, and ansible-test's offline pip bootstrap.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${OPSBOOK_VENV:-.venv}
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3

log() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*" >&2; }
t0=$(date +%s)

# --- Debian packages --------------------------------------------------------------
need=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
ls /usr/share/postgresql/*/extension/pg_stat_statements.control >/dev/null 2>&1 || need+=(postgresql-contrib)
command -v redis-server >/dev/null || need+=(redis-server)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
# The lab's optional Kubernetes (etcd; Go builds the rest) and Docker engine + compose project.
command -v etcd >/dev/null || need+=(etcd-server)
command -v openssl >/dev/null || need+=(openssl)
command -v go >/dev/null || [ -x /usr/local/go/bin/go ] \
  || log "warning: no Go >= 1.24 (go.dev/dl; Debian's golang-go is too old): the lab cannot build Kubernetes"
[ -x /usr/sbin/dockerd ] || need+=(docker.io containerd runc)
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx httpd || need+=(busybox-static)
command -v docker-compose >/dev/null || need+=(docker-compose)
# The lab's optional Prometheus (scrapes the lab API app; `opsbook lab up --with prometheus`).
command -v prometheus >/dev/null || need+=(prometheus)
# The lab's optional Alertmanager and blackbox exporter (`opsbook lab up --with alertmanager`).
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v prometheus-blackbox-exporter >/dev/null || need+=(prometheus-blackbox-exporter)
# The lab's node exporter (host CPU, memory, disks for the saturation scenario; part of `--with prometheus`).
command -v prometheus-node-exporter >/dev/null || need+=(prometheus-node-exporter)
# Headless Chromium: the tests render `opsbook report --format html` and screenshot it.
command -v chromium >/dev/null || need+=(chromium)
# The lab's execution node (`opsbook lab up --with ssh`; `opsbook run --node`): OpenSSH's sshd and ssh.
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
# The execution environment's Debian base image (scripts/build_ee.sh).
[ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages: ${need[*]} - run as root or: sudo apt-get install -y ${need[*]}"
    exit 1
  fi
  log "installing Debian packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian starts its own clusters/servers on install; the lab runs its own on other ports.
if [ "$(id -u)" -eq 0 ] && command -v pg_lsclusters >/dev/null; then
  pg_lsclusters -h 2>/dev/null | awk '$4=="online"{print $1, $2}' | while read -r v c; do pg_ctlcluster "$v" "$c" stop || true; done
fi
if [ "$(id -u)" -eq 0 ] && command -v systemctl >/dev/null && systemctl is-active -q prometheus-node-exporter 2>/dev/null; then
  systemctl stop prometheus-node-exporter || true  # Debian's, on :9100; the lab runs its own
  systemctl disable -q prometheus-node-exporter || true
fi

# --- Python -------------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import opsbook, ansible_runner, pytest, ansiblelint, ansible_rulebook, ansible_builder" 2>/dev/null \
   || [ pyproject.toml -nt "$VENV/.opsbook-installed" ]; then
  log "installing opsbook (editable) with test, lint, eda and ee extras"
  "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip
  "$VENV/bin/pip" install -q --disable-pip-version-check -e '.[test,lint,eda,ee]'
  touch "$VENV/.opsbook-installed"
fi

# --- ansible-test's pip bootstrap, offline (it would fetch get-pip from a host we cannot reach) --
cache="$HOME/.ansible/test/cache"
if [ ! -f "$cache/get_pip_24_2.py" ]; then
  mkdir -p "$cache"
  "$VENV/bin/pip" download -q --disable-pip-version-check pip==24.2 --no-deps -d "$cache"
  cat > "$cache/get_pip_24_2.py" <<'PY'
"""Offline stand-in for get-pip: install the pip wheel cached beside this file."""
import glob
import os
import sys

wheel = glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pip-24.2-*.whl"))[0]
sys.path.insert(0, wheel)
from pip._internal.cli.main import main  # noqa: E402

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--upgrade", "--force-reinstall", wheel] + [a for a in args if not a.startswith("pip")]))
PY
fi
log "ready in $(( $(date +%s) - t0 ))s: $VENV/bin/opsbook"
