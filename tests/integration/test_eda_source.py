"""The collection's Alertmanager event source, its aiohttp server started in-process, real HTTP posts."""

from __future__ import annotations

import asyncio
import json
import logging
import runpy
import threading
import urllib.error
import urllib.request

import pytest

from tests.helpers import REPO, closed_port

SOURCE = REPO / "extensions" / "eda" / "plugins" / "event_source" / "alertmanager.py"
TOKEN = "t0ken-for-tests"


class Server:
    """The source's main() on an event loop in a thread; events collected from its queue."""

    def __init__(self, args: dict):
        self.args = args
        self.loop = asyncio.new_event_loop()
        self.queue = None
        self.task = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.queue = asyncio.Queue()
        self.task = self.loop.create_task(runpy.run_path(str(SOURCE))["main"](self.queue, self.args))
        self.loop.call_soon(self.ready.set)
        try:
            self.loop.run_until_complete(self.task)
        except asyncio.CancelledError:
            pass

    def __enter__(self):
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *exc):
        self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(10)

    def events(self) -> list[dict]:
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items


def post(port: int, body, token: str | None = TOKEN, path: str = "/alerts"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for _ in range(50):  # the server may still be binding; a loaded machine answers slowly (the JVM starting)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            text = exc.read()
            return exc.code, (json.loads(text) if exc.headers.get_content_type() == "application/json" else text)
        except urllib.error.URLError:
            import time

            time.sleep(0.1)
    raise AssertionError("the source never listened")


def webhook_body(*alerts):
    return {"version": "4", "groupKey": "{}:{alertname=\"X\"}", "status": "firing", "receiver": "opsbook",
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093",
            "truncatedAlerts": 0, "alerts": list(alerts)}


def am_alert(name, fp, status="firing", instance="127.0.0.1:16379"):
    return {"status": status, "labels": {"alertname": name, "instance": instance, "severity": "warning"},
            "annotations": {"summary": name}, "startsAt": "2026-12-01T10:00:00.000Z",
            "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://127.0.0.1:19090/graph", "fingerprint": fp}


@pytest.fixture()
def server():
    port = closed_port()
    with Server({"port": port, "token": TOKEN, "dedup_window": 60,
                 "hosts": {"127.0.0.1": "lab-local"}, "default_host": "all"}) as srv:
        srv.port = port
        yield srv


def test_one_event_per_alert_hosts_mapped(server):
    status, body = post(server.port, webhook_body(am_alert("RedisMemoryHigh", "f1"),
                                                  am_alert("APIDown", "f2", instance="elsewhere:80")))
    assert (status, body) == (202, {"events": 2})
    events = server.events()
    assert [e["alert"]["labels"]["alertname"] for e in events] == ["RedisMemoryHigh", "APIDown"]
    assert [e["meta"]["hosts"] for e in events] == [["lab-local"], ["all"]]
    assert events[0]["alert"]["fingerprint"] == "f1" and events[0]["receiver"] == "opsbook"


def test_same_fingerprint_within_the_window_is_one_event(server):
    assert post(server.port, webhook_body(am_alert("RedisMemoryHigh", "dup")))[1] == {"events": 1}
    assert post(server.port, webhook_body(am_alert("RedisMemoryHigh", "dup")))[1] == {"events": 0}
    assert post(server.port, webhook_body(am_alert("RedisMemoryHigh", "dup", status="resolved")))[1] == {"events": 1}
    assert [e["alert"]["status"] for e in server.events()] == ["firing", "resolved"]


def test_wrong_or_missing_token_is_401_and_never_logged(server, caplog):
    caplog.set_level(logging.INFO, logger="opsbook.alertmanager")
    assert post(server.port, webhook_body(am_alert("RedisMemoryHigh", "t")), token="nope")[0] == 401
    assert post(server.port, webhook_body(am_alert("RedisMemoryHigh", "t")), token=None)[0] == 401
    assert server.events() == []
    assert "missing or wrong bearer token" in caplog.text
    assert TOKEN not in caplog.text and "nope" not in caplog.text


def test_bad_bodies_are_400_and_the_server_keeps_serving(server, caplog):
    caplog.set_level(logging.INFO, logger="opsbook.alertmanager")
    status, body = post(server.port, b"{broken")
    assert status == 400 and body["error"].startswith("the body is not JSON")
    status, body = post(server.port, {"version": "3", "alerts": []})
    assert status == 400 and "unsupported payload version" in body["error"]
    assert post(server.port, {"version": "4"})[0] == 400
    assert server.events() == []
    assert "400 from 127.0.0.1: the body is not JSON" in caplog.text
    assert post(server.port, webhook_body(am_alert("RedisMemoryHigh", "ok")))[0] == 202
    assert len(server.events()) == 1


def test_other_paths_are_404(server):
    assert post(server.port, webhook_body(am_alert("X", "p")), path="/other")[0] == 404
