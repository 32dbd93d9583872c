"""Traffic for the lab API and bounded waits on the lab's Prometheus (fixture ``prometheus_lab``).

The lab API (``opsbook.lab.labapi``) and Prometheus are shared and cumulative: give every test a
route of its own (``unique_route``). Prometheus scrapes the API every second; ``scraped_after``
waits for the first scrape that started after the traffic ended, so exact counts can be read.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor


def unique_route(prefix: str = "promt") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def api_request(api_url: str, route: str, delay_ms: int = 0, status: int = 200, timeout: float | None = None) -> int:
    """One ``GET /api/<route>?delay_ms=&status=``; the HTTP status it answered."""
    query = urllib.parse.urlencode({"delay_ms": delay_ms, "status": status})
    timeout = timeout if timeout is not None else delay_ms / 1000 + 10
    try:
        with urllib.request.urlopen(f"{api_url}/api/{route}?{query}", timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code


def api_traffic(api_url: str, route: str, count: int, delay_ms: int = 0, status: int = 200,
                concurrency: int = 4) -> list[int]:
    """``count`` requests to ``/api/<route>`` (``concurrency`` at a time, at most 16); their statuses."""
    if not 0 <= count <= 5000:
        raise ValueError("count must be between 0 and 5000")
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, 16))) as pool:
        return list(pool.map(lambda _i: api_request(api_url, route, delay_ms, status), range(count)))


def prom_query(prom_url: str, query: str, timeout: float = 5.0, at: float | None = None) -> list[dict]:
    """The ``result`` of an instant query (``/api/v1/query``, at Unix time ``at`` when given); AssertionError
    unless status is success."""
    params = {"query": query, **({"time": repr(at)} if at is not None else {})}
    url = f"{prom_url}/api/v1/query?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body = json.loads(response.read().decode())
    assert body.get("status") == "success", body
    return body["data"]["result"]


def values(result: list[dict], label: str | None = None) -> dict | float:
    """A vector result as ``{label value: float}``, or the single value when ``label`` is None."""
    if label is None:
        assert len(result) == 1, result
        return float(result[0]["value"][1])
    return {r["metric"].get(label): float(r["value"][1]) for r in result}


def wait_for_scrape(prom_url: str, query: str, predicate, timeout: float = 15.0, interval: float = 0.25) -> list[dict]:
    """Poll ``query`` until ``predicate(result)`` is truthy; the result, else AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    result = None
    while time.monotonic() < deadline:
        result = prom_query(prom_url, query)
        if predicate(result):
            return result
        time.sleep(interval)
    raise AssertionError(f"{query!r} did not satisfy the predicate within {timeout}s; last result {result!r}")


def scraped_after(prom_url: str, selector: str, after: float, timeout: float = 15.0) -> None:
    """Wait until every series of ``selector`` has a sample scraped after the epoch time ``after``."""
    wait_for_scrape(prom_url, f"timestamp({selector})",
                    lambda res: bool(res) and all(float(r["value"][1]) > after for r in res), timeout)


@contextlib.contextmanager
def capacity_load(api_url: str, route: str, rps: int, work_ms: int, concurrency: int, capacity: dict | None = None):
    """The lab API sends itself ``rps`` requests a second on ``route`` (its capacity model, see
    ``opsbook.lab.labapi``) until the block ends; yields a callable returning the load's current view."""
    def call(method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{api_url}/admin/load{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read().decode())

    call("PUT", f"/{route}", {"rps": rps, "work_ms": work_ms, "concurrency": concurrency, "capacity": capacity})
    try:
        yield lambda: call("GET", "")[route]
    finally:
        call("DELETE", f"/{route}")
