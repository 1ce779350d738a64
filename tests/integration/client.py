"""Request helpers for the chatgate black-box suite (requests only, no project code)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import re
import time
import uuid
from urllib.parse import urljoin

import requests

TIMEOUT = 30  # seconds for any single request

# Not common, not numeric, long enough, and unlike any generated username.
PASSWORD = "Violet-Harbor-93-Quill"

SIGNUP_GRANT = 4000
CHAT_COST = 100
DUMMY_RESPONSE = "This is a dummy response."
LEDGER_KINDS = {
    "signup_grant", "chat_charge", "chat_refund", "top_up", "admin_grant", "admin_deduct",
    "code_redeem", "payment_credit", "payment_refund", "debt_repayment",
}
CREATED_AT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
WWW_AUTHENTICATE = 'Bearer realm="api"'

MSG_REGISTERED = {"message": "User registered successfully!"}
MSG_NO_ACCOUNT = {"detail": "No active account found with the given credentials"}
MSG_NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}
MSG_BAD_HEADER = {
    "detail": "Authorization header must contain two space-delimited values",
    "code": "bad_authorization_header",
}


def token_not_valid(inner="Token is invalid or expired"):
    return {
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{"token_class": "AccessToken", "token_type": "access", "message": inner}],
    }


class Http(requests.Session):
    """A requests.Session bound to a base URL, with a default timeout and no redirects.

    ``http.get("/api/tokens/")`` goes to ``base + "/api/tokens/"``."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.trust_env = False  # never route 127.0.0.1 through an environment proxy

    def url(self, path: str) -> str:
        if path.startswith("http://") or path.startswith("https://"):
            return path
        return self.base_url + path

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", TIMEOUT)
        kwargs.setdefault("allow_redirects", False)
        return super().request(method, self.url(url), **kwargs)


def as_http(api_or_base) -> tuple[Http, bool]:
    """(client, owned): accept either an Http or a base URL string."""
    if isinstance(api_or_base, Http):
        return api_or_base, False
    return Http(str(api_or_base)), True


def unique_username(prefix: str = "u") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def bearer(access: str) -> dict:
    return {"Authorization": f"Bearer {access}"}


@dataclasses.dataclass
class User:
    username: str
    password: str
    access: str
    refresh: str

    @property
    def headers(self) -> dict:
        return bearer(self.access)

    @property
    def user_id(self):
        return jwt_payload(self.access)["user_id"]


def describe(r: requests.Response) -> str:
    """One line for assertion messages: the request and the answer."""
    req = r.request
    body = req.body
    if isinstance(body, bytes):
        body = body[:300].decode("utf-8", "replace")
    elif isinstance(body, str):
        body = body[:300]
    return f"{req.method} {req.url} body={body!r} -> {r.status_code} {r.headers.get('Content-Type')} {r.text[:500]!r}"


def expect(r: requests.Response, status: int, body=None):
    """Assert the status (and the exact JSON body when given); returns the parsed JSON or None."""
    assert r.status_code == status, describe(r)
    if body is None:
        if r.headers.get("Content-Type", "").startswith("application/json") and r.content:
            return r.json()
        return None
    assert r.headers.get("Content-Type", "").startswith("application/json"), describe(r)
    got = r.json()
    assert got == body, describe(r)
    return got


def register(api, username: str | None = None, password: str = PASSWORD) -> tuple[str, str]:
    http, owned = as_http(api)
    try:
        username = username or unique_username()
        r = http.post("/api/register/", json={"username": username, "password": password})
        expect(r, 201, MSG_REGISTERED)
        return username, password
    finally:
        if owned:
            http.close()


def login(api, username: str, password: str = PASSWORD) -> dict:
    http, owned = as_http(api)
    try:
        r = http.post("/api/login/", json={"username": username, "password": password})
        body = expect(r, 200)
        assert set(body) == {"refresh", "access"}, describe(r)
        return body
    finally:
        if owned:
            http.close()


def new_user(api, prefix: str = "u", password: str = PASSWORD) -> User:
    username, password = register(api, unique_username(prefix), password)
    tokens = login(api, username, password)
    return User(username, password, tokens["access"], tokens["refresh"])


def get_balance(api, access: str) -> int:
    http, owned = as_http(api)
    try:
        r = http.get("/api/tokens/", headers=bearer(access))
        body = expect(r, 200)
        assert set(body) == {"tokens"} and type(body["tokens"]) is int, describe(r)
        return body["tokens"]
    finally:
        if owned:
            http.close()


