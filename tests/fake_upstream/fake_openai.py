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
    chatty                like echo, but tool calls come with the text "Let me check."

Streaming (``"stream": true``) sends SSE chunks the way OpenAI does, with the usage chunk
before ``data: [DONE]`` when ``stream_options.include_usage`` is set.

Whatever the behaviour, a request with ``tools`` whose last message is not a tool result is
answered with tool calls (``finish_reason: "tool_calls"``): the tool ``tool_choice`` names,
else the first one (and the second too, when there are two or more and
``parallel_tool_calls`` is not false), with arguments made from the tool's JSON schema and
the last user message; streamed as OpenAI does (``delta.tool_calls`` with ``index``, the
arguments in 5-character pieces). A tool result is answered "echo: tool said <result>
(turns: N)". ``response_format`` ``json_object`` answers ``{"echo": <last user message>}``,
``json_schema`` an object made from the schema.

``POST .../embeddings`` answers each input with a vector of ``dimensions`` (default 8)
numbers made from its text, as floats or base64 (little-endian float32), and usage counting
one token per four characters (per id for token arrays); a model named ``error500...``
answers 500.

``POST .../messages`` speaks Anthropic's Messages API (``x-api-key``, ``anthropic-version``
recorded): ``echo`` answers "echo: <last user text> (turns: N)", ``error500`` answers 500
and ``overloaded`` 529 with Anthropic's error object, ``cut`` closes a stream midway; a
request with ``tools`` whose last turn holds no tool_result is answered with a tool_use of
the first tool (``tool_choice`` honoured); a tool result is answered "echo: tool said
<result> (turns: N)". Streams send Anthropic's events (message_start ... message_stop).

``GET /_stats`` answers ``{"requests": {model: count}, "last_body": {model: body},
"last_authorization": {model: header}}``.
"""

from __future__ import annotations

import argparse
import base64
import json
import select
import signal
import socket
import ssl
import struct
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


def text_of(content) -> str:
    """A message's text: the string, or its text parts joined by newlines."""
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return "" if content is None else str(content)


