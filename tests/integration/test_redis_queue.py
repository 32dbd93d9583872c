"""redis_queue drills against the lab's real Redis (database 11, keys `redist:<random>:*`)."""

from __future__ import annotations


import pytest

from tests.helpers import REDIS_TEST_DB, ListWorker, closed_port, run_module

DB = REDIS_TEST_DB
SEP = "\x06\x16"


def by_check(result):
    return {f["check"]: f for f in result["findings"]}


@pytest.fixture
def params(redis_params):
    return dict(redis_params, db=DB)


def test_backlog_without_consumer_is_growing_and_critical(params, redis_client, redis_prefix):
    queue = redis_prefix + "sync_queue"
    redis_client.lpush(queue, *[f"old-{i}" for i in range(150)])
    with ListWorker(redis_client, queue, produce=True):
        result = run_module("redis_queue", dict(params, queues=[queue], samples=3, interval=0.5,
                                                length_warn=100, length_crit=1000))
    q = result["queues"][0]
    assert q["types"] == ["list"] and q["exists"] is True
    assert q["trend"] == "growing"
    lengths = [s["length"] for s in q["samples"]]
    assert lengths == sorted(lengths) and lengths[-1] > lengths[0]
    elapsed = q["samples"][-1]["t"] - q["samples"][0]["t"]
    assert q["rate_per_sec"] == round((lengths[-1] - lengths[0]) / elapsed, 2)
    checks = by_check(result)
    assert checks["redis_queue_trend"]["status"] == "warning"
    assert "growing" in checks["redis_queue_trend"]["message"]
    assert checks["redis_queue_backlog"]["status"] == "warning"
    assert checks["redis_queue_backlog"]["value"] == lengths[-1]
    assert result["status"] == "warning"
    assert redis_client.llen(queue) >= lengths[-1]  # read-only: nothing consumed

    # the same backlog over the critical limit
    crit = run_module("redis_queue", dict(params, queues=[queue], samples=1, length_warn=10, length_crit=100))
    assert by_check(crit)["redis_queue_backlog"]["status"] == "critical"
    assert crit["queues"][0]["length"] == redis_client.llen(queue)


def test_consumer_draining_is_reported_with_eta(params, redis_client, redis_prefix):
    queue = redis_prefix + "drain"
    redis_client.lpush(queue, *[f"job-{i}" for i in range(3000)])
    with ListWorker(redis_client, queue, produce=False, pause=0.001):
        result = run_module("redis_queue", dict(params, queues=[queue], samples=3, interval=0.5))
    q = result["queues"][0]
    assert q["trend"] == "draining"
    assert q["rate_per_sec"] < 0
    assert q["eta_seconds"] == round(q["backlog"] / -q["rate_per_sec"], 1)
    finding = by_check(result)["redis_queue_trend"]
    assert finding["status"] == "ok" and "draining at" in finding["message"]


def test_stalled_and_missing_queues(params, redis_client, redis_prefix):
    stalled, missing = redis_prefix + "stalled", redis_prefix + "missing"
    redis_client.rpush(stalled, "a", "b", "c")
    result = run_module("redis_queue", dict(params, queues=[stalled, missing], samples=2, interval=0.1))
    first, second = result["queues"]
    assert first["trend"] == "stalled" and first["length"] == 3
    assert second["exists"] is False and second["trend"] == "empty" and second["length"] == 0
    trend = [f for f in result["findings"] if f["check"] == "redis_queue_trend"]
    assert [f["status"] for f in trend] == ["warning", "ok"]
    assert "not draining: 3 items unchanged" in trend[0]["message"]


