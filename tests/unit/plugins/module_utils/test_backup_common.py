"""backup_common: retention planning, staging/publish, lock, verification (pure file-system logic)."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from ansible_collections.opsbook.runbooks.plugins.doc_fragments.backup import ModuleDocFragment
from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import common as bc
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput

DAY = 86400.0
NOW = 1_800_000_000.0


def backups(ages_days):
    """Entries as list_backups returns them, oldest first."""
    entries = [{"name": "b%d" % i, "started_epoch": NOW - age * DAY} for i, age in enumerate(ages_days)]
    return sorted(entries, key=lambda e: e["started_epoch"])


@pytest.mark.parametrize(
    "ages, keep_count, keep_days, verified, expected",
    [
        ([5, 4, 3, 2, 1], 2, None, "b4", ["b0", "b1", "b2"]),
        ([40, 31, 29, 1], None, 30, "b3", ["b0", "b1"]),
        # both rules: deleted only when beyond the count AND older than the age
        ([40, 31, 29, 1], 1, 30, "b3", ["b0", "b1"]),
        ([40, 31, 29, 1], 3, 30, "b3", ["b0"]),
        # the newest verified backup survives even when both rules would delete it
        ([40, 31, 1], 1, None, "b0", ["b1"]),
        # no verified backup at all (the new one failed): delete nothing
        ([40, 31, 1], 1, 1, None, []),
        # no rule: delete nothing
        ([40, 31, 1], None, None, "b2", []),
    ],
)
def test_plan_retention(ages, keep_count, keep_days, verified, expected):
    assert bc.plan_retention(backups(ages), keep_count, keep_days, now=NOW, verified_name=verified) == expected


@pytest.mark.parametrize("keep_count, keep_days, option", [(0, None, "keep_count"), (None, -1, "keep_days")])
def test_plan_retention_rejects_bad_values(keep_count, keep_days, option):
    with pytest.raises(InvalidInput, match="^%s:" % option):
        bc.plan_retention(backups([1]), keep_count, keep_days, now=NOW, verified_name="b0")


def test_staging_publishes_atomically_and_cleans_up_on_error(tmp_path):
    with bc.Staging(str(tmp_path), "files", "etc/etl", started=NOW) as staging:
        with open(staging.file("a.txt"), "w") as handle:
            handle.write("olá")
        assert os.listdir(tmp_path) == [os.path.basename(staging.path)]
        manifest = staging.publish({"x": 1}, finished=NOW + 2)
    assert manifest["name"] == "files-etc_etl-20270115T080000Z"
    assert manifest["files"] == [{"path": "a.txt", "size": 4, "sha256": bc.sha256_file(staging.final + "/a.txt")}]
    assert manifest["duration"] == 2
    with pytest.raises(RuntimeError):
        with bc.Staging(str(tmp_path), "files", "etc/etl", started=NOW) as second:
            open(second.file("b"), "w").close()
            raise RuntimeError("tool died")
    assert sorted(os.listdir(tmp_path)) == ["files-etc_etl-20270115T080000Z"]
    assert second.name == "files-etc_etl-20270115T080000Z-2"


def test_verify_backup_detects_change_missing_and_extra(tmp_path):
    with bc.Staging(str(tmp_path), "files", "x", started=NOW) as staging:
        for name in ("a", "b", "c"):
            with open(staging.file(name), "w") as handle:
                handle.write(name * 10)
        staging.publish({})
    path = staging.final
    assert bc.verify_backup(path)[1] == []
    with open(os.path.join(path, "a"), "r+") as handle:
        handle.write("A")
    os.unlink(os.path.join(path, "b"))
    open(os.path.join(path, "d"), "w").close()
    assert bc.verify_backup(path)[1] == ["a does not match its SHA-256 in the manifest", "b is missing",
                                         "d is not in the manifest"]
    assert bc.latest_verified(str(tmp_path), "files")[0] is None


def test_lock_fails_clearly_then_frees(tmp_path):
    with bc.location_lock(str(tmp_path)):
        with pytest.raises(bc.BackupLocked, match="another backup is writing to %s" % tmp_path):
            with bc.location_lock(str(tmp_path), wait=0.3):
                pass
    with bc.location_lock(str(tmp_path), wait=0):
        pass


def test_read_manifest_rejects_foreign_json(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"schema": "other"}))
    with pytest.raises(bc.BackupError, match="not an opsbook backup manifest"):
        bc.read_manifest(str(tmp_path))


def test_doc_fragment_matches_retention_spec():
    docs = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    spec = bc.retention_argument_spec()
    assert sorted(docs) == sorted(spec)
    for name, option in spec.items():
        assert docs[name]["type"] == option["type"], name
        assert docs[name].get("default") == option.get("default"), name
        assert bool(docs[name].get("required")) == bool(option.get("required")), name