def sample(schema, text: str):
    """A value that fits the JSON schema, its strings made of ``text``."""
    if not isinstance(schema, dict):
        return text
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return sample(schema[key][0], text)
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or (kind is None and "properties" in schema):
        return {name: sample(sub, text) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [sample(schema.get("items") or {}, text)]
    if kind in ("number", "integer"):
        return 42
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return text


def tool_calls_for(body, messages, last_user):
    """The calls a request with tools is answered with (None: answer with text)."""
    tools = [t for t in (body.get("tools") or []) if t.get("type") == "function"]
    if not tools or (messages and messages[-1].get("role") == "tool"):
        return None
    choice = body.get("tool_choice")
    if choice == "none":
        return None
    if isinstance(choice, dict):
        wanted = choice["function"]["name"]
        chosen = [t for t in tools if t["function"]["name"] == wanted]
    elif len(tools) > 1 and body.get("parallel_tool_calls") is not False:
        chosen = tools[:2]
    else:
        chosen = tools[:1]
    return [{"id": f"call_{i}_{len(messages)}", "name": t["function"]["name"],
             "arguments": json.dumps(sample(t["function"].get("parameters") or {"type": "object"}, last_user))}
            for i, t in enumerate(chosen)]


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
        if self.path.endswith("/messages"):
            self.anthropic(raw)
            return
        if self.path.endswith("/embeddings"):
            self.embeddings(raw)
            return
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
        self.answer(behaviour, arg, seen, model, body, stream, usage_wanted)

    def answer(self, behaviour, arg, seen, model, body, stream, usage_wanted):
        messages = body["messages"]
        last_user = next((text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
        prompt_tokens = sum(approx_tokens(text_of(m.get("content"))) + 3 for m in messages)
        text = f"echo: {last_user} (turns: {len(messages)})"
        if messages and messages[-1].get("role") == "tool":
            text = f"echo: tool said {text_of(messages[-1].get('content'))} (turns: {len(messages)})"
        fmt = (body.get("response_format") or {})
        if fmt.get("type") == "json_object":
            text = json.dumps({"echo": last_user})
        elif fmt.get("type") == "json_schema":
            text = json.dumps(sample((fmt.get("json_schema") or {}).get("schema") or {}, last_user))
        calls = tool_calls_for(body, messages, last_user)
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
        if calls:
            deltas = [c["arguments"][i:i + 5] for c in calls for i in range(0, len(c["arguments"]), 5)]
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
            if behaviour == "chatty" and calls:
                text = "Let me check."
            full = json.dumps(self.completion(model, text, usage, calls)).encode()
            if behaviour == "cut":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(full)))
                self.end_headers()
                self.wfile.write(full[: len(full) // 2])
                self.cut()
                return
            time.sleep(delay * len(deltas))
            self.send_json(200, self.completion(model, text, usage, calls))
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
        pieces = self.tool_call_pieces(calls) if calls else [{"content": d} for d in deltas]
        if behaviour == "chatty" and calls:
            pieces.insert(0, {"content": "Let me check."})
        for i, delta in enumerate(pieces):
            if behaviour == "cut" and i == len(pieces) // 2:
                self.cut()
                return
            if delay:
                time.sleep(delay)
            self.sse({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
        finish = "tool_calls" if calls else "stop"
        self.sse({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        if usage_wanted:
            self.sse({**base, "choices": [], "usage": usage})
        self.sse("[DONE]")
        self.end_chunks()

    def anthropic(self, raw):
        body = json.loads(raw)
        model = str(body.get("model"))
        with _lock:
            _requests[model] = _requests.get(model, 0) + 1
            _last_body[model] = body
            _last_authorization[model] = f"x-api-key={self.headers.get('x-api-key')} " \
                                         f"anthropic-version={self.headers.get('anthropic-version')}"
        behaviour = model.split(":")[0]
        if behaviour in ("error500", "overloaded"):
            status = 500 if behaviour == "error500" else 529
            kind = "api_error" if behaviour == "error500" else "overloaded_error"
            self.send_json(status, {"type": "error", "error": {"type": kind, "message": "upstream trouble"}})
            return
        messages = body.get("messages") or []

        def text_of_blocks(content):
            if isinstance(content, str):
                return content
            return "\n".join(b.get("text", "") for b in content if b.get("type") == "text")

        last = messages[-1] if messages else {"content": ""}
        results = [b for b in (last["content"] if isinstance(last["content"], list) else [])
                   if b.get("type") == "tool_result"]
        last_user = next((text_of_blocks(m["content"]) for m in reversed(messages)
                          if m["role"] == "user" and text_of_blocks(m["content"])), "")
        turns = len(messages) + (1 if body.get("system") else 0)
        text = f"echo: {last_user} (turns: {turns})"
        if results:
            text = f"echo: tool said {results[0].get('content')} (turns: {turns})"
        tools = body.get("tools") or []
        choice = body.get("tool_choice") or {}
        use = None
        if tools and not results and choice.get("type") != "none":
            tool = next((t for t in tools if t["name"] == choice.get("name")), tools[0])
            use = {"type": "tool_use", "id": f"toolu_{len(messages)}", "name": tool["name"],
                   "input": sample(tool.get("input_schema") or {"type": "object"}, last_user)}
        words = words_of(text)
        usage_in = sum(approx_tokens(json.dumps(m)) for m in messages)
        out_tokens = 3 if use else len(words)
        stop = "tool_use" if use else "end_turn"
        if not body.get("stream"):
            content = [use] if use else [{"type": "text", "text": text}]
            self.send_json(200, {"id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                                 "content": content, "stop_reason": stop, "stop_sequence": None,
                                 "usage": {"input_tokens": usage_in, "output_tokens": out_tokens}})
            return
        self.start_sse()

        def event(name, data):
            self.write_chunk(f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode())

        event("message_start", {"message": {"id": "msg_fake", "type": "message", "role": "assistant",
                                            "model": model, "content": [], "stop_reason": None,
                                            "usage": {"input_tokens": usage_in, "output_tokens": 1}}})
        event("ping", {})
        if use:
            event("content_block_start", {"index": 0, "content_block": {**use, "input": {}}})
            args = json.dumps(use["input"])
            for i in range(0, len(args), 5):
                event("content_block_delta", {"index": 0, "delta": {"type": "input_json_delta", "partial_json": args[i:i + 5]}})
        else:
            event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
            for i, word in enumerate(words):
                if behaviour == "cut" and i == len(words) // 2:
                    self.cut()
                    return
                event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": word}})
        event("content_block_stop", {"index": 0})
        event("message_delta", {"delta": {"stop_reason": stop, "stop_sequence": None},
                                "usage": {"output_tokens": out_tokens}})
        event("message_stop", {})
        self.end_chunks()

    def embeddings(self, raw):
        body = json.loads(raw)
        model = str(body.get("model"))
        with _lock:
            _requests[model] = _requests.get(model, 0) + 1
            _last_body[model] = body
        if model.startswith("error500"):
            self.send_json(500, {"error": {"message": "embedder down", "type": "server_error"}})
            return
        inputs = body["input"]
        if isinstance(inputs, str) or (inputs and isinstance(inputs[0], int)):
            inputs = [inputs]
        size = int(body.get("dimensions") or 8)
        data, tokens = [], 0
        for index, item in enumerate(inputs):
            text = item if isinstance(item, str) else " ".join(map(str, item))
            tokens += approx_tokens(item) if isinstance(item, str) else len(item)
            vector = [((sum(map(ord, text)) * (i + 1)) % 1000) / 1000.0 for i in range(size)]
            if body.get("encoding_format") == "base64":
                vector = base64.b64encode(struct.pack(f"<{size}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": vector})
        self.send_json(200, {"object": "list", "data": data, "model": model,
                             "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    @staticmethod
    def tool_call_pieces(calls):
        """The deltas of streamed tool calls: id and name first, then the arguments in pieces."""
        out = []
        for index, call in enumerate(calls):
            out.append({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                        "function": {"name": call["name"], "arguments": ""}}]})
            args = call["arguments"]
            for i in range(0, len(args), 5):
                out.append({"tool_calls": [{"index": index, "function": {"arguments": args[i:i + 5]}}]})
        return out

    @staticmethod
    def completion(model, text, usage, calls=None):
        message = {"role": "assistant", "content": text}
        if calls:
            message = {"role": "assistant", "content": text if text == "Let me check." else None,
                       "tool_calls": [{"id": c["id"], "type": "function",
                                       "function": {"name": c["name"], "arguments": c["arguments"]}}
                                      for c in calls]}
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if calls else "stop"}],
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
