"""Fixtures for the fake OpenAI-compatible upstream (tests/fake_upstream/fake_openai.py).

``fake_upstream`` runs one fake per test module (own process, port 0, stopped by PID with
SIGTERM); ``chatgate_with_model(upstream_model, ...)`` starts a chatgate whose only model
is an ``openai`` model pointing at it.  Tests tell their cases apart by unique model names
(``flaky:2:<tag>``), so counters and ``stats()`` never mix between tests.
"""

from __future__ import annotations

import pathlib
import queue
import signal
import subprocess
import sys
import threading
import uuid

import pytest
import requests
import urllib3

FAKE = pathlib.Path(__file__).resolve().parents[1] / "fake_upstream" / "fake_openai.py"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


class FakeUpstream:
    """The fake upstream process; ``url`` is its base URL (no /v1)."""

    def __init__(self, extra_args=()):
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen | None = None
        self.url: str | None = None

    def start(self):
        self.proc = subprocess.Popen(
            [sys.executable, str(FAKE), "--port", "0", *self.extra_args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        lines: queue.Queue = queue.Queue()

        def drain():
            for raw in iter(self.proc.stdout.readline, b""):
                lines.put(raw.decode("utf-8", "replace").strip())
            lines.put(None)

        threading.Thread(target=drain, daemon=True).start()
        try:
            line = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            line = None
        if not line or not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"fake upstream did not start: {line!r}")
        self.url = line.removeprefix("listening on ")
        return self

    def stop(self) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)
            raise

    def stats(self) -> dict:
        # The TLS fake's certificate is self-signed; only chatgate is meant to check it.
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        r = requests.get(self.url + "/_stats", timeout=10, verify=False)
        r.raise_for_status()
        return r.json()

    def requests_for(self, model: str) -> int:
        return self.stats()["requests"].get(model, 0)

    def last_body(self, model: str) -> dict | None:
        return self.stats()["last_body"].get(model)


def unique(behaviour: str, arg: str = "") -> str:
    """A model name with this behaviour, unique to the caller (``flaky:2:1a2b3c``)."""
    return f"{behaviour}:{arg}:{uuid.uuid4().hex[:8]}"


def model_entry(base_url: str, upstream_model: str, **overrides) -> dict:
    """One ``models`` entry for an openai model at ``base_url`` (+/v1), short deadlines."""
    entry = {
        "id": "fake",
        "provider": "openai",
        "base_url": base_url + "/v1",
        "upstream_model": upstream_model,
        "max_completion_tokens": 256,
        "timeouts_ms": {"connect": 2000, "first_byte": 5000, "idle": 5000, "total": 20000},
        "max_retries": 2,
    }
    entry.update(overrides)
    return entry


@pytest.fixture(scope="module")
def fake_upstream():
    fake = FakeUpstream().start()
    yield fake
    assert fake.stop() == 0, "fake upstream did not exit cleanly"


@pytest.fixture
def chatgate_with_model(start_server, fake_upstream):
    """``chatgate_with_model(upstream_model, env=None, base_url=None, **entry_overrides)``:
    a running chatgate whose default (only) model goes to the fake upstream."""

    def _start(upstream_model, env=None, base_url=None, **overrides):
        entry = model_entry(base_url or fake_upstream.url, upstream_model, **overrides)
        return start_server(config={"models": [entry]}, env=env)

    return _start
