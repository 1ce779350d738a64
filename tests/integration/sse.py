"""Reading chatgate's server-sent events (POST /api/chat/ with "stream": true)."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from urllib.parse import urlparse

import requests

from client import TIMEOUT, bearer


@dataclass
class Event:
    name: str
    data: dict


@dataclass
class EventStream:
    events: list[Event] = field(default_factory=list)
    pings: int = 0

    def named(self, name: str) -> list[Event]:
        return [e for e in self.events if e.name == name]

    @property
    def text(self) -> str:
        return "".join(e.data["text"] for e in self.named("delta"))

    @property
    def last(self) -> Event:
        return self.events[-1]


def open_stream(http, access: str, body: dict) -> requests.Response:
    """POSTs a streamed chat; the caller reads (or abandons) the body."""
    return http.post("/api/chat/", json={**body, "stream": True}, headers=bearer(access),
                     stream=True, timeout=TIMEOUT)


def events_of(response: requests.Response, stop_after: int | None = None) -> EventStream:
    """Parses the body into events (each `event:` + `data:` block; `:` lines are pings).
    With `stop_after`, returns once that many events have arrived, leaving the rest unread."""
    out = EventStream()
    name, data = None, []
    for raw in response.iter_lines(chunk_size=1, decode_unicode=False):
        line = raw.decode("utf-8")
        if line.startswith(":"):
            out.pings += 1
        elif line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data.append(line.removeprefix("data: "))
        elif line == "" and name is not None:
            out.events.append(Event(name, json.loads("\n".join(data))))
            name, data = None, []
            if stop_after is not None and len(out.events) >= stop_after:
                return out
    return out


def stream_then_leave(base_url: str, access: str, body: dict, deltas: int, while_open=None,
                      path: str = "/api/chat/", marker: bytes = b"event: delta") -> bytes:
    """Starts a streamed chat on a raw socket, reads until `deltas` events (counted by
    `marker`) arrived, calls `while_open()` if given, then closes the connection the way a
    client that goes away does. Returns what it read."""
    url = urlparse(base_url)
    payload = json.dumps({**body, "stream": True}).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {access}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n").encode()
    received = b""
    with socket.create_connection((url.hostname, url.port), timeout=TIMEOUT) as sock:
        sock.sendall(head + payload)
        # Each event is written as one piece, so its name never straddles two reads' seams
        # in a way that hides it: count on the accumulated bytes.
        while received.count(marker) < deltas:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
        if while_open:
            while_open()
    return received
