"""The PostgreSQL store's own behaviour, in the PostgreSQL run only: the database going away
and coming back (clean 503s, /readyz, reconnecting by itself, exact money after), two nodes on
one database (exact balances across them; a killed node's reservation refunded by the other
within the lease), and the SQLite-only `backup` command refusing clearly."""

from __future__ import annotations

import json
import pathlib
import signal
import subprocess
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest

import server_process
from client import (CHAT_COST, SIGNUP_GRANT, Http, assert_ledger_consistent, bearer, get_balance,
                    new_user)
from fake_upstream import model_entry, unique
from server_process import clean_env, database_url_for
from sse import stream_then_leave

pytestmark = pytest.mark.skipif(not server_process.postgresql_run(),
                                reason="needs the PostgreSQL run (CHATGATE_TEST_DATABASE_URL)")

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "support" / "postgres_server.sh"
RECOVER_TIMEOUT = 30.0  # seconds for the node to answer again once PostgreSQL is back
THREADS = 6
MAX_REQUESTS_PER_THREAD = 400


def cluster(action: str):
    """Stops, starts or restarts the test's PostgreSQL server (the one this run started)."""
    query = parse_qs(urlsplit(server_process.DATABASE_ADMIN_URL).query)
    subprocess.run([str(SCRIPT), action, query["host"][0]], check=True, timeout=120,
                   stdin=subprocess.DEVNULL, capture_output=True)


def wait_ready(srv, http: Http, deadline: float) -> bool:
    """Polls /readyz until the deadline, backing off by waiting on the node's own process (which
    must not exit meanwhile)."""
    while time.monotonic() < deadline:
        if http.get("/readyz", timeout=5).status_code == 200:
            return True
        try:
            srv.proc.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"the node exited while the database was away\n{srv.stderr_tail()}")
    return False


def test_database_down_is_503_not_ready_and_recovers_by_itself(start_server):
    srv = start_server(name="pg-down")
    user = new_user(srv.base_url, "pgdown")
    with Http(srv.base_url) as http:
        assert http.post("/api/chat/", json={"message": "before"}, headers=user.headers).status_code == 200
        cluster("pause")
        try:
            ready = http.get("/readyz", timeout=10)
            assert ready.status_code == 503, ready.text
            r = http.post("/api/chat/", json={"message": "while down"}, headers=user.headers, timeout=30)
            assert r.status_code == 503, r.text
            assert r.headers["content-type"].startswith("application/json"), r.headers
            assert "detail" in r.json(), r.text
            assert "Retry-After" in r.headers
        finally:
            cluster("resume")
        assert wait_ready(srv, http, time.monotonic() + RECOVER_TIMEOUT), "the node did not reconnect"
        assert http.post("/api/chat/", json={"message": "after"}, headers=user.headers).status_code == 200
    assert get_balance(srv.base_url, user.access) == 4000 - 2 * CHAT_COST
    assert_ledger_consistent(srv.base_url, user.access)


