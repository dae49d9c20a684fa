"""The load generator of the ingest benchmark: C2C v2 reports POSTed over loopback by many
keep-alive clients, from a process of its own (so the receiver's process is measured alone).

    python -m benchmarks.ingest_load URL COUNT CONNECTIONS [FIRST]

Report ``n`` (from FIRST, default 0) names the app's call ``bench-<n>`` in ``mid``. Prints
one JSON line: how many got each status, and the seconds from the first request to the last answer.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter


def report(n: int) -> bytes:
    return json.dumps(
        {
            "webhook_id": "sim-webhook",
            "bridge": 918068280000,
            "from": 919876543210,
            "to": 918867135000 + n % 1000,
            "source": "C2C",
            "start_at": "2026-11-23 10:00:00",
            "end_at": "2026-11-23 10:01:00",
            "date": "2026-11-23 10:01:00",
            "unixtime": "1795428060",
            "duration": "65",
            "billing": "60",
            "status": "COMPLETED",
            "status1": "RECEIVED",
            "status2": "ANSWER",
            "recording_url": "",
            "hangup_by": "caller",
            "callId": f"provider-{n}",
            "mid": call_id(n),
        }
    ).encode()


def call_id(n: int) -> str:
    return f"bench-{n:07d}"


async def deliver(url: str, count: int, connections: int, first: int = 0) -> dict[str, object]:
    """Keep-alive connections, one request in flight on each, written and read by hand:
    a full HTTP client costs more per request than the receiver it is meant to load."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
    statuses: Counter[int] = Counter()
    queue = iter(range(first, first + count))

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for n in queue:
                body = report(n)
                head = (
                    f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    "Content-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                )
                writer.write(head.encode() + body)
                answer = await reader.readuntil(b"\r\n\r\n")
                status = int(answer.split(b" ", 2)[1])
                length = 0
                for line in answer.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                statuses[status] += 1
        except (OSError, asyncio.IncompleteReadError):
            statuses[0] += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    seconds = time.perf_counter() - started
    return {"statuses": {str(k): v for k, v in statuses.items()}, "seconds": seconds}


def main(argv: list[str]) -> int:
    url, count, connections = argv[0], int(argv[1]), int(argv[2])
    first = int(argv[3]) if len(argv) > 3 else 0
    print(json.dumps(asyncio.run(deliver(url, count, connections, first))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
