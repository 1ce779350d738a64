"""config/nginx-two-nodes.conf, the README's example of two nodes behind nginx, is a valid nginx
configuration (`nginx -t`), its trusted_proxies line is one chatgate accepts, and (in the
PostgreSQL run) two nodes behind it serve one set of balances, streams included. The nginx tests
skip where nginx is not installed (it is a bench package)."""

from __future__ import annotations

import os
import pathlib
import pwd
import re
import shutil
import socket
import subprocess
import time

import pytest
import requests

import server_process
from client import CHAT_COST, SIGNUP_GRANT, Http, assert_ledger_consistent, expect, get_balance, new_user

REPO = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "nginx-two-nodes.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if pathlib.Path("/usr/sbin/nginx").exists() else None)


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (scripts/install-deps.sh bench)")
def test_the_two_node_example_is_a_valid_nginx_configuration(tmp_path):
    # Its own prefix, pid and temporary directories, so no system path is needed.
    main = tmp_path / "nginx.conf"
    main.write_text(MAIN_CONF.format(dir=tmp_path, user_line="", include=EXAMPLE))
    checked = subprocess.run([NGINX, "-t", "-q", "-p", str(tmp_path), "-c", str(main)],
                             stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr


def test_the_example_streams_and_forwards_the_client_address():
    text = EXAMPLE.read_text()
    for line in ("proxy_buffering off;", "keepalive 64;", 'proxy_set_header Connection "";',
                 "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"):
        assert line in text, line
    assert len(re.findall(r"^\s*server 10\.0\.0\.1[12]:8000", text, re.M)) == 2


def test_the_trusted_proxies_line_it_names_is_accepted(start_server):
    line = re.search(r'"trusted_proxies": "([^"]+)"', EXAMPLE.read_text())
    assert line, "the example names chatgate's trusted_proxies line"
    # serve refuses to start on a value it cannot parse.
    srv = start_server(config={"trusted_proxies": line.group(1)}, name="proxied")
    assert requests.get(srv.base_url + "/healthz", timeout=10).status_code == 200


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (scripts/install-deps.sh bench)")
@pytest.mark.skipif(not server_process.postgresql_run(),
                    reason="two nodes share a database in the PostgreSQL run only")
def test_two_nodes_behind_the_example_serve_one_set_of_balances(start_server, tmp_path):
    secret = "x" * 48  # one JWT key for both nodes, as the README says
    database = server_process.database_url_for(tmp_path / "shared")
    nodes = [start_server(env={"CHATGATE_DATABASE_URL": database, "CHATGATE_JWT_SECRET": secret,
                               "CHATGATE_NODE_ID": f"node-{n}", "CHATGATE_TRUSTED_PROXIES": "127.0.0.1"},
                          name=f"node-{n}") for n in "ab"]
    with socket.socket() as probe:  # a port for nginx, picked by the kernel
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    example = EXAMPLE.read_text().replace("listen 80;", f"listen 127.0.0.1:{port};")
    for n, node in zip(("11", "12"), nodes):
        example = example.replace(f"10.0.0.{n}:8000", node.base_url.removeprefix("http://"))
    (tmp_path / "chatgate.conf").write_text(example)
    user_line = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    main = tmp_path / "nginx.conf"
    main.write_text(MAIN_CONF.format(dir=tmp_path, user_line=user_line,
                                     include=tmp_path / "chatgate.conf") + "daemon off;\n")
    proxy = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(main)], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_answering(proxy, base + "/readyz")
        user = new_user(base, "behind")
        with Http(base) as http:
            answered_by = set()  # each process numbers its requests after a random prefix of its own
            for i in range(6):
                r = http.post("/api/chat/", json={"message": f"turn {i}"}, headers=user.headers)
                expect(r, 200)
                answered_by.add(r.headers["X-Request-Id"].split("-")[0])
            streamed = http.post("/v1/chat/completions", headers=user.headers, json={
                "model": "chatgate-builtin", "stream": True,
                "messages": [{"role": "user", "content": "stream through nginx"}]})
            assert streamed.headers["content-type"].startswith("text/event-stream"), streamed.text
            assert streamed.text.rstrip().endswith("data: [DONE]"), streamed.text
            assert get_balance(http, user.access) == SIGNUP_GRANT - 7 * CHAT_COST
            assert_ledger_consistent(http, user.access)
    finally:
        proxy.terminate()
        proxy.wait(timeout=20)
    prefixes = {requests.get(node.base_url + "/healthz", timeout=10).headers["X-Request-Id"].split("-")[0]
                for node in nodes}
    assert answered_by == prefixes, "round robin: each node answered some of the chats"


MAIN_CONF = """
{user_line}
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {include};
}}
"""


def wait_answering(proxy, url, timeout=20.0):
    """Polls `url` until it answers 200, backing off by waiting on nginx (which must not exit)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        try:
            proxy.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"nginx exited: {proxy.stderr.read().decode(errors='replace')}")
    pytest.fail(f"nginx did not answer {url} within {timeout}s")
