"""Saga drill: PaymentFailed events with and without compensation in our own topics; exactly the
stuck orders are found; with remediation the retry endpoint (a local HTTP server that completes
the saga like billing-service would) is called once per stuck order with its idempotency key."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers import run_module
from tests.kafka_lab import KafkaScratch

pytestmark = pytest.mark.lab

MINUTE = 60 * 1000


@pytest.fixture
def saga(kafka_params):
    """billing/inventory topics with: A, C stuck; B, D compensated; F pending; G late; H recovered."""
    box = KafkaScratch(",".join(kafka_params["bootstrap_servers"]))
    billing = box.topic(partitions=1, kind="billing.events")
    inventory = box.topic(partitions=1, kind="inventory.events")
    now = int(time.time() * 1000)
    failed = lambda order, at: (order, {"type": "PaymentFailed", "orderId": order}, at)  # noqa: E731
    box.produce_events(billing, [
        failed("G", now - 20 * MINUTE), failed("A", now - 10 * MINUTE), failed("B", now - 10 * MINUTE),
        ("E", {"type": "PaymentSucceeded", "orderId": "E"}, now - 10 * MINUTE),
        failed("C", now - 9 * MINUTE), failed("D", now - 8 * MINUTE), failed("H", now - 8 * MINUTE),
        ("H", {"type": "PaymentSucceeded", "orderId": "H"}, now - 7 * MINUTE),
        failed("F", now - 1000),
    ])
    released = lambda order, at: (order, {"type": "InventoryReleased", "orderId": order}, at)  # noqa: E731
    box.produce_events(inventory, [
        ("B", {"type": "InventoryReserved", "orderId": "B"}, now - 11 * MINUTE),
        released("B", now - 9 * MINUTE), released("D", now - 7 * MINUTE), released("G", now - 2 * MINUTE),
    ])
    args = dict(kafka_params, failure_topic=billing, compensation_topic=inventory, window=300, read_timeout=10)
    yield box, args
    box.delete()


@pytest.fixture
def retry_endpoint(saga):
    """The billing admin endpoint: records calls, answers 202, and publishes PaymentSucceeded."""
    box, args = saga
    calls = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            calls.append({"path": self.path, "key": self.headers.get("Idempotency-Key"), "body": body})
            order = self.path.split("/")[-2]
            box.produce_events(args["failure_topic"], [(order, {"type": "PaymentSucceeded", "orderId": order}, None)])
            self.send_response(202)
            self.end_headers()

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/payments/{{order_id}}/retry", calls
    server.shutdown()
    server.server_close()


def test_drill_finds_exactly_the_stuck_orders(saga):
    _, args = saga
    result = run_module("kafka_payment_saga", args)
    orders = {name: [e["order_id"] for e in entries] for name, entries in result["orders"].items()}
    assert orders == {"stuck": ["A", "C"], "compensated": ["B", "D"], "pending": ["F"], "late": ["G"],
                      "recovered": ["H"]}
    assert result["read"] == {"failures_read": 9, "failures": 7, "compensations": 3, "successes": 2}
    stuck = result["findings"][0]
    assert stuck["check"] == "payment_saga_stuck_orders" and stuck["status"] == "critical" and stuck["value"] == 2
    assert stuck["message"].endswith("no compensation within 300.0s: A, C")
    assert [f["check"] for f in result["findings"]] == ["payment_saga_stuck_orders", "payment_saga_late_compensation"]
    assert result["actions"] == [] and result["changed"] is False


def test_drill_check_mode_sends_nothing(saga, retry_endpoint):
    _, args = saga
    url, calls = retry_endpoint
    result = run_module("kafka_payment_saga", dict(args, remediate=True, retry_url=url), check_mode=True)
    assert [(a["target"], a["dry_run"]) for a in result["actions"]] == [("A", True), ("C", True)]
    assert "would POST http://127.0.0.1:" in result["actions"][0]["detail"]
    assert calls == []


def test_drill_remediate_retries_each_stuck_order_once_and_rechecks(saga, retry_endpoint):
    _, args = saga
    url, calls = retry_endpoint
    result = run_module("kafka_payment_saga", dict(args, remediate=True, retry_url=url, recheck_timeout=10))
    billing = args["failure_topic"]
    assert [(c["path"], c["key"]) for c in calls] == [
        ("/api/payments/A/retry", f"opsbook-saga-A-{billing}-0-1"),
        ("/api/payments/C/retry", f"opsbook-saga-C-{billing}-0-4"),
    ]
    assert calls[0]["body"]["orderId"] == "A"
    assert [(a["target"], a["changed"], a["dry_run"]) for a in result["actions"]] == [("A", True, False),
                                                                                       ("C", True, False)]
    assert result["after"]["counts"]["stuck"] == 0
    recheck = next(f for f in result["findings"] if f["check"] == "payment_saga_recheck")
    assert recheck["status"] == "ok"
    assert result["findings"][0]["message"].startswith("resolved by retry: 2 order(s)")
    assert result["status"] == "warning"  # G was compensated late: still reported


def test_drill_unreachable_retry_endpoint_is_a_finding(saga):
    from tests.helpers import closed_port

    _, args = saga
    url = f"http://127.0.0.1:{closed_port()}/api/payments/{{order_id}}/retry"
    result = run_module("kafka_payment_saga", dict(args, remediate=True, retry_url=url, retry_timeout=2,
                                                   retry_token="tok-secret-42"))
    failures = [f for f in result["findings"] if f["check"] == "payment_saga_retry"]
    assert [f["target"] for f in failures] == ["A", "C"]
    assert all(f["status"] == "critical" and "Connection refused" in f["message"] for f in failures)
    assert "tok-secret-42" not in json.dumps(result)
    assert result["changed"] is False


@pytest.mark.parametrize("extra, message", [
    ({"remediate": True}, "retry_url: required with remediate"),
    ({"remediate": True, "retry_url": "http://x/retry"}, "retry_url: must contain {order_id}"),
    ({"failure_filter": "type =="}, "failure_filter: 'type ==' is not a valid JMESPath expression"),
])
def test_bad_input_names_the_option(kafka_params, extra, message):
    result = run_module("kafka_payment_saga", dict(kafka_params, **extra))
    assert result["failed"] and result["msg"].startswith(message), result["msg"]


def test_missing_topics_are_a_finding_not_a_failure(kafka_params):
    result = run_module("kafka_payment_saga", dict(kafka_params, failure_topic="kafkat-no-billing",
                                                   compensation_topic="kafkat-no-inventory"))
    assert not result.get("failed")
    assert result["findings"][0]["check"] == "payment_saga_topics" and result["status"] == "warning"
    assert "kafkat-no-billing, kafkat-no-inventory do not exist" in result["findings"][0]["message"]
