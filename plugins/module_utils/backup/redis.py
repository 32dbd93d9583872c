# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redis backup and restore with verified integrity.

Two methods, usable together:

* ``logical`` - works against a remote server: ``SCAN`` the database, ``DUMP`` and
  ``PTTL`` every key (pipelined), and write them to ``keys.jsonl.gz``.  Restored
  with ``RESTORE``; verified by key count and a per-key digest (SHA-256 of the
  key's type and content, order-independent for hashes and sets).
* ``rdb`` - ``BGSAVE``, wait until it completes, then copy the RDB file from the
  server's data directory (when this host can read it) with its SHA-256.  An RDB
  is restored by placing it in the data directory of a stopped server; that step
  is documented, not automated.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import gzip
import hashlib
import json
import os
import shutil
import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import common as backup_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.redis import common as redis_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import (
    InvalidInput,
    ServiceError,
    scrub,
)
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.paths import join_inside
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    OK,
    make_finding,
)

try:
    import redis

    HAS_REDIS = True
except ImportError:  # pragma: no cover - exercised by ansible-test sanity
    HAS_REDIS = False

KIND = "redis"
KIND_RDB = "redis_rdb"
KEYS_FILE = "keys.jsonl.gz"
_BATCH = 500


def backup_argument_spec():
    spec = redis_common.redis_common_argument_spec()
    spec.update(backup_common.retention_argument_spec())
    spec.update(
        method=dict(type="str", default="logical", choices=["logical", "rdb", "both"]),
        match=dict(type="str", default="*"),
        data_dir=dict(type="path"),
        bgsave_timeout=dict(type="int", default=300),
        limit=dict(type="int", default=1000000),
    )
    return spec


def restore_argument_spec():
    spec = redis_common.redis_common_argument_spec()
    spec.update(
        backup=dict(type="path"),
        location=dict(type="path"),
        label=dict(type="str"),
        replace=dict(type="bool", default=False),
        confirm=dict(type="str"),
        verify=dict(type="bool", default=True),
        delete_after_verify=dict(type="bool", default=False),
    )
    return spec


def _canonical(kind, value):
    """A byte string that is equal for equal values, whatever the server's internal encoding."""
    if kind in ("hash", "set", "zset"):
        if isinstance(value, dict):
            value = sorted(value.items())
        else:
            value = sorted(value)
    return json.dumps([kind, _jsonable(value)], sort_keys=True, separators=(",", ":")).encode()


def _jsonable(value):
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return dict((_jsonable(k), _jsonable(v)) for k, v in value.items())
    return value


_READERS = {
    "string": lambda pipe, key: pipe.get(key),
    "hash": lambda pipe, key: pipe.hgetall(key),
    "list": lambda pipe, key: pipe.lrange(key, 0, -1),
    "set": lambda pipe, key: pipe.smembers(key),
    "zset": lambda pipe, key: pipe.zrange(key, 0, -1, withscores=True),
    "stream": lambda pipe, key: pipe.xrange(key),
}


def value_digests(client, keys):
    """Per-key SHA-256 of the key's type and content (order-independent for hash/set).

    A key's ``DUMP`` payload is not canonical (a hashtable's iteration order changes on
    RESTORE), so digests are taken from the values themselves; types without a reader
    (modules) fall back to the ``DUMP`` payload.  A key that vanished gives None.
    """
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.type(key)
    kinds = [k.decode() if isinstance(k, bytes) else k for k in pipe.execute()]
    pipe = client.pipeline(transaction=False)
    for key, kind in zip(keys, kinds):
        _READERS.get(kind, lambda p, k: p.dump(k))(pipe, key)
    digests = []
    for kind, value in zip(kinds, pipe.execute()):
        if kind == "none":
            digests.append(None)
        else:
            digests.append(hashlib.sha256(_canonical(kind, value)).hexdigest())
    return digests


def _redis_error(what, exc):
    return ServiceError("%s failed: %s" % (what, exc))


