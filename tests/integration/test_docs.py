"""The chat page, the console, the OpenAPI document, Swagger UI, ReDoc and their static assets."""

from __future__ import annotations

import pathlib
import re
import socket
from urllib.parse import urlsplit

import pytest

from client import describe

API_PATHS = [
    "/api/register/",
    "/api/login/",
    "/api/token/refresh/",
    "/api/chat/",
    "/api/tokens/",
    "/api/top-up/",
    "/api/transactions/",
]
PATH_METHODS = {
    "/api/register/": "post",
    "/api/login/": "post",
    "/api/token/refresh/": "post",
    "/api/chat/": "post",
    "/api/tokens/": "get",
    "/api/top-up/": "post",
    "/api/transactions/": "get",
}
SECURED = {"/api/chat/", "/api/tokens/", "/api/top-up/", "/api/transactions/"}
JS_TYPES = ("application/javascript", "text/javascript")
NODE_MODULES = pathlib.Path(__file__).resolve().parents[2] / "node_modules"
PINNED_ASSETS = {
    "/static/swagger-ui/swagger-ui-bundle.js": NODE_MODULES / "swagger-ui-dist" / "swagger-ui-bundle.js",
    "/static/swagger-ui/swagger-ui.css": NODE_MODULES / "swagger-ui-dist" / "swagger-ui.css",
    "/static/redoc/redoc.standalone.js": NODE_MODULES / "redoc" / "bundles" / "redoc.standalone.js",
}


def html_of(api, path):
    r = api.get(path)
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"].startswith("text/html"), describe(r)
    assert "<html" in r.text.lower(), describe(r)
    return r.text


def script_and_link_urls(html):
    return re.findall(r"""<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""", html, re.I)


def test_welcome_page_links_to_docs(api):
    html = html_of(api, "/")
    assert re.search(r"""href\s*=\s*["']/api/docs/?["']""", html), html[:2000]


def test_schema_json(api):
    r = api.get("/api/schema/?format=json")
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/vnd.oai.openapi+json", describe(r)
    doc = r.json()
    check_openapi_document(doc)


def check_openapi_document(doc):
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"]
    assert doc["info"]["version"]
    for path in API_PATHS:
        assert path in doc["paths"], f"{path} missing from {sorted(doc['paths'])}"
        assert PATH_METHODS[path] in doc["paths"][path], (path, doc["paths"][path].keys())
    schemes = doc.get("components", {}).get("securitySchemes", {})
    bearer = [name for name, s in schemes.items() if s.get("type") == "http" and s.get("scheme", "").lower() == "bearer"]
    assert bearer, f"no HTTP bearer security scheme: {schemes}"
    for path in SECURED:
        op = doc["paths"][path][PATH_METHODS[path]]
        security = op.get("security", doc.get("security"))
        assert security and any(set(req) & set(bearer) for req in security), (path, security)


def test_schema_yaml_by_default(api):
    r = api.get("/api/schema/")
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/vnd.oai.openapi", describe(r)
    text = r.text
    # Keys and scalars may be plain or quoted; both are YAML.
    assert re.search(r"""^["']?openapi["']?:\s*["']?3\.1\.0["']?\s*$""", text, re.M), text[:300]
    for path in API_PATHS:
        assert re.search(rf"""^\s+["']?{re.escape(path)}["']?:""", text, re.M), f"{path} not in YAML"
    try:
        import yaml  # Debian python3-yaml; optional
    except ImportError:
        return
    doc = yaml.safe_load(text)
    check_openapi_document(doc)
    json_doc = api.get("/api/schema/?format=json").json()
    assert doc == json_doc, "YAML and JSON documents differ"


def test_schema_without_slash(api):
    r = api.get("/api/schema?format=json")
    assert r.status_code == 200, describe(r)
    assert r.json()["openapi"] == "3.1.0"


APP_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
WEB_LIBRARIES = {
    "/static/vendor/marked.esm.js": NODE_MODULES / "marked" / "lib" / "marked.esm.js",
    "/static/vendor/purify.es.mjs": NODE_MODULES / "dompurify" / "dist" / "purify.es.mjs",
    "/static/vendor/uPlot.esm.js": NODE_MODULES / "uplot" / "dist" / "uPlot.esm.js",
}


@pytest.mark.parametrize("page", ["/", "/admin/", "/admin"])
def test_chat_page_and_console_have_a_strict_policy_and_only_local_assets(api, page):
    html = html_of(api, page)
    r = api.get(page)
    assert r.headers["Content-Security-Policy"] == APP_POLICY, describe(r)
    assert r.headers["Cache-Control"] == "no-cache", describe(r)
    assert "<style" not in html.lower() and " style=" not in html.lower(), "no inline styles"
    assert not re.search(r"<script(?![^>]*\bsrc=)", html, re.I), "no inline scripts"
    urls = script_and_link_urls(html)
    assert urls and all(u.startswith("/static/") or u.startswith("data:") for u in urls), urls
    for url in urls:
        if url.startswith("data:"):
            continue
        asset = api.get(url)
        assert asset.status_code == 200, describe(asset)
        # The pages' own modules are revalidated every time; the libraries kept for a day.
        caching = "no-cache" if url.startswith("/static/web/") else "public, max-age=86400"
        assert asset.headers["Cache-Control"] == caching, describe(asset)
        assert re.fullmatch(r'"[0-9a-f]{16}"', asset.headers["ETag"]), describe(asset)
        want = "text/css" if url.endswith(".css") else "text/javascript"
        assert asset.headers["Content-Type"].split(";")[0] == want, describe(asset)


