"""`opsbook backup --verify` against the lab's PostgreSQL: the same run as its long form, no new backup taken,
and a damaged dump (sha256sum disagrees with the manifest) makes both critical."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.helpers import assert_valid_report, run_cli

VERIFY = json.dumps({"backup_postgres": False, "backup_redis": False, "backup_files_paths": [],
                     "backup_k8s_namespaces": []})


@pytest.fixture(scope="module")
def lab_postgres():
    """Only the lab's PostgreSQL (idempotent: a running lab is left as it is)."""
    from opsbook.lab.core import Lab

    Lab(log=lambda *_: None).up(["postgres"])


def _verdict(proc) -> tuple[int, set]:
    report = assert_valid_report(proc)
    return proc.returncode, {(f["check"], f["status"], f.get("target")) for f in report["findings"]}


def test_backup_verify_is_its_long_form_and_takes_no_backup(lab_postgres, tmp_path):
    location = tmp_path / "backups"
    where = ["-e", f"backup_location={location}", "--json", "--no-history"]
    taken = run_cli("run", "backup", "-e", '{"backup_redis": false}', *where, timeout=300)
    assert taken.returncode == 0, taken.stdout[-2000:] + taken.stderr[-2000:]
    backups = sorted(p.name for p in location.iterdir() if p.is_dir())
    assert len(backups) == 1 and backups[0].startswith("postgres-")

    short = run_cli("backup", "--verify", *where, timeout=300)
    long = run_cli("run", "backup", "-e", VERIFY, *where, timeout=300)
    assert _verdict(short) == _verdict(long)
    code, findings = _verdict(short)
    assert code == 0, short.stdout[-2000:] + short.stderr[-2000:]
    assert {check for check, _, _ in findings} == {"backup_catalog", "backup_latest_age"}  # no postgres_backup
    assert sorted(p.name for p in location.iterdir() if p.is_dir()) == backups  # nothing new written

    # damage the dump: the tool an SRE would use disagrees with the manifest, and so does --verify
    manifest = json.loads((location / backups[0] / "manifest.json").read_text())
    [entry] = manifest["files"]
    dump = location / backups[0] / entry["path"]
    with open(dump, "ab") as handle:
        handle.write(b"\0")
    by_hand = subprocess.run(["sha256sum", str(dump)], capture_output=True, text=True, timeout=30, check=True)
    assert by_hand.stdout.split()[0] != entry["sha256"]
    short = run_cli("backup", "--verify", *where, timeout=300)
    long = run_cli("run", "backup", "-e", VERIFY, *where, timeout=300)
    assert _verdict(short) == _verdict(long)
    code, findings = _verdict(short)
    assert code == 2, findings
    assert ("backup_integrity", "critical", str(location / backups[0])) in findings  # the damaged one
    assert ("backup_latest_age", "critical", str(location)) in findings  # no verified backup left
