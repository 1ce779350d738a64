"""config/nginx-two-nodes.conf, the README's example of two nodes behind nginx, is a valid nginx
configuration (`nginx -t`), and its chatgate half matches: the trusted_proxies line it names is
one chatgate accepts. Skipped where nginx is not installed (it is a bench package)."""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess

import pytest
import requests

REPO = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "nginx-two-nodes.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if pathlib.Path("/usr/sbin/nginx").exists() else None)


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (scripts/install-deps.sh bench)")
def test_the_two_node_example_is_a_valid_nginx_configuration(tmp_path):
    # Its own prefix, pid and temporary directories, so no system path is needed.
    main = tmp_path / "nginx.conf"
    main.write_text(f"""
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    include {EXAMPLE};
}}
""")
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
