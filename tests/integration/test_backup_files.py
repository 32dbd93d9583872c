"""files_backup / files_restore / backup_catalog on a real directory tree (the ETL seed's /etc/etl)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from tests.helpers import run_module


def make_tree(root: Path) -> dict:
    (root / "conf.d").mkdir(parents=True)
    files = {
        "etl.yaml": "fonte: s3://dados\nmodo: incremental\n",
        "conf.d/regras ção.yml": "regra: 1\n" * 100,
        "conf.d/binario.bin": bytes(range(256)) * 40,
        "skip.swp": "temporário",
    }
    for name, data in files.items():
        path = root / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return files


def test_files_round_trip_verified_by_tar_and_sha256(tmp_path):
    src = tmp_path / "etc" / "etl"
    files = make_tree(src)
    location = tmp_path / "backups"
    backup = run_module("files_backup", {"paths": [str(src)], "location": str(location), "label": "etl_config",
                                         "exclude": ["*.swp"]})
    assert backup["published"], backup
    details = backup["manifest"]["details"]
    assert details["file_count"] == 3
    archive = Path(backup["backup"], "files.tar.gz")
    listing = subprocess.run(["tar", "-tzf", str(archive)], capture_output=True, text=True, check=True).stdout.split()
    prefix = str(src).lstrip("/")
    assert f"{prefix}/etl.yaml" in listing and not any(n.endswith(".swp") for n in listing)
    by_path = {e["path"]: e for e in details["contents"]}
    assert by_path[f"{prefix}/conf.d/binario.bin"]["sha256"] == hashlib.sha256(files["conf.d/binario.bin"]).hexdigest()

    dest = tmp_path / "restored"
    restored = run_module("files_restore", {"location": str(location), "label": "etl_config", "dest": str(dest)})
    assert restored["verified"], restored
    assert (dest / prefix / "conf.d" / "regras ção.yml").read_text() == files["conf.d/regras ção.yml"]
    again = run_module("files_restore", {"backup": backup["backup"], "dest": str(dest)})
    assert again["failed"] and again["msg"].startswith("dest:")


def test_files_corrupt_archive_refused_and_catalog_critical(tmp_path):
    src = tmp_path / "etl"
    make_tree(src)
    location = tmp_path / "b"
    good = run_module("files_backup", {"paths": [str(src)], "location": str(location)})
    bad = run_module("files_backup", {"paths": [str(src)], "location": str(location)})
    archive = Path(bad["backup"], "files.tar.gz")
    data = bytearray(archive.read_bytes())
    data[20] ^= 0xFF
    archive.write_bytes(bytes(data))
    listed = run_module("backup_catalog", {"location": str(location)})
    assert listed["status"] == "critical"
    assert [b["verified"] for b in listed["backups"]] == [True, False]
    assert listed["groups"]["files/files"]["latest_verified"] == good["name"]
    refused = run_module("files_restore", {"backup": bad["backup"], "dest": str(tmp_path / "x")})
    assert refused["restored"] is False and refused["findings"][0]["status"] == "critical"
    # the newest *verified* backup is used when picking from the location
    picked = run_module("files_restore", {"location": str(location), "dest": str(tmp_path / "y")})
    assert picked["backup"] == good["backup"] and picked["verified"]
    assert picked["skipped_backups"][0]["name"] == bad["name"]


def test_files_backup_bad_input(tmp_path):
    missing = run_module("files_backup", {"paths": [str(tmp_path / "nope")], "location": str(tmp_path / "b")})
    assert missing["failed"] and missing["msg"].startswith("paths:")
    inside = run_module("files_backup", {"paths": [str(tmp_path)], "location": str(tmp_path / "b")})
    assert inside["failed"] and inside["msg"].startswith("location:")
