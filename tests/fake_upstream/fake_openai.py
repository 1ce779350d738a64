#!/usr/bin/env python3
"""A fake OpenAI-compatible upstream for chatgate's tests (Python standard library only).

    fake_openai.py [--host 127.0.0.1] [--port 0] [--tls-cert CERT --tls-key KEY]

Prints ``listening on http://HOST:PORT`` (or https) once it accepts connections and stops
on SIGTERM.  The behaviour of ``POST .../chat/completions`` is chosen by the request's
``model``, written ``behaviour[:arg[:tag]]``; the optional tag only makes a model name
unique so that counters and stats of one test do not mix with another's:

    echo                  answers "echo: <last user message> (turns: N)"
    slow:MS               like echo, one word per delta, MS milliseconds apart
    error500              500 with an OpenAI error object
    ratelimit:S           429 with Retry-After: S
    flaky:N               503 for the first N requests of this exact model name, then echo
    stall                 the header, then nothing until the client goes away
    silent                nothing at all until the client goes away
    malformed             invalid JSON (or invalid SSE data when streaming)
    cut                   part of the answer, then the connection closes
    long:N                N words, one delta each

Streaming (``"stream": true``) sends SSE chunks the way OpenAI does, with the usage chunk
before ``data: [DONE]`` when ``stream_options.include_usage`` is set.

``GET /_stats`` answers ``{"requests": {model: count}, "last_body": {model: body},
"last_authorization": {model: header}}``.
"""

from __future__ import annotations

import argparse
import json
import select
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 10 * 1024 * 1024
STALL_LIMIT = 120.0  # seconds a stalled answer waits for the client at most

_lock = threading.Lock()
_requests: dict[str, int] = {}
_last_body: dict[str, object] = {}
_last_authorization: dict[str, str | None] = {}


def words_of(text: str) -> list[str]:
    parts = text.split(" ")
    return [p + (" " if i < len(parts) - 1 else "") for i, p in enumerate(parts)]


def approx_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server_version = "fake-openai/1"

    def log_message(self, fmt, *args):  # quiet: the tests read /_stats instead
        pass

    # ---- plumbing ----------------------------------------------------------------

    def send_json(self, status: int, body, headers: dict | None = None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def start_sse(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def write_chunk(self, data: bytes):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def sse(self, payload):
        text = payload if isinstance(payload, str) else json.dumps(payload)
        self.write_chunk(f"data: {text}\n\n".encode())

    def end_chunks(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def wait_for_client_to_leave(self):
        """Holds the connection open, reading nothing, until the peer closes it."""
        deadline = time.monotonic() + STALL_LIMIT
        sock = self.connection
        while time.monotonic() < deadline:
            readable, _, _ = select.select([sock], [], [], 0.2)
            if readable:
                try:
                    if not sock.recv(1024):
                        break
                except OSError:
                    break
        self.close_connection = True

    def cut(self):
        """Closes the connection abruptly, with no proper end of the body."""
        self.wfile.flush()
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close_connection = True

    # ---- routes -------------------------------------------------------------------

    def do_GET(self):
        if self.path.startswith("/_stats"):
            with _lock:
                body = {
                    "requests": dict(_requests),
                    "last_body": dict(_last_body),
                    "last_authorization": dict(_last_authorization),
                }
            self.send_json(200, body)
        else:
            self.send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.send_json(413, {"error": {"message": "too large"}})
            self.close_connection = True
            return
        raw = self.rfile.read(length)
        if not self.path.endswith("/chat/completions"):
            self.send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        try:
            body = json.loads(raw)
            model = str(body["model"])
            messages = body["messages"]
        except (ValueError, KeyError, TypeError):
            self.send_json(400, {"error": {"message": "bad request", "type": "invalid_request_error"}})
            return
        with _lock:
            _requests[model] = _requests.get(model, 0) + 1
            seen = _requests[model]
            _last_body[model] = body
            _last_authorization[model] = self.headers.get("Authorization")
        parts = model.split(":")
        behaviour, arg = parts[0], (parts[1] if len(parts) > 1 else "")
        stream = bool(body.get("stream"))
        usage_wanted = bool((body.get("stream_options") or {}).get("include_usage"))
        self.answer(behaviour, arg, seen, model, messages, stream, usage_wanted)

    def answer(self, behaviour, arg, seen, model, messages, stream, usage_wanted):
        last_user = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
        prompt_tokens = sum(approx_tokens(str(m.get("content", ""))) + 3 for m in messages)
        text = f"echo: {last_user} (turns: {len(messages)})"
        delay = 0.0
        if behaviour == "error500":
            self.send_json(500, {"error": {"message": "the model crashed (key sk-fake-secret-key-1234)",
                                           "type": "server_error"}})
            return
        if behaviour == "ratelimit":
            self.send_json(429, {"error": {"message": "rate limit reached", "type": "rate_limit_error"}},
                           {"Retry-After": arg or "1"})
            return
        if behaviour == "flaky" and seen <= int(arg or "1"):
            self.send_json(503, {"error": {"message": f"overloaded (request {seen})", "type": "server_error"}})
            return
        if behaviour == "silent":
            self.wait_for_client_to_leave()
            return
        if behaviour == "slow":
            delay = int(arg or "100") / 1000.0
        if behaviour == "long":
            text = "".join(f"word{i} " for i in range(int(arg or "1000"))).rstrip()
        deltas = words_of(text)
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(deltas),
                 "total_tokens": prompt_tokens + len(deltas)}

        if not stream:
            if behaviour == "stall":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.flush()
                self.wait_for_client_to_leave()
                return
            if behaviour == "malformed":
                data = b'{"choices": [ {not json'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            full = json.dumps(self.completion(model, text, usage)).encode()
            if behaviour == "cut":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(full)))
                self.end_headers()
                self.wfile.write(full[: len(full) // 2])
                self.cut()
                return
            time.sleep(delay * len(deltas))
            self.send_json(200, self.completion(model, text, usage))
            return

        self.start_sse()
        if behaviour == "stall":
            self.wait_for_client_to_leave()
            return
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": model}
        self.sse({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                       "finish_reason": None}]})
        if behaviour == "malformed":
            self.write_chunk(b": a comment is fine\n\ndata: {\"choices\": [oops\n\n")
            self.end_chunks()
            return
        for i, delta in enumerate(deltas):
            if behaviour == "cut" and i == len(deltas) // 2:
                self.cut()
                return
            if delay:
                time.sleep(delay)
            self.sse({**base, "choices": [{"index": 0, "delta": {"content": delta}, "finish_reason": None}]})
        self.sse({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if usage_wanted:
            self.sse({**base, "choices": [], "usage": usage})
        self.sse("[DONE]")
        self.end_chunks()

    @staticmethod
    def completion(model, text, usage):
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": usage,
        }


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()

    server = Server((args.host, args.port), Handler)
    scheme = "http"
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"

    def on_sigterm(signum, frame):
        # shutdown() waits for serve_forever, so it must run on another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, on_sigterm)
    host, port = server.server_address[:2]
    print(f"listening on {scheme}://{host}:{port}", flush=True)
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
