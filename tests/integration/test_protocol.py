"""HTTP-level behaviour: routing, methods, media types, limits, headers, keep-alive."""

from __future__ import annotations

import http.client
import json
import re
import socket
import uuid
from urllib.parse import urlsplit

import pytest

from client import (
    MSG_REGISTERED,
    PASSWORD,
    SECURITY_HEADERS,
    SIGNUP_GRANT,
    Http,
    assert_ledger_consistent,
    describe,
    expect,
    get_balance,
    login,
    new_user,
    unique_username,
)

GET_ROUTES = ["/healthz", "/readyz", "/api/schema/", "/api/docs/", "/api/redoc/", "/api/tokens/", "/api/transactions/"]
POST_ROUTES = ["/api/register/", "/api/login/", "/api/token/refresh/", "/api/chat/", "/api/top-up/"]
AUTH_ROUTES = {"/api/tokens/", "/api/transactions/", "/api/chat/", "/api/top-up/"}
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")

EMPTY_POST_ANSWER = {
    "/api/register/": {"username": ["This field is required."], "password": ["This field is required."]},
    "/api/login/": {"username": ["This field is required."], "password": ["This field is required."]},
    "/api/token/refresh/": {"refresh": ["This field is required."]},
    "/api/chat/": {"error": "Message is required"},
    "/api/top-up/": {"error": "Invalid token amount."},
}


def other_form(path):
    if path.endswith("/"):
        return path.rstrip("/")
    return path + "/"


@pytest.fixture(scope="module")
def shared_user(base_url):
    """One user for read-only protocol checks (never charged)."""
    with Http(base_url) as http:
        return new_user(http, "proto")


def auth_for(path, user):
    return user.headers if path in AUTH_ROUTES else {}


def allow_set(r):
    allow = r.headers.get("Allow")
    assert allow, "no Allow header: " + describe(r)
    return {m.strip().upper() for m in allow.split(",")}


def assert_security_headers(r):
    for name, value in SECURITY_HEADERS.items():
        assert r.headers.get(name) == value, f"{name}: {r.headers.get(name)!r}; " + describe(r)
    rid = r.headers.get("X-Request-Id")
    assert rid and REQUEST_ID_RE.match(rid), f"X-Request-Id {rid!r}; " + describe(r)


# ---- routes with and without the trailing slash ----------------------------------------


@pytest.mark.parametrize("path", GET_ROUTES)
def test_get_routes_with_and_without_slash(api, shared_user, path):
    for p in (path, other_form(path)):
        r = api.get(p, headers=auth_for(path, shared_user))
        assert r.status_code == 200, describe(r)
        assert "Location" not in r.headers, describe(r)


def test_root_page(api):
    r = api.get("/")
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"].startswith("text/html")


def test_health_and_ready(api):
    expect(api.get("/healthz"), 200, {"status": "ok"})
    expect(api.get("/readyz"), 200, {"status": "ready"})
    expect(api.get("/healthz?probe=1"), 200, {"status": "ok"})


@pytest.mark.parametrize("path", POST_ROUTES)
def test_post_routes_with_and_without_slash(api, shared_user, path):
    for p in (path, other_form(path)):
        r = api.post(p, json={}, headers=auth_for(path, shared_user))
        expect(r, 400, EMPTY_POST_ANSWER[path])
        assert "Location" not in r.headers


def test_slashless_forms_do_real_work(api):
    username = unique_username("noslash")
    expect(api.post("/api/register", json={"username": username, "password": PASSWORD}), 201, MSG_REGISTERED)
    tokens = expect(api.post("/api/login", json={"username": username, "password": PASSWORD}), 200)
    headers = {"Authorization": f"Bearer {tokens['access']}"}
    expect(api.post("/api/token/refresh", json={"refresh": tokens["refresh"]}), 200)
    expect(api.post("/api/chat", json={"message": "x"}, headers=headers), 200)
    expect(api.post("/api/top-up", json={"tokens": 100}, headers=headers), 200,
           {"message": "Successfully added 100 tokens.", "total_tokens": SIGNUP_GRANT})
    expect(api.get("/api/tokens", headers=headers), 200, {"tokens": SIGNUP_GRANT})
    assert expect(api.get("/api/transactions", headers=headers), 200)["count"] == 3
    assert_ledger_consistent(api, tokens["access"])


