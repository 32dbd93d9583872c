"""`opsbook run --html PATH` end to end: a real health-check run (a bare local host with Redis at a closed
port, a password on the command line) writes the page `opsbook report last --format html` shows again."""

import html
import json
import re
import sys

from tests.helpers import assert_valid_report, closed_port, run_cli

BARE = "all:\n  hosts:\n    bare:\n      ansible_connection: local\n      ansible_python_interpreter: {python}\n"
SECRET = "htm1-s3cret"


def test_run_writes_the_html_report_the_history_shows_again(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(BARE.format(python=sys.executable))
    env = {"OPSBOOK_STATE_DIR": str(tmp_path / "state")}
    port = closed_port()
    redis = json.dumps({"opsbook_redis": {"host": "127.0.0.1", "port": port, "password": SECRET, "connect_timeout": 2}})
    page_path = tmp_path / "out" / "report.html"
    proc = run_cli("run", "health-check", "-i", str(inventory), "-e", redis, "--html", str(page_path), "--json", env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    report = assert_valid_report(proc)
    assert {step["phase"] for step in report["timeline"]} == {"diagnose"}  # read-only: every task diagnoses
    page = page_path.read_text()
    assert [p.name for p in page_path.parent.iterdir()] == ["report.html"]  # renamed into place, no temp file left

    assert page == run_cli("report", "last", "--format", "html", env=env).stdout
    assert SECRET not in page and '&quot;password&quot;: &quot;********&quot;' not in page
    assert "&quot;password&quot;:&quot;********&quot;" in page  # the censored command line
    assert "<h1>ACTION NEEDED: health-check</h1>" in page and "exit code <b>2</b>" in page
    assert f"<code>{html.escape(str(inventory))}</code>" in page
    for f in report["findings"]:
        assert f"<td>{html.escape(f['check'])}</td>" in page or f"<code>{html.escape(f['check'])}</code>" in page
    assert f"<td>127.0.0.1:{port}/0</td>" in page
    timeline = page[page.index('<section id="timeline">'):]
    assert len(report["timeline"]) >= 3 and timeline.count("<rect ") == len(report["timeline"])
    assert "bare diagnose - Check Redis" in timeline
    assert re.findall(r'(?:src|href)="([^"]*)"', page) == []
