"""A run's report as metrics in the node exporter's textfile format (``--prometheus-textfile``).

The node exporter's textfile collector (``--collector.textfile.directory=DIR``) exposes every
``DIR/*.prom`` file on its ``/metrics``; a run writes one file per scenario, whole, through a hidden
temporary file in the same directory renamed into place, so the collector never reads half a file::

    opsbook_finding_status{scenario,host,check,target,phase}     0 ok, 1 warning, 2 critical, 3 unknown
    opsbook_finding_value{scenario,host,check,target,phase,unit} the finding's value, when it has a number
    opsbook_run_outcome{scenario,outcome}                      the run's exit code (outcome: the history's word,
                                                               run_failed or interrupted included)
    opsbook_run_duration_seconds{scenario}
    opsbook_run_timestamp_seconds{scenario}                    when the run ended (Unix time)

A finding is one series per host, check and target: the last one the run reported (the
verification's when one ran, else the diagnosis'), its ``phase`` a label.
"""

from __future__ import annotations

import re
from pathlib import Path

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import status_code

PREFIX = "opsbook"
SUFFIX = ".prom"  # the only files the textfile collector reads
_FILE_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")

# name: (type, help)
METRICS = {
    "opsbook_finding_status": ("gauge", "Status of an opsbook finding: 0 ok, 1 warning, 2 critical, 3 unknown."),
    "opsbook_finding_value": ("gauge", "Measured value of an opsbook finding, in its unit label."),
    "opsbook_run_outcome": ("gauge", "Exit code of the last opsbook run of the scenario (its outcome label)."),
    "opsbook_run_duration_seconds": ("gauge", "Duration of the last opsbook run of the scenario."),
    "opsbook_run_timestamp_seconds": ("gauge", "Unix time the last opsbook run of the scenario ended."),
}


def escape_label(value) -> str:
    """A label value as the exposition format quotes it: backslash, double quote and newline escaped."""
    return str("" if value is None else value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    """HELP text: backslash and newline escaped."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _format(value: float) -> str:
    if value != value:  # NaN
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    return repr(int(value)) if float(value).is_integer() and abs(value) < 2 ** 53 else repr(value)


def _sample(name: str, labels: dict, value: float) -> str:
    text = ",".join(f'{key}="{escape_label(val)}"' for key, val in labels.items())
    return f"{name}{{{text}}} {_format(value)}"


def latest_findings(findings: list[dict]) -> list[dict]:
    """One finding per (host, check, target): the last reported, in the order they first appeared."""
    latest: dict = {}
    for finding in findings:
        latest[(finding.get("host") or "", finding.get("check") or "", finding.get("target") or "")] = finding
    return list(latest.values())


def render(report: dict, now: float | None = None) -> str:
    """The textfile of a v2 report (``RunResult.as_dict``); ``now``: the run's end (default: started + duration)."""
    from opsbook.history import epoch, run_outcome_word

    scenario = report["scenario"]
    if now is None:
        now = epoch(report["started"]) + float(report.get("duration") or 0)
    samples: dict[str, list[str]] = {name: [] for name in METRICS}
    for finding in latest_findings(report.get("findings") or []):
        labels = {"scenario": scenario, "host": finding.get("host"), "check": finding.get("check"),
                  "target": finding.get("target"), "phase": finding.get("phase")}
        samples["opsbook_finding_status"].append(_sample("opsbook_finding_status", labels,
                                                         status_code(finding["status"])))
        value = _number(finding.get("value"))
        if value is not None:
            samples["opsbook_finding_value"].append(
                _sample("opsbook_finding_value", dict(labels, unit=finding.get("unit")), value))
    samples["opsbook_run_outcome"].append(_sample("opsbook_run_outcome",
                                                  {"scenario": scenario, "outcome": run_outcome_word(report)},
                                                  report["exit_code"]))
    samples["opsbook_run_duration_seconds"].append(_sample("opsbook_run_duration_seconds", {"scenario": scenario},
                                                           float(report.get("duration") or 0)))
    samples["opsbook_run_timestamp_seconds"].append(_sample("opsbook_run_timestamp_seconds", {"scenario": scenario},
                                                            round(now, 3)))
    lines: list[str] = []
    for name, (kind, help_text) in METRICS.items():
        if not samples[name]:
            continue
        lines += [f"# HELP {name} {escape_help(help_text)}", f"# TYPE {name} {kind}", *samples[name]]
    return "\n".join(lines) + "\n"


def textfile_path(path: Path, scenario: str) -> Path:
    """Where the run writes: ``path`` itself, or ``path/opsbook_<scenario>.prom`` when it is a directory.

    ValueError when a file name does not end in ``.prom`` (the collector would never read it).
    """
    path = Path(path)
    if path.is_dir():
        return path / f"{PREFIX}_{_FILE_SAFE.sub('_', scenario)}{SUFFIX}"
    if not path.name.endswith(SUFFIX) or path.name.startswith("."):
        raise ValueError(f"{path}: the node exporter's textfile collector reads only *{SUFFIX} files "
                         f"(not hidden ones): name the file <something>{SUFFIX}, or give a directory")
    return path


def write(path: Path, report: dict, now: float | None = None) -> Path:
    """Write the report's metrics to ``path`` (see :func:`textfile_path`) atomically, mode 0644; the file written.

    The temporary file is hidden and does not end in ``.prom``: the collector never reads it.
    """
    from opsbook.lab.base import write_atomic

    target = textfile_path(path, report["scenario"])
    write_atomic(target, render(report, now), mode=0o644)
    return target
