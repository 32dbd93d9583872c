"""Reports for the history and format tests: built by the engine's own RunResult, valid opsbook.report/v2."""

from __future__ import annotations

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import make_action, make_finding
from opsbook.runner import RunResult

STARTED = 1767323045.0  # 2026-01-02T03:04:05Z


def finding(check, status, message, phase="diagnose", host="redis-1", **kwargs) -> dict:
    return dict(make_finding(check, status, message, **kwargs), phase=phase, host=host)


def result(findings, actions=(), started=STARTED, scenario="redis-health", failures=(), remediate=False) -> RunResult:
    hosts = {f["host"] for f in findings} or {"redis-1"}
    return RunResult(scenario, ["/srv/inventories/prod"], False, remediate, started=started, finished=started + 2.5,
                     runner_status="failed" if failures else "successful", rc=2 if failures else 0,
                     findings=list(findings), actions=list(actions), failures=list(failures), hosts=hosts)


def before() -> RunResult:
    """Memory critical, the hit rate warning, a pipe in a message; nothing changed."""
    return result([
        finding("redis_reachable", "ok", "Redis 7.0.15 answered PING in 0.08 ms", value=0.08, unit="ms"),
        finding("redis_memory", "critical", "used memory 96% of maxmemory", value=96.0, unit="%",
                threshold={"warn": 80, "crit": 90, "direction": "above"}),
        finding("redis_hit_rate", "warning", "hit rate 91.5% | below 95%", value=91.5, unit="%",
                threshold={"warn": 95, "crit": 80, "direction": "below"}),
        finding("redis_queue_length", "ok", "queue sync_queue has 10 items", value=10, unit="items", target="sync_queue",
                threshold={"warn": 1000, "crit": 5000, "direction": "above"}),
    ])


def after() -> RunResult:
    """Remediated: memory verified ok, the hit rate gone, a new evicted-keys warning, queue unchanged."""
    return result([
        finding("redis_reachable", "ok", "Redis 7.0.15 answered PING in 0.08 ms", value=0.08, unit="ms"),
        finding("redis_memory", "critical", "used memory 97% of maxmemory", value=97.0, unit="%",
                threshold={"warn": 80, "crit": 90, "direction": "above"}),
        finding("redis_queue_length", "ok", "queue sync_queue has 10 items", value=10, unit="items", target="sync_queue",
                threshold={"warn": 1000, "crit": 5000, "direction": "above"}),
        finding("redis_evicted_keys", "warning", "412 keys evicted", value=412, unit="keys",
                threshold={"warn": 1, "crit": None, "direction": "above"}),
        finding("redis_memory", "ok", "used memory 41% of maxmemory", value=41.0, unit="%", phase="verify",
                threshold={"warn": 80, "crit": 90, "direction": "above"}),
        finding("redis_not_here", "unknown", "not checked", state="not_configured"),
    ], actions=[dict(make_action("purge", "db3", True, False, "deleted 1200 expired cache keys"), host="redis-1")],
        remediate=True)