@pytest.mark.parametrize("path", ["/", "/static/web/chat.js", "/static/vendor/marked.esm.js"])
def test_an_asset_the_browser_has_is_a_304_without_a_body(api, path):
    first = api.get(path)
    assert first.status_code == 200, describe(first)
    tag = first.headers["ETag"]
    cached = api.get(path, headers={"If-None-Match": tag})
    assert cached.status_code == 304, describe(cached)
    assert cached.content == b"" and "Content-Length" not in cached.headers, describe(cached)
    assert cached.headers["ETag"] == tag
    # The connection carries on after the bodiless answer.
    again = api.get(path, headers={"If-None-Match": '"0000000000000000"'})
    assert again.status_code == 200 and again.content == first.content, describe(again)


@pytest.mark.parametrize("path, pinned", sorted(WEB_LIBRARIES.items()))
def test_page_libraries_are_the_pinned_npm_files(api, main_server, path, pinned):
    r = api.get(path)
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"].startswith("text/javascript"), describe(r)
    if main_server is not None and pinned.is_file():
        assert r.content == pinned.read_bytes(), f"{path} differs from {pinned}"


@pytest.mark.parametrize(
    "page, assets, init_marker",
    [
        ("/api/docs/", ["/static/swagger-ui/swagger-ui-bundle.js", "/static/swagger-ui/swagger-ui.css"],
         "SwaggerUIBundle("),
        ("/api/redoc/", ["/static/redoc/redoc.standalone.js"], "Redoc"),
    ],
)
def test_docs_pages_reference_local_assets_and_schema(api, page, assets, init_marker):
    html = html_of(api, page)
    urls = script_and_link_urls(html)
    for asset in assets:
        assert asset in urls, f"{asset} not referenced by {page}: {urls}"
    scripts = re.findall(r"""<script\b[^>]*\bsrc\s*=\s*["']([^"']+)""", html, re.I)
    external = [u for u in scripts if u.startswith(("http://", "https://", "//"))]
    assert not external, f"{page} loads scripts from the network: {external}"
    # The page plus its own (small) init scripts load the schema from /api/schema/.
    combined = html
    for src in scripts:
        if src in PINNED_ASSETS:
            continue
        r = api.get(src)
        assert r.status_code == 200, describe(r)
        assert r.headers["Content-Type"].split(";")[0].strip() in JS_TYPES, describe(r)
        combined += "\n" + r.text
    assert "/api/schema/" in combined, f"{page} does not point at /api/schema/"
    assert init_marker in combined, f"{page} never initialises its viewer ({init_marker!r})"


@pytest.mark.parametrize(
    "path, types, marker",
    [
        ("/static/swagger-ui/swagger-ui-bundle.js", JS_TYPES, "SwaggerUIBundle"),
        ("/static/swagger-ui/swagger-ui.css", ("text/css",), ".swagger-ui"),
        ("/static/redoc/redoc.standalone.js", JS_TYPES, "Redoc"),
    ],
)
def test_static_assets(api, main_server, path, types, marker):
    r = api.get(path)
    assert r.status_code == 200, describe(r)
    ctype = r.headers["Content-Type"].split(";")[0].strip()
    assert ctype in types, describe(r)
    assert len(r.content) > 50_000, f"{path} is only {len(r.content)} bytes"
    assert marker in r.text
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    if main_server is not None:
        # Embedded from the pinned npm packages, byte for byte.
        pinned = PINNED_ASSETS[path]
        if pinned.is_file():
            assert r.content == pinned.read_bytes(), f"{path} differs from {pinned}"


@pytest.mark.parametrize(
    "raw_path",
    [
        "/static/../../../../etc/passwd",
        "/static/swagger-ui/../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/swagger-ui/..%2f..%2f..%2fetc%2fpasswd",
        "/static/",
        "/static/swagger-ui/",
    ],
)
def test_static_path_traversal(base_url, raw_path):
    """Raw request lines (no client-side normalisation): never a file outside the assets."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(f"GET {raw_path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    status = int(data.split(b" ", 2)[1])
    assert status in (400, 404), data[:300]
    assert b"root:" not in data


def test_openapi_source_has_no_duplicate_keys():
    """JSON parsers keep one of two equal keys silently (Swagger UI then fails to render), so a
    merge that leaves two answers for the same status must fail here instead."""
    import json

    def refuse_duplicates(pairs):
        keys = [key for key, _ in pairs]
        duplicated = sorted({key for key in keys if keys.count(key) > 1})
        assert not duplicated, f"duplicate keys in openapi/openapi.json: {duplicated}"
        return dict(pairs)

    source = pathlib.Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
    json.loads(source.read_text(encoding="utf-8"), object_pairs_hook=refuse_duplicates)
