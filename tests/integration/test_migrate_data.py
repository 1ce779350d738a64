"""`chatgate migrate-data`: a SQLite installation built through the real binary (users, chats,
top-ups, an API key, an operator's grant, a redeemed code, an Idempotency-Key) copied into a
fresh PostgreSQL database, then served from there: every row there, every balance equal to
its ledger, old passwords, tokens and keys still good, new rows past the copied ids, and a
second copy refused. PostgreSQL run only."""

from __future__ import annotations

import sqlite3
import subprocess

import pytest

import server_process
from client import (CHAT_COST, PASSWORD, SIGNUP_GRANT, Http, assert_ledger_consistent, bearer,
                    expect, get_balance, login, new_user, top_up)
from server_process import clean_env, database_url_for
from test_operators_cli import STAFF_PASSWORD, run_ok

pytestmark = pytest.mark.skipif(not server_process.postgresql_run(),
                                reason="needs the PostgreSQL run (CHATGATE_TEST_DATABASE_URL)")

CLI_TIMEOUT = 120
NOT_COPIED = {"schema_version", "sqlite_sequence", "node_leases"}
ONLY_COMPLETED = {"idempotency_keys": "status IS NOT NULL"}
SQLITE = {"CHATGATE_DATABASE_URL": ""}  # this installation stays on SQLite in the PostgreSQL run


def migrate_data(binary, source, target, cwd, env=None):
    return subprocess.run([str(binary), "migrate-data", "--from", str(source), "--to", target],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=clean_env(env), cwd=str(cwd), timeout=CLI_TIMEOUT)


def psql_value(url: str, sql: str) -> str:
    psql = server_process.PSQL
    done = subprocess.run([psql, "-X", "-q", "-At", url, "-c", sql], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def source_counts(path) -> dict[str, int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        counts = {}
        for table in tables:
            if table in NOT_COPIED:
                continue
            where = f" WHERE {ONLY_COMPLETED[table]}" if table in ONLY_COMPLETED else ""
            counts[table] = db.execute(f"SELECT count(*) FROM {table}{where}").fetchone()[0]
    return counts


def build_installation(binary, srv):
    """Users with chats, top-ups, a key, a grant and a code on a SQLite server; what to check."""
    with Http(srv.base_url) as http:
        run_ok(binary, srv, "createsuperuser", "--username", "mover",
               env={**SQLITE, "CHATGATE_SUPERUSER_PASSWORD": STAFF_PASSWORD})
        staff_headers = bearer(login(http, "mover", STAFF_PASSWORD)["access"])
        users = [new_user(http, "mig") for _ in range(3)]
        for i, user in enumerate(users):
            for n in range(i + 1):
                expect(http.post("/api/chat/", json={"message": f"hello {n}"}, headers=user.headers), 200)
        expect(top_up(http, users[0].access, 250), 200)
        expect(http.post("/api/chat/", json={"message": "once"},
                         headers={**users[1].headers, "Idempotency-Key": "move-1"}), 200)
        key = expect(http.post("/api/keys/", json={"name": "moved"}, headers=users[2].headers), 201)["key"]
        expect(http.post("/api/chat/", json={"message": "by key"}, headers=bearer(key)), 200)
        expect(http.post(f"/api/admin/users/{users[1].user_id}/grant/",
                         json={"tokens": 40, "reason": "moving"}, headers=staff_headers), 200)
        code = expect(http.post("/api/admin/codes/", json={"tokens": 70, "count": 1},
                                headers=staff_headers), 201)["codes"][0]
        expect(http.post("/api/redeem/", json={"code": code}, headers=users[0].headers), 200)
        balances = {u.username: get_balance(http, u.access) for u in users}
    assert balances[users[0].username] == SIGNUP_GRANT - CHAT_COST + 250 + 70
    return users, key, balances


def test_an_installation_moves_to_postgresql_whole(server_binary, start_server, tmp_path):
    data_dir = tmp_path / "data"
    srv = start_server(env=SQLITE, data_dir=data_dir, name="sqlite-source")
    users, key, balances = build_installation(server_binary, srv)
    assert srv.stop() == 0
    source = data_dir / "chatgate.sqlite3"
    expected = source_counts(source)
    assert expected["users"] == 4 and expected["audit_log"] > 0 and expected["code_redemptions"] == 1
    assert expected["idempotency_keys"] == 1 and expected["api_keys"] == 1

    target = database_url_for(tmp_path / "postgresql-target")
    done = migrate_data(server_binary, source, target, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "every balance equals its ledger" in done.stdout
    for table, rows in expected.items():
        assert int(psql_value(target, f"SELECT count(*) FROM {table}")) == rows, table
    assert psql_value(target, "SELECT count(*) FROM users u WHERE tokens <> coalesce("
                              "(SELECT sum(delta) FROM ledger WHERE user_id = u.id), 0)") == "0"

    # The same data directory (its JWT key) on PostgreSQL now.
    moved = start_server(env={"CHATGATE_DATABASE_URL": target}, data_dir=data_dir, name="moved")
    with Http(moved.base_url) as http:
        for user in users:
            assert get_balance(http, user.access) == balances[user.username]  # old tokens
            fresh = login(http, user.username, PASSWORD)["access"]
            assert get_balance(http, fresh) == balances[user.username]
            assert_ledger_consistent(http, fresh)
        expect(http.post("/api/chat/", json={"message": "still mine"}, headers=bearer(key)), 200)
        # Replayed, not charged again: the key's answer moved with it.
        before = get_balance(http, users[1].access)
        expect(http.post("/api/chat/", json={"message": "once"},
                         headers={**users[1].headers, "Idempotency-Key": "move-1"}), 200)
        assert get_balance(http, users[1].access) == before
        newcomer = new_user(http, "after")  # the identities start past the copied ids
        assert newcomer.user_id > max(u.user_id for u in users)
        expect(http.post("/api/chat/", json={"message": "new"}, headers=newcomer.headers), 200)
        for user in (users[2], newcomer):
            assert_ledger_consistent(http, user.access)
    assert moved.stop() == 0

    again = migrate_data(server_binary, source, target, tmp_path)
    assert again.returncode != 0
    assert "already holds users or ledger rows" in again.stderr, again.stderr
    assert int(psql_value(target, "SELECT count(*) FROM users")) == expected["users"] + 1


def test_a_source_that_is_not_a_chatgate_database_is_refused(server_binary, tmp_path):
    target = database_url_for(tmp_path / "postgresql-target")
    missing = migrate_data(server_binary, tmp_path / "none.sqlite3", target, tmp_path)
    assert missing.returncode != 0 and "no SQLite database at" in missing.stderr, missing.stderr
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (body TEXT)")
    # The password file applies to --to as to database_url (the test server trusts its socket,
    # so any password does).
    password = tmp_path / "db-password"
    password.write_text("not-needed-here")
    password.chmod(0o600)
    refused = migrate_data(server_binary, other, target, tmp_path,
                           env={"CHATGATE_DATABASE_PASSWORD_FILE": str(password)})
    assert refused.returncode != 0 and "not a chatgate database" in refused.stderr, refused.stderr
    assert psql_value(target, "SELECT count(*) FROM pg_tables WHERE tablename = 'users'") == "0"
