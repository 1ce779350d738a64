"""The binary's command line: openapi, migrate, createsuperuser, serve start-up/shutdown."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import signal
import stat
import subprocess
import time
from urllib.parse import urlsplit

import pytest

from client import (
    CHAT_COST,
    PASSWORD,
    SIGNUP_GRANT,
    Http,
    assert_ledger_consistent,
    b64url_decode,
    expect,
    get_balance,
    login,
    new_user,
    unique_username,
)
from server_process import ServerStartError, clean_env

CLI_TIMEOUT = 60
DB_SUFFIXES = (".sqlite3", ".sqlite3-wal", ".sqlite3-shm", ".sqlite3-journal")


def run_cli(binary, *args, env=None, cwd=None, timeout=CLI_TIMEOUT):
    return subprocess.run(
        [str(binary), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=clean_env(env),
        cwd=str(cwd) if cwd else None,
        timeout=timeout,
    )


def output_of(proc):
    return f"rc={proc.returncode}\n--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-3000:]}"


# ---- openapi ----------------------------------------------------------------------


def test_openapi_command(server_binary, tmp_path, main_server):
    proc = run_cli(server_binary, "openapi", cwd=tmp_path)
    assert proc.returncode == 0, output_of(proc)
    doc = json.loads(proc.stdout)
    assert doc["openapi"] == "3.1.0"
    for path in ("/api/register/", "/api/login/", "/api/token/refresh/", "/api/chat/",
                 "/api/tokens/", "/api/top-up/", "/api/transactions/"):
        assert path in doc["paths"], path
    # Same document as the server serves.
    with Http(main_server.base_url) as http:
        served = http.get("/api/schema/?format=json").json()
    assert doc == served
    # It needs no data directory.
    assert not (tmp_path / "data").exists()


# ---- migrate ----------------------------------------------------------------------


@pytest.mark.sqlite_only("checks the SQLite file in the data directory")
def test_migrate_fresh_dir_is_idempotent(server_binary, tmp_path, start_server):
    data = tmp_path / "fresh"
    data.mkdir()
    env = {"CHATGATE_DATA_DIR": str(data)}
    first = run_cli(server_binary, "migrate", env=env, cwd=tmp_path)
    assert first.returncode == 0, output_of(first)
    assert (data / "chatgate.sqlite3").is_file(), sorted(os.listdir(data))
    second = run_cli(server_binary, "migrate", env=env, cwd=tmp_path)
    assert second.returncode == 0, output_of(second)
    # The migrated database serves.
    srv = start_server(data_dir=data, name="migrated")
    with Http(srv.base_url) as http:
        user = new_user(http, "mig")
        assert get_balance(http, user.access) == SIGNUP_GRANT
        assert_ledger_consistent(http, user.access)
    assert srv.stop() == 0
    third = run_cli(server_binary, "migrate", env=env, cwd=tmp_path)
    assert third.returncode == 0, output_of(third)
    # Data survived the re-run.
    srv = start_server(data_dir=data, name="migrated-again")
    with Http(srv.base_url) as http:
        tokens = login(http, user.username, user.password)
        assert_ledger_consistent(http, tokens["access"])


@pytest.mark.sqlite_only("database_path is the SQLite file")
def test_database_path_setting(server_binary, tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    db = tmp_path / "elsewhere.db"
    proc = run_cli(server_binary, "migrate",
                   env={"CHATGATE_DATA_DIR": str(data), "CHATGATE_DATABASE_PATH": str(db)}, cwd=tmp_path)
    assert proc.returncode == 0, output_of(proc)
    assert db.is_file()
    assert not (data / "chatgate.sqlite3").exists()


# ---- createsuperuser ----------------------------------------------------------------


def test_createsuperuser_then_login(server_binary, tmp_path, start_server):
    data = tmp_path / "su"
    data.mkdir()
    name = unique_username("admin")
    secret = "Super-Secret-Pass-4417"
    env = {"CHATGATE_DATA_DIR": str(data), "CHATGATE_SUPERUSER_PASSWORD": secret}
    migrated = run_cli(server_binary, "migrate", env=env, cwd=tmp_path)
    assert migrated.returncode == 0, output_of(migrated)
    proc = run_cli(server_binary, "createsuperuser", "--username", name, env=env, cwd=tmp_path)
    assert proc.returncode == 0, output_of(proc)
    assert secret not in proc.stdout + proc.stderr
    again = run_cli(server_binary, "createsuperuser", "--username", name, env=env, cwd=tmp_path)
    assert again.returncode != 0, "a second superuser with the same name was accepted\n" + output_of(again)

    srv = start_server(data_dir=data, name="superuser")
    with Http(srv.base_url) as http:
        tokens = login(http, name, secret)
        get_balance(http, tokens["access"])
        expect(http.post("/api/login/", json={"username": name, "password": PASSWORD}), 401)
        assert_ledger_consistent(http, tokens["access"])


def test_createsuperuser_without_password_does_not_hang(server_binary, tmp_path):
    data = tmp_path / "su2"
    data.mkdir()
    env = {"CHATGATE_DATA_DIR": str(data)}
    run_cli(server_binary, "migrate", env=env, cwd=tmp_path)
    proc = run_cli(server_binary, "createsuperuser", "--username", unique_username("nopw"),
                   env=env, cwd=tmp_path, timeout=30)
    assert proc.returncode != 0, output_of(proc)


# ---- signing key --------------------------------------------------------------------


def key_files(data_dir):
    return [p for p in data_dir.iterdir() if p.is_file() and not p.name.endswith(DB_SUFFIXES)]


def test_generated_jwt_key_is_private_and_survives_restart(start_server):
    data = start_server.new_data_dir("keydir")
    srv = start_server(data_dir=data, name="keygen-1")
    files = key_files(data)
    keyish = [p for p in files if any(w in p.name.lower() for w in ("key", "secret", "jwt"))]
    assert keyish, f"no signing-key file in {sorted(p.name for p in data.iterdir())}"
    for p in keyish:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == 0o600, f"{p.name} has mode {oct(mode)}"
        assert p.stat().st_size >= 32, f"{p.name} is only {p.stat().st_size} bytes"
    contents = {p.name: p.read_bytes() for p in keyish}
    with Http(srv.base_url) as http:
        user = new_user(http, "restart")
        expect(http.post("/api/chat/", json={"message": "before"}, headers=user.headers), 200)
    assert srv.stop() == 0

    srv2 = start_server(data_dir=data, name="keygen-2")
    assert {p.name: p.read_bytes() for p in keyish} == contents, "the key was regenerated"
    with Http(srv2.base_url) as http:
        # Tokens from before the restart still work, and the data is there.
        assert get_balance(http, user.access) == SIGNUP_GRANT - CHAT_COST
        body = expect(http.post("/api/token/refresh/", json={"refresh": user.refresh}), 200)
        assert get_balance(http, body["access"]) == SIGNUP_GRANT - CHAT_COST
        assert_ledger_consistent(http, user.access)


def test_configured_secret_writes_no_key_file(start_server):
    data = start_server.new_data_dir("nokey")
    srv = start_server(data_dir=data, env={"CHATGATE_JWT_SECRET": "s" * 40}, name="secret-env")
    with Http(srv.base_url) as http:
        new_user(http, "nokey")
    keyish = [p for p in key_files(data) if any(w in p.name.lower() for w in ("key", "secret", "jwt"))]
    assert not keyish, keyish


def test_jwt_secret_file(start_server, tmp_path):
    secret_file = tmp_path / "jwt.secret"
    secret_file.write_text("f" * 48)
    secret_file.chmod(0o600)
    srv = start_server(env={"CHATGATE_JWT_SECRET_FILE": str(secret_file)}, name="secret-file")
    with Http(srv.base_url) as http:
        user = new_user(http, "sf")
        head, payload, sig = user.access.split(".")
        expected = hmac.new(b"f" * 48, f"{head}.{payload}".encode(), hashlib.sha256).digest()
        assert b64url_decode(sig) == expected
        assert_ledger_consistent(http, user.access)


# ---- signals ------------------------------------------------------------------------


def test_sigint_exits_zero(start_server):
    srv = start_server(name="sigint")
    with Http(srv.base_url) as http:
        expect(http.get("/healthz"), 200)
    assert srv.stop(sig=signal.SIGINT) == 0, srv.stderr_tail()


def test_sigterm_with_idle_keep_alive_connection_is_prompt(start_server):
    srv = start_server(name="idle-conn")
    parts = urlsplit(srv.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        r.read()
        assert r.status == 200
        started = time.monotonic()
        rc = srv.stop()
        elapsed = time.monotonic() - started
    finally:
        conn.close()
    assert rc == 0, srv.stderr_tail()
    assert elapsed < 5, f"shutdown took {elapsed:.1f}s with one idle keep-alive connection"


# ---- configuration ------------------------------------------------------------------


def expect_startup_failure(srv, key=None):
    """Spawn a server that must refuse to start; returns its output."""
    srv.spawn()
    try:
        srv.wait_listening(timeout=20)
    except ServerStartError:
        pass
    else:
        srv.stop()
        pytest.fail(f"started despite a bad {key or 'setting'}\n{srv.output()[-2000:]}")
    if srv.returncode is None:  # no output and still running
        srv.kill()
        pytest.fail(f"neither started nor exited within 20s ({key})\n{srv.output()[-2000:]}")
    out = srv.output()
    assert srv.returncode != 0, f"exit code 0 despite a bad {key}\n{out[-2000:]}"
    if key:
        assert key.lower() in out.lower(), f"the error does not name {key}:\n{out[-2000:]}"
    return out


@pytest.mark.parametrize(
    "env, key",
    [
        ({"CHATGATE_CHAT_COST_TOKENS": "abc"}, "chat_cost_tokens"),
        ({"CHATGATE_SIGNUP_GRANT_TOKENS": "1.5"}, "signup_grant_tokens"),
        ({"CHATGATE_TOP_UP_ENABLED": "maybe"}, "top_up_enabled"),
        ({"CHATGATE_MAX_BODY_BYTES": "ten"}, "max_body_bytes"),
        ({"CHATGATE_PAGE_SIZE": "-3"}, "page_size"),
        ({"CHATGATE_LOG_LEVEL": "loud"}, "log_level"),
        ({"CHATGATE_JWT_SECRET": "too-short"}, "jwt_secret"),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else None,
)
def test_bad_config_value_names_the_key(start_server, env, key):
    expect_startup_failure(start_server.create(env=env, name="bad-config"), key)


def test_bad_config_file_value_names_the_key(start_server):
    srv = start_server.create(config={"signup_grant_tokens": "lots"}, name="bad-file")
    expect_startup_failure(srv, "signup_grant_tokens")


def test_short_secret_is_not_echoed(start_server):
    secret = "tooShortSecretXYZ"
    out = expect_startup_failure(start_server.create(env={"CHATGATE_JWT_SECRET": secret}, name="short"),
                                 "jwt_secret")
    assert secret not in out


def test_malformed_config_file_fails(start_server, tmp_path):
    cfg = tmp_path / "broken.json"
    cfg.write_text("{ not json")
    expect_startup_failure(start_server.create(args=["--config", str(cfg)], name="broken-file"))


def test_address_in_use_exits_non_zero(start_server):
    first = start_server(name="holder")
    taken = urlsplit(first.base_url).netloc
    expect_startup_failure(start_server.create(listen=taken, name="clash"))
    with Http(first.base_url) as http:
        expect(http.get("/healthz"), 200)


def test_precedence_env_over_file_over_default(start_server):
    srv = start_server(
        config={"chat_cost_tokens": 300, "signup_grant_tokens": 1000},
        env={"CHATGATE_CHAT_COST_TOKENS": "200"},
        name="precedence",
    )
    with Http(srv.base_url) as http:
        user = new_user(http, "prec")
        assert get_balance(http, user.access) == 1000  # file beats the default
        body = expect(http.post("/api/chat/", json={"message": "x"}, headers=user.headers), 200)
        assert body["remaining_tokens"] == 800  # env beats the file
        assert_ledger_consistent(http, user.access)


@pytest.mark.sqlite_only("checks where the SQLite file lands")
def test_precedence_cli_over_env(start_server, tmp_path):
    env_dir = tmp_path / "from-env"
    cli_dir = start_server.new_data_dir("from-cli")
    srv = start_server(data_dir=cli_dir, env={"CHATGATE_DATA_DIR": str(env_dir)}, name="cli-wins")
    with Http(srv.base_url) as http:
        user = new_user(http, "cli")
        assert_ledger_consistent(http, user.access)
    assert (cli_dir / "chatgate.sqlite3").is_file()
    assert not (env_dir / "chatgate.sqlite3").exists()


def test_unknown_subcommand_fails(server_binary, tmp_path):
    proc = run_cli(server_binary, "frobnicate", cwd=tmp_path, timeout=30)
    assert proc.returncode != 0, output_of(proc)


# ---- logs ---------------------------------------------------------------------------


def test_logs_are_json_lines_without_secrets(start_server):
    secret = "L" * 20 + "-log-secret-" + "Q" * 20
    srv = start_server(env={"CHATGATE_JWT_SECRET": secret}, name="logs")
    message = "a very private chat message 7d1e"
    with Http(srv.base_url) as http:
        user = new_user(http, "logs", password="Private-Pass-8830")
        expect(http.post("/api/chat/", json={"message": message}, headers=user.headers), 200)
        expect(http.get("/api/tokens/", headers=user.headers), 200)
        expect(http.get("/api/tokens/", headers={"X-Request-Id": "log-probe-1", **user.headers}), 200)
        assert_ledger_consistent(http, user.access)
    assert srv.stop() == 0
    lines = [line for line in srv.stderr_lines() if line.strip()]
    assert lines, "no log lines on stderr"
    for line in lines:
        json.loads(line)  # every stderr line is a JSON object
    text = "\n".join(lines)
    for leaked in (secret, "Private-Pass-8830", user.access, user.refresh, message):
        assert leaked not in text, f"log contains a secret/sensitive value: {leaked[:20]}..."
    assert "log-probe-1" in text, "the request id does not appear in the access log"
