"""Pure parts of module_utils/disk and docker/prune: mountinfo, df arithmetic, rules, journal, prune filters."""

from __future__ import annotations

import os
import time
from collections import namedtuple

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.disk import cleanup, usage
from ansible_collections.opsbook.runbooks.plugins.module_utils.docker import prune

VFS = namedtuple("VFS", "f_blocks f_bfree f_bavail f_frsize f_files f_ffree")

MOUNTINFO = """\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
30 22 0:25 / /tmp/my\\040dir rw shared:2 - tmpfs tmpfs rw,size=8192k
31 22 0:26 / /var rw - xfs /dev/vdb rw
"""


def test_parse_mountinfo_unescapes_and_mount_of_picks_the_longest():
    mounts = usage.parse_mountinfo(MOUNTINFO)
    assert [m["mount"] for m in mounts] == ["/", "/tmp/my dir", "/var"]
    assert usage.mount_of("/tmp/my dir/logs", mounts)["fstype"] == "tmpfs"
    assert usage.mount_of("/variable", mounts)["mount"] == "/"
    assert usage.mount_of("/var/log", mounts)["source"] == "/dev/vdb"


@pytest.mark.parametrize("vfs, used_percent, inode_percent", [
    (VFS(100, 10, 5, 4096, 1000, 250), round(100 * 90 / 95, 2), 75.0),
    (VFS(100, 100, 100, 4096, 0, 0), 0.0, None),  # no inode count: no inode percent
])
def test_space_is_dfs_arithmetic(vfs, used_percent, inode_percent):
    got = usage.space(vfs)
    assert got["size_bytes"] == vfs.f_blocks * 4096
    assert got["used_bytes"] == (vfs.f_blocks - vfs.f_bfree) * 4096
    assert got["used_percent"] == used_percent and got["inodes_used_percent"] == inode_percent


@pytest.mark.parametrize("percent, status", [(79.99, "ok"), (80, "warning"), (90, "critical")])
def test_usage_findings_against_the_seed_thresholds(percent, status):
    measured = {"mount": "/", "used_percent": percent, "inodes_used_percent": 1.0}
    disk, inodes = usage.usage_findings(measured, 80, 90, 80, 90)
    assert (disk["check"], disk["status"], inodes["status"]) == ("disk_usage", status, "ok")


def test_growth_and_time_to_full():
    first = {"mount": "/", "used_bytes": 1000, "available_bytes": 10000}
    second = {"mount": "/", "used_bytes": 2000, "available_bytes": 3600 * 100}
    sample = usage.growth(first, second, 10.0)
    assert sample["bytes_per_second"] == 100 and sample["hours_to_full"] == 1.0
    assert usage.growth_finding(sample, 2, 1)["status"] == "critical"
    flat = usage.growth(first, first, 10.0)
    assert usage.growth_finding(flat)["state"] == "not_growing"


@pytest.mark.parametrize("path, message", [
    ("relative/logs", "expected an absolute path"),
    ("/var/log/../../etc", "'..' component"),
])
def test_bad_rule_paths_are_refused(path, message):
    with pytest.raises(InvalidInput, match=message):
        cleanup.run({"rules": [{"path": path}], "roots": ["/var/log"]}, check_mode=True)


def test_unknown_rule_keys_and_negative_age():
    with pytest.raises(InvalidInput, match="unknown key"):
        cleanup.normalise_rule({"path": "/x", "age": 3})
    with pytest.raises(InvalidInput, match="must not be negative"):
        cleanup.normalise_rule({"path": "/x", "age_days": -1})


def test_within_is_by_component():
    assert cleanup.within("/var/log/etl", "/var/log")
    assert not cleanup.within("/var/logs", "/var/log")


def test_age_is_strictly_more_than_the_days_and_hard_links_free_nothing(tmp_path):
    now = time.time()
    for name, days in (("a.log", 7.01), ("b.log", 6.99), ("c.txt", 30)):
        (tmp_path / name).write_text(name)
        os.utime(tmp_path / name, (now - days * cleanup.DAY,) * 2)
    os.link(tmp_path / "a.log", tmp_path / "a-link.keep")
    done = cleanup.run({"rules": [{"path": str(tmp_path), "age_days": 7}], "roots": [str(tmp_path)]}, False, now=now)
    assert [f["path"] for f in done["rules"][0]["files"]] == [str(tmp_path / "a.log")]
    assert done["totals"]["bytes"] == 5 and done["totals"]["freed_bytes"] == 0  # the other link keeps the data
    assert (tmp_path / "b.log").exists() and (tmp_path / "c.txt").exists()


def test_symlinked_rule_path_out_of_the_root_needs_confirmation(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.log").write_text("x")
    root = tmp_path / "root"
    root.mkdir()
    (root / "logs").symlink_to(outside)
    done = cleanup.run({"rules": [{"path": str(root / "logs")}], "roots": [str(root)]}, False)
    assert done["findings"][0]["state"] == "not_confirmed" and (outside / "x.log").exists()


def test_journal_vacuum_not_applicable_without_journal_files(tmp_path):
    done = cleanup.journal_vacuum("7d", None, str(tmp_path), check_mode=False)
    assert done["findings"][0]["state"] == "not_applicable" and done["actions"] == []
    assert cleanup.journal_command("7d", "500M", "/j") == ["journalctl", "--directory=/j", "--vacuum-time=7d", "--vacuum-size=500M"]


def test_journal_vacuum_accounts_the_bytes(tmp_path):
    (tmp_path / "m").mkdir()
    journal = tmp_path / "m" / "system@1.journal"
    journal.write_bytes(b"j" * 100)

    def runner(cmd, **_):
        journal.unlink()
        return namedtuple("P", "returncode stderr")(0, "")

    done = cleanup.journal_vacuum("1s", None, str(tmp_path), False, runner=runner)
    assert done["freed_bytes"] == 100 and done["actions"][0]["changed"]


def test_prune_filters():
    assert prune.engine_filters({"label": "a=b", "until": "168h"}, "volumes") == {"label": ["a=b"]}
    assert prune.engine_filters({}, "images") == {"dangling": ["true"]}
    assert prune.engine_filters({}, "images", all_images=True) == {"dangling": ["false"]}
    with pytest.raises(InvalidInput, match="expected label"):
        prune.engine_filters({"name": "x"}, "containers")
    assert prune.until_seconds("2h", 10000) == 10000 - 7200
    with pytest.raises(InvalidInput, match="168h"):
        prune.until_seconds("a week", 0)
