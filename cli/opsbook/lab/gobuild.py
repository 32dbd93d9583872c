"""Build Go binaries from the Go module proxy into the lab's cache, once per version."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .base import LabError, require_tool

GO_INSTALL = "Go >= 1.24 from https://go.dev/dl (Debian 12's golang-go is too old)"
# A cold build runs for minutes on two cores; past this it is stuck, not slow.
BUILD_TIMEOUT = 40 * 60


def go_tool() -> str:
    return require_tool("go", GO_INSTALL, candidates=("/usr/local/go/bin/go",))


def go_env(name: str) -> str:
    result = subprocess.run([go_tool(), "env", name], capture_output=True, text=True, timeout=60)
    return result.stdout.strip()


def run_go(args: list[str], cwd: Path, what: str, log_path: Path) -> None:
    """Run one go command, appending its output to ``log_path``; LabError with the tail on failure."""
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=mod")
    with open(log_path, "a") as log:
        log.write(f"$ go {' '.join(args)}\n")
        log.flush()
        try:
            result = subprocess.run([go_tool(), *args], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    timeout=BUILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise LabError(f"{what}: `go {args[0]}` did not finish in {BUILD_TIMEOUT // 60} min; see {log_path}") from None
    if result.returncode != 0:
        tail = "\n".join(log_path.read_text().splitlines()[-8:])
        raise LabError(f"{what}: `go {' '.join(args[:2])}` failed (see {log_path}):\n{tail}")


def build_into(bin_dir: Path, what: str, log, populate) -> float:
    """Build into a temp dir beside ``bin_dir`` with ``populate(work, bin_tmp, log_path)``, then rename.

    Returns the seconds spent. ``bin_dir`` only ever appears complete, so a warm
    start never sees a half-built cache.
    """
    bin_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="build-", dir=bin_dir.parent))
    log_path = bin_dir.parent / "build.log"
    log_path.write_text("")
    started = time.monotonic()
    log(f"{what}: cold build from the Go module proxy into {bin_dir} (minutes on 2 cores; log {log_path})")
    try:
        bin_tmp = work / "bin"
        bin_tmp.mkdir()
        populate(work, bin_tmp, log_path)
        (bin_tmp / ".complete").write_text(json.dumps({
            "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "seconds": round(time.monotonic() - started, 1)}) + "\n")
        if bin_dir.exists():
            shutil.rmtree(bin_dir)
        os.replace(bin_tmp, bin_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    seconds = round(time.monotonic() - started, 1)
    log(f"{what}: cold build took {seconds}s")
    return seconds


def is_built(bin_dir: Path) -> bool:
    return (bin_dir / ".complete").exists()


def build_seconds(bin_dir: Path) -> float | None:
    """How long the cold build of ``bin_dir`` took (recorded in its ``.complete``)."""
    try:
        return json.loads((bin_dir / ".complete").read_text())["seconds"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