def _guard(func, params, check_mode):
    """Redis errors in the middle of a backup or restore become one scrubbed ServiceError."""
    try:
        return func(params, check_mode)
    except redis.RedisError as exc:
        raise ServiceError("Redis at %s: %s" % (redis_common.describe_target(params),
                                                scrub(str(exc), [params.get("password"), params.get("url")])))


# --- logical export -------------------------------------------------------------------

def export_keys(client, path, match="*", limit=1000000):
    """SCAN + DUMP + PTTL into a gzip'd JSON-lines file; return ``{keys, digest}``.

    Keys that expire or are deleted between SCAN and DUMP are skipped.
    """
    count = 0
    entries = []
    cursor = 0
    with gzip.open(path, "wt", encoding="ascii") as handle:
        while True:
            cursor, keys = client.scan(cursor=cursor, match=match, count=_BATCH)
            if keys:
                pipe = client.pipeline(transaction=False)
                for key in keys:
                    pipe.dump(key)
                    pipe.pttl(key)
                replies = pipe.execute()
                digests = value_digests(client, keys)
                for index, key in enumerate(keys):
                    payload, pttl = replies[2 * index], replies[2 * index + 1]
                    if payload is None or digests[index] is None:
                        continue
                    entries.append((key, payload, pttl, digests[index]))
            for key, payload, pttl, digest in entries:
                handle.write(json.dumps({"k": base64.b64encode(key).decode(), "v": base64.b64encode(payload).decode(),
                                         "t": pttl if pttl and pttl > 0 else 0, "d": digest}) + "\n")
                count += 1
                if count > limit:
                    raise InvalidInput("limit: the database has more than %d keys matching %r" % (limit, match))
            entries = []
            if cursor == 0:
                break
    return {"keys": count}


def read_keys(path):
    with gzip.open(path, "rt", encoding="ascii") as handle:
        for line in handle:
            item = json.loads(line)
            yield base64.b64decode(item["k"]), base64.b64decode(item["v"]), int(item["t"]), item["d"]


def keys_digest(path):
    """Order-independent digest of (key, payload digest) pairs in an export."""
    pairs = sorted((key, digest) for key, _payload, _ttl, digest in read_keys(path))
    combined = hashlib.sha256()
    for key, digest in pairs:
        combined.update(key + b"\0" + digest.encode() + b"\n")
    return combined.hexdigest()


# --- RDB ------------------------------------------------------------------------------

def _persistence(client):
    return client.info("persistence")


def bgsave_and_wait(client, timeout):
    """Start BGSAVE (after any running one) and wait for a successful save; return its LASTSAVE.

    Completion is told by INFO's ``rdb_saves`` counter (Redis >= 7); older servers only have
    LASTSAVE, whose one-second resolution cannot tell a save in the same second apart, so
    there we let that second pass first.
    """
    deadline = time.time() + timeout
    while _persistence(client).get("rdb_bgsave_in_progress"):
        if time.time() > deadline:
            raise ServiceError("a background save was still running after %ss" % timeout)
        time.sleep(0.2)
    saves_before = _persistence(client).get("rdb_saves")
    before = client.lastsave()
    if saves_before is None:
        while client.time()[0] <= int(before.timestamp() if hasattr(before, "timestamp") else before):
            time.sleep(0.1)
    try:
        client.bgsave()
    except redis.ResponseError as exc:
        if "in progress" not in str(exc):
            raise _redis_error("BGSAVE", exc)
    while True:
        info = _persistence(client)
        if not info.get("rdb_bgsave_in_progress"):
            if saves_before is not None:
                finished = int(info.get("rdb_saves", 0)) > int(saves_before)
            else:
                finished = client.lastsave() != before
            if finished or info.get("rdb_last_bgsave_status") != "ok":
                if info.get("rdb_last_bgsave_status") != "ok":
                    raise ServiceError("BGSAVE failed (rdb_last_bgsave_status %s)" % info.get("rdb_last_bgsave_status"))
                return client.lastsave()
        if time.time() > deadline:
            raise ServiceError("BGSAVE did not finish within %ss" % timeout)
        time.sleep(0.2)


