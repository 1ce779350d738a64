"""Password hashing under a login flood, and its parameters: the hashing queue serves client
addresses in turn and lets addresses without recent failed logins go first, so a flood of wrong
logins from many addresses cannot make a real user's login wait or fail; new hashes use the
configured Argon2id parameters and old ones are replaced at the next successful login.

The servers trust 127.0.0.1 as a reverse proxy, so the flood plays its 200 addresses with
X-Forwarded-For. No sleeps: the flood's progress is waited on with a condition and a deadline.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from client import PASSWORD, Http, assert_ledger_consistent, describe, login, new_user, unique_username

FLOOD_ADDRESSES = 200
FLOOD_THREADS = 100


def flood_address(n: int) -> str:
    return f"203.0.{n // 250}.{n % 250 + 1}"


class Flood:
    """FLOOD_THREADS clients sending wrong logins, each from two of FLOOD_ADDRESSES addresses in
    turn, until stopped; counts the answers by status."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.stop = threading.Event()
        self.changed = threading.Condition()
        self.statuses: dict[int, int] = {}
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(FLOOD_THREADS)]

    def run(self, index: int):
        with Http(self.base_url) as http:
            for n in range(1_000_000):
                if self.stop.is_set():
                    return
                address = flood_address(index + (n % 2) * FLOOD_THREADS)
                body = {"username": unique_username("nobody"), "password": "Wrong-Guess-42"}
                try:
                    status = http.post("/api/login/", json=body, headers={"X-Forwarded-For": address}).status_code
                except Exception:  # the server under test is the subject, not the flood
                    status = 0
                with self.changed:
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                    self.changed.notify_all()

    def answers(self) -> int:
        return sum(self.statuses.values())

    def wait_for(self, answers: int, limit: float = 60.0):
        deadline = time.monotonic() + limit
        with self.changed:
            while self.answers() < answers:
                left = deadline - time.monotonic()
                assert left > 0, f"the flood got only {self.statuses} within {limit}s"
                self.changed.wait(left)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)


@pytest.fixture(scope="module")
def flooded(module_server_factory):
    return module_server_factory.start(
        env={
            "CHATGATE_RATE_LIMIT_ENABLED": "true",
            "CHATGATE_RATE_LIMITS": "login=off",
            "CHATGATE_TRUSTED_PROXIES": "127.0.0.1",
            "CHATGATE_HASH_THREADS": "1",
            "CHATGATE_HASH_QUEUE_LIMIT": "16",
            # Cheap hashes make a quick test; the queue still fills, as 100 clients keep it busy.
            "CHATGATE_PASSWORD_HASH_ITERATIONS": "1",
            "CHATGATE_PASSWORD_HASH_MEMORY_KIB": "2048",
        },
        name="flooded",
    )


def test_a_real_login_passes_a_flood_of_wrong_ones(flooded):
    with Http(flooded.base_url) as http:
        http.headers["X-Forwarded-For"] = "192.0.2.10"
        user = new_user(http, "flood")
        with Flood(flooded.base_url) as flood:
            # Every flooding address has failed at least once: they wait behind the real user.
            flood.wait_for(4 * FLOOD_ADDRESSES)
            latencies = []
            for _ in range(5):
                started = time.monotonic()
                r = http.post("/api/login/", json={"username": user.username, "password": user.password})
                latencies.append(time.monotonic() - started)
                assert r.status_code == 200, describe(r)
            flood.wait_for(flood.answers() + FLOOD_THREADS)  # still flooding meanwhile
            statuses = dict(flood.statuses)
        print(f"\nreal logins during the flood: {[round(t * 1000) for t in latencies]} ms; flood answers {statuses}")
        assert statuses.get(401, 0) > 0
        assert max(latencies) < 2.0, latencies
        assert_ledger_consistent(http, user.access)


def stored_hash(server, username: str) -> str:
    db = sqlite3.connect(f"file:{server.data_dir / 'chatgate.sqlite3'}?mode=ro", uri=True)
    try:
        (value,) = db.execute("SELECT password_hash FROM users WHERE username = ?", (username,)).fetchone()
        return value
    finally:
        db.close()


@pytest.mark.sqlite_only("reads hashes from the SQLite file")
def test_hashes_use_the_configured_parameters_and_are_replaced_at_login(start_server, tmp_path):
    data_dir = tmp_path / "data"
    cheap = {"CHATGATE_PASSWORD_HASH_ITERATIONS": "1", "CHATGATE_PASSWORD_HASH_MEMORY_KIB": "8192"}
    srv = start_server(env=cheap, data_dir=data_dir, name="cheap-hashes")
    with Http(srv.base_url) as http:
        user = new_user(http, "rehash")
    assert stored_hash(srv, user.username).startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    assert srv.stop() == 0

    srv = start_server(data_dir=data_dir, name="default-hashes")
    with Http(srv.base_url) as http:
        login(http, user.username, user.password)  # verified by its own parameters
        upgraded = stored_hash(srv, user.username)
        assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$"), upgraded
        tokens = login(http, user.username, user.password)  # the new hash verifies too
        assert stored_hash(srv, user.username) == upgraded  # and is kept
        # The rehash revoked nothing: the session from before it still works.
        assert http.get("/api/tokens/", headers=user.headers).status_code == 200
        r = http.post("/api/login/", json={"username": user.username, "password": PASSWORD + "x"})
        assert r.status_code == 401
        assert_ledger_consistent(http, tokens["access"])
