"""A local fake of Stripe's Checkout Sessions API (POST /v1/checkout/sessions), on port 0.

It checks what chatgate sends as Stripe would (the secret key as bearer, a form body with the
fields a payment-mode session needs, an Idempotency-Key) and answers with a session object, or
with Stripe's error shape. Every request is kept for the test to inspect.

Run as a program (for the browser tests), it serves until SIGTERM and prints
``listening on http://127.0.0.1:PORT`` once it accepts connections:
``python3 fake_stripe.py --secret-key sk_test_...``."""

from __future__ import annotations

import argparse
import json
import signal
import ssl
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REQUIRED = ("mode", "line_items[0][price]", "line_items[0][quantity]", "client_reference_id",
            "metadata[chatgate_user]", "success_url", "cancel_url")


class FakeStripe:
    def __init__(self, secret_key: str, tls_cert=None, tls_key=None):
        self.secret_key = secret_key
        self.requests: list[dict] = []
        self.fail_with: int | None = None  # answer every request with this status
        self.hang = threading.Event()  # set: read the request, never answer (until released)
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._count = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
                record = {"path": self.path, "headers": dict(self.headers), "form": form}
                if fake.hang.is_set():
                    fake.release.wait(timeout=60)
                    return
                with fake._lock:
                    fake.requests.append(record)
                    fake._count += 1
                    n = fake._count
                status, answer = fake._answer(self.path, self.headers, form, n)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if tls_cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls_cert, tls_key)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.port = self.server.server_address[1]
        self.base_url = f"{scheme}://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _answer(self, path, headers, form, n):
        def error(status, message, param=None):
            return status, {"error": {"type": "invalid_request_error", "message": message, "param": param}}

        if self.fail_with:
            return error(self.fail_with, "failing on purpose")
        if path != "/v1/checkout/sessions":
            return error(404, f"Unrecognized request URL (POST: {path}).")
        if headers.get("Authorization") != f"Bearer {self.secret_key}":
            return error(401, "Invalid API Key provided.")
        if not headers.get("Idempotency-Key"):
            return error(400, "missing Idempotency-Key")
        if not headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return error(400, "expected a form body")
        for name in REQUIRED:
            if not form.get(name):
                return error(400, f"Missing required param: {name}.", name)
        if form["mode"] != "payment" or form["line_items[0][quantity]"] != "1":
            return error(400, "unexpected mode or quantity")
        session = f"cs_test_{n:04d}"
        return 200, {"id": session, "object": "checkout.session", "mode": "payment",
                     "url": f"https://checkout.stripe.com/c/pay/{session}",
                     "client_reference_id": form["client_reference_id"],
                     "metadata": {"chatgate_user": form["metadata[chatgate_user]"]},
                     "payment_status": "unpaid", "status": "open"}

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secret-key", required=True)
    args = parser.parse_args()
    fake = FakeStripe(args.secret_key)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    with fake:
        print(f"listening on {fake.base_url}", flush=True)
        while not stopped.wait(timeout=0.5):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
