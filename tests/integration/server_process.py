"""The chatgate process wrapper used by the fixtures (and by test_cli.py).

Readiness is detected from the one stdout line ``listening on http://HOST:PORT``
(read by a thread into a queue, waited on with a deadline), then /healthz is
polled with a deadline.  stderr is drained by a thread into a bounded tail so the
pipe never fills.  Only the process started here is ever signalled, by its PID.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import pathlib
import queue
import re
import signal
import subprocess
import threading
import time

import requests

from client import Http

START_TIMEOUT = 20.0  # seconds until "listening on ..." must appear
HEALTH_TIMEOUT = 10.0  # seconds until /healthz must answer 200
STOP_TIMEOUT = 20.0  # seconds for a graceful exit after SIGTERM/SIGINT

LISTENING_RE = re.compile(r"^listening on (http://\S+?)/?\s*$")

# The suite signs up and logs in from one address far more often than any real client, so its
# servers run without rate limits unless a test sets this itself (test_rate_limit.py does).
SUITE_ENV = {"CHATGATE_RATE_LIMIT_ENABLED": "false"}

# Servers that are currently running; conftest puts their stderr tails into failure reports.
LIVE_SERVERS: list["ServerProcess"] = []


# The PostgreSQL run (ctest's integration_postgresql, or --database-url): a libpq URL of the
# test server's `postgres` database. Every data directory then gets a database of its own on
# it, so a server restarted on its data directory finds its data again and servers of
# different data directories never share one (their start-up recovery would meet).
DATABASE_ADMIN_URL: str | None = os.environ.get("CHATGATE_TEST_DATABASE_URL") or None
_CREATED_DATABASES: set[str] = set()
PSQL = "/usr/lib/postgresql/15/bin/psql"


def postgresql_run() -> bool:
    return DATABASE_ADMIN_URL is not None


def database_url_for(data_dir) -> str:
    """The URL of the data directory's PostgreSQL database, created on first use."""
    digest = hashlib.sha1(str(pathlib.Path(data_dir).resolve()).encode()).hexdigest()[:24]
    name = f"it_{digest}"
    url = DATABASE_ADMIN_URL.replace("/postgres", "/" + name, 1)
    if name not in _CREATED_DATABASES:
        psql = PSQL if os.path.exists(PSQL) else "psql"
        made = subprocess.run([psql, "-X", "-q", DATABASE_ADMIN_URL, "-c", f"CREATE DATABASE {name}"],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        if made.returncode != 0 and "already exists" not in made.stderr:
            raise RuntimeError(f"cannot create test database {name}: {made.stderr}")
        _CREATED_DATABASES.add(name)
    return url


def clean_env(extra: dict | None = None, data_dir=None) -> dict:
    """The environment for a child process: no inherited CHATGATE_* settings. In the PostgreSQL
    run, the database of `data_dir` (or of CHATGATE_DATA_DIR in `extra`) unless `extra` names
    one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATGATE_")}
    for key, value in (extra or {}).items():
        env[key] = str(value)
    data_dir = data_dir or env.get("CHATGATE_DATA_DIR")
    if postgresql_run() and data_dir and "CHATGATE_DATABASE_URL" not in env:
        env["CHATGATE_DATABASE_URL"] = database_url_for(data_dir)
    return env


class ServerStartError(RuntimeError):
    pass


class ServerProcess:
    """One chatgate ``serve`` process on an ephemeral port."""

    def __init__(self, binary, data_dir, env=None, config=None, args=None, name="chatgate",
                 listen="127.0.0.1:0"):
        self.binary = str(binary)
        self.listen = listen
        self.data_dir = pathlib.Path(data_dir)
        self.env_extra = {**SUITE_ENV, **(env or {})}
        self.config = config
        self.extra_args = list(args or [])
        self.name = name
        self.proc: subprocess.Popen | None = None
        self.base_url: str | None = None
        self.returncode: int | None = None
        self.died_before_stop = False
        self.stdout_lines: list[str] = []
        self._stdout_q: queue.Queue = queue.Queue()
        self._stderr_tail: collections.deque = collections.deque(maxlen=400)
        self._threads: list[threading.Thread] = []
        self._output_changed = threading.Condition()

    # ---- process management -------------------------------------------------

    def command(self) -> list[str]:
        cmd = [self.binary, "serve", "--listen", self.listen, "--data-dir", str(self.data_dir)]
        if self.config is not None:
            cfg_path = self.data_dir.parent / f"{self.data_dir.name}-config.json"
            cfg_path.write_text(json.dumps(self.config))
            cmd += ["--config", str(cfg_path)]
        return cmd + self.extra_args

    def spawn(self):
        """Start the process and the pipe-draining threads; do not wait for readiness."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=clean_env(self.env_extra, self.data_dir),
            cwd=str(self.data_dir.parent),
        )
        out = threading.Thread(target=self._drain_stdout, daemon=True)
        err = threading.Thread(target=self._drain_stderr, daemon=True)
        out.start()
        err.start()
        self._threads = [out, err]
        LIVE_SERVERS.append(self)
        return self

    def _drain_stdout(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self._output_changed:
                self.stdout_lines.append(line)
                self._output_changed.notify_all()
            self._stdout_q.put(line)
        self._stdout_q.put(None)  # EOF

    def _drain_stderr(self):
        for raw in iter(self.proc.stderr.readline, b""):
            with self._output_changed:
                self._stderr_tail.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
                self._output_changed.notify_all()

    def wait_listening(self, timeout=START_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ServerStartError(
                    f"{self.name}: no 'listening on' line within {timeout}s\n" + self.stderr_tail()
                )
            try:
                line = self._stdout_q.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                rc = self._wait_exit(STOP_TIMEOUT)
                raise ServerStartError(
                    f"{self.name}: exited (rc={rc}) before listening\n" + self.stderr_tail()
                )
            m = LISTENING_RE.match(line.strip())
            if m:
                self.base_url = m.group(1)
                return self.base_url

    def wait_healthy(self, timeout=HEALTH_TIMEOUT):
        deadline = time.monotonic() + timeout
        last_error = None
        with Http(self.base_url) as http:
            while time.monotonic() < deadline:
                try:
                    r = http.get("/healthz", timeout=2)
                    if r.status_code == 200:
                        return
                    last_error = f"status {r.status_code}: {r.text[:200]}"
                except requests.RequestException as exc:  # not accepting yet
                    last_error = repr(exc)
                # Back off by waiting on the process itself: returns early if it dies.
                try:
                    self.proc.wait(timeout=0.05)
                except subprocess.TimeoutExpired:
                    continue
                raise ServerStartError(
                    f"{self.name}: exited (rc={self.proc.returncode}) while waiting for /healthz\n"
                    + self.stderr_tail()
                )
        raise ServerStartError(
            f"{self.name}: /healthz not ready within {timeout}s ({last_error})\n" + self.stderr_tail()
        )

    def start(self):
        self.spawn()
        try:
            self.wait_listening()
            self.wait_healthy()
        except BaseException:
            self.kill()
            raise
        return self

    def _wait_exit(self, timeout) -> int:
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.returncode = self.proc.wait(timeout=timeout)
            raise
        finally:
            self._forget()
        for t in self._threads:
            t.join(timeout=5)
        return self.returncode

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT) -> int:
        """Signal the process we started (by PID) and wait for it; returns the exit code.

        Raises subprocess.TimeoutExpired (after killing it) if it does not exit in time."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        else:
            self.died_before_stop = True
        return self._wait_exit(timeout)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        self._forget()

    def wait_exit(self, timeout=START_TIMEOUT) -> int:
        """Wait for a process expected to exit by itself (e.g. a startup error)."""
        return self._wait_exit(timeout)

    def _forget(self):
        if self in LIVE_SERVERS:
            LIVE_SERVERS.remove(self)

    # ---- diagnostics --------------------------------------------------------

    def stderr_lines(self) -> list[str]:
        return list(self._stderr_tail)

    def stderr_tail(self, n=40) -> str:
        lines = list(self._stderr_tail)[-n:]
        return f"--- {self.name} stderr (last {len(lines)} lines) ---\n" + "\n".join(lines)

    def state(self) -> str:
        """'running', or how the process ended (for failure reports)."""
        if self.proc is None:
            return "not started"
        rc = self.proc.poll()
        if rc is None:
            return "running"
        if rc < 0:
            return f"died from signal {-rc} ({signal.Signals(-rc).name})"
        return f"exited with {rc}"

    def output(self) -> str:
        return "\n".join(self.stdout_lines + self.stderr_lines())

    def wait_for_output(self, text: str, timeout=START_TIMEOUT) -> bool:
        """True once `text` appears in the server's output; the log is written by a background
        thread, so a line about a request can arrive after its answer."""
        with self._output_changed:
            return self._output_changed.wait_for(lambda: text in self.output(), timeout=timeout)


class ServerFactory:
    """Starts extra servers, each with its own data directory."""

    def __init__(self, binary, tmp_path_factory):
        self.binary = binary
        self.tmp_path_factory = tmp_path_factory
        self.started: list[ServerProcess] = []

    def new_data_dir(self, name="data") -> pathlib.Path:
        return self.tmp_path_factory.mktemp("srv") / name

    def create(self, env=None, config=None, args=None, data_dir=None, name="extra",
               listen="127.0.0.1:0") -> ServerProcess:
        """A ServerProcess that is not yet spawned (for tests of start-up behaviour)."""
        srv = ServerProcess(
            self.binary,
            data_dir or self.new_data_dir(),
            env=env,
            config=config,
            args=args,
            name=name,
            listen=listen,
        )
        self.started.append(srv)
        return srv

    def start(self, env=None, config=None, args=None, data_dir=None, name="extra") -> ServerProcess:
        return self.create(env=env, config=config, args=args, data_dir=data_dir, name=name).start()

    def stop_all(self) -> list[str]:
        """Stop every server still running; returns a list of problems."""
        problems = []
        for srv in self.started:
            if srv.proc is None or srv.returncode is not None:
                continue
            if srv.proc.poll() is not None:
                rc = srv._wait_exit(STOP_TIMEOUT)
                problems.append(f"{srv.name} exited by itself with {rc} during the test\n{srv.stderr_tail()}")
                continue
            try:
                rc = srv.stop()
            except subprocess.TimeoutExpired:
                problems.append(f"{srv.name} did not exit within {STOP_TIMEOUT}s of SIGTERM")
                continue
            if rc != 0:
                problems.append(f"{srv.name} exited with {rc} after SIGTERM\n{srv.stderr_tail()}")
        self.started.clear()
        return problems
