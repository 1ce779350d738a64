"""A full disk: writes answer 503 with Retry-After (never 500), /readyz reports not ready, and
both recover by themselves once space returns; the ledger stays whole throughout.

Needs root (it mounts a small tmpfs for the data directory); skipped otherwise.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from client import Http, assert_ledger_consistent, describe, get_balance, new_user

DISK_BYTES = 3 * 1024 * 1024


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(disk)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk) -> os.PathLike:
    filler = disk / "filler"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


def wait_ready(http, want: int, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while True:
        status = http.get("/readyz").status_code
        if status == want:
            return
        assert time.monotonic() < deadline, f"/readyz stayed {status}, wanted {want}"
        time.sleep(0.2)


@pytest.mark.sqlite_only("a full tmpfs under the SQLite file")
def test_a_full_disk_is_503_and_not_ready_and_recovers(start_server, small_disk):
    srv = start_server(data_dir=small_disk / "data", name="small-disk")
    with Http(srv.base_url) as http:
        user = new_user(http, "disk")

        assert http.get("/readyz").status_code == 200
        filler = fill(small_disk)
        wait_ready(http, 503)
        # Write until the database cannot grow: every answer is a success or a clear 503.
        refused = None
        for _ in range(5000):
            r = http.post("/api/chat/", json={"message": "m" * 4000}, headers=user.headers)
            if r.status_code == 503:
                refused = r
                break
            assert r.status_code in (200, 403), describe(r)  # 403: the balance ran out
            if r.status_code == 403:
                r = http.post("/api/top-up/", json={"tokens": 1000}, headers=user.headers)
                if r.status_code == 503:
                    refused = r
                    break
                assert r.status_code == 200, describe(r)
        assert refused is not None, "the disk never filled"
        assert int(refused.headers["Retry-After"]) > 0
        assert "disk is full" in refused.text, describe(refused)
        r = http.post("/api/top-up/", json={"tokens": 5}, headers=user.headers)
        assert r.status_code == 503, describe(r)
        # Reads still work, and the ledger is whole.
        assert_ledger_consistent(http, user.access)

        filler.unlink()
        wait_ready(http, 200)
        before = get_balance(http, user.access)
        r = http.post("/api/top-up/", json={"tokens": 7}, headers=user.headers)
        assert r.status_code == 200, describe(r)
        assert get_balance(http, user.access) == before + 7
        r = http.post("/api/login/", json={"username": user.username, "password": user.password})
        assert r.status_code == 200, describe(r)
        assert_ledger_consistent(http, user.access)