def test_every_queue_type_and_celery_priorities(params, redis_client, redis_prefix):
    lst, stream, zset, celery = (redis_prefix + name for name in ("list", "stream", "zset", "celery"))
    redis_client.lpush(lst, "x", "y")
    for i in range(5):
        redis_client.xadd(stream, {"n": str(i)})
    redis_client.xgroup_create(stream, "workers", id="0")
    redis_client.xreadgroup("workers", "w1", {stream: ">"}, count=2)  # 2 pending, 3 not delivered (lag)
    redis_client.zadd(zset, {"a": 1, "b": 2, "c": 3, "d": 4})
    redis_client.lpush(celery, "p0-a", "p0-b")
    redis_client.lpush(celery + SEP + "3", "p3")
    redis_client.lpush(celery + SEP + "9", "p9-a", "p9-b", "p9-c")
    result = run_module("redis_queue", dict(params, queues=[lst, stream, zset, celery], celery=True, samples=1,
                                            peek=2))
    q = {x["name"]: x for x in result["queues"]}
    assert q[lst]["length"] == redis_client.llen(lst) == 2
    assert q[lst]["peek"] == ["x", "y"]  # LPUSH x then y: x is consumed first from the right
    xinfo = redis_client.xinfo_groups(stream)[0]
    assert q[stream]["length"] == redis_client.xlen(stream) == 5
    assert q[stream]["backlog"] == xinfo["lag"] + xinfo["pending"] == 5
    assert q[stream]["groups"][0]["pending"] == 2 and q[stream]["groups"][0]["lag"] == 3
    assert [e["fields"] for e in q[stream]["peek"]] == [{"n": "0"}, {"n": "1"}]
    assert q[zset]["length"] == redis_client.zcard(zset) == 4
    assert q[zset]["peek"] == [{"member": "a", "score": 1.0}, {"member": "b", "score": 2.0}]
    assert q[celery]["length"] == 6
    assert q[celery]["keys"] == sorted([celery, celery + SEP + "3", celery + SEP + "9"])
    assert q[celery]["peek"] == ["p0-a", "p0-b"]  # Kombu pops from the right: oldest first
    assert isinstance(result["celery_unacked"], int)


def test_probing_adds_no_keyspace_misses(params, redis_client, redis_prefix):
    """TYPE on a missing key is a keyspace miss: the module must not lower the hit rate it is judged by."""
    main, dead = redis_prefix + "q", redis_prefix + "q:dead"
    redis_client.lpush(dead, "a", "b")
    before = redis_client.info("stats")["keyspace_misses"]
    run_module("redis_queue", dict(params, queues=[main, redis_prefix + "missing"], celery=True, samples=2, interval=0,
                                   peek=3))
    run_module("redis_queue", dict(params, requeue_from=dead, requeue_to=main))  # empties the dead-letter list
    missing = redis_prefix + "missing"
    run_module("redis_queue", dict(params, purge=missing, confirm=missing, celery=True))
    assert redis_client.info("stats")["keyspace_misses"] == before


def test_peek_order_follows_the_consumer_end(params, redis_client, redis_prefix):
    queue = redis_prefix + "order"
    redis_client.lpush(queue, "first", "second", "third")  # a Celery-style producer
    right = run_module("redis_queue", dict(params, queues=[queue], samples=1, peek=2))
    left = run_module("redis_queue", dict(params, queues=[queue], samples=1, peek=2, consume_from="left"))
    assert right["queues"][0]["peek"] == ["first", "second"] == [redis_client.lindex(queue, -1).decode(),
                                                                  redis_client.lindex(queue, -2).decode()]
    assert left["queues"][0]["peek"] == ["third", "second"]


def test_requeue_dead_letters_in_check_mode_then_for_real(params, redis_client, redis_prefix):
    main, dead = redis_prefix + "sync_queue", redis_prefix + "sync_queue:dead"
    redis_client.lpush(dead, *[f"failed-{i}" for i in range(25)])
    redis_client.lpush(main, "pending")
    args = dict(params, queues=[main], samples=1, requeue_from=dead, requeue_to=main, requeue_count=20)
    dry = run_module("redis_queue", args, check_mode=True)
    assert dry["changed"] is True
    assert dry["actions"] == [{"action": "requeue", "target": f"{dead} -> {main}@{dry['target']}", "changed": True,
                               "dry_run": True, "detail": f"would move 20 of 25 items from {dead} to {main}"}]
    assert dry["requeued_items"][:2] == ["failed-0", "failed-1"]
    assert redis_client.llen(dead) == 25 and redis_client.llen(main) == 1  # nothing moved

    done = run_module("redis_queue", args)
    assert done["changed"] is True
    assert done["actions"][0]["detail"] == f"moved 20 items from {dead} to {main} (5 left in {dead})"
    assert redis_client.llen(dead) == 5 and redis_client.llen(main) == 21
    assert done["lengths_after"] == {main: 21}
    # moved oldest first, onto the producer's end: consumed after "pending"
    assert redis_client.lrange(main, -2, -1) == [b"failed-0", b"pending"]
    assert done["requeued_items"][:2] == ["failed-0", "failed-1"]


def test_requeue_refuses_a_non_list(params, redis_client, redis_prefix):
    main, dead = redis_prefix + "main", redis_prefix + "deadhash"
    redis_client.hset(dead, "a", "1")
    result = run_module("redis_queue", dict(params, requeue_from=dead, requeue_to=main))
    assert result["failed"]
    assert result["msg"] == f"requeue_from: '{dead}' is a hash, only lists can be requeued"
    assert redis_client.hlen(dead) == 1


