"""The webhook receiver's HTTP/1.1 server: asyncio's transports and httptools' parser (the
parser uvicorn uses, llhttp underneath), with nothing between them and the receiver.

Why not aiohttp's server: the receiver serves from the history's writer thread, so every
microsecond its HTTP costs is taken from the rate reports are stored at. On the reference
machine (two cores) aiohttp's low-level server took 190-230 µs of that thread per request
with a handler that does nothing, uvicorn (httptools) 130-180 µs, and this 55-70 µs
(``benchmarks.ingest``). The receiver needs little of HTTP: small POST bodies to one path.

What it does, and bounds:

- Keep-alive (HTTP/1.1 by default, HTTP/1.0 when asked), one request at a time per
  connection: requests pipelined behind it are parsed and answered in order, reading
  paused meanwhile.
- Bodies by Content-Length or chunked, at most ``max_body`` bytes: a declared length over it
  is refused before the body is read, a body that grows over it as soon as it does; neither
  is held beyond the limit. ``Expect: 100-continue`` is answered once the head is accepted.
- At most ``MAX_HEAD`` bytes of request line and headers (414 or 431 past it, counted as
  bytes arrive: httptools holds an unfinished header until its end), a request read whole
  within ``REQUEST_TIMEOUT`` (408: a client that trickles bytes holds nothing for long) and
  an idle connection kept ``KEEP_ALIVE`` seconds. A chunked body's trailers are read and
  dropped (the head was checked without them).
- A client that does not read its answers gets no more of them (reading stops while the
  transport's write buffer is full) and is dropped after ``REQUEST_TIMEOUT``; a close that
  cannot send is aborted after ``LINGER``. An answer with a header that cannot be written
  as it is (a line break, a NUL, beyond Latin-1) becomes a 500 and the connection closes.
- Anything llhttp cannot parse gets 400 and the connection closes, as does an HTTP/1.1
  request without exactly one ``Host`` (RFC 9112); so does a request that is refused before
  its body was read (the rest of it is never read). An upgrade request
  (``Upgrade: h2c``, ``websocket``) is answered in HTTP/1.1, and the connection closes.
- At most ``max_connections`` open at once, below the process's open-file limit
  (:func:`connection_cap`: 768 under the common desktop default of 1,024 files), so that a
  flood of connections cannot take every file and starve the platform's reports. At the cap
  a new connection closes the oldest idle one (silent, or between requests); when none is
  idle it is answered 503 and closed. A connection that has sent nothing at all is dropped
  after ``FIRST_BYTE_TIMEOUT`` (a few seconds): holding one costs the client nothing. A
  client that has begun a request keeps ``REQUEST_TIMEOUT``, however slowly its bytes come.
- ``stop()``: listening ends at once, idle connections close, requests in flight get up to
  ``grace`` seconds to be answered.

The application (:class:`HttpApp`) sees a :class:`Request` twice: its head (``check_head``,
before any of the body is read: refuse early, or return None to read on) and whole
(``handle``). A handler that raises gets a 500 with one sentence; a handler whose client
went away meanwhile runs to its end all the same (the receiver's report is stored; the
platform's retry finds it already stored).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import itertools
import logging
import re
import socket
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import unquote

import httptools

logger = logging.getLogger(__name__)

MAX_HEAD = 16 * 1024  # request line and headers
MAX_HEADERS = 100
REQUEST_TIMEOUT = 30.0  # from a request's first byte to its last
KEEP_ALIVE = 75.0  # an idle connection between requests
FIRST_BYTE_TIMEOUT = 5.0  # a new connection that sends nothing
SWEEP_EVERY = 1.0  # how often connections are checked against those three
# The cap on open connections when the file limit does not set a lower one.
MAX_CONNECTIONS = 4096
# Files kept for everything else in the process (the history, its log, the window's own).
_FILES_KEPT = 64
# After a last answer the connection is shut for writing, and what the client still sends
# (the rest of a refused body) is read and dropped, up to this long and this much, so that
# closing does not reset the connection before the client has read the answer.
LINGER = 2.0
LINGER_BYTES = 4 * 1024 * 1024
# The most bytes one request may take on the wire beyond its head and body: chunk framing
# and trailers. (A head is bounded as it arrives, before httptools has a whole header.)
FRAMING_ALLOWANCE = 64 * 1024


@dataclass(slots=True)
class Request:
    """One request: its head as parsed, then its body. Header names are lower case; a
    header sent twice is one value, joined by ", "."""

    method: str = ""
    path: str = ""  # percent-decoded
    query: str = ""  # as sent, not decoded
    headers: dict[str, str] = field(default_factory=dict)
    remote: str | None = None
    content_length: int | None = None
    keep_alive: bool = True
    body: bytes = b""


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    close: bool = False  # close the connection once it is sent


class HttpApp(Protocol):
    def check_head(self, request: Request) -> Response | None:
        """A refusal before the body is read (the connection then closes), or None."""

    def body_too_large(self, request: Request) -> Response:
        """The answer to a body that grew over the limit while being read."""

    def handle(self, request: Request) -> Awaitable[Response]:
        """The answer to a whole request."""


def plain(status: int, sentence: str, *, close: bool = False, **headers: str) -> Response:
    """A one-sentence plain-text answer."""
    return Response(
        status,
        (sentence + "\n").encode(),
        headers=tuple((name.replace("_", "-"), value) for name, value in headers.items()),
        close=close,
    )


def connection_cap() -> int:
    """How many client connections the server may hold: a quarter of the process's
    open-file limit (at least 64 files) is kept for the rest of it."""
    try:
        import resource
    except ImportError:  # Windows: no such limit on sockets
        return MAX_CONNECTIONS
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return MAX_CONNECTIONS
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return MAX_CONNECTIONS
    return max(8, min(MAX_CONNECTIONS, soft - max(_FILES_KEPT, soft // 4)))


class HttpServer:
    """``await server.start(host, port)``, then ``addresses``; ``await server.stop(grace)``."""

    def __init__(
        self,
        app: HttpApp,
        *,
        max_body: int,
        backlog: int = 1024,
        max_connections: int | None = None,
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.backlog = backlog  # the kernel's queue of connections not accepted yet
        self.max_connections = max_connections or connection_cap()
        # asyncio accepts up to this many connections in a row (it takes its listen backlog
        # for it) before any is counted and an idle one closed to make room, and a closed
        # one frees its file an iteration later: the files kept beside the cap must hold a
        # few such rows, or a flood runs the process out of files mid-row.
        self.accept_batch = max(8, min(256, self.max_connections // 24))
        # Connections closed to make room for new ones, and new ones refused (none idle).
        self.evicted = 0
        self.refused = 0
        self._last_cap_warning = float("-inf")
        self._idle_order = itertools.count()  # ranks connections as they become idle
        self._server: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._connections: set[_Connection] = set()
        self._all_closed = asyncio.Event()
        self.stopping = False

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listening = socket.create_server((host, port), family=family, backlog=self.backlog)
        try:
            self._server = await loop.create_server(
                lambda: _Connection(self), sock=listening, backlog=self.accept_batch
            )
        except BaseException:
            listening.close()
            raise
        # create_server listened with the batch size; the kernel's queue stays deep, so
        # that a burst of clients waits in it rather than being refused.
        listening.listen(self.backlog)
        self._sweeper = loop.create_task(self._sweep())

    async def _sweep(self) -> None:
        """Close the connections whose deadline passed, once a second."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            now = loop.time()
            for connection in list(self._connections):
                if connection.deadline is not None and connection.deadline <= now:
                    connection.timed_out()

    @property
    def connections(self) -> int:
        """How many client connections are open."""
        return len(self._connections)

    @property
    def idle_connections(self) -> int:
        """How many of them wait for a request, having none begun."""
        return sum(1 for c in self._connections if c.idle_order is not None)

    def idle_rank(self) -> int:
        """The next rank in the order connections became idle (the oldest goes first)."""
        return next(self._idle_order)

    @property
    def addresses(self) -> list[Any]:
        if self._server is None:
            return []
        return [sock.getsockname() for sock in self._server.sockets]

    async def stop(self, grace: float) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self.stopping = True
        server.close()
        for connection in list(self._connections):
            connection.close_when_idle()
        if self._connections:
            self._all_closed.clear()
            try:
                await asyncio.wait_for(self._all_closed.wait(), grace)
            except TimeoutError:
                logger.warning(
                    "%d webhook requests were still being answered at stop; their "
                    "connections were closed",
                    len(self._connections),
                )
        for connection in list(self._connections):
            connection.abort()
        if self._sweeper is not None:
            self._sweeper.cancel()
        await server.wait_closed()

    def _opened(self, connection: _Connection) -> bool:
        """Count a new connection in; False when there is no room for it."""
        if len(self._connections) >= self.max_connections and not self._make_room():
            self.refused += 1
            self._warn_at_cap()
            return False
        self._connections.add(connection)
        return True

    def _make_room(self) -> bool:
        """Close the connection idle the longest (silent, or between requests)."""
        oldest = min(
            (c for c in self._connections if c.idle_order is not None),
            key=lambda c: c.idle_order or 0,
            default=None,
        )
        if oldest is None:
            return False
        self._connections.discard(oldest)  # counted out now: its close completes later
        oldest.abort()
        self.evicted += 1
        self._warn_at_cap()
        return True

    def _warn_at_cap(self) -> None:
        now = time.monotonic()
        if now - self._last_cap_warning >= 60.0:
            self._last_cap_warning = now
            logger.warning(
                "The webhook receiver holds its most connections (%d): it closes the oldest "
                "idle ones to make room, and answers 503 when none is idle (a flood of "
                "connections, or too many platforms for this machine's open-file limit)",
                self.max_connections,
            )

    def _closed(self, connection: _Connection) -> None:
        self._connections.discard(connection)
        if not self._connections:
            self._all_closed.set()


