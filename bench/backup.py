#!/usr/bin/env python3
"""Benchmark: pg_backup / pg_restore (manifest, checksums, verification) vs plain pg_dump / pg_restore.

Builds a scratch database bkt_bench_<random> on the lab (ROWS rows in two tables), then interleaves
per run: the anchor `pg_dump -Fc` and `pg_restore` into a new database, and the modules doing the
same with a manifest (row counts, per-table checksums on the dump's snapshot) and post-restore
verification. Drops everything it created. Prints medians and the ratio opsbook / anchor;
writes bench/results/backup.json. No thresholds. Usage: .venv/bin/python bench/backup.py [-n RUNS] [--rows N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg2

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.helpers import lab_state, run_module  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=200000)
    args = parser.parse_args()
    svc = lab_state()["services"]["postgres"]
    params = {"host": svc["host"], "port": svc["port"], "user": svc["user"], "password": svc["password"],
              "database": svc["database"], "sslmode": "disable"}
    env = dict(os.environ, PGPASSWORD=svc["password"])
    conn_args = ["--host", svc["host"], "--port", str(svc["port"]), "--username", svc["user"], "--no-password"]
    name = "bkt_bench_" + uuid.uuid4().hex[:8]
    admin = psycopg2.connect(host=svc["host"], port=svc["port"], user=svc["user"], password=svc["password"],
                             dbname=svc["database"])
    admin.autocommit = True
    cur = admin.cursor()
    cur.execute(f'CREATE DATABASE "{name}"')
    created = [name]
    timings: dict[str, list[float]] = {"anchor_dump": [], "anchor_restore": [], "pg_backup": [], "pg_restore": []}
    try:
        with psycopg2.connect(host=svc["host"], port=svc["port"], user=svc["user"], password=svc["password"],
                              dbname=name) as conn, conn.cursor() as c:
            c.execute("CREATE TABLE a (id bigserial PRIMARY KEY, v text, n numeric);"
                      "CREATE TABLE b (id bigserial PRIMARY KEY, payload jsonb);"
                      f"INSERT INTO a (v, n) SELECT md5(g::text), g / 7.0 FROM generate_series(1, {args.rows}) g;"
                      f"INSERT INTO b (payload) SELECT jsonb_build_object('g', g) FROM generate_series(1, {args.rows // 2}) g")
        with tempfile.TemporaryDirectory() as tmp:
            for run in range(args.runs):
                dump = os.path.join(tmp, f"anchor{run}.dump")
                started = time.perf_counter()
                subprocess.run([svc["tools"]["pg_dump"], "-Fc", "-f", dump, *conn_args, "--dbname", name],
                               env=env, check=True, timeout=600)
                timings["anchor_dump"].append(time.perf_counter() - started)
                target = f"{name}_a{run}"
                cur.execute(f'CREATE DATABASE "{target}"')
                created.append(target)
                started = time.perf_counter()
                subprocess.run([svc["tools"]["pg_restore"], *conn_args, "--dbname", target, dump],
                               env=env, check=True, timeout=600)
                timings["anchor_restore"].append(time.perf_counter() - started)

                started = time.perf_counter()
                backup = run_module("pg_backup", dict(params, database=name, location=tmp, bin_dir=svc["bin_dir"]))
                timings["pg_backup"].append(time.perf_counter() - started)
                assert backup.get("published"), backup.get("msg")
                target = f"{name}_o{run}"
                created.append(target)
                started = time.perf_counter()
                restored = run_module("pg_restore", dict(params, backup=backup["backup"], target_database=target,
                                                         bin_dir=svc["bin_dir"]))
                timings["pg_restore"].append(time.perf_counter() - started)
                assert restored.get("verified"), restored.get("problems") or restored.get("msg")
    finally:
        for db in created:
            cur.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.close()
    med = {k: round(statistics.median(v), 3) for k, v in timings.items()}
    result = {"rows": args.rows + args.rows // 2, "runs": args.runs, "median_seconds": med,
              "ratio_backup": round(med["pg_backup"] / med["anchor_dump"], 2),
              "ratio_restore": round(med["pg_restore"] / med["anchor_restore"], 2)}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "backup.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
