"""No password, token, signing key or Authorization header value ever reaches the log.

One server at debug level (the most talkative) with rate limits on, driven through every path
that handles a secret: sign-up, login (right, wrong, locked out), refresh, chat, bad and
malformed Authorization headers, tokens in the query string, and requests the transport
refuses; then its whole output is searched for each secret.
"""

from __future__ import annotations

import base64
import os
import socket
import stat
from urllib.parse import urlsplit

import pytest

from client import Http, assert_ledger_consistent, bearer, expect, new_user

WRONG_PASSWORD = "Wrong-Secret-Pass-4471"
FORGED_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJmb3JnZWQiOiJzZWNyZXQtNTUxMiJ9.Zm9yZ2VkLXNpZ25hdHVyZS0xMjM0"


def raw_request(base_url: str, data: bytes) -> bytes:
    """Sends bytes as they are (for requests no HTTP library would write); returns the answer."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_no_secret_appears_in_any_log_line(start_server):
    srv = start_server(
        env={
            "CHATGATE_LOG_LEVEL": "debug",
            "CHATGATE_RATE_LIMIT_ENABLED": "true",
            "CHATGATE_RATE_LIMITS": "failed_login_user=1/15m",
            "CHATGATE_TRUSTED_PROXIES": "127.0.0.1",
        },
        name="secrets",
    )
    password = "Private-Secret-Pass-8830"
    with Http(srv.base_url) as http:
        user = new_user(http, "secret", password=password)
        # Refresh, chat, balance: the happy paths.
        refreshed = expect(http.post("/api/token/refresh/", json={"refresh": user.refresh}), 200)
        expect(http.post("/api/chat/", json={"message": "hello"}, headers=user.headers), 200)
        # A failed login, then the lockout answering the right password.
        expect(http.post("/api/login/", json={"username": user.username, "password": WRONG_PASSWORD}), 401)
        expect(http.post("/api/login/", json={"username": user.username, "password": password}), 429)
        # Form bodies carry the password too.
        http.post("/api/login/", data={"username": user.username, "password": password})
        # Bad credentials of every shape.
        basic = base64.b64encode(f"{user.username}:{password}".encode()).decode()
        for value in (f"Basic {basic}", f"Bearer {FORGED_TOKEN}", f"Bearer {user.access} extra",
                      f"Token {user.access}", f"Bearer {user.refresh}", user.access):
            r = http.get("/api/tokens/", headers={"Authorization": value})
            assert r.status_code == 401, (value[:12], r.status_code)
        # Tokens in the query string (never a place for them, but clients do it).
        http.get(f"/api/tokens/?token={user.access}&access_token={refreshed['access']}", headers=user.headers)
        http.get(f"/api/nowhere/?password={password}&token={user.refresh}")
        # Requests the transport refuses before the api layer sees them.
        raw_request(srv.base_url, (
            f"GET /api/tokens/?token={user.access} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {user.access}\r\nBroken header line\r\n\r\n").encode())
        raw_request(srv.base_url, (
            f"GET /api/tokens/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {user.access}\r\n"
            f"X-Filler: {'f' * 40000}\r\n\r\n").encode())
        expect(http.get("/api/tokens/", headers=bearer(refreshed["access"])), 200)
        # An API key: created, used on /api and /v1, refused with a wrong secret, revoked.
        created = expect(http.post("/api/keys/", json={"name": "log"}, headers=bearer(refreshed["access"])), 201)
        api_key = created["key"]
        expect(http.get("/api/tokens/", headers=bearer(api_key)), 200)
        expect(http.get("/v1/models", headers=bearer(api_key)), 200)
        expect(http.get("/api/tokens/", headers=bearer(api_key[:-3] + "xyz")), 401)
        expect(http.delete(f"/api/keys/{created['id']}/", headers=bearer(refreshed["access"])), 204)
        expect(http.get("/api/tokens/", headers=bearer(api_key)), 401)
        assert_ledger_consistent(http, user.access)

    key_file = srv.data_dir / "jwt.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600, "the generated key file is private"
    signing_key = key_file.read_text().strip()

    assert srv.stop() == 0
    output = srv.output()
    assert '"level":"info","msg":"request"' in output, "the access log ran (the search saw it)"
    assert len(srv.stderr_lines()) < 300, "the whole log was kept for the search"
    secrets = {
        "password": password,
        "wrong password": WRONG_PASSWORD,
        "basic credentials": basic,
        "access token": user.access,
        "refresh token": user.refresh,
        "refreshed access token": refreshed["access"],
        "forged token": FORGED_TOKEN,
        "signing key": signing_key,
        "API key": api_key,
        "API key secret": api_key[-43:],
    }
    for what, secret in secrets.items():
        assert secret not in output, f"the log contains the {what}"
        # Signatures alone are secrets' fingerprints too.
        if secret.count(".") == 2:
            assert secret.rsplit(".", 1)[1] not in output, f"the log contains the {what}'s signature"


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


DB_FILES = ("chatgate.sqlite3", "chatgate.sqlite3-wal", "chatgate.sqlite3-shm")


@pytest.mark.sqlite_only("the modes of the SQLite files")
def test_the_data_directory_and_its_files_are_private(start_server):
    # A database directory the server creates itself (the fixtures make the data directory).
    srv = start_server(env={"CHATGATE_DATABASE_PATH": "db/chatgate.sqlite3"}, name="private")
    db_dir = srv.data_dir.parent / "db"
    with Http(srv.base_url) as http:
        new_user(http, "private")  # writes: the -wal and -shm files exist now
        assert mode(db_dir) == 0o700
        for name in DB_FILES:
            assert mode(db_dir / name) == 0o600, name
        assert mode(srv.data_dir / "jwt.key") == 0o600


@pytest.mark.sqlite_only("the modes of the SQLite files")
def test_an_open_data_directory_is_warned_about_and_its_files_are_made_private(start_server):
    srv = start_server(name="opened")
    with Http(srv.base_url) as http:
        new_user(http, "opened")
    assert srv.stop() == 0
    os.chmod(srv.data_dir, 0o755)
    for path in srv.data_dir.iterdir():
        os.chmod(path, 0o644)
    again = start_server(data_dir=srv.data_dir, name="reopened")
    with Http(again.base_url) as http:
        user = new_user(http, "reopened")
        for name in DB_FILES + ("jwt.key",):
            assert mode(again.data_dir / name) == 0o600, name
        assert_ledger_consistent(http, user.access)
    assert again.stop() == 0
    assert "data directory is open to other users" in again.stderr_tail(400)
