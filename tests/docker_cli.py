"""The docker CLI and the busybox httpd /health endpoint, for tests against the lab's Docker engine."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request


def docker(env, *args, timeout=60):
    """Run `docker ARGS` with ``env`` (DOCKER_HOST); stdout, or AssertionError with stderr."""
    out = subprocess.run([shutil.which("docker"), *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"docker {' '.join(args)}: {out.stderr}"
    return out.stdout


def inspect(env, name):
    return json.loads(docker(env, "inspect", name))[0]


def health(port):
    """The body of http://127.0.0.1:PORT/health, or None when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.read().decode().strip()
    except OSError:
        return None