def test_a_restart_under_load_fails_cleanly_and_charges_nothing_twice(start_server):
    # Enough tokens that no client runs out however long the restart takes.
    srv = start_server(env={"CHATGATE_SIGNUP_GRANT_TOKENS": "1000000"}, name="pg-restart")
    users = [new_user(srv.base_url, "pgload") for _ in range(THREADS)]
    grant = get_balance(srv.base_url, users[0].access)
    ok = [0] * THREADS
    ok_after_restart = [0] * THREADS
    bad: list[str] = []
    refused = [0] * THREADS
    restarted = threading.Event()
    stop = threading.Event()
    warmed = threading.Barrier(THREADS + 1, timeout=60)

    def load(i: int):
        with Http(srv.base_url) as http:
            for n in range(MAX_REQUESTS_PER_THREAD):
                if n == 3:
                    warmed.wait()
                if stop.is_set():
                    break
                after = restarted.is_set()
                r = http.post("/api/chat/", json={"message": f"m{n}"}, headers=bearer(users[i].access),
                              timeout=60)
                if r.status_code == 200:
                    ok[i] += 1
                    ok_after_restart[i] += after
                elif r.status_code == 503 and r.headers.get("content-type", "").startswith("application/json"):
                    refused[i] += 1
                else:
                    bad.append(f"{r.status_code} {r.headers.get('content-type')} {r.text[:200]}")
                if after and ok_after_restart[i] >= 20:
                    break

    threads = [threading.Thread(target=load, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    try:
        warmed.wait()
        cluster("restart")
        restarted.set()
    finally:
        deadline = time.monotonic() + RECOVER_TIMEOUT + 60
        for t in threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not bad, bad[:5]
    assert all(n >= 20 for n in ok_after_restart), f"not every client got answers again: {ok_after_restart}"

    # A reservation whose settlement was cut off stays open until the node starts again, which
    # refunds it in full: then every user paid exactly for the answers it received.
    assert srv.stop() == 0
    again = start_server(env={"CHATGATE_SIGNUP_GRANT_TOKENS": "1000000"}, data_dir=srv.data_dir,
                         name="pg-restart-again")
    for i, user in enumerate(users):
        assert get_balance(again.base_url, user.access) == grant - CHAT_COST * ok[i], (i, ok[i])
        assert_ledger_consistent(again.base_url, user.access)


def test_backup_says_it_is_for_sqlite(server_binary, start_server):
    srv = start_server(name="pg-backup")
    proc = subprocess.run([str(server_binary), "backup", str(srv.data_dir.parent / "copy"),
                           "--data-dir", str(srv.data_dir)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                          env=clean_env(None, srv.data_dir))
    assert proc.returncode != 0
    assert "pg_dump" in proc.stderr and "SQLite" in proc.stderr, proc.stderr


def two_nodes(start_server, count=2, **env):
    """Two (or `count`) nodes on one database, sharing the JWT key as nodes behind one load
    balancer do."""
    first_dir = start_server.new_data_dir()
    shared = {"CHATGATE_DATABASE_URL": database_url_for(first_dir),
              "CHATGATE_JWT_SECRET": "shared-by-both-nodes-" + "k" * 24, **env}
    return (start_server(env=shared, data_dir=first_dir, name="node-a"),
            *(start_server(env=shared, name=f"node-{chr(ord('b') + i)}") for i in range(count - 1)))


def test_a_killed_nodes_reservation_is_refunded_by_another_node_within_the_lease(
        start_server, fake_upstream):
    lease = 3  # seconds
    model = model_entry(fake_upstream.url, unique("slow", "300"), max_completion_tokens=64)
    # Three nodes: the two survivors both notice the expired lease; the refund is made once.
    killed, survivor, third = two_nodes(start_server, 3, CHATGATE_NODE_LEASE_SECONDS=str(lease),
                                        CHATGATE_MODELS=json.dumps([model]))
    user = new_user(survivor.base_url, "lease")
    # SIGKILL (of the process this test started, by PID) while node A streams the answer: its
    # reservation stays open, and node A never comes back.
    seen = stream_then_leave(killed.base_url, user.access, {"message": "a b c d e f g h"},
                             deltas=1, while_open=lambda: killed.stop(sig=signal.SIGKILL))
    assert b"event: delta" in seen, seen
    assert get_balance(survivor.base_url, user.access) < SIGNUP_GRANT  # still held
    # Node B renews every third of the lease and refunds what an expired lease left open:
    # within two lease periods of the kill, exactly once.
    deadline = time.monotonic() + 2 * lease + 5
    while get_balance(survivor.base_url, user.access) != SIGNUP_GRANT:
        assert time.monotonic() < deadline, "node B did not refund node A's reservation"
        try:
            survivor.proc.wait(timeout=0.2)  # back off on the node itself: it must stay up
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"node B exited\n{survivor.stderr_tail()}")
    # Whichever survivor refunded says so in its log (written by a background thread, so it may
    # trail the refund a little): wait on either, backing off on the survivor's own process.
    logged = time.monotonic() + 10
    while not any("node whose lease expired" in n.output() for n in (survivor, third)):
        assert time.monotonic() < logged, "no survivor logged the refund"
        try:
            survivor.proc.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"node B exited\n{survivor.stderr_tail()}")
    assert get_balance(third.base_url, user.access) == SIGNUP_GRANT
    rows = assert_ledger_consistent(survivor.base_url, user.access)
    assert [r["kind"] for r in rows] == ["signup_grant", "chat_charge", "chat_refund"], rows


def test_chats_and_top_ups_spread_over_two_nodes_never_overdraw(start_server):
    nodes = two_nodes(start_server)
    users = [new_user(nodes[0].base_url, "spread") for _ in range(4)]
    affordable = SIGNUP_GRANT // CHAT_COST  # 40 chats each, without the top-ups
    attempts = 60  # per user, alternating between the nodes
    ok = [0] * len(users)
    topped = [0] * len(users)
    bad: list[str] = []

    def client(i: int):
        https = [Http(n.base_url) for n in nodes]
        try:
            for n in range(attempts):
                http = https[n % 2]
                if n % 10 == 9:  # now and then a top-up, on the other node
                    r = https[(n + 1) % 2].post("/api/top-up/", json={"tokens": 50},
                                                headers=bearer(users[i].access))
                    if r.status_code == 200:
                        topped[i] += 50
                    else:
                        bad.append(f"top-up {r.status_code} {r.text[:200]}")
                r = http.post("/api/chat/", json={"message": f"m{n}"}, headers=bearer(users[i].access))
                if r.status_code == 200:
                    ok[i] += 1
                elif r.status_code != 403:  # Insufficient tokens, once the balance is spent
                    bad.append(f"chat {r.status_code} {r.text[:200]}")
        finally:
            for http in https:
                http.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(users))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "clients did not finish"
    assert not bad, bad[:5]
    for i, user in enumerate(users):
        for node in nodes:  # both nodes see the one balance
            assert get_balance(node.base_url, user.access) == SIGNUP_GRANT + topped[i] - CHAT_COST * ok[i]
        # More attempts than the tokens allow: each user spent down to less than one chat,
        # never below zero, the two nodes together exactly as one.
        assert ok[i] == (SIGNUP_GRANT + topped[i]) // CHAT_COST, (ok[i], topped[i], affordable)
        assert_ledger_consistent(nodes[1].base_url, user.access)
    assert sum(ok) > 0