class _Connection(asyncio.Protocol):
    """One client connection: parses, queues, answers in order."""

    def __init__(self, server: HttpServer) -> None:
        self._server = server
        self._app = server.app
        self._loop = asyncio.get_running_loop()
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._remote: str | None = None
        # The request being read, its URL, head size and body parts so far.
        self._request: Request | None = None
        self._url = b""
        self._head_size = 0
        self._parts: list[bytes] = []
        self._body_size = 0
        self._refused = False  # a refusal is queued: nothing more is read
        self._lingering = -1  # bytes dropped since the last answer was sent (-1: not yet)
        # What is read and waiting its turn: requests to handle, or refusals to send.
        self._queue: collections.deque[Request | Response] = collections.deque()
        self._busy = False  # a handler is running
        self._upgrade: Request | None = None  # an upgrade request whose body is being read
        self._task: asyncio.Task[None] | None = None  # the handler running
        # Bytes received for the request being read, counted from the read after the one it
        # began in (so an upper bound less at most one read): httptools holds an unfinished
        # header's value, or a trailer, until its end, so the limits are kept here as bytes
        # arrive, not only on whole headers.
        self._fed = 0
        self._in_head = False  # its request line and headers are being read
        self._write_paused = False  # the client is not reading its answers
        # Its rank in the order connections became idle, waiting for a request with none
        # begun (None: reading or answering one): when full, the server closes the lowest.
        self.idle_order: int | None = None
        # When the server's sweep closes this connection (loop time; None while answering):
        # a deadline, not a timer per request, which would cost more than the parsing.
        self.deadline: float | None = None

    # -- transport events ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self._remote = str(peer[0]) if isinstance(peer, tuple) and peer else None
        if not self._server._opened(self):
            self._lingering = 0  # whatever it sends now is dropped
            transport.write(_rendered(_FULL, keep_alive=False, head=False))
            self._close()
            return
        self.idle_order = self._server.idle_rank()
        self.deadline = self._loop.time() + FIRST_BYTE_TIMEOUT
        if self._server.stopping:  # accepted in the same turn as the stop
            self._close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.deadline = None
        self._queue.clear()
        self._server._closed(self)

    def data_received(self, data: bytes) -> None:
        if self._upgrade is not None:
            self._upgrade_body(data)
            return
        if self._lingering >= 0:
            self._lingering += len(data)
            if self._lingering > LINGER_BYTES:
                self._close()
            return
        if self._refused:
            return
        if self._request is not None:
            self._fed += len(data)
            if self._in_head and self._fed > MAX_HEAD:
                self._refuse(plain(431, "The request's headers are too large."))
                self._next()
                return
            if self._fed > MAX_HEAD + self._server.max_body + FRAMING_ALLOWANCE:
                self._refuse(self._app.body_too_large(self._request))
                self._next()
                return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            self._upgrade_requested(data[upgrade.args[0] :])
        except httptools.HttpParserError:
            if not self._refused:
                self._refuse(plain(400, "The request is not valid HTTP/1.1."))
        self._next()

    def eof_received(self) -> bool:
        # The client sent all it will; answer what was read, then close (False).
        if self._lingering >= 0 or (not self._busy and not self._queue):
            return False
        self._refused = True
        return True

    # -- parser callbacks ---------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.idle_order = None
        self._request = Request(remote=self._remote)
        self._url = b""
        self._head_size = 0
        self._parts = []
        self._body_size = 0
        self._fed = 0
        self._in_head = True
        if not self._busy and not self._queue:
            self.deadline = self._loop.time() + REQUEST_TIMEOUT

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._head_size += len(url)
        if self._head_size > MAX_HEAD:
            self._refuse(plain(414, "The request's URL is too long."))

    def on_header(self, name: bytes, value: bytes) -> None:
        request = self._request
        if request is None or self._refused or not self._in_head:
            return  # a chunked body's trailer: not a header the head was checked with
        self._head_size += len(name) + len(value) + 4
        if self._head_size > MAX_HEAD or len(request.headers) >= MAX_HEADERS:
            self._refuse(plain(431, "The request's headers are too large."))
            return
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        known = request.headers.get(key)
        request.headers[key] = text if known is None else f"{known}, {text}"

    def on_headers_complete(self) -> None:
        request = self._request
        if request is None or self._refused:
            return
        self._in_head = False
        parser = self._parser
        request.method = parser.get_method().decode("ascii", "replace")
        request.keep_alive = bool(parser.should_keep_alive())
        try:
            url = httptools.parse_url(self._url)
        except httptools.HttpParserInvalidURLError:
            self._refuse(plain(400, "The request's URL cannot be read."))
            return
        path = url.path.decode("latin-1") if url.path else "/"
        request.path = unquote(path, errors="replace") if "%" in path else path
        request.query = url.query.decode("latin-1") if url.query else ""
        declared = request.headers.get("content-length")
        if declared is not None:
            request.content_length = int(declared)  # llhttp has checked it is a number
        host = request.headers.get("host")
        if (host is None and parser.get_http_version() == "1.1") or (host and "," in host):
            # RFC 9112 3.2: exactly one Host in HTTP/1.1 (two were joined with ", " above,
            # and no host name has a comma): anything else is a 400.
            self._refuse(plain(400, "An HTTP/1.1 request needs exactly one Host header."))
            return
        refusal = self._app.check_head(request)
        if refusal is not None:
            self._refuse(refusal)
            return
        if (
            request.headers.get("expect", "").lower() == "100-continue"
            and parser.get_http_version() == "1.1"
            and not self._busy
            and not self._queue
            and self._transport is not None
        ):
            self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        request = self._request
        if request is None or self._refused:
            return
        self._body_size += len(body)
        if self._body_size > self._server.max_body:
            self._refuse(self._app.body_too_large(request))
            return
        self._parts.append(body)

    def on_message_complete(self) -> None:
        request, self._request = self._request, None
        if request is None or self._refused:
            return
        parts = self._parts
        request.body = parts[0] if len(parts) == 1 else b"".join(parts)
        self._parts = []
        self._queue.append(request)
        if (self._busy or len(self._queue) > 1) and self._transport is not None:
            # Pipelined: the requests behind wait until this is answered, unread. (A client
            # that waits for each answer never sends meanwhile: no pause, two syscalls less.)
            self._transport.pause_reading()

    # -- an upgrade request -------------------------------------------------------------

    def _upgrade_requested(self, rest: bytes) -> None:
        """llhttp stopped after the head of a request asking to upgrade (``Upgrade: h2c``,
        ``websocket``): what follows it is taken as the other protocol, its body included.
        The upgrade is declined as HTTP allows (answered in HTTP/1.1): the body of a
        declared length is read here, the request answered, then the connection closes."""
        request = self._queue.pop() if self._queue else None
        if not isinstance(request, Request):  # refused meanwhile
            if request is not None:
                self._queue.append(request)
            self._refused = True
            return
        request.keep_alive = False
        if request.content_length is None and "transfer-encoding" in request.headers:
            self._refuse(plain(400, "A chunked body with an upgrade is not read here."))
            return
        if (request.content_length or 0) > self._server.max_body:
            self._refuse(self._app.body_too_large(request))
            return
        self._upgrade = request
        if not self._upgrade_body(rest) and self._transport is not None:
            self._transport.resume_reading()  # the rest of the body

    def _upgrade_body(self, data: bytes) -> bool:
        """Take ``data`` into the upgrade request's body; whether the body is whole."""
        request = self._upgrade
        assert request is not None
        wanted = (request.content_length or 0) - len(request.body)
        request.body += data[:wanted]
        if len(request.body) < (request.content_length or 0):
            return False
        self._upgrade = None
        self._refused = True  # nothing after it is HTTP
        self._queue.append(request)
        self._next()
        return True

    # -- answering ----------------------------------------------------------------------

    def _refuse(self, response: Response) -> None:
        """Answer ``response`` in its turn and close (the rest of the request is not read)."""
        response.close = True
        self._refused = True
        self._request = None
        self._queue.append(response)

    def _next(self) -> None:
        """Start on the next thing queued, if nothing is being answered."""
        if self._busy or self._write_paused or not self._queue or self._transport is None:
            return
        item = self._queue.popleft()
        if isinstance(item, Response):  # a refusal: the request may not have been read whole
            self._send(item, keep_alive=False, linger=True)
            return
        self._busy = True
        self.deadline = None
        self._task = self._loop.create_task(self._answer(item))

    async def _answer(self, request: Request) -> None:
        try:
            response = await self._app.handle(request)
        except Exception:
            logger.exception("A webhook request could not be answered")
            response = _FAILED
        self._busy = False
        keep_alive = (
            request.keep_alive
            and not response.close
            and not self._server.stopping
            # Refused with nothing queued: the client sent its last (EOF, or an upgrade).
            and not (self._refused and not self._queue)
        )
        self._send(response, keep_alive=keep_alive, head=request.method == "HEAD")
        self._task = None
        if not keep_alive or self._transport is None or self._transport.is_closing():
            return
        if self._write_paused:
            return  # resume_writing goes on (pause_writing set the deadline)
        if self._queue:
            self._next()
        else:
            begun = self._request is not None  # the next request is on its way
            self.deadline = self._loop.time() + (REQUEST_TIMEOUT if begun else KEEP_ALIVE)
            if not begun:
                self.idle_order = self._server.idle_rank()
            if not self._transport.is_reading():
                self._transport.resume_reading()

    def _send(
        self, response: Response, *, keep_alive: bool, linger: bool = False, head: bool = False
    ) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        try:
            data = _rendered(response, keep_alive=keep_alive, head=head)
        except ValueError:
            logger.exception("A webhook answer could not be written")
            data = _rendered(_FAILED, keep_alive=False, head=head)
            keep_alive = False
        transport.write(data)
        if keep_alive:
            return
        if not linger or not transport.can_write_eof():
            self._close()
            return
        transport.write_eof()  # then read and drop what still comes, for a while
        self._lingering = 0
        self._refused = True
        self._queue.clear()
        self.deadline = self._loop.time() + LINGER
        transport.resume_reading()

    def _close(self) -> None:
        """Close once what is written is sent; abort if the client does not take it."""
        if self._transport is not None:
            self._transport.close()
            self.deadline = self._loop.time() + LINGER

    def close_when_idle(self) -> None:
        """At stop: close now if nothing is being read or answered, else once it is."""
        if not self._busy and not self._queue and self._request is None:
            self._close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def pause_writing(self) -> None:
        # The client does not read its answers: answer nothing more, read nothing more, and
        # drop it if it still reads nothing for a while.
        self._write_paused = True
        if self._transport is not None:
            self._transport.pause_reading()
        if not self._busy:
            self.deadline = self._loop.time() + REQUEST_TIMEOUT

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._transport is None or self._transport.is_closing():
            return
        if self._queue:
            self._next()
        elif not self._busy:
            self.deadline = self._loop.time() + KEEP_ALIVE
            self._transport.resume_reading()

    def timed_out(self) -> None:
        """Its deadline passed (the server's sweep)."""
        self.deadline = None
        transport = self._transport
        if transport is None or self._busy:
            return
        if transport.is_closing() or self._write_paused:
            transport.abort()  # a close that could not send, or a client that reads nothing
        elif self._lingering >= 0:
            transport.close()
        elif self._request is not None:  # a request started and did not finish in time
            self._refuse(plain(408, "The request took too long to arrive."))
            self._next()
        else:  # idle between requests
            self._close()


