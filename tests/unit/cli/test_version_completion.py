"""`opsbook --version` against the tools' own answers, and shell completion as the shells ask for it
(click's protocol: _OPSBOOK_COMPLETE=bash_complete|zsh_complete|fish_complete with COMP_WORDS/COMP_CWORD)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from history_data import STARTED, before

from opsbook import history as h

BIN = Path(sys.executable).parent
OPSBOOK = str(BIN / "opsbook")
REPO = Path(__file__).resolve().parents[3]


def test_version_names_opsbook_the_collection_ansible_core_runner_and_python():
    proc = subprocess.run([OPSBOOK, "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    core = subprocess.run([str(BIN / "ansible"), "--version"], capture_output=True, text=True, timeout=60).stdout
    runner = subprocess.run([str(BIN / "ansible-runner"), "--version"], capture_output=True, text=True, timeout=60).stdout
    assert lines[0] == f"opsbook {galaxy['version']}"
    assert lines[1].startswith(f"collection opsbook.runbooks {galaxy['version']} (")
    assert f"[core {lines[2].removeprefix('ansible-core ')}]" in core.splitlines()[0]  # ansible [core 2.19.x]
    assert lines[3] == f"ansible-runner {runner.strip()}"
    assert lines[4].startswith(f"Python {platform.python_version()} (")
    assert len(lines) == 5


def complete(shell: str, words: str, state: Path, **env) -> list[str]:
    """What `opsbook` answers a shell completing the last word of ``words`` (a trailing space: a new word)."""
    cword = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    if shell == "fish":  # fish passes the word being completed itself (`commandline -ct`)
        cword = "" if words.endswith(" ") else words.split()[-1]
    proc = subprocess.run([OPSBOOK], capture_output=True, text=True, timeout=60, cwd=env.pop("cwd", None),
                          env=dict(os.environ, _OPSBOOK_COMPLETE=f"{shell}_complete", COMP_WORDS=words,
                                   COMP_CWORD=cword, OPSBOOK_STATE_DIR=str(state), **env))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_bash_source_script_is_click_s():
    proc = subprocess.run([OPSBOOK], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, _OPSBOOK_COMPLETE="bash_source"))
    assert proc.returncode == 0 and "_opsbook_completion()" in proc.stdout and "complete -o nosort" in proc.stdout


def test_scenarios_come_from_the_catalogue(tmp_path):
    from opsbook.catalog import load_catalog

    runnable = [n for n, e in load_catalog().items() if e.available]
    assert complete("bash", "opsbook run ", tmp_path) == [f"plain,{n}" for n in runnable]
    assert complete("bash", "opsbook run postgres-", tmp_path) == [
        "plain,postgres-performance", "plain,postgres-connection-pool", "plain,postgres-maintenance"]
    assert "plain,incident" not in complete("bash", "opsbook run in", tmp_path)  # planned, not runnable
    zsh = complete("zsh", "opsbook run redis-h", tmp_path)
    assert zsh == ["plain", "redis-health", "Redis health - memory, hit rate, ping, persistence"]


def test_inventories_are_files_dirs_or_lab(tmp_path):
    assert complete("bash", "opsbook run health-check -i ", tmp_path) == ["file,", "plain,lab"]
    assert complete("bash", "opsbook run health-check --inventory inv", tmp_path) == ["file,inv"]
    assert complete("bash", "opsbook respond APIDown -i l", tmp_path) == ["file,l", "plain,lab"]
    assert complete("fish", "opsbook backup --verify -i ", tmp_path) == ["file,", "plain,lab\tthe local lab"]


def test_run_ids_come_from_the_history(tmp_path):
    runs = tmp_path / "runs"
    first = h.record_run(before().as_dict(), ["run", "redis-health"], runs, now=STARTED)
    second = h.record_run(dict(before().as_dict(), started="2026-01-02T03:09:05Z"), ["run", "redis-health"], runs,
                          now=STARTED + 300)
    assert complete("bash", "opsbook report show ", tmp_path) == ["plain,last", f"plain,{second}", f"plain,{first}"]
    assert complete("bash", f"opsbook report diff {first[:14]}", tmp_path) == [f"plain,{first}"]
    assert complete("bash", "opsbook report ", tmp_path) == ["plain,diff", "plain,show", "plain,last",
                                                            f"plain,{second}", f"plain,{first}"]
    assert complete("bash", "opsbook report ", tmp_path / "none") == ["plain,diff", "plain,show", "plain,last"]


@pytest.mark.parametrize("words, expected", [
    ("opsbook ma", ["plain,maintenance"]),
    ("opsbook maintenance ", ["plain,weekly", "plain,monthly"]),
    ("opsbook dr ", ["plain,rehearse"]),
    ("opsbook --vers", ["plain,--version"]),
])
def test_commands_and_shortcuts(tmp_path, words, expected):
    assert complete("bash", words, tmp_path) == expected
