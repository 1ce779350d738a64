"""GET /metrics: Prometheus's text format, off the public listener unless a token is set, and
counters that move with the requests made."""

from __future__ import annotations

import re

import pytest
import requests

from client import (
    CHAT_COST,
    Http,
    assert_ledger_consistent,
    bearer,
    chat,
    expect,
    get_balance,
    new_user,
)
from fake_upstream import fake_upstream, model_entry, unique  # noqa: F401 (fixture)

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
TOKEN = "metrics-token-0123456789abcdef"


def parse(text: str) -> dict:
    """{(name, frozenset of labels): value}; checks every sample's family has HELP and TYPE."""
    assert text.endswith("\n")
    typed, samples = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            typed[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        match = SAMPLE_RE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels = match.group(1), frozenset(LABEL_RE.findall(match.group(3) or ""))
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in typed else name
        assert family in typed, f"{name} has no TYPE line"
        samples[(name, labels)] = float(match.group(4))
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def metrics_url(server) -> str:
    for line in server.stdout_lines:
        if line.startswith("metrics on "):
            return line.removeprefix("metrics on ").strip() + "/metrics"
    raise AssertionError(f"no 'metrics on' line in {server.stdout_lines}")


def scrape(url: str) -> dict:
    r = requests.get(url, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return parse(r.text)


def test_the_public_listener_shows_no_metrics_by_default(api):
    expect(api.get("/metrics"), 404, {"detail": "Not found."})


def test_counters_move_with_the_requests(start_server):
    server = start_server(config={"metrics_listen": "127.0.0.1:0"}, name="metrics")
    url = metrics_url(server)
    # The metrics listener answers /metrics only.
    assert requests.get(url.removesuffix("/metrics") + "/api/tokens/", timeout=10).status_code == 404
    before = scrape(url)
    with Http(server.base_url) as http:
        user = new_user(http, "metrics")
        for _ in range(3):
            get_balance(http, user.access)
        expect(chat(http, user.access, "count me"), 200)
        after = scrape(url)
        assert_ledger_consistent(http, user.access)

    tokens = dict(route="/api/tokens/", method="GET", status="200")
    assert value(after, "chatgate_http_requests_total", **tokens) - \
        value(before, "chatgate_http_requests_total", **tokens) == 3
    durations = dict(route="/api/tokens/", method="GET")
    assert value(after, "chatgate_http_request_duration_seconds_count", **durations) == \
        value(before, "chatgate_http_request_duration_seconds_count", **durations) + 3
    assert value(after, "chatgate_http_request_duration_seconds_bucket", le="+Inf", **durations) == \
        value(after, "chatgate_http_request_duration_seconds_count", **durations)
    assert value(after, "chatgate_chat_settlements_total", outcome="full") == 1
    assert value(after, "chatgate_tokens_charged_total", model="chatgate-builtin") == CHAT_COST
    assert value(after, "chatgate_chat_reservations_open") == 0
    # Every database read and write went through the pools and was timed.
    for pool in ("reads", "writes"):
        assert value(after, "chatgate_work_pool_wait_seconds_count", pool=pool) > \
            value(before, "chatgate_work_pool_wait_seconds_count", pool=pool)
    assert value(after, "chatgate_work_pool_wait_seconds_count", pool="hashing") >= 2  # register, login
    assert value(after, "chatgate_db_commit_duration_seconds_count") > 0
    assert value(after, "chatgate_http_connections") >= 1  # this scrape's own
    assert any(name == "chatgate_build_info" for name, _ in after)
    # No label names a user.
    assert not any(label in ("user", "user_id", "username") for _, labels in after for label, _ in labels)


def test_upstream_exchanges_are_counted_by_model_and_outcome(start_server, fake_upstream):  # noqa: F811
    entry = model_entry(fake_upstream.url, unique("echo"), id="fake")
    server = start_server(config={"metrics_listen": "127.0.0.1:0", "models": [entry]}, name="metrics-up")
    url = metrics_url(server)
    with Http(server.base_url) as http:
        user = new_user(http, "metricsup")
        expect(chat(http, user.access, "hello upstream"), 200)
        r = http.post("/api/chat/", json={"message": "stream it", "stream": True}, headers=bearer(user.access))
        assert r.status_code == 200 and "event: done" in r.text
        after = scrape(url)
        assert_ledger_consistent(http, user.access)
    assert value(after, "chatgate_upstream_requests_total", model="fake", outcome="ok") == 2
    assert value(after, "chatgate_upstream_request_duration_seconds_count", model="fake") == 2
    assert value(after, "chatgate_upstream_time_to_first_token_seconds_count", model="fake") == 1
    assert value(after, "chatgate_tokens_total", model="fake", type="completion") > 0
    assert value(after, "chatgate_tokens_total", model="fake", type="prompt") > 0
    assert value(after, "chatgate_chat_settlements_total", outcome="full") == 2


def test_rate_limit_refusals_are_counted_by_class(start_server):
    server = start_server(config={"metrics_listen": "127.0.0.1:0"}, name="metrics-limited",
                          env={"CHATGATE_RATE_LIMIT_ENABLED": "true", "CHATGATE_RATE_LIMITS": "read=2/1m"})
    with Http(server.base_url) as http:
        user = new_user(http, "metricsrl")
        statuses = [http.get("/api/tokens/", headers=bearer(user.access)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    after = scrape(metrics_url(server))
    assert value(after, "chatgate_rate_limit_refusals_total", **{"class": "read"}) == 1
    assert value(after, "chatgate_http_requests_total", route="/api/tokens/", method="GET", status="429") == 1


@pytest.mark.parametrize("header, status", [(None, 401), ("Bearer wrong-token-0123456789", 403),
                                            (f"Bearer {TOKEN}", 200)])
def test_a_metrics_token_opens_the_public_listener(start_server, header, status):
    server = start_server(config={"metrics_token": TOKEN}, name="metrics-token")
    headers = {"Authorization": header} if header else {}
    r = requests.get(server.base_url + "/metrics", headers=headers, timeout=10)
    assert r.status_code == status, r.text
    if status == 200:
        assert "chatgate_http_requests_total" in r.text
    assert TOKEN not in server.output()  # the token is a secret: never logged