def _rendered(response: Response, *, keep_alive: bool, head: bool) -> bytes:
    """The answer as written; ValueError for a header that cannot be written as it is (a
    line break, a NUL, a character outside Latin-1)."""
    fields = [("Content-Type", response.content_type), *response.headers]
    for name, value in fields:
        if _UNSAFE.search(name) or _UNSAFE.search(value) or not name:
            raise ValueError(f"the answer's header {name!r} cannot be written")
    lines = [
        _STATUS_LINES.get(response.status) or f"HTTP/1.1 {response.status} \r\n".encode(),
        b"Content-Length: %d\r\nDate: %s\r\n" % (len(response.body), _http_date()),
    ]
    lines.extend(f"{name}: {value}\r\n".encode("latin-1") for name, value in fields)
    if not keep_alive:
        lines.append(b"Connection: close\r\n")
    lines.append(b"\r\n")
    if not head:  # a HEAD request's answer is the head alone
        lines.append(response.body)
    return b"".join(lines)


# What a header name or value may not hold: line breaks and NUL (they would end the header
# or the head), and anything outside Latin-1 (no encoding of the bytes is agreed).
_UNSAFE = re.compile(r"[\r\n\0]|[^\x00-\xff]")
_FAILED = plain(500, "The receiver failed on this request.", close=True)
_FULL = plain(
    503, "The receiver has too many connections open; try again shortly.", Retry_After="1"
)

_STATUS_LINES = {
    int(status): f"HTTP/1.1 {int(status)} {status.phrase}\r\n".encode() for status in HTTPStatus
}


@functools.lru_cache(maxsize=1)
def _date_of(second: int) -> bytes:
    return formatdate(second, usegmt=True).encode()


def _http_date() -> bytes:
    """The Date header's value (formatted once a second)."""
    return _date_of(int(time.time()))


__all__ = ["HttpApp", "HttpServer", "Request", "Response", "plain"]