def rdb_source(client, data_dir):
    """Path of the server's RDB file: ``data_dir`` (or CONFIG GET dir) + CONFIG GET dbfilename."""
    dbfilename = "dump.rdb"
    try:
        dbfilename = client.config_get("dbfilename").get("dbfilename") or dbfilename
        if not data_dir:
            data_dir = client.config_get("dir").get("dir")
    except redis.ResponseError:
        pass
    if not data_dir:
        raise InvalidInput("data_dir: CONFIG GET is not allowed on this server; give the Redis data directory")
    # BGSAVE creates the file, so before it only the directory can be checked (a fresh server has none)
    if not os.access(data_dir, os.R_OK | os.X_OK):
        raise InvalidInput("data_dir: %s is not readable from this host (use method: logical for a remote server)"
                           % data_dir)
    return os.path.join(data_dir, dbfilename)


# --- backup ---------------------------------------------------------------------------

def backup(params, check_mode=False):
    return _guard(_backup, params, check_mode)


def _backup(params, check_mode):
    if params["limit"] < 1:
        raise InvalidInput("limit: must be at least 1")
    if params["bgsave_timeout"] < 1:
        raise InvalidInput("bgsave_timeout: must be at least 1 second")
    target = redis_common.describe_target(params)
    client = redis_common.connect(params)
    db = params.get("db") or 0
    label = params.get("label") or "db%d" % db
    version = client.info("server").get("redis_version")
    methods = ["logical", "rdb"] if params["method"] == "both" else [params["method"]]
    results, findings = {}, []
    for method in methods:
        kind = KIND if method == "logical" else KIND_RDB
        if method == "rdb" and not check_mode:
            source = rdb_source(client, params.get("data_dir"))
        if check_mode:
            result = backup_common.run_backup(params, kind, label, True, None)
            findings.append(make_finding("redis_backup", OK, "would write a %s backup of %s to %s" % (
                method, target, result["location"]), target=target))
            results[method] = result
            continue

        def write(staging, method=method):
            if method == "logical":
                stats = export_keys(client, staging.file(KEYS_FILE), params["match"], params["limit"])
                return {"method": "logical", "db": db, "match": params["match"], "server_version": version,
                        "keys": stats["keys"], "keys_digest": keys_digest(staging.file(KEYS_FILE)),
                        "file": KEYS_FILE}
            saved = bgsave_and_wait(client, params["bgsave_timeout"])
            if not os.access(source, os.R_OK):
                raise InvalidInput("data_dir: %s is not readable from this host after BGSAVE (use method: logical "
                                   "for a remote server)" % source)
            name = os.path.basename(source)
            shutil.copyfile(source, staging.file(name))
            return {"method": "rdb", "server_version": version, "lastsave": saved.isoformat() if hasattr(saved, "isoformat")
                    else str(saved), "file": name, "source": source,
                    "restore_hint": "stop the server, replace %s with this file, start it" % source}

        result = backup_common.run_backup(params, kind, label, False, write,
                                          tools={"redis_server": version, "redis_py": redis.__version__})
        details = result["manifest"]["details"]
        if method == "logical":
            message = "exported %d keys of %s in %.1fs to %s" % (
                details["keys"], target, result["duration"], result["backup"])
            value = details["keys"]
        else:
            message = "copied the RDB of %s after BGSAVE (%d bytes) to %s" % (target, result["size"], result["backup"])
            value = result["size"]
        findings.append(make_finding("redis_backup", OK, message, value=value, target=target))
        results[method] = result
    first = results[methods[0]]
    out = {"changed": True, "target": target, "findings": findings,
           "backups": dict((m, r.get("backup")) for m, r in results.items()),
           "published": all(r["published"] for r in results.values()),
           "location": first["location"],
           "retention": dict((m, r["retention"]) for m, r in results.items())}
    if not check_mode:
        out.update(started=min(r["started"] for r in results.values()),
                   finished=max(r["finished"] for r in results.values()))
        out["duration"] = round(out["finished"] - out["started"], 3)
        out["backup"] = first["backup"]
        out["manifests"] = dict((m, r["manifest"]) for m, r in results.items())
    return out


