#!/usr/bin/python3
"""Helpers for bench/run.sh (standard library only).

  helpers.py free-port                         print a free loopback TCP port (the kernel picks it)
  helpers.py wait-http URL SECONDS             poll URL until it answers 200, or fail after SECONDS
  helpers.py setup BASE USER PASSWORD TOP_UP   register, top up, log in, check tokens+chat; print the access JWT
  helpers.py report DIR IDLE_KB HWM_KB         parse the wrk outputs in DIR and print the Markdown report
  helpers.py report-sessions DIR               the session revocation check: on versus off
  helpers.py report-hop DIR CONNS STREAMS GAP  bench/hop.sh's tables: the hop, streams, metrics on/off
  helpers.py report-auth DIR                   API key versus access token authentication
  helpers.py api-key BASE ACCESS               create an API key for the token's user; print it
  helpers.py report-postgresql DIR             bench/postgresql.sh's table: SQLite, PostgreSQL 1 and 2 nodes
  helpers.py ledger-check-sqlite PATH SQL      fail unless SQL (a count of mismatched balances) is 0
"""
import glob
import json
import os
import re
import socket
import statistics
import sys
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def request(method, url, body=None, token=None, timeout=10):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_http(url, seconds):
    deadline = time.monotonic() + float(seconds)
    last = None
    while time.monotonic() < deadline:
        try:
            status, _ = request("GET", url, timeout=1)
            if status == 200:
                return
            last = f"status {status}"
        except OSError as e:
            last = str(e)
        time.sleep(0.05)
    sys.exit(f"{url} did not answer 200 within {seconds} s ({last})")


def expect(what, status, body, want_status):
    if status != want_status:
        sys.exit(f"{what}: expected {want_status}, got {status}: {body[:500]!r}")
    return json.loads(body)


def setup(base, user, password, top_up):
    try:
        _setup(base, user, password, top_up)
    except OSError as e:
        sys.exit(f"setup against {base} failed: {e!r}")


def _setup(base, user, password, top_up):
    expect("register", *request("POST", base + "/api/register/", {"username": user, "password": password}), 201)
    tokens = expect("login", *request("POST", base + "/api/login/", {"username": user, "password": password}), 200)
    access = tokens["access"]
    added = expect("top-up", *request("POST", base + "/api/top-up/", {"tokens": int(top_up)}, access), 200)
    balance = expect("tokens", *request("GET", base + "/api/tokens/", token=access), 200)["tokens"]
    if balance != added["total_tokens"]:
        sys.exit(f"balance {balance} != top-up total {added['total_tokens']}")
    chat = expect("chat", *request("POST", base + "/api/chat/", {"message": "Hello"}, access), 200)
    if chat.get("remaining_tokens") is None:
        sys.exit(f"chat answer without remaining_tokens: {chat}")
    print(access)


# ---------------------------------------------------------------------------------------------
# wrk --latency output

UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def to_ms(value, unit):
    return float(value) * UNIT_MS[unit]


