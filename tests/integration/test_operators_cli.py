"""The operator's command line: users, tokens, keys, audit and backup, against a running server's
database, every action audited as the operating-system user."""

from __future__ import annotations

import concurrent.futures
import os
import pwd
import sqlite3
import stat
import subprocess
import threading

import pytest

from client import (
    CHAT_COST,
    PASSWORD,
    SIGNUP_GRANT,
    Http,
    assert_ledger_consistent,
    bearer,
    describe,
    expect,
    get_balance,
    login,
    new_user,
    unique_username,
)
from server_process import clean_env

CLI_TIMEOUT = 60
STAFF_PASSWORD = "Operator-Desk-2291-Lamp"


def run_cli(binary, srv, *args, env=None):
    return subprocess.run(
        [str(binary), *args, "--data-dir", str(srv.data_dir)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=clean_env(env, srv.data_dir),
        timeout=CLI_TIMEOUT,
    )


def run_ok(binary, srv, *args, env=None) -> str:
    proc = run_cli(binary, srv, *args, env=env)
    assert proc.returncode == 0, f"rc={proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc.stdout


def make_superuser(binary, srv, api) -> "object":
    """A staff superuser on `srv`, logged in (its access token in .access)."""
    name = unique_username("op")
    run_ok(binary, srv, "createsuperuser", "--username", name, env={"CHATGATE_SUPERUSER_PASSWORD": STAFF_PASSWORD})
    tokens = login(api, name, STAFF_PASSWORD)

    class Staff:
        username = name
        access = tokens["access"]
        headers = bearer(tokens["access"])
    return Staff


def os_user() -> str:
    return "os:" + pwd.getpwuid(os.geteuid()).pw_name


def test_users_list_show_deactivate_activate(server_binary, main_server, api):
    user = new_user(api, "cliuser")
    listed = run_ok(server_binary, main_server, "users", "list", "--search", user.username)
    assert user.username in listed and "active" in listed
    shown = run_ok(server_binary, main_server, "users", "show", user.username)
    assert f"username: {user.username}" in shown and f"tokens: {SIGNUP_GRANT}" in shown

    run_ok(server_binary, main_server, "users", "deactivate", user.username)
    r = api.get("/api/tokens/", headers=user.headers)
    assert r.status_code == 401 and r.json()["code"] == "user_inactive", describe(r)
    assert user.username in run_ok(server_binary, main_server, "users", "list", "--inactive", "--search", user.username)
    run_ok(server_binary, main_server, "users", "activate", user.username)
    expect(api.get("/api/tokens/", headers=user.headers), 200)

    audit = run_ok(server_binary, main_server, "audit", "--action", "user.deactivate")
    assert os_user() in audit and '{"is_active":true} -> {"is_active":false}' in audit


def test_unknown_user_is_an_error(server_binary, main_server):
    proc = run_cli(server_binary, main_server, "users", "show", unique_username("nobody"))
    assert proc.returncode == 1 and "no user named" in proc.stderr


def test_tokens_grant_and_deduct(server_binary, main_server, api):
    user = new_user(api, "clitok")
    out = run_ok(server_binary, main_server, "tokens", "grant", user.username, "250", "--reason", "goodwill")
    assert f"now has {SIGNUP_GRANT + 250} tokens" in out
    run_ok(server_binary, main_server, "tokens", "deduct", user.username, "50", "--reason", "correction")
    assert get_balance(api, user.access) == SIGNUP_GRANT + 200
    # Larger than the balance: refused, nothing moves.
    proc = run_cli(server_binary, main_server, "tokens", "deduct", user.username, str(SIGNUP_GRANT + 201), "--reason", "x")
    assert proc.returncode == 1 and "larger than the balance" in proc.stderr, proc.stderr
    proc = run_cli(server_binary, main_server, "tokens", "grant", user.username, "5", "--reason", "   ")
    assert proc.returncode == 1 and "reason" in proc.stderr
    assert get_balance(api, user.access) == SIGNUP_GRANT + 200
    rows = assert_ledger_consistent(api, user.access)
    assert [(r["kind"], r["delta"]) for r in rows[-2:]] == [("admin_grant", 250), ("admin_deduct", -50)]
    assert rows[-2]["reference"] == f"by {os_user()}: goodwill"
    audit = run_ok(server_binary, main_server, "audit", "--action", "tokens.grant")
    assert f'{{"tokens":{SIGNUP_GRANT}}} -> {{"tokens":{SIGNUP_GRANT + 250}' in audit


def test_keys_create_prints_the_key_once(server_binary, main_server, api):
    user = new_user(api, "clikey")
    proc = run_cli(server_binary, main_server, "keys", "create", user.username, "--name", "batch", "--token-limit", "300")
    assert proc.returncode == 0, proc.stderr
    key = proc.stdout.strip()
    assert key.startswith("sk-cg-") and key not in proc.stderr
    expect(api.get("/api/tokens/", headers=bearer(key)), 200, {"tokens": SIGNUP_GRANT})
    listed = expect(api.get("/api/keys/", headers=user.headers), 200)["results"]
    assert [(k["name"], k["token_limit"]) for k in listed] == [("batch", 300)]
    assert "key.create" in run_ok(server_binary, main_server, "audit", "--action", "key.create")
    listed = run_ok(server_binary, main_server, "keys", "list", user.username)
    key_id = listed.split("\t")[0]
    assert "batch" in listed and "live" in listed and key not in listed
    run_ok(server_binary, main_server, "keys", "revoke", user.username, key_id)
    assert api.get("/api/tokens/", headers=bearer(key)).status_code == 401
    assert "revoked" in run_ok(server_binary, main_server, "keys", "list", user.username)
    assert "key.revoke" in run_ok(server_binary, main_server, "audit", "--action", "key.revoke")


@pytest.mark.sqlite_only("chatgate backup copies a SQLite database")
def test_backup_during_chat_load_verifies(server_binary, start_server, tmp_path):
    """A backup taken while chats run is one consistent snapshot: it verifies, and every balance
    in it equals the sum of its ledger."""
    srv = start_server()
    dest = tmp_path / "copy.sqlite3"
    with Http(srv.base_url) as api:
        users = [new_user(api, "bk") for _ in range(4)]
    stop = threading.Event()

    def load(user):
        served = 0
        with Http(srv.base_url) as http:
            while not stop.is_set():
                if http.post("/api/chat/", json={"message": "load"}, headers=user.headers).status_code == 200:
                    served += 1
                else:
                    break
        return served

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(load, u) for u in users]
        out = run_ok(server_binary, srv, "backup", str(dest))
        stop.set()
        served = sum(f.result() for f in futures)
    assert "backed up" in out
    assert served > 0
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    verified = run_ok(server_binary, srv, "backup", "--verify", str(dest))
    assert "backup verified" in verified and "balances not equal to their ledger: 0" in verified
    # Checked independently of chatgate too.
    with sqlite3.connect(f"file:{dest}?mode=ro", uri=True) as db:
        bad = db.execute("SELECT count(*) FROM users u WHERE u.tokens <> "
                         "(SELECT coalesce(sum(delta), 0) FROM ledger WHERE user_id = u.id)").fetchone()[0]
        assert bad == 0
    # A second backup onto the same file is refused; a broken one fails verification.
    proc = run_cli(server_binary, srv, "backup", str(dest))
    assert proc.returncode != 0
    tampered = tmp_path / "tampered.sqlite3"
    tampered.write_bytes(dest.read_bytes())
    with sqlite3.connect(str(tampered)) as db:
        db.execute("UPDATE users SET tokens = tokens + 1 WHERE id = (SELECT min(id) FROM users)")
    proc = run_cli(server_binary, srv, "backup", "--verify", str(tampered))
    assert proc.returncode == 1 and "balances not equal to their ledger: 1" in proc.stdout
    with Http(srv.base_url) as api:
        for user in users:
            assert_ledger_consistent(api, user.access)
    # Restored: a server on the copy answers with balances that equal their ledgers.
    restored_dir = tmp_path / "restored"
    restored_dir.mkdir(mode=0o700)
    for name, data in (("chatgate.sqlite3", dest.read_bytes()), ("jwt.key", (srv.data_dir / "jwt.key").read_bytes())):
        (restored_dir / name).write_bytes(data)
        os.chmod(restored_dir / name, 0o600)
    restored = start_server(data_dir=restored_dir, name="restored")
    with Http(restored.base_url) as api:
        for user in users:
            access = login(api, user.username, user.password)["access"]
            assert_ledger_consistent(api, access)