# --- restore --------------------------------------------------------------------------

def restore(params, check_mode=False):
    return _guard(_restore, params, check_mode)


def _restore(params, check_mode):
    target = redis_common.describe_target(params)
    if params["replace"] and params.get("confirm") != target:
        raise InvalidInput("confirm: replace overwrites existing keys in %s; set confirm: %s to allow it"
                           % (target, target))
    manifest, result, findings = backup_common.open_for_restore(
        params, KIND, "redis_backup_integrity", target,
        "an RDB is restored by placing it in a stopped server's data directory")
    if findings is None:
        return result
    result["keys"] = 0
    details = manifest["details"]
    path = join_inside(result["backup"], details["file"], "manifest details.file")
    client = redis_common.connect(params)
    keys = [key for key, _p, _t, _d in read_keys(path)]
    existing = _existing(client, keys)
    if existing and not params["replace"]:
        raise InvalidInput("replace: %d of the backup's keys already exist in %s (e.g. %r); restore into an empty "
                           "db, or set replace: true with confirm: %s" % (len(existing), target, existing[0], target))
    if check_mode:
        result["changed"] = bool(keys)
        findings.append(make_finding("redis_restore", OK, "would restore %d keys into %s" % (len(keys), target),
                                     value=len(keys), target=target))
        result["findings"] = findings
        return backup_common.finish_timing(result)
    restored = 0
    batch = []
    for item in read_keys(path):
        batch.append(item)
        if len(batch) >= _BATCH:
            restored += _restore_batch(client, batch, params["replace"])
            batch = []
    if batch:
        restored += _restore_batch(client, batch, params["replace"])
    result.update(changed=restored > 0, restored=True, keys=restored)
    if params["verify"]:
        mismatches = verify_keys(client, path)
        result["problems"] = mismatches
        result["verified"] = not mismatches and restored == details["keys"]
        if not result["verified"]:
            findings.append(make_finding("redis_restore_verified", CRITICAL, "%s differs from backup %s: %s" % (
                target, manifest["name"], "; ".join(mismatches[:5]) or "%d keys restored, the backup has %d"
                % (restored, details["keys"])), value=len(mismatches), target=target, phase="verify"))
        else:
            findings.append(make_finding("redis_restore_verified", OK, "%s matches backup %s: %d keys, every "
                                         "key's content digest equal" % (target, manifest["name"], restored),
                                         value=0, target=target, phase="verify"))
    if params["delete_after_verify"]:
        for start in range(0, len(keys), _BATCH):
            client.delete(*keys[start:start + _BATCH])
        result["deleted"] = len(keys)
    result["findings"] = findings
    return backup_common.finish_timing(result)


def _existing(client, keys):
    """Keys of the backup already in the target; an empty db is answered by DBSIZE alone
    (EXISTS on absent keys would count keyspace misses and distort the hit rate)."""
    if client.dbsize() == 0:
        return []
    found = []
    for start in range(0, len(keys), _BATCH):
        chunk = keys[start:start + _BATCH]
        pipe = client.pipeline(transaction=False)
        for key in chunk:
            pipe.exists(key)
        found.extend(key for key, hit in zip(chunk, pipe.execute()) if hit)
    return found


def _restore_batch(client, batch, replace):
    pipe = client.pipeline(transaction=False)
    for key, payload, ttl, _digest in batch:
        pipe.restore(key, ttl, payload, replace=replace)
    try:
        pipe.execute()
    except redis.RedisError as exc:
        raise _redis_error("RESTORE", exc)
    return len(batch)


def verify_keys(client, path):
    """Compare every key of an export with the server: present, same content digest."""
    problems = []
    items = list(read_keys(path))
    for start in range(0, len(items), _BATCH):
        chunk = items[start:start + _BATCH]
        for (key, _payload, _ttl, digest), actual in zip(chunk, value_digests(client, [c[0] for c in chunk])):
            if actual is None:
                problems.append("key %r is missing" % key)
            elif actual != digest:
                problems.append("key %r differs from the backup" % key)
    return problems