# ---- 404 / 405 / OPTIONS -----------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/nope"),
        ("GET", "/api/"),
        ("GET", "/api"),
        ("GET", "/api/nope/"),
        ("GET", "/api/registerx/"),
        ("GET", "/api/register/extra/"),
        ("GET", "/API/tokens/"),
        ("GET", "/accounts/login/"),
        ("GET", "/admin/login/"),  # the console is at /admin/; the old admin login is not
        ("GET", "/static/nope.js"),
        ("POST", "/nope"),
        ("DELETE", "/api/nope/"),
        ("GET", "/api//tokens/"),
    ],
)
def test_not_found(api, method, path):
    r = api.request(method, path, headers={"Authorization": "Bearer garbage"})
    expect(r, 404, {"detail": "Not found."})
    assert_security_headers(r)


@pytest.mark.parametrize("path", POST_ROUTES)
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_method_not_allowed_on_post_routes(api, shared_user, path, method):
    r = api.request(method, path, json={}, headers=auth_for(path, shared_user))
    expect(r, 405, {"detail": f'Method "{method}" not allowed.'})
    allowed = allow_set(r)
    assert "POST" in allowed and method not in allowed, describe(r)
    assert_security_headers(r)


@pytest.mark.parametrize("path", GET_ROUTES + ["/"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_method_not_allowed_on_get_routes(api, shared_user, path, method):
    r = api.request(method, path, json={}, headers=auth_for(path, shared_user))
    expect(r, 405, {"detail": f'Method "{method}" not allowed.'})
    allowed = allow_set(r)
    assert "GET" in allowed and method not in allowed, describe(r)


def test_method_not_allowed_without_slash(api, shared_user):
    r = api.get("/api/chat", headers=shared_user.headers)
    expect(r, 405, {"detail": 'Method "GET" not allowed.'})
    assert "POST" in allow_set(r)


@pytest.mark.parametrize("path", POST_ROUTES)
def test_options(api, shared_user, path):
    for p in (path, other_form(path)):
        r = api.options(p, headers=auth_for(path, shared_user))
        assert r.status_code == 204, describe(r)
        assert r.content == b"", describe(r)
        assert {"POST", "OPTIONS"} <= allow_set(r), describe(r)
        assert_security_headers(r)


# ---- media types and parse errors ------------------------------------------------------


@pytest.mark.parametrize("ctype", ["text/plain", "application/xml", "application/octet-stream"])
@pytest.mark.parametrize("path", POST_ROUTES)
def test_unsupported_media_type(api, shared_user, path, ctype):
    r = api.post(path, data=b"username=x", headers={**auth_for(path, shared_user), "Content-Type": ctype})
    expect(r, 415, {"detail": f'Unsupported media type "{ctype}" in request.'})
    assert_security_headers(r)


@pytest.mark.parametrize(
    "raw",
    [b'{"username": ', b"{username: 1}", b'{"a": 1} trailing', b"{'a': 1}", b'{"a": "\xff\xfe"}', b"[1, 2,]",
     b"[" * 100_000 + b"]" * 100_000, b'{"message": ' + b"[" * 5000 + b"]" * 5000 + b"}"],
    ids=["truncated", "bare-key", "trailing", "single-quotes", "bad-utf8", "trailing-comma", "deep", "deep-field"],
)
@pytest.mark.parametrize("path", POST_ROUTES)
def test_json_parse_error(api, shared_user, path, raw):
    r = api.post(path, data=raw, headers={**auth_for(path, shared_user), "Content-Type": "application/json"})
    body = expect(r, 400)
    assert set(body) == {"detail"}, describe(r)
    assert body["detail"].startswith("JSON parse error - "), describe(r)
    assert len(body["detail"]) > len("JSON parse error - "), describe(r)


def test_json_with_charset_parameter(api):
    username = unique_username("charset")
    r = api.post("/api/register/", data=f'{{"username": "{username}", "password": "{PASSWORD}"}}'.encode(),
                 headers={"Content-Type": "application/json; charset=utf-8"})
    expect(r, 201, MSG_REGISTERED)
    login(api, username)


def test_form_encoded_register_login_refresh(api):
    username = unique_username("form")
    r = api.post("/api/register/", data={"username": username, "password": PASSWORD})
    assert r.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    expect(r, 201, MSG_REGISTERED)
    tokens = expect(api.post("/api/login/", data={"username": username, "password": PASSWORD}), 200)
    assert set(tokens) == {"refresh", "access"}
    refreshed = expect(api.post("/api/token/refresh/", data={"refresh": tokens["refresh"]}), 200)
    assert get_balance(api, refreshed["access"]) == SIGNUP_GRANT
    # Form field errors look like JSON ones.
    expect(api.post("/api/register/", data={"username": username, "password": PASSWORD}), 400,
           {"username": ["user with this username already exists."]})
    expect(api.post("/api/login/", data={"username": username}), 400, {"password": ["This field is required."]})
    assert_ledger_consistent(api, tokens["access"])


# ---- size limits -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_body_server(module_server_factory):
    return module_server_factory.start(env={"CHATGATE_MAX_BODY_BYTES": "1024"}, name="small-body")


TOO_LARGE = {"detail": "Request body is too large (limit 1024 bytes)."}


def padded_register_body(username, size):
    prefix = f'{{"username": "{username}", "password": "{PASSWORD}", "pad": "'
    body = prefix + "p" * (size - len(prefix) - 2) + '"}'
    assert len(body) == size
    return body.encode()


def test_body_too_large(small_body_server):
    with Http(small_body_server.base_url) as http:
        username = unique_username("big")
        r = http.post("/api/register/", data=padded_register_body(username, 2000),
                      headers={"Content-Type": "application/json"})
        expect(r, 413, TOO_LARGE)
        assert_security_headers(r)
        # Nothing was registered.
        r = http.post("/api/login/", json={"username": username, "password": PASSWORD})
        assert r.status_code == 401, describe(r)


def test_body_at_limit_is_accepted(small_body_server):
    with Http(small_body_server.base_url) as http:
        username = unique_username("edge")
        r = http.post("/api/register/", data=padded_register_body(username, 1024),
                      headers={"Content-Type": "application/json"})
        expect(r, 201, MSG_REGISTERED)
        r = http.post("/api/register/", data=padded_register_body(unique_username("edge"), 1025),
                      headers={"Content-Type": "application/json"})
        expect(r, 413, TOO_LARGE)


def test_body_too_large_chunked(small_body_server):
    with Http(small_body_server.base_url) as http:
        user = new_user(http, "chunk")
        chunks = iter([b'{"message": "', b"m" * 700, b"m" * 700, b'"}'])
        r = http.post("/api/chat/", data=chunks, headers={**user.headers, "Content-Type": "application/json"})
        assert r.request.headers.get("Transfer-Encoding") == "chunked"
        expect(r, 413, TOO_LARGE)
        assert get_balance(http, user.access) == SIGNUP_GRANT
        assert_ledger_consistent(http, user.access)


def test_declared_length_too_large_is_refused_before_the_body(small_body_server):
    """A Content-Length over the limit is answered without waiting for the body."""
    parts = urlsplit(small_body_server.base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/register/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 50000\r\n\r\n{"
        )
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 413"), data[:300]


@pytest.mark.parametrize("attempt", range(3))
def test_a_large_upload_sent_before_reading_gets_its_413(small_body_server, attempt):
    """http.client (and so urllib) sends the whole body before it reads the answer: an 8 MiB
    upload must not end in a broken pipe but read the 413."""
    import http.client

    parts = urlsplit(small_body_server.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("POST", "/api/register/", body=b"x" * (8 * 1024 * 1024),
                     headers={"Content-Type": "application/json"})
        answer = conn.getresponse()
        assert answer.status == 413
        assert json.loads(answer.read()) == TOO_LARGE
    finally:
        conn.close()


# ---- Host and request targets -------------------------------------------------------------


def raw_exchange(base_url: str, data: bytes) -> bytes:
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return answer
            answer += chunk
            if b"\r\n\r\n" in answer and b"Connection: close" not in answer.split(b"\r\n\r\n")[0]:
                head, _, body = answer.partition(b"\r\n\r\n")
                length = re.search(rb"Content-Length: (\d+)", head)
                if length and len(body) >= int(length.group(1)):
                    return answer


@pytest.mark.parametrize("head", [
    b"GET /healthz HTTP/1.1\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: evil.example/x\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: \r\n\r\n",
], ids=["none", "two", "not-a-host", "empty"])
def test_http11_needs_exactly_one_valid_host(base_url, head):
    answer = raw_exchange(base_url, head)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:300]
    body = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert body == {"detail": "A request needs exactly one valid Host header."}


def test_http10_may_leave_host_out(base_url):
    answer = raw_exchange(base_url, b"GET /healthz HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]


@pytest.mark.parametrize("target", [b"http://localhost/healthz", b"HTTP://other.example:81/healthz?x=1"])
def test_absolute_form_targets_are_routed(base_url, target):
    answer = raw_exchange(base_url, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]


def test_pagination_links_never_carry_the_host_header(api):
    user = new_user(api, "links")
    for _ in range(3):
        expect(api.post("/api/top-up/", json={"tokens": 1}, headers=user.headers), 200)
    r = api.get("/api/transactions/?page_size=2", headers={**user.headers, "Host": "evil.example"})
    page = expect(r, 200)
    assert page["next"] == "/api/transactions/?page=2&page_size=2", page
    r = api.get(page["next"], headers=user.headers)
    assert expect(r, 200)["previous"] == "/api/transactions/?page_size=2"
    assert_ledger_consistent(api, user.access)


def test_pagination_links_use_the_configured_public_url(module_server_factory):
    srv = module_server_factory.start(env={"CHATGATE_PUBLIC_URL": "https://chat.example.com/"},
                                      name="public-url")
    with Http(srv.base_url) as http:
        user = new_user(http, "public")
        for _ in range(2):
            expect(http.post("/api/top-up/", json={"tokens": 1}, headers=user.headers), 200)
        r = http.get("/api/transactions/?page_size=1", headers={**user.headers, "Host": "evil.example"})
        assert expect(r, 200)["next"] == "https://chat.example.com/api/transactions/?page=2&page_size=1"
        assert_ledger_consistent(http, user.access)


def test_header_too_large(api):
    r = api.get("/healthz", headers={"X-Padding": "h" * 20000})
    expect(r, 431, {"detail": "Request header fields are too large."})


# ---- headers on every answer -------------------------------------------------------------


def test_security_headers_and_content_type_everywhere(api, shared_user):
    cases = [
        api.get("/healthz"),
        api.get("/readyz"),
        api.get("/api/tokens/", headers=shared_user.headers),
        api.get("/api/tokens/"),  # 401
        api.get("/api/transactions/", headers=shared_user.headers),
        api.get("/api/transactions/?page=99", headers=shared_user.headers),  # 404
        api.post("/api/register/", json={}),  # 400
        api.post("/api/register/", json={"username": unique_username("sh"), "password": PASSWORD}),  # 201
        api.post("/api/login/", json={"username": shared_user.username, "password": "nope-nope-1"}),  # 401
        api.post("/api/login/", json={"username": shared_user.username, "password": PASSWORD}),  # 200
        api.post("/api/chat/", json={}, headers=shared_user.headers),  # 400
        api.post("/api/top-up/", json={"tokens": 0}, headers=shared_user.headers),  # 400
        api.post("/api/login/", data=b"x", headers={"Content-Type": "text/plain"}),  # 415
        api.post("/api/login/", data=b"{", headers={"Content-Type": "application/json"}),  # 400 parse
        api.get("/api/login/"),  # 405
        api.get("/nowhere"),  # 404
    ]
    for r in cases:
        assert_security_headers(r)
        assert r.headers.get("Content-Type", "").startswith("application/json"), describe(r)
        r.json()
    for path in ("/", "/api/docs/", "/api/redoc/", "/api/schema/", "/api/schema/?format=json",
                 "/static/swagger-ui/swagger-ui-bundle.js", "/static/swagger-ui/swagger-ui.css",
                 "/static/redoc/redoc.standalone.js"):
        r = api.get(path)
        assert r.status_code == 200, describe(r)
        assert r.headers.get("Content-Type"), describe(r)
        assert_security_headers(r)


def test_request_id_is_echoed_when_valid(api):
    for rid in ("abc-123_X.y", "a", "Z" * 128, str(uuid.uuid4())):
        r = api.get("/healthz", headers={"X-Request-Id": rid})
        assert r.headers.get("X-Request-Id") == rid, describe(r)
    # Also on errors.
    r = api.get("/nowhere", headers={"X-Request-Id": "err-id-1"})
    assert r.status_code == 404 and r.headers.get("X-Request-Id") == "err-id-1"
    r = api.get("/api/tokens/", headers={"X-Request-Id": "auth-id-2"})
    assert r.status_code == 401 and r.headers.get("X-Request-Id") == "auth-id-2"


@pytest.mark.parametrize("rid", ["bad id", "semi;colon", "Z" * 129, "é", "a/b", "{x}", ""])
def test_request_id_is_generated_when_invalid(api, rid):
    r = api.get("/healthz", headers={"X-Request-Id": rid})
    got = r.headers.get("X-Request-Id")
    assert got and got != rid and REQUEST_ID_RE.match(got), f"sent {rid!r}, got {got!r}"


def test_request_ids_are_generated_and_distinct(api):
    ids = {api.get("/healthz").headers.get("X-Request-Id") for _ in range(20)}
    assert None not in ids and len(ids) == 20, ids


# ---- keep-alive --------------------------------------------------------------------------


def test_keep_alive_one_connection(base_url):
    """Many requests, including errors, on one TCP connection."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        assert r.status == 200
        r.read()
        sock = conn.sock
        assert sock is not None
        plan = [
            ("GET", "/healthz", None, {}, 200),
            ("GET", "/nowhere", None, {}, 404),
            ("POST", "/api/login/", b"{}", {"Content-Type": "application/json"}, 400),
            ("GET", "/api/tokens/", None, {}, 401),
            ("GET", "/api/register/", None, {}, 405),
            ("POST", "/api/login/", b"{", {"Content-Type": "application/json"}, 400),
            ("POST", "/api/login/", b"x", {"Content-Type": "text/plain"}, 415),
            ("GET", "/readyz", None, {}, 200),
        ] * 6
        for method, path, body, headers, status in plan:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            payload = r.read()
            assert r.status == status, (method, path, r.status, payload[:200])
            assert (r.getheader("Connection") or "").lower() != "close", (method, path)
            assert conn.sock is sock, f"connection was closed after {method} {path}"
    finally:
        conn.close()


def test_keep_alive_session(api):
    user = new_user(api, "ka")
    for i in range(60):
        if i % 3 == 0:
            expect(api.get("/api/tokens/", headers=user.headers), 200)
        elif i % 3 == 1:
            expect(api.post("/api/chat/", json={"message": f"k{i}"}, headers=user.headers), 200)
        else:
            expect(api.get("/healthz"), 200)
    assert get_balance(api, user.access) == SIGNUP_GRANT - 20 * 100
    assert_ledger_consistent(api, user.access)


# ---- timeouts ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def impatient_server(module_server_factory):
    return module_server_factory.start(
        env={"CHATGATE_REQUEST_TIMEOUT_SECONDS": "1", "CHATGATE_IDLE_TIMEOUT_SECONDS": "1"},
        name="impatient",
    )


def read_until_closed(sock, limit=10.0):
    """Everything the server sends until it closes the connection (or `limit` seconds pass)."""
    sock.settimeout(limit)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data, True
            data += chunk
    except socket.timeout:
        return data, False
    except ConnectionResetError:
        return data, True


def test_incomplete_request_is_timed_out(impatient_server):
    parts = urlsplit(impatient_server.base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(b"POST /api/login/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"user")
        data, closed = read_until_closed(sock)
    assert closed, "the server kept a stalled request open for 10s (request_timeout_seconds=1)"
    assert data == b"" or data.startswith(b"HTTP/1.1 408"), data[:300]


def test_idle_keep_alive_connection_is_closed(impatient_server):
    parts = urlsplit(impatient_server.base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        data, closed = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 200"), data[:300]
    assert closed, "an idle keep-alive connection stayed open for 10s (idle_timeout_seconds=1)"
