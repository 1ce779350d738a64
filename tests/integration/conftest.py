"""Fixtures that run the real chatgate binary for the black-box suite.

The suite talks HTTP only, so it can also target any deployment with
``--base-url URL``; then no binary is started and the tests that need a server
with special configuration (or the binary itself) are skipped.

House rules: no fixed ports (``--listen 127.0.0.1:0`` and the printed line), no
sleeps for synchronisation (queues and process waits with deadlines), and the
only process ever signalled is one this suite started, by its PID.
"""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest

import server_process
from client import Http
from server_process import LIVE_SERVERS, STOP_TIMEOUT, ServerFactory, ServerProcess

pytest_plugins = ["fake_upstream"]  # the fake OpenAI upstream and its fixtures

# Problems seen when stopping the session's or a module's servers; they fail the run.
_SHUTDOWN_PROBLEMS: list[str] = []

REPO = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_BINARY = REPO / "build" / "chatgate"


def pytest_addoption(parser):
    group = parser.getgroup("chatgate")
    group.addoption(
        "--server",
        action="store",
        default=str(DEFAULT_BINARY),
        help="path to the chatgate binary (default: <repo>/build/chatgate)",
    )
    group.addoption(
        "--base-url",
        action="store",
        default=None,
        help="run against this deployment instead of starting the binary; "
        "tests that need their own server are skipped",
    )
    group.addoption(
        "--database-url",
        action="store",
        default=None,
        help="libpq URL of a PostgreSQL server's `postgres` database: every server the tests "
        "start uses a fresh database there (default: $CHATGATE_TEST_DATABASE_URL, else SQLite)",
    )


def pytest_configure(config):
    url = config.getoption("--database-url")
    if url:
        server_process.DATABASE_ADMIN_URL = url


def pytest_collection_modifyitems(config, items):
    if not server_process.postgresql_run():
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker:
            reason = marker.args[0] if marker.args else "about the SQLite store"
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


# ---- options -----------------------------------------------------------------


@pytest.fixture(scope="session")
def base_url_option(pytestconfig):
    url = pytestconfig.getoption("--base-url")
    return url.rstrip("/") if url else None


@pytest.fixture(scope="session")
def server_binary(pytestconfig, base_url_option):
    """Absolute path of the binary; skips the test under --base-url."""
    if base_url_option:
        pytest.skip("needs its own chatgate process; not available with --base-url")
    path = pathlib.Path(os.path.abspath(pytestconfig.getoption("--server")))
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"chatgate binary not found or not executable: {path} (build it, or pass --server/--base-url)")
    return path


# ---- the shared server ----------------------------------------------------------


@pytest.fixture(scope="session")
def main_server(pytestconfig, base_url_option, tmp_path_factory):
    """The session's server process (None under --base-url)."""
    if base_url_option:
        yield None
        return
    path = pathlib.Path(os.path.abspath(pytestconfig.getoption("--server")))
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"chatgate binary not found or not executable: {path} (build it, or pass --server/--base-url)")
    srv = ServerProcess(path, tmp_path_factory.mktemp("main") / "data", name="main")
    srv.start()
    yield srv
    # Reported by pytest_sessionfinish/pytest_terminal_summary below, so that it also
    # shows cleanly with -x (a session fixture's teardown runs after the last test).
    try:
        rc = srv.stop()
    except subprocess.TimeoutExpired:
        _SHUTDOWN_PROBLEMS.append(f"main server did not exit within {STOP_TIMEOUT}s of SIGTERM\n{srv.stderr_tail()}")
        return
    if rc != 0:
        when = "before the end of the session" if srv.died_before_stop else "after SIGTERM"
        _SHUTDOWN_PROBLEMS.append(f"main server exited with {rc} {when} (expected 0 after SIGTERM)\n{srv.stderr_tail()}")


@pytest.fixture(scope="session")
def base_url(base_url_option, main_server) -> str:
    return base_url_option or main_server.base_url


@pytest.fixture
def api(base_url):
    """A fresh HTTP client (requests.Session) bound to the base URL."""
    with Http(base_url) as http:
        yield http


# ---- extra servers --------------------------------------------------------------


@pytest.fixture
def start_server(server_binary, tmp_path_factory):
    """Factory fixture: ``start_server(env={...}, config={...})`` -> running ServerProcess.

    Each server gets its own temporary data directory and is stopped with SIGTERM
    at the end of the test, where it must exit 0.  Skipped under --base-url."""
    factory = ServerFactory(server_binary, tmp_path_factory)

    def _start(env=None, config=None, args=None, data_dir=None, name="extra"):
        return factory.start(env=env, config=config, args=args, data_dir=data_dir, name=name)

    _start.factory = factory
    _start.create = factory.create
    _start.new_data_dir = factory.new_data_dir
    yield _start
    problems = factory.stop_all()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def module_server_factory(server_binary, tmp_path_factory):
    """Like start_server, but the servers live for the whole module.

    Problems when stopping them fail the run and are listed in the summary (an
    assert here would surface as a pytest internal error under -x)."""
    factory = ServerFactory(server_binary, tmp_path_factory)
    yield factory
    _SHUTDOWN_PROBLEMS.extend(factory.stop_all())


# ---- failure reports ------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and LIVE_SERVERS:
        for srv in list(LIVE_SERVERS):
            report.sections.append((f"{srv.name} server ({srv.state()}) stderr", srv.stderr_tail(30)))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    # trylast: runs after the session fixtures have been torn down.
    if _SHUTDOWN_PROBLEMS and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if _SHUTDOWN_PROBLEMS:
        terminalreporter.section("chatgate shutdown", sep="=", red=True, bold=True)
        for problem in _SHUTDOWN_PROBLEMS:
            terminalreporter.line(problem, red=True)