def post_as(api, access: str, path: str, body: dict) -> requests.Response:
    """POST a JSON body with the user's bearer token."""
    http, owned = as_http(api)
    try:
        return http.post(path, json=body, headers=bearer(access))
    finally:
        if owned:
            http.close()


def chat(api, access: str, message: str = "hello") -> requests.Response:
    return post_as(api, access, "/api/chat/", {"message": message})


def top_up(api, access: str, tokens) -> requests.Response:
    return post_as(api, access, "/api/top-up/", {"tokens": tokens})


def fetch_ledger(api, access: str, page_size: int = 100) -> list[dict]:
    """Every transaction row, newest first, by paging through /api/transactions/."""
    http, owned = as_http(api)
    try:
        rows: list[dict] = []
        url = f"/api/transactions/?page=1&page_size={page_size}"
        count = None
        pages = 0
        while url:
            r = http.get(url, headers=bearer(access))
            page = expect(r, 200)
            assert set(page) == {"count", "next", "previous", "results"}, describe(r)
            if count is None:
                count = page["count"]
            assert page["count"] == count, "count changed while paging: " + describe(r)
            rows.extend(page["results"])
            nxt = page["next"]
            url = urljoin(http.base_url + "/", nxt) if nxt else None
            pages += 1
            assert pages <= 10_000, "paging does not terminate"
        assert len(rows) == count, f"count={count} but {len(rows)} rows were listed"
        return rows
    finally:
        if owned:
            http.close()


def assert_ledger_consistent(api, access: str) -> list[dict]:
    """The balance equals the sum of the ledger, never negative, and each row's
    balance_after is the running sum (oldest to newest).  Returns rows oldest first."""
    http, owned = as_http(api)
    try:
        newest_first = fetch_ledger(http, access)
        balance = get_balance(http, access)
    finally:
        if owned:
            http.close()

    ids = [row["id"] for row in newest_first]
    assert len(set(ids)) == len(ids), f"duplicate ledger ids: {ids}"
    for row in newest_first:
        assert set(row) == {"id", "delta", "balance_after", "kind", "reference", "created_at"}, row
        assert type(row["id"]) is int, row
        assert type(row["delta"]) is int, row
        assert type(row["balance_after"]) is int, row
        assert row["kind"] in LEDGER_KINDS, row
        assert row["reference"] is None or isinstance(row["reference"], str), row
        assert isinstance(row["created_at"], str) and CREATED_AT_RE.match(row["created_at"]), row
    assert ids == sorted(ids, reverse=True), f"ledger is not newest first by id: {ids}"

    oldest_first = list(reversed(newest_first))
    running = 0
    for row in oldest_first:
        running += row["delta"]
        assert row["balance_after"] == running, (
            f"balance_after {row['balance_after']} != running sum {running} at row {row}"
        )
        assert row["balance_after"] >= 0, row
    assert running == balance, f"sum of ledger deltas {running} != balance {balance}"
    assert balance >= 0
    return oldest_first


def parse_created_at(value: str) -> dt.datetime:
    m = re.match(r"^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$", value)
    assert m, value
    base = dt.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    return base + dt.timedelta(microseconds=int(frac))


# ---- JWT helpers ---------------------------------------------------------------


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_header(token: str) -> dict:
    return json.loads(b64url_decode(token.split(".")[0]))


def jwt_payload(token: str) -> dict:
    return json.loads(b64url_decode(token.split(".")[1]))


def mint_jwt(secret: bytes | str | None, payload: dict, alg: str = "HS256", header: dict | None = None) -> str:
    """Sign a JWT ourselves (HS256/HS384/HS512, or alg "none" with an empty signature)."""
    hdr = header if header is not None else {"alg": alg, "typ": "JWT"}
    signing_input = (
        b64url_encode(json.dumps(hdr, separators=(",", ":")).encode())
        + "."
        + b64url_encode(json.dumps(payload, separators=(",", ":")).encode())
    )
    if alg == "none":
        return signing_input + "."
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    key = secret.encode() if isinstance(secret, str) else secret
    sig = hmac.new(key, signing_input.encode("ascii"), digest).digest()
    return signing_input + "." + b64url_encode(sig)


def access_claims(user_id, lifetime: int = 1800, now: int | None = None, **overrides) -> dict:
    now = int(time.time()) if now is None else now
    claims = {
        "token_type": "access",
        "exp": now + lifetime,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "user_id": user_id,
    }
    claims.update(overrides)
    return claims
