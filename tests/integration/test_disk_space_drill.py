"""disk-space drill: old and new logs, a nearly full tmpfs, df's numbers, and a label-scoped Docker prune.

Through the CLI (`opsbook run disk-space`) with the lab inventory and variables of the test's own: exactly the
old files go and the freed bytes equal what `du -sb` saw for them; an 8 MiB tmpfs filled past 90 % is critical,
then ok after the cleanup (outcome resolved). `disk_usage` numbers equal `df -B1` / `df -i` for the same mount.
The Docker prune runs against the lab's engine on a stopped container and a volume of our own, filtered by a
label only they carry (the lab's conectsuite project is never touched).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import time
import uuid

import pytest

from tests.helpers import run_module
from tests.integration.scenario_lab import findings_by, run_scenario

DAY = 86400


def make_logs(root, old=3, new=2, old_days=40, size=1000):
    """``old`` files modified ``old_days`` ago and ``new`` recent ones (os.utime), plus a symlink out of the root."""
    os.makedirs(root / "sub", exist_ok=True)
    now = time.time()
    olds, news = [], []
    for i in range(old):
        path = (root / "sub" if i == 0 else root) / f"app-{i}.log"
        path.write_bytes(os.urandom(size * (i + 1)))
        os.utime(path, (now - old_days * DAY, now - old_days * DAY))
        olds.append(path)
    for i in range(new):
        path = root / f"recent-{i}.log"
        path.write_bytes(os.urandom(size))
        os.utime(path, (now - 2 * DAY, now - 2 * DAY))
        news.append(path)
    (root / "outside.log").symlink_to("/etc/hostname")
    return olds, news


def du_sb(paths):
    out = subprocess.run(["du", "-sb", *map(str, paths)], capture_output=True, text=True, check=True, timeout=30).stdout
    return sum(int(line.split()[0]) for line in out.splitlines())


def test_exactly_the_old_logs_go_and_the_bytes_are_what_du_saw(tmp_path):
    logs = tmp_path / "logs"
    olds, news = make_logs(logs)
    expected = du_sb(olds)
    variables = {"disk_space_paths": [str(tmp_path)], "disk_space_cleanup_roots": [str(tmp_path)],
                 "disk_space_cleanup_rules": [{"path": str(logs), "age_days": 30}]}
    proc, report = run_scenario(tmp_path, "disk-space", variables, "--check", "--remediate")
    assert all(p.exists() for p in olds + news), "check mode deleted something"
    [action] = [a for a in report["actions"] if a["action"] == "delete_old_files"]
    assert action["dry_run"] and not action["changed"] and f"{expected} bytes" in action["detail"]

    proc, report = run_scenario(tmp_path, "disk-space", variables, "--remediate")
    assert proc.returncode == 0, proc.stdout
    assert [p for p in olds if p.exists()] == []
    assert all(p.exists() for p in news) and (logs / "outside.log").is_symlink()
    assert os.path.exists("/etc/hostname")
    cleanup = findings_by(report, "file_cleanup")[str(logs)]
    assert cleanup["value"] == expected and cleanup["status"] == "ok"


def test_a_rule_outside_the_roots_needs_confirm(tmp_path):
    logs = tmp_path / "logs"
    olds, _ = make_logs(logs)
    expected = du_sb(olds)
    variables = {"disk_space_paths": [str(tmp_path)], "disk_space_cleanup_roots": [str(tmp_path / "elsewhere")],
                 "disk_space_cleanup_rules": [{"path": str(logs), "age_days": 30}]}
    proc, report = run_scenario(tmp_path, "disk-space", variables, "--remediate")
    refused = findings_by(report, "file_cleanup")[str(logs)]
    assert refused["state"] == "not_confirmed" and f"--confirm {logs}" in refused["message"]
    assert all(p.exists() for p in olds)
    proc, report = run_scenario(tmp_path, "disk-space", variables, "--remediate", "--confirm", str(logs))
    assert [p for p in olds if p.exists()] == []
    assert findings_by(report, "file_cleanup")[str(logs)]["value"] == expected


def test_dotdot_is_refused(tmp_path):
    result = run_module("file_cleanup", {"roots": [str(tmp_path)], "rules": [{"path": f"{tmp_path}/../etc", "age_days": 0}]})
    assert result.get("failed") and "'..' component" in result["msg"]


@pytest.fixture
def small_fs(tmp_path):
    """An 8 MiB tmpfs (the machine allows it: we are root)."""
    mount = tmp_path / "fs"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def df(mount, *flags):
    out = subprocess.run(["df", *flags, str(mount)], capture_output=True, text=True, check=True, timeout=30).stdout
    return out.splitlines()[1].split()


def test_disk_usage_numbers_equal_df(small_fs):
    (small_fs / "fill").write_bytes(b"x" * 3_000_000)
    result = run_module("disk_usage", {"paths": [str(small_fs)]})
    [mount] = result["mounts"]
    _, size, used, avail, pct, _ = df(small_fs, "-B1")
    assert (mount["size_bytes"], mount["used_bytes"], mount["available_bytes"]) == (int(size), int(used), int(avail))
    assert math.ceil(mount["used_percent"]) == int(pct.rstrip("%"))
    _, inodes, iused, ifree, _, _ = df(small_fs, "-i")
    assert (mount["inodes"], mount["inodes_used"], mount["inodes_free"]) == (int(inodes), int(iused), int(ifree))
    assert mount["mount"] == str(small_fs) and mount["fstype"] == "tmpfs"


def test_nearly_full_filesystem_is_critical_then_ok_after_cleanup(tmp_path, small_fs):
    logs = small_fs / "logs"
    logs.mkdir()
    big = logs / "old.log"
    big.write_bytes(b"x" * 7_700_000)
    os.utime(big, (time.time() - 10 * DAY,) * 2)
    (logs / "today.log").write_text("fresh\n")
    variables = {"disk_space_paths": [str(small_fs)], "disk_space_cleanup_roots": [str(small_fs)],
                 "disk_space_cleanup_rules": [{"path": str(logs), "age_days": 7}]}
    proc, report = run_scenario(tmp_path, "disk-space", variables)
    assert findings_by(report, "disk_usage")[str(small_fs)]["status"] == "critical"
    assert report["outcome"] == "action_needed" and proc.returncode == 2
    proc, report = run_scenario(tmp_path, "disk-space", variables, "--remediate")
    assert findings_by(report, "disk_usage", phase="diagnose")[str(small_fs)]["status"] == "critical"
    assert findings_by(report, "disk_usage", phase="verify")[str(small_fs)]["status"] == "ok"
    assert report["outcome"] == "resolved" and proc.returncode == 0
    assert not big.exists() and (logs / "today.log").exists()


@pytest.fixture
def docker_lab():
    from tests.helpers import lab_state

    docker = (lab_state().get("services") or {}).get("docker")
    if not docker:
        pytest.skip("the lab runs no Docker engine")
    return docker


def docker(docker_lab, *args):
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, DOCKER_HOST=docker_lab["docker_host"]))


def test_docker_prune_scoped_by_our_label(tmp_path, docker_lab):
    label = f"opsbook.test.disk={uuid.uuid4().hex[:8]}"
    name = f"disk-prune-{uuid.uuid4().hex[:6]}"
    volume = f"{name}-vol"
    assert docker(docker_lab, "volume", "create", "--label", label, volume).returncode == 0
    made = docker(docker_lab, "create", "--label", label, "--name", name, docker_lab["image"], "true")
    assert made.returncode == 0, made.stderr
    assert docker(docker_lab, "start", "-a", name).returncode == 0
    before = docker(docker_lab, "ps", "-a", "-q").stdout.split()
    try:
        variables = {"disk_space_paths": [str(tmp_path)], "disk_space_docker_prune_containers": True,
                     "disk_space_docker_prune_volumes": True, "disk_space_docker_prune_filters": {"label": [label]},
                     "opsbook_docker": {"docker_host": docker_lab["docker_host"]}}
        proc, report = run_scenario(tmp_path, "disk-space", variables, "--remediate", "--check")
        details = [a["detail"] for a in report["actions"] if a["action"] == "docker_prune"]
        assert details == ["would prune 1 containers (about 0 bytes)", "would prune 1 volumes (about 0 bytes)"], details
        assert docker(docker_lab, "inspect", name).returncode == 0
        proc, report = run_scenario(tmp_path, "disk-space", variables, "--remediate")
        assert docker(docker_lab, "inspect", name).returncode != 0
        assert docker(docker_lab, "volume", "inspect", volume).returncode != 0
        pruned = findings_by(report, "docker_prune")
        assert set(pruned) == {"docker containers", "docker volumes"}
        after = docker(docker_lab, "ps", "-a", "-q").stdout.split()
        assert set(before) - set(after) == {made.stdout.strip()[:12]}
    finally:
        docker(docker_lab, "rm", "-f", name)
        docker(docker_lab, "volume", "rm", "-f", volume)
