"""Hostile input: slow and oversized requests, deep or huge JSON, connection floods.

Every limit is configured tiny so each case is quick; the server must keep answering
well-behaved clients throughout. No sleeps: waits are socket reads with timeouts.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from urllib.parse import urlsplit

import pytest

from client import (
    SECURITY_HEADERS,
    SIGNUP_GRANT,
    Http,
    assert_ledger_consistent,
    describe,
    expect,
    get_balance,
    new_user,
)

HEADER_TIMEOUT = 1  # seconds
LIMITS = {
    "CHATGATE_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
    # Far longer than the header deadline, so only the header deadline can drop a slow client.
    "CHATGATE_IDLE_TIMEOUT_SECONDS": "30",
    "CHATGATE_REQUEST_TIMEOUT_SECONDS": "30",
    "CHATGATE_MAX_HEADER_COUNT": "20",
    "CHATGATE_MAX_URL_BYTES": "256",
    "CHATGATE_MAX_JSON_DEPTH": "8",
    "CHATGATE_MAX_JSON_STRING_BYTES": "1024",
}


@pytest.fixture(scope="module")
def strict_server(module_server_factory):
    return module_server_factory.start(env=LIMITS, name="strict")


def address(server):
    parts = urlsplit(server.base_url)
    return parts.hostname, parts.port


def connect(server, source="127.0.0.1", timeout=5.0):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(address(server))
    return sock


def read_response(sock, limit=5.0) -> bytes:
    """One response: the head and a Content-Length body (b"" if the server closed first)."""
    sock.settimeout(limit)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body
    except ConnectionResetError:
        return data


def closed_by_server(sock, limit=5.0) -> bool:
    """True when the server closes (or resets) the connection within `limit` seconds."""
    sock.settimeout(limit)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def get(sock, path="/healthz", extra=b"") -> bytes:
    sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n")
    return read_response(sock)


# ---- slow clients ------------------------------------------------------------------------


def trickle_headers(server, results, index, give_up=10.0):
    """A slowloris client: a request line, then one header byte whenever 0.1 s pass without the
    server closing. Records how long the server took to drop it (None if it never did)."""
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        sock.settimeout(0.1)
        while time.monotonic() - started < give_up:
            try:
                if not sock.recv(4096):
                    break
            except socket.timeout:
                try:
                    sock.sendall(b"a")
                except OSError:
                    break
                continue
            except ConnectionResetError:
                break
        else:
            results[index] = None
            return
        results[index] = time.monotonic() - started


def percentiles(latencies):
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99, ordered[-1]


def test_trickling_headers_are_dropped_while_others_are_served(strict_server):
    attackers = 40
    latencies = []
    statuses = set()
    with Http(strict_server.base_url) as http:
        for _ in range(200):  # the same client without an attack, for comparison
            started = time.monotonic()
            statuses.add(http.get("/healthz").status_code)
            latencies.append(time.monotonic() - started)
        quiet = percentiles(latencies)
        latencies.clear()

        dropped_after = [None] * attackers
        threads = [threading.Thread(target=trickle_headers, args=(strict_server, dropped_after, i))
                   for i in range(attackers)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            started = time.monotonic()
            statuses.add(http.get("/healthz").status_code)
            latencies.append(time.monotonic() - started)
        for t in threads:
            t.join()

    assert all(d is not None for d in dropped_after), dropped_after
    # Dropped by the header deadline (1 s), long before the idle timeout (30 s).
    assert max(dropped_after) < HEADER_TIMEOUT + 2.0, dropped_after
    assert min(dropped_after) >= HEADER_TIMEOUT * 0.9, dropped_after
    assert statuses == {200}
    p50, p99, worst = percentiles(latencies)
    print(f"\nGET /healthz, one keep-alive client: quiet p50 {quiet[0] * 1000:.2f} ms, "
          f"p99 {quiet[1] * 1000:.2f} ms; during {attackers} slow-header clients "
          f"({len(latencies)} requests) p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, "
          f"max {worst * 1000:.2f} ms")
    assert len(latencies) > 50
    assert p99 < 0.25, (p50, p99)


def test_silent_connection_is_dropped_at_the_header_deadline(strict_server):
    with connect(strict_server) as sock:
        started = time.monotonic()
        assert closed_by_server(sock, limit=HEADER_TIMEOUT + 3.0)
        assert time.monotonic() - started >= HEADER_TIMEOUT * 0.9


def test_idle_keep_alive_connection_outlives_the_header_deadline(strict_server):
    with connect(strict_server) as sock:
        assert get(sock).startswith(b"HTTP/1.1 200")
        # Idle between requests, the connection has the idle timeout (30 s), not the header one.
        assert not closed_by_server(sock, limit=HEADER_TIMEOUT + 0.5)
        assert get(sock).startswith(b"HTTP/1.1 200")


# ---- oversized heads ---------------------------------------------------------------------


def headers(count):
    return b"".join(b"X-H%d: v\r\n" % i for i in range(count))


def json_body(response: bytes):
    import json

    head, _, body = response.partition(b"\r\n\r\n")
    assert b"Content-Type: application/json" in head, response[:500]
    return json.loads(body)


def test_header_count_at_the_limit_is_accepted(strict_server):
    with connect(strict_server) as sock:
        response = get(sock, extra=headers(19))  # plus Host: 20 fields
        assert response.startswith(b"HTTP/1.1 200"), response[:300]


def test_too_many_headers_is_431(strict_server):
    with connect(strict_server) as sock:
        response = get(sock, extra=headers(20))
        assert response.startswith(b"HTTP/1.1 431"), response[:300]
        assert json_body(response) == {"detail": "Too many request header fields."}
        for name in SECURITY_HEADERS:
            assert name.encode() in response, name
        assert closed_by_server(sock)


def test_long_url_is_414(strict_server):
    with connect(strict_server) as sock:
        path = "/healthz?pad=" + "u" * 250
        response = get(sock, path=path)
        assert response.startswith(b"HTTP/1.1 414"), response[:300]
        assert json_body(response) == {"detail": "Request URL is too long."}
        assert closed_by_server(sock)


def test_url_at_the_limit_is_served(strict_server):
    with connect(strict_server) as sock:
        path = "/healthz?pad="
        path += "u" * (256 - len(path))
        assert get(sock, path=path).startswith(b"HTTP/1.1 200")


# ---- request smuggling ------------------------------------------------------------------


def read_until_closed(sock, limit=5.0) -> bytes:
    sock.settimeout(limit)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
    except (ConnectionResetError, socket.timeout):
        return data


@pytest.mark.parametrize("coding", [b"gzip", b"xchunked", b"identity", b"chunked, identity",
                                    b"gzip, chunked", b"chunked\r\nTransfer-Encoding: gzip"])
def test_a_transfer_coding_other_than_chunked_is_refused_in_one_answer(strict_server, coding):
    # What follows the head would be a second request if the body were read as empty.
    smuggled = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with connect(strict_server) as sock:
        sock.sendall(b"POST /api/login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: " + coding + b"\r\n\r\n" + smuggled)
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:300]
    assert answer.count(b"HTTP/1.1 ") == 1, answer
    # Beast refuses some of them itself ("Malformed HTTP request."); either way a JSON 400.
    assert set(json_body(answer)) == {"detail"}


def test_chunked_alone_is_still_read(strict_server):
    body = b'{"username": "x"}'
    with connect(strict_server) as sock:
        sock.sendall(b"POST /api/login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
        answer = read_response(sock)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:300]
    assert json_body(answer) == {"password": ["This field is required."]}


# ---- bytes that are not UTF-8 -------------------------------------------------------------


def strict_json(response: bytes):
    import json

    head, _, body = response.partition(b"\r\n\r\n")
    return json.loads(body.decode("utf-8"))  # strict: raises on anything not UTF-8


@pytest.mark.parametrize("request_bytes", [
    b"GET /v1/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/\xc3 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /api/register/ HTTP/1.1\r\nHost: x\r\nContent-Type: text/\xff\xc0\r\n"
    b"Content-Length: 2\r\n\r\n{}",
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\r\n"
    b"Content-Length: 2\r\n\r\n{}",
], ids=["v1-404", "seed-404", "415", "v1-bad-token"])
def test_error_bodies_are_utf8_whatever_the_request_holds(strict_server, request_bytes):
    with connect(strict_server) as sock:
        sock.sendall(request_bytes)
        response = read_response(sock)
    assert response.startswith(b"HTTP/1.1 4"), response[:300]
    body = strict_json(response)
    assert body, response


# ---- hostile JSON ------------------------------------------------------------------------


def test_deep_json_is_400(strict_server):
    with Http(strict_server.base_url) as http:
        user = new_user(http, "deep")
        for body in ("[" * 9 + "]" * 9, '{"message": ' + '{"a": ' * 8 + "1" + "}" * 9):
            r = http.post("/api/chat/", data=body,
                          headers={**user.headers, "Content-Type": "application/json"})
            got = expect(r, 400)
            assert got["detail"].startswith("JSON parse error - "), describe(r)
        # Eight levels parse (and are refused for their meaning, not their shape).
        r = http.post("/api/register/", data="[" * 8 + "]" * 8,
                      headers={"Content-Type": "application/json"})
        expect(r, 400, {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
        assert get_balance(http, user.access) == SIGNUP_GRANT
        assert_ledger_consistent(http, user.access)


def test_huge_json_string_is_400(strict_server):
    limit_message = "JSON parse error - a string is longer than 1024 bytes"
    with Http(strict_server.base_url) as http:
        user = new_user(http, "huge")
        r = http.post("/api/chat/", json={"message": "m" * 1025}, headers=user.headers)
        expect(r, 400, {"detail": limit_message})
        r = http.post("/api/chat/", json={"message": "hi", "k" * 1025: 1}, headers=user.headers)
        expect(r, 400, {"detail": limit_message})
        # Escapes count decoded: 1024 "é" written as \u00e9 are 2048 bytes.
        r = http.post("/api/chat/", data='{"message": "' + "\\u00e9" * 1024 + '"}',
                      headers={**user.headers, "Content-Type": "application/json"})
        expect(r, 400, {"detail": limit_message})
        r = http.post("/api/register/", data={"username": "u" * 1025, "password": "x"})
        expect(r, 400, {"detail": "Form field longer than 1024 bytes."})
        # At the limit the string is read, and the chat is charged as usual.
        r = http.post("/api/chat/", json={"message": "m" * 1024}, headers=user.headers)
        expect(r, 200)
        assert get_balance(http, user.access) == SIGNUP_GRANT - 100
        assert_ledger_consistent(http, user.access)


# ---- connection caps ---------------------------------------------------------------------


def served_connection(server, source="127.0.0.1", limit=5.0):
    """An open connection that has been served. The server notices closed connections (such as
    the start-up health check's, or one a test just closed) asynchronously: until it has, a new
    one may be refused, so retry until one is admitted."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        sock = connect(server, source)
        try:
            if get(sock).startswith(b"HTTP/1.1 200"):
                return sock
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.close()
    return None


def hold_connections(server, count, source="127.0.0.1"):
    """`count` open keep-alive connections, each proven served."""
    held = [served_connection(server, source) for _ in range(count)]
    assert all(held)
    return held


def refused_at_accept(server, source="127.0.0.1") -> bool:
    """True when a new connection is answered with the over-capacity 503 and closed."""
    with connect(server, source) as sock:
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            return False
        response = read_response(sock)
        if not response.startswith(b"HTTP/1.1 503"):
            return False
        assert b"\r\nRetry-After: 1\r\n" in response, response
        assert json_body(response) == {"detail": "Too many connections; retry later."}
        assert closed_by_server(sock)
        return True


def test_connections_per_address_are_capped(module_server_factory):
    server = module_server_factory.start(env={"CHATGATE_MAX_CONNECTIONS_PER_ADDRESS": "3"},
                                         name="per-address")
    held = hold_connections(server, 3)
    try:
        assert refused_at_accept(server)
        # Another client address is not affected (127.0.0.0/8 is all loopback).
        with connect(server, "127.0.0.2") as other:
            assert get(other).startswith(b"HTTP/1.1 200")
        # The held connections keep working.
        for sock in held:
            assert get(sock).startswith(b"HTTP/1.1 200")
        held.pop().close()
        held.append(served_connection(server))
        assert held[-1]
    finally:
        for sock in filter(None, held):
            sock.close()


def test_connections_in_all_are_capped(module_server_factory):
    server = module_server_factory.start(
        env={"CHATGATE_MAX_CONNECTIONS": "4", "CHATGATE_MAX_CONNECTIONS_PER_ADDRESS": "0"},
        name="total")
    held = hold_connections(server, 2) + hold_connections(server, 2, source="127.0.0.2")
    try:
        assert refused_at_accept(server, "127.0.0.3")
        for sock in held:
            assert get(sock).startswith(b"HTTP/1.1 200")
        held.pop(0).close()
        held.append(served_connection(server, "127.0.0.3"))
        assert held[-1]
    finally:
        for sock in filter(None, held):
            sock.close()