def test_purge_without_confirmation_is_refused_and_keeps_the_data(params, redis_client, redis_prefix):
    queue = redis_prefix + "sync_queue"
    redis_client.lpush(queue, *[f"job-{i}" for i in range(40)])
    for confirm in (None, "yes", redis_prefix + "other"):
        result = run_module("redis_queue", dict(params, purge=queue, confirm=confirm))
        assert result["failed"], result
        assert result["msg"] == (f"purge: refusing to delete queue '{queue}' without confirmation: set confirm "
                                 f"to the exact queue name '{queue}' (got {confirm!r})")
    assert redis_client.llen(queue) == 40


def test_purge_check_mode_then_confirmed(params, redis_client, redis_prefix):
    queue = redis_prefix + "celeryq"
    redis_client.lpush(queue, *[f"job-{i}" for i in range(7)])
    redis_client.lpush(queue + SEP + "6", "hi-1", "hi-2")
    args = dict(params, purge=queue, confirm=queue, celery=True, queues=[queue], samples=1)
    dry = run_module("redis_queue", args, check_mode=True)
    assert dry["changed"] is True
    assert dry["actions"][0]["detail"] == f"would delete queue {queue}: 9 items in 2 keys"
    assert dry["actions"][0]["dry_run"] is True
    assert redis_client.llen(queue) == 7 and redis_client.llen(queue + SEP + "6") == 2
    done = run_module("redis_queue", args)
    assert done["actions"][0]["detail"] == f"deleted queue {queue}: 9 items in 2 keys"
    assert list(redis_client.scan_iter(match=queue + "*")) == []
    assert done["lengths_after"] == {queue: 0}
    again = run_module("redis_queue", args)
    assert again["changed"] is False  # idempotent


def test_flushdb_needs_the_database_named(params, redis_client, redis_prefix):
    redis_client.set(redis_prefix + "keep", "1")
    refused = run_module("redis_queue", dict(params, flushdb=True, confirm="db0"))
    assert refused["failed"]
    assert refused["msg"] == ("flushdb: refusing to delete every key of database 11 without confirmation: "
                              "set confirm to 'db11' (got 'db0')")
    dry = run_module("redis_queue", dict(params, flushdb=True, confirm="db11"), check_mode=True)
    assert dry["actions"][0]["detail"] == f"would delete all {redis_client.dbsize()} keys of database 11 (FLUSHDB)"
    assert redis_client.get(redis_prefix + "keep") == b"1"


@pytest.mark.parametrize(
    "args, message",
    [
        ({"queues": ["q"], "samples": 0}, "samples must be between 1 and 60, got 0"),
        ({"queues": ["q"], "interval": 61}, "interval must be between 0 and 60 seconds, got 61.0"),
        ({"queues": ["q"], "length_warn": 10, "length_crit": 5}, "length_warn (10) must not be above length_crit (5)"),
        ({"requeue_from": "a"}, "requeue_from and requeue_to must be given together"),
        ({"requeue_from": "a", "requeue_to": "a"}, "requeue_from and requeue_to must differ, both are 'a'"),
        ({"purge": "a", "confirm": "a", "flushdb": True}, "one action at a time: got purge, flushdb"),
        ({}, "queues: name at least one queue (or ask for requeue_from/requeue_to, purge or flushdb)"),
        ({"queues": ["q"], "consume_from": "middle"}, "value of consume_from must be one of: left, right, got: middle"),
    ],
)
def test_bad_input_names_the_option(params, args, message):
    result = run_module("redis_queue", dict(params, **args))
    assert result["failed"]
    assert result["msg"] == message


def test_unreachable_is_a_finding_without_action_and_a_failure_with_one(params):
    port = closed_port()
    seen = run_module("redis_queue", dict(params, port=port, connect_timeout=1, queues=["q"]))
    assert seen["status"] == "critical" and not seen.get("failed")
    assert "Connection refused" in seen["findings"][0]["message"]
    acted = run_module("redis_queue", dict(params, port=port, connect_timeout=1, purge="q", confirm="q"))
    assert acted["failed"] and "cannot reach Redis" in acted["msg"]


def test_password_in_url_never_reaches_the_result(params):
    secret = "s3cret-queue-pass"
    url = f"redis://opsbook:{secret}@127.0.0.1:{params['port']}/{DB}"
    result = run_module("redis_queue", {"url": url, "queues": ["q"], "samples": 1, "connect_timeout": 2})
    assert result["status"] == "critical"
    assert "WRONGPASS" in result["findings"][0]["message"] or "invalid" in result["findings"][0]["message"]
    assert secret not in str({k: v for k, v in result.items() if k != "_stderr"}) + result["_stderr"]
