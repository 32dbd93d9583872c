"""The collection's rulebook under the real ansible-rulebook (Java, drools), for the EDA tests and drills.

``rulebook_process`` starts ``ansible-rulebook -r opsbook.runbooks.alertmanager`` with an inventory and
rulebook vars, its source listening on ``port`` with the bearer token in ``token_file``, its reports in
``<work>/reports`` (OPSBOOK_REPORT_DIR), and stops it afterwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import poll

BIN = Path(sys.executable).parent


@contextlib.contextmanager
def rulebook_process(work: Path, inventory: Path, variables: dict, port: int, token_file: Path):
    """Yields ``{port, reports, log}``; ``log()`` is the rulebook's output so far."""
    (work / "vars.yml").write_text(json.dumps(variables))
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", OPSBOOK_EDA_PORT=str(port),
               OPSBOOK_EDA_TOKEN_FILE=str(token_file), OPSBOOK_REPORT_DIR=str(work / "reports"), NO_COLOR="1")
    log = open(work / "rulebook.log", "w+")
    proc = subprocess.Popen(
        [str(BIN / "ansible-rulebook"), "-r", "opsbook.runbooks.alertmanager", "-i", str(inventory),
         "--env-vars", "OPSBOOK_EDA_PORT,OPSBOOK_EDA_TOKEN_FILE", "--vars", str(work / "vars.yml"), "-v"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)

    def text():
        return (work / "rulebook.log").read_text()

    try:
        poll(lambda: "alertmanager: listening on" in text() or proc.poll() is not None, timeout=90)  # -v: INFO
        assert proc.poll() is None, text()
        time.sleep(1)  # the rules engine starts after the sources
        yield {"port": port, "reports": work / "reports", "log": text}
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def reports(rb) -> list[dict]:
    """The reports the rulebook's runs wrote so far, oldest first, each with its file's mtime as ``_written``."""
    found = []
    for path in sorted(rb["reports"].glob("*.json")):
        with contextlib.suppress(ValueError):  # a report is written atomically, but be strict about what is read
            found.append(dict(json.loads(path.read_text()), _written=path.stat().st_mtime))
    return found
