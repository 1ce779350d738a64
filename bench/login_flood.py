#!/usr/bin/env python3
"""A real user's login while a flood of wrong logins comes from many addresses.

    bench/login_flood.py [--server build/chatgate] [--seconds 20] [--addresses 200]
                         [--concurrency 100]

Starts a chatgate with its default password hashing (Argon2id t=2, m=19 MiB, one hashing
thread) that trusts 127.0.0.1 as a reverse proxy, so the flood plays ADDRESSES client addresses
with X-Forwarded-For; CONCURRENCY clients send wrong passwords for unknown usernames, in turn
from those addresses. Meanwhile one real user, at an address of its own, logs in with the right
password again and again. Prints a Markdown table of the real logins' latency and statuses; the
target is p95 under 1 s and no 503. Exit 3 when the target is missed (BENCH_STRICT=1 makes
run.sh fail on it).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid

REPO = pathlib.Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 20
PASSWORD = "Violet-Harbor-93-Quill"


def start(cmd: list[str], env: dict, log: pathlib.Path) -> tuple[subprocess.Popen, str, int]:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=log.open("wb"), text=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        match = re.match(r"listening on http://([^:/]+):(\d+)", line.strip())
        if match:
            return proc, match.group(1), int(match.group(2))
    proc.kill()
    sys.exit(f"chatgate did not start; see {log}")


def post(conn: http.client.HTTPConnection, path: str, body: dict, address: str) -> int:
    conn.request("POST", path, json.dumps(body),
                 {"Content-Type": "application/json", "X-Forwarded-For": address})
    answer = conn.getresponse()
    answer.read()
    return answer.status


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_status: dict[int, int] = {}

    def add(self, status: int):
        with self.lock:
            self.by_status[status] = self.by_status.get(status, 0) + 1


def flood(host: str, port: int, index: int, args, stop: threading.Event, counter: Counter):
    conn = http.client.HTTPConnection(host, port, timeout=60)
    n = 0
    while not stop.is_set():
        address = f"203.0.{(index + n * args.concurrency) % args.addresses // 250}." \
                  f"{(index + n * args.concurrency) % args.addresses % 250 + 1}"
        n += 1
        try:
            status = post(conn, "/api/login/", {"username": "nobody-" + uuid.uuid4().hex[:12],
                                                "password": "Wrong-Guess-42"}, address)
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=60)
            status = 0
        counter.add(status)
    conn.close()


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", default=os.environ.get("CHATGATE_SERVER", str(REPO / "build" / "chatgate")))
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("DURATION", "10")) * 2)
    parser.add_argument("--addresses", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="chatgate-login-flood.") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATGATE_")}
        env.update({"CHATGATE_TRUSTED_PROXIES": "127.0.0.1", "CHATGATE_LOG_LEVEL": "warn",
                    "CHATGATE_RATE_LIMITS": "login=off"})  # every guess reaches the hasher
        cmd = [args.server, "serve", "--listen", "127.0.0.1:0", "--data-dir", f"{tmp}/data"]
        proc, host, port = start(cmd, env, pathlib.Path(tmp) / "chatgate.log")
        try:
            user = "bench-" + uuid.uuid4().hex[:12]
            real = http.client.HTTPConnection(host, port, timeout=60)
            me = "192.0.2.10"
            assert post(real, "/api/register/", {"username": user, "password": PASSWORD}, me) == 201

            stop, counter = threading.Event(), Counter()
            threads = [threading.Thread(target=flood, args=(host, port, i, args, stop, counter), daemon=True)
                       for i in range(args.concurrency)]
            for t in threads:
                t.start()
            latencies, statuses = [], {}
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    status = post(real, "/api/login/", {"username": user, "password": PASSWORD}, me)
                except (OSError, http.client.HTTPException):
                    real.close()
                    real = http.client.HTTPConnection(host, port, timeout=60)
                    status = 0
                latencies.append(time.monotonic() - started)
                statuses[status] = statuses.get(status, 0) + 1
            stop.set()
            for t in threads:
                t.join(timeout=90)
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    ordered = sorted(latencies)
    p50, p95, worst = percentile(ordered, 0.5), percentile(ordered, 0.95), ordered[-1]
    ok = p95 < 1.0 and statuses.get(503, 0) == 0 and set(statuses) == {200}
    print()
    print(f"Correct logins of one user while {args.concurrency} clients send wrong logins from "
          f"{args.addresses} addresses ({args.seconds:g} s, one hashing thread, Argon2id t=2 m=19 MiB):")
    print()
    print("| real logins | p50 | p95 | max | statuses | flood answers | target p95 < 1 s, no 503 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {len(ordered)} | {p50 * 1000:.0f} ms | {p95 * 1000:.0f} ms | {worst * 1000:.0f} ms | "
          f"{json.dumps(statuses)} | {json.dumps(dict(sorted(counter.by_status.items())))} | "
          f"{'met' if ok else 'MISSED'} |")
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
