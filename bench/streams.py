#!/usr/bin/env python3
"""chatgate's memory while many streamed chats are open at once.

    bench/streams.py [--server build/chatgate] [--streams 1000]

Starts, for each reply length, the canned upstream (chatgate_canned_upstream, beside the
server binary) and a fresh chatgate; opens STREAMS simultaneous `POST /api/chat/ {"stream":
true}` exchanges whose upstream sends one delta every few milliseconds, reads them all to the
end, and reports
chatgate's resident memory when idle and its peak during the run (sampled every 50 ms; VmHWM
would count the 64 MiB Argon2 hash of the benchmark user's login). The per-stream figure
must stay flat, and must not grow when every reply is many times longer: chatgate holds one
delta of each stream at a time and keeps a bounded copy for the conversation's history.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 20
RUN_TIMEOUT_S = 300
# Each phase: (label, deltas in each reply, ms apart).
PHASES = [("short replies (13 deltas)", 13, 300), ("long replies (303 deltas)", 303, 15)]


def raise_fd_limit(wanted: int) -> None:
    """Every stream holds a client and an upstream socket in chatgate, and one upstream."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def start(cmd: list[str], env: dict, log: pathlib.Path) -> tuple[subprocess.Popen, str]:
    """Starts a process that prints 'listening on URL'; returns it and the URL."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=log.open("wb"), text=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        match = re.match(r"listening on (http://\S+)", line.strip())
        if match:
            return proc, match.group(1)
    proc.kill()
    sys.exit(f"{cmd[0]} did not start; see {log}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def call(base: str, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def memory_kb(pid: int, field: str) -> int:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {pid}")


def run_streams(address: tuple[str, int], token: str, message: str, count: int,
                pid: int) -> tuple[int, int, int]:
    """Opens `count` streamed chats at once and reads them all to the end; returns (finished
    streams, bytes read, the highest resident memory of `pid` seen meanwhile, sampled)."""
    body = json.dumps({"message": message, "model": "bench", "stream": True}).encode()
    head = (f"POST /api/chat/ HTTP/1.1\r\nHost: {address[0]}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    selector = selectors.DefaultSelector()
    received: dict[socket.socket, bytearray] = {}
    for _ in range(count):
        sock = socket.create_connection(address, timeout=30)
        sock.sendall(head.encode() + body)
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        received[sock] = bytearray()
    finished = total = 0
    peak_kb = memory_kb(pid, "VmRSS")
    deadline = time.monotonic() + RUN_TIMEOUT_S
    next_sample = 0.0
    while received and time.monotonic() < deadline:
        if time.monotonic() >= next_sample:
            peak_kb = max(peak_kb, memory_kb(pid, "VmRSS"))
            next_sample = time.monotonic() + 0.05
        for key, _ in selector.select(timeout=0.05):
            sock = key.fileobj
            try:
                chunk = sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if chunk:
                total += len(chunk)
                # Only the tail matters: it tells whether the final event arrived.
                received[sock] = (received[sock] + chunk)[-4096:]
                continue
            if b"event: done" in received[sock]:
                finished += 1
            selector.unregister(sock)
            sock.close()
            del received[sock]
    for sock in received:
        sock.close()
    return finished, total, peak_kb


def phase(server: str, canned: str, streams: int, words: int, delay_ms: int, tmp: pathlib.Path) -> dict:
    upstream, upstream_url = start([canned, "--chunks", str(words), "--gap-ms", str(delay_ms)],
                                   dict(os.environ), tmp / f"canned-{words}.log")
    try:
        return measure(server, upstream_url, streams, words, tmp)
    finally:
        stop(upstream)


def measure(server: str, upstream_url: str, streams: int, words: int, tmp: pathlib.Path) -> dict:
    models = [{"id": "bench", "provider": "openai", "base_url": upstream_url + "/v1",
               "upstream_model": "bench", "max_completion_tokens": 4096}]
    env = {**os.environ, "CHATGATE_MODELS": json.dumps(models), "CHATGATE_RATE_LIMIT_ENABLED": "false",
           "CHATGATE_MAX_CONNECTIONS_PER_ADDRESS": "0", "CHATGATE_LOG_LEVEL": "warn",
           "CHATGATE_TOP_UP_MAX_PER_REQUEST": "100000000"}
    data = tmp / f"data-{words}"
    proc, base = start([server, "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data)], env,
                       tmp / f"chatgate-{words}.log")
    try:
        user = f"streams_{words}_{os.getpid()}"
        password = "Streams-" + os.urandom(8).hex()
        call(base, "POST", "/api/register/", {"username": user, "password": password})
        token = call(base, "POST", "/api/login/", {"username": user, "password": password})["access"]
        call(base, "POST", "/api/top-up/", {"tokens": 100_000_000}, token)
        idle_kb = memory_kb(proc.pid, "VmRSS")
        message = "Hello, how are you?"
        host, port = base.removeprefix("http://").rsplit(":", 1)
        started = time.monotonic()
        finished, read, peak_kb = run_streams((host, int(port)), token, message, streams, proc.pid)
        elapsed = time.monotonic() - started
        tokens = call(base, "GET", "/api/tokens/", token=token)["tokens"]
        ledger = call(base, "GET", "/api/transactions/?page_size=1", token=token)
    finally:
        stop(proc)
    return {"finished": finished, "bytes": read, "seconds": elapsed, "idle_kb": idle_kb,
            "peak_kb": peak_kb, "tokens": tokens, "ledger_rows": ledger.get("count")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("CHATGATE_SERVER", str(REPO / "build" / "chatgate")))
    parser.add_argument("--streams", type=int, default=int(os.environ.get("STREAMS", "1000")))
    parser.add_argument("--canned", default=None, help="the canned upstream (default: beside --server)")
    args = parser.parse_args()
    canned = args.canned or str(pathlib.Path(args.server).parent / "chatgate_canned_upstream")
    raise_fd_limit(4 * args.streams + 256)
    with tempfile.TemporaryDirectory(prefix="chatgate-bench-streams.") as name:
        tmp = pathlib.Path(name)
        rows = [(label, phase(args.server, canned, args.streams, words, delay, tmp))
                for label, words, delay in PHASES]
    print(f"\n{args.streams} simultaneous streamed chats (POST /api/chat/ with \"stream\": true) "
          "through chatgate to the canned upstream:\n")
    print("| replies | finished | bytes streamed | seconds | idle RSS | peak RSS | peak - idle per stream |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, r in rows:
        per_stream = (r["peak_kb"] - r["idle_kb"]) / max(1, args.streams)
        print(f"| {label} | {r['finished']}/{args.streams} | {r['bytes'] / 1e6:.1f} MB | {r['seconds']:.1f} | "
              f"{r['idle_kb'] / 1024:.1f} MB | {r['peak_kb'] / 1024:.1f} MB | {per_stream:.1f} KB |")
    short, long = rows[0][1], rows[1][1]
    growth = (long["peak_kb"] - long["idle_kb"]) / max(1, short["peak_kb"] - short["idle_kb"])
    print(f"\nMemory per stream, long versus short replies: {growth:.2f}x "
          f"(replies {long['bytes'] / max(1, short['bytes']):.0f}x longer).")
    return 0 if all(r["finished"] == args.streams for _, r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
