#!/usr/bin/python3
"""Times streamed chat completions: CONNECTIONS clients each send streamed requests one after
another for SECONDS, and every delta's arrival is timed.

    stream_timing.py URL TOKEN CONNECTIONS SECONDS MODEL    # TOKEN may be "-" (none)

Prints one JSON object: streams finished, failures, time to first byte (request sent to the
first content delta) and the gap between successive content deltas, p50 and p99 in ms. The
upstream paces its deltas, so a hop's cost shows as extra TTFB and as a wider gap spread.
"""
import asyncio
import json
import statistics
import sys
import time
from urllib.parse import urlsplit

CONTENT = b'"content"'


def percentile(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def client(host, port, path, token, model, deadline, ttfb, gaps, counts):
    body = json.dumps({"model": model, "stream": True,
                       "messages": [{"role": "user", "content": "Hello, how are you?"}]},
                      separators=(",", ":")).encode()
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    request = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < deadline:
            sent = time.perf_counter()
            writer.write(request)
            tail = b""
            last = None
            while True:
                data = await asyncio.wait_for(reader.read(65536), 30)
                now = time.perf_counter()
                if not data:
                    counts["failed"] += 1
                    return
                if CONTENT in data:
                    if last is None:
                        ttfb.append((now - sent) * 1e3)
                    else:
                        gaps.append((now - last) * 1e3)
                    last = now
                tail = (tail + data)[-16:]
                if tail.endswith(b"0\r\n\r\n"):
                    break
            counts["finished"] += 1
    except (OSError, asyncio.TimeoutError):
        counts["failed"] += 1
    finally:
        writer.close()


async def main(url, token, connections, seconds, model):
    parts = urlsplit(url)
    deadline = time.monotonic() + seconds
    ttfb, gaps, counts = [], [], {"finished": 0, "failed": 0}
    await asyncio.gather(*(client(parts.hostname, parts.port, parts.path, token, model, deadline,
                                  ttfb, gaps, counts) for _ in range(connections)))
    print(json.dumps({"streams": counts["finished"], "failed": counts["failed"],
                      "ttfb_p50": percentile(ttfb, 0.50), "ttfb_p99": percentile(ttfb, 0.99),
                      "gap_p50": percentile(gaps, 0.50), "gap_p99": percentile(gaps, 0.99),
                      "gap_mean": statistics.mean(gaps) if gaps else float("nan")}))


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    url, token, connections, seconds, model = sys.argv[1:6]
    asyncio.run(main(url, "" if token == "-" else token, int(connections), float(seconds), model))