def parse_wrk(path):
    text = open(path).read()
    m = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if not m:
        sys.exit(f"cannot parse wrk output {path}:\n{text}")
    run = {"rps": float(m.group(1)), "non2xx": 0, "socket_errors": 0, "file": os.path.basename(path)}
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M):
        run["p" + pct] = to_ms(value, unit)
    if "p50" not in run or "p99" not in run:
        sys.exit(f"no latency distribution in {path} (was wrk run with --latency?):\n{text}")
    m = re.search(r"^\s+(\d+) requests in", text, re.M)
    run["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if m:
        run["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        run["socket_errors"] = sum(int(g) for g in m.groups())
    return run


def mean_of(runs):
    return {
        "rps": statistics.mean(r["rps"] for r in runs),
        "p50": statistics.mean(r["p50"] for r in runs),
        "p99": statistics.mean(r["p99"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "non2xx": sum(r["non2xx"] for r in runs),
        "socket_errors": sum(r["socket_errors"] for r in runs),
        "runs": len(runs),
    }


def fmt_ms(ms):
    if ms < 0:
        return "-" + fmt_ms(-ms)
    if ms < 1:
        return f"{ms * 1000:.0f} us"
    if ms < 100:
        return f"{ms:.2f} ms"
    return f"{ms:.0f} ms"


def fmt_rps(rps):
    return f"{rps:,.0f}"


def verdict(ok):
    return "met" if ok else "**MISSED**"


def report(directory, idle_kb, hwm_kb):
    def runs(label):
        files = sorted(glob.glob(os.path.join(directory, f"{label}.*.txt")),
                       key=lambda f: int(f.rsplit(".", 2)[1]))
        return [parse_wrk(f) for f in files]

    nginx_runs = runs("nginx")
    nginx = mean_of(nginx_runs)
    tokens = mean_of(runs("tokens"))
    chat = mean_of(runs("chat"))
    flood_tokens = parse_wrk(os.path.join(directory, "flood-tokens.txt"))
    flood_login = parse_wrk(os.path.join(directory, "flood-login.txt"))
    idle_mb = int(idle_kb) / 1024
    hwm_mb = int(hwm_kb) / 1024

    rows = [
        ("nginx (ceiling, mean of %d runs)" % nginx["runs"], nginx, None, None),
        ("GET /api/tokens/", tokens, 0.60, ">= 60% of nginx req/s"),
        ("POST /api/chat/", chat, 0.25, ">= 25% of nginx req/s"),
    ]
    missed = 0
    out = []
    out.append("| endpoint | req/s | ratio to nginx | p50 | p50 ratio | p99 | p99 ratio | target | result |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for name, r, min_ratio, target in rows:
        ratio = r["rps"] / nginx["rps"]
        p50r = r["p50"] / nginx["p50"]
        p99r = r["p99"] / nginx["p99"]
        if min_ratio is None:
            mark = ""
        else:
            ok = ratio >= min_ratio
            missed += not ok
            mark = verdict(ok)
        out.append(f"| {name} | {fmt_rps(r['rps'])} | {ratio:.0%} | {fmt_ms(r['p50'])} | {p50r:.2f}x | "
                   f"{fmt_ms(r['p99'])} | {p99r:.2f}x | {target or '-'} | {mark} |")

    out.append("")
    out.append("| measure | value | target | result |")
    out.append("| --- | ---: | --- | --- |")
    ok = idle_mb < 30
    missed += not ok
    out.append(f"| chatgate idle RSS (VmRSS right after start) | {idle_mb:.1f} MB | < 30 MB | {verdict(ok)} |")
    out.append(f"| chatgate peak RSS under load (VmHWM) | {hwm_mb:.1f} MB | - | |")
    ok = flood_tokens["p99"] < 10
    missed += not ok
    out.append(f"| GET /api/tokens/ p99 during login flood | {fmt_ms(flood_tokens['p99'])} | < 10 ms | {verdict(ok)} |")
    out.append(f"| GET /api/tokens/ during login flood: req/s, p50 | {fmt_rps(flood_tokens['rps'])}, "
               f"{fmt_ms(flood_tokens['p50'])} | - | |")
    login_ok = flood_login["requests"] - flood_login["non2xx"]
    out.append(f"| login flood: POST /api/login/ req/s (answers ok, non-2xx) | {fmt_rps(flood_login['rps'])} "
               f"({login_ok:,}, {flood_login['non2xx']:,}) | - | |")

    limited = mean_of(runs("ratelimit-on"))
    unlimited = mean_of(runs("ratelimit-off"))
    out.append("")
    out.append(f"GET /api/tokens/ with rate limiting on (every request checked, quota out of reach) and off, "
               f"interleaved, {limited['runs']} run(s) each:")
    out.append("")
    out.append("| rate limiting | req/s | p50 | p99 |")
    out.append("| --- | ---: | ---: | ---: |")
    for name, r in (("on", limited), ("off", unlimited)):
        out.append(f"| {name} | {fmt_rps(r['rps'])} | {fmt_ms(r['p50'])} | {fmt_ms(r['p99'])} |")
    out.append(f"| on / off | {limited['rps'] / unlimited['rps']:.1%} | {limited['p50'] / unlimited['p50']:.2f}x | "
               f"{limited['p99'] / unlimited['p99']:.2f}x |")

    warnings = []
    for name, r in (("nginx", nginx), ("tokens", tokens), ("chat", chat), ("tokens during flood", flood_tokens),
                    ("tokens, rate limiting on", limited), ("tokens, rate limiting off", unlimited)):
        if r["non2xx"] or r["socket_errors"]:
            warnings.append(f"- {name}: {r['non2xx']} non-2xx answers, {r['socket_errors']} socket errors "
                            f"(of {r['requests']:,} requests); its numbers are not trustworthy")
    if flood_login["socket_errors"]:
        warnings.append(f"- login flood: {flood_login['socket_errors']} socket errors")
    if warnings:
        out.append("")
        out.append("Warnings:")
        out.extend(warnings)
    print("\n".join(out))
    return missed


def measure_with_cpu(directory, label):
    """The mean of a label's wrk runs, with the server CPU time per request from its .cpu file."""
    files = sorted(glob.glob(os.path.join(directory, f"{label}.*.txt")))
    r = mean_of([parse_wrk(f) for f in files])
    ticks = sum(int(line) for line in open(os.path.join(directory, f"{label}.cpu")) if line.strip())
    r["cpu_us"] = ticks / os.sysconf("SC_CLK_TCK") * 1e6 / max(1, r["requests"])
    return r


def report_sessions(directory):
    """GET /api/tokens/ on two servers that differ only in session_check_enabled."""
    def measure(label):
        return measure_with_cpu(directory, label)

    on, off = measure("session-on"), measure("session-off")
    out = ["| GET /api/tokens/, revocation check (mean of %d runs each) | req/s | p50 | p99 | server CPU per request |"
           % on["runs"],
           "| --- | ---: | ---: | ---: | ---: |"]
    for name, r in (("on (default)", on), ("off (session_check_enabled=false, unsafe)", off)):
        out.append(f"| {name} | {fmt_rps(r['rps'])} | {fmt_ms(r['p50'])} | {fmt_ms(r['p99'])} | "
                   f"{r['cpu_us']:.1f} us |")
    out.append(f"| cost of the check | {1 - on['rps'] / off['rps']:.1%} fewer req/s | "
               f"{on['p50'] - off['p50']:+.3f} ms | {on['p99'] - off['p99']:+.3f} ms | "
               f"{on['cpu_us'] - off['cpu_us']:+.1f} us ({on['cpu_us'] / off['cpu_us'] - 1:+.0%}) |")
    for name, r in (("session check on", on), ("session check off", off)):
        if r["non2xx"] or r["socket_errors"]:
            out.append(f"\nWarning: {name}: {r['non2xx']} non-2xx answers, {r['socket_errors']} socket errors")
    print("\n".join(out))


HOP_PATHS = [("direct", "canned upstream, directly"), ("proxy", "nginx reverse proxy (anchor)"),
             ("v1", "chatgate POST /v1/chat/completions"), ("chat", "chatgate POST /api/chat/"),
             ("v1-nometrics", "chatgate /v1, metrics off")]


def report_hop(directory, connections, streams, gap_ms):
    def run(label, conns):
        files = sorted(glob.glob(os.path.join(directory, f"{label}-{conns}.*.txt")))
        return mean_of([parse_wrk(f) for f in files])

    conns_list = connections.split()
    out = ["| path | connections | req/s | p50 | p99 | added p50 | added p99 | req/s / proxy's |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    results, warnings = {}, []
    for conns in conns_list:
        direct, proxy = run("direct", conns), run("proxy", conns)
        for label, name in HOP_PATHS:
            r = run(label, conns)
            results[(label, conns)] = r
            added = "" if label == "direct" else f"{fmt_ms(r['p50'] - direct['p50'])} | {fmt_ms(r['p99'] - direct['p99'])}"
            if not added:
                added = "- | -"
            out.append(f"| {name} | {conns} | {fmt_rps(r['rps'])} | {fmt_ms(r['p50'])} | {fmt_ms(r['p99'])} | "
                       f"{added} | {r['rps'] / proxy['rps']:.2f}x |")
            if r["non2xx"] or r["socket_errors"]:
                warnings.append(f"- {name} at {conns}: {r['non2xx']} non-2xx, {r['socket_errors']} socket errors")

    def stream(label):
        return json.load(open(os.path.join(directory, f"stream-{label}.json")))

    sd, sp, sc = stream("direct"), stream("proxy"), stream("chatgate")
    out += ["", f"Streams: {streams} at once, the upstream's deltas {gap_ms} ms apart (times in ms):", "",
            "| path | streams (failed) | TTFB p50 | TTFB p99 | gap p50 | gap p99 | added TTFB p50 | added gap p50 | added gap p99 |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in (("canned upstream, directly", sd), ("nginx reverse proxy", sp), ("chatgate /v1 stream", sc)):
        out.append(f"| {name} | {r['streams']} ({r['failed']}) | {r['ttfb_p50']:.2f} | {r['ttfb_p99']:.2f} | "
                   f"{r['gap_p50']:.2f} | {r['gap_p99']:.2f} | {r['ttfb_p50'] - sd['ttfb_p50']:+.2f} | "
                   f"{r['gap_p50'] - sd['gap_p50']:+.2f} | {r['gap_p99'] - sd['gap_p99']:+.2f} |")
        if r["failed"]:
            warnings.append(f"- streams {name}: {r['failed']} failed")

    last = conns_list[-1]
    v1_1, d_1 = results.get(("v1", "1")), results.get(("direct", "1"))
    out += ["", "| target | value | result |", "| --- | ---: | --- |"]
    ratio = results[("v1", last)]["rps"] / results[("proxy", last)]["rps"]
    out.append(f"| /v1 req/s >= 0.5x the proxy's at {last} connections | {ratio:.2f}x | {verdict(ratio >= 0.5)} |")
    if v1_1 and d_1:
        a50, a99 = v1_1["p50"] - d_1["p50"], v1_1["p99"] - d_1["p99"]
        out.append(f"| /v1 added p50 < 0.3 ms at 1 connection | {fmt_ms(a50)} | {verdict(a50 < 0.3)} |")
        out.append(f"| /v1 added p99 < 2 ms at 1 connection | {fmt_ms(a99)} | {verdict(a99 < 2.0)} |")
    ttfb = sc["ttfb_p50"] - sd["ttfb_p50"]
    gap = sc["gap_p50"] - sd["gap_p50"]
    out.append(f"| streams: chatgate adds < 1 ms to TTFB (p50) | {ttfb:.2f} ms | {verdict(ttfb < 1.0)} |")
    out.append(f"| streams: chatgate adds < 0.2 ms to the gap (p50) | {gap:.2f} ms | {verdict(gap < 0.2)} |")
    out += ["", "Metrics on versus off (/v1 on two otherwise identical chatgates, interleaved):", "",
            "| connections | req/s on | req/s off | on / off | p99 on | p99 off |", "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for conns in conns_list:
        on, off = results[("v1", conns)], results[("v1-nometrics", conns)]
        out.append(f"| {conns} | {fmt_rps(on['rps'])} | {fmt_rps(off['rps'])} | {on['rps'] / off['rps']:.1%} | "
                   f"{fmt_ms(on['p99'])} | {fmt_ms(off['p99'])} |")
    if warnings:
        out += ["", "Warnings (these numbers are not trustworthy):"] + warnings
    print("\n".join(out))


def report_auth(directory):
    """GET /api/tokens/ on one server, authenticated with an API key versus an access token."""
    key, jwt = measure_with_cpu(directory, "auth-key"), measure_with_cpu(directory, "auth-jwt")
    out = ["| GET /api/tokens/, authenticated with (mean of %d runs each) | req/s | p50 | p99 | server CPU per request |"
           % key["runs"],
           "| --- | ---: | ---: | ---: | ---: |"]
    for name, r in (("API key (sk-cg-...)", key), ("access token (JWT + session check)", jwt)):
        out.append(f"| {name} | {fmt_rps(r['rps'])} | {fmt_ms(r['p50'])} | {fmt_ms(r['p99'])} | "
                   f"{r['cpu_us']:.1f} us |")
    out.append(f"| key / JWT | {key['rps'] / jwt['rps']:.1%} | {key['p50'] / jwt['p50']:.2f}x | "
               f"{key['p99'] / jwt['p99']:.2f}x | {key['cpu_us'] - jwt['cpu_us']:+.1f} us |")
    for name, r in (("API key", key), ("access token", jwt)):
        if r["non2xx"] or r["socket_errors"]:
            out.append(f"\nWarning: {name}: {r['non2xx']} non-2xx answers, {r['socket_errors']} socket errors")
    print("\n".join(out))


def report_postgresql(directory):
    """bench/postgresql.sh's table: each store's req/s and p99 as ratios of nginx's; two nodes
    are two wrk processes at once (req/s summed, the worse p99)."""
    def runs(label):
        files = sorted(glob.glob(os.path.join(directory, f"{label}.*.txt")))
        return [parse_wrk(f) for f in files if not f.endswith(".b.txt")]

    def two_nodes(label):
        combined = []
        for first in sorted(glob.glob(os.path.join(directory, f"{label}.*.txt"))):
            if first.endswith(".b.txt"):
                continue
            a, b = parse_wrk(first), parse_wrk(first[:-len(".txt")] + ".b.txt")
            combined.append({"rps": a["rps"] + b["rps"], "p50": max(a["p50"], b["p50"]),
                             "p99": max(a["p99"], b["p99"]), "requests": a["requests"] + b["requests"],
                             "non2xx": a["non2xx"] + b["non2xx"],
                             "socket_errors": a["socket_errors"] + b["socket_errors"]})
        return combined

    nginx = mean_of(runs("nginx"))
    rows = [("nginx (ceiling, mean of %d runs)" % nginx["runs"], "-", nginx)]
    measured = {}
    for endpoint, kind in (("GET /api/tokens/", "tokens"), ("POST /api/chat/", "chat")):
        for store, label, many in (("SQLite", "sqlite", False), ("PostgreSQL, 1 node", "pg1", False),
                                   ("PostgreSQL, 2 nodes", "pg2", True)):
            r = mean_of(two_nodes(f"{label}-{kind}") if many else runs(f"{label}-{kind}"))
            measured[(label, kind)] = r
            rows.append((endpoint, store, r))
    out = ["| endpoint | store | req/s | ratio to nginx | p99 | p99 ratio |",
           "| --- | --- | ---: | ---: | ---: | ---: |"]
    for endpoint, store, r in rows:
        out.append(f"| {endpoint} | {store} | {fmt_rps(r['rps'])} | {r['rps'] / nginx['rps']:.0%} | "
                   f"{fmt_ms(r['p99'])} | {r['p99'] / nginx['p99']:.2f}x |")
    out += ["", "| target | value | result |", "| --- | ---: | --- |"]
    missed = 0
    sqlite_chat = measured[("sqlite", "chat")]["rps"]
    for label, what in (("pg1", "one node"), ("pg2", "two nodes")):
        ratio = measured[(label, "chat")]["rps"] / sqlite_chat
        ok = ratio >= 0.5
        missed += not ok
        out.append(f"| PostgreSQL ({what}) POST /api/chat/ >= 0.5x SQLite's | {ratio:.2f}x | {verdict(ok)} |")
    warnings = [f"- {key[0]} {key[1]}: {r['non2xx']} non-2xx answers, {r['socket_errors']} socket errors "
                f"(of {r['requests']:,} requests); its numbers are not trustworthy"
                for key, r in measured.items() if r["non2xx"] or r["socket_errors"]]
    if warnings:
        out += ["", "Warnings:"] + warnings
    print("\n".join(out))
    return missed


def ledger_check_sqlite(path, sql):
    """Exits non-zero unless `sql` (a count of mismatched balances) is 0 on the database."""
    import sqlite3
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        mismatched = db.execute(sql).fetchone()[0]
    if mismatched:
        sys.exit(f"{path}: {mismatched} balance(s) differ from their ledger")


def api_key(base, access):
    """Creates an API key for the token's user and prints it."""
    created = expect("api key", *request("POST", base + "/api/keys/", {"name": "bench"}, access), 201)
    print(created["key"])


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "free-port" and not args:
        free_port()
    elif cmd == "wait-http" and len(args) == 2:
        wait_http(*args)
    elif cmd == "setup" and len(args) == 4:
        setup(*args)
    elif cmd == "report" and len(args) == 3:
        missed = report(*args)
        # Exit status 3 tells run.sh that a target was missed (it decides whether that fails the run).
        sys.exit(3 if missed else 0)
    elif cmd == "report-sessions" and len(args) == 1:
        report_sessions(*args)
    elif cmd == "report-hop" and len(args) == 4:
        report_hop(*args)
    elif cmd == "report-auth" and len(args) == 1:
        report_auth(*args)
    elif cmd == "report-postgresql" and len(args) == 1:
        sys.exit(3 if report_postgresql(*args) else 0)
    elif cmd == "ledger-check-sqlite" and len(args) == 2:
        ledger_check_sqlite(*args)
    elif cmd == "api-key" and len(args) == 2:
        api_key(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
