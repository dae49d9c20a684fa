"""The receiver's HTTP server, spoken to byte by byte over loopback: keep-alive, pipelining,
bodies (length, chunked, 100-continue, over the limit), the limits and timeouts, upgrades,
handler failures, clients that leave, and stopping."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from dialer.webhooks import http_server
from dialer.webhooks.http_server import HttpServer, Request, Response, plain
from tests.simulator.conftest import eventually

MAX_BODY = 1000


class RecordingApp:
    """Answers with the body it got; records what it saw and how many ran at once."""

    def __init__(self) -> None:
        self.handled: list[Request] = []
        self.finished: list[Request] = []
        self.running = 0
        self.most_at_once = 0
        self.gate: asyncio.Event | None = None

    def check_head(self, request: Request) -> Response | None:
        if request.path == "/refuse":
            return plain(404, "Not found.")
        return None

    def body_too_large(self, request: Request) -> Response:
        return plain(413, "Too large.")

    async def handle(self, request: Request) -> Response:
        self.handled.append(request)
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            if request.path == "/fail":
                raise RuntimeError("a bug in the handler")
            if self.gate is not None:
                await self.gate.wait()
            await asyncio.sleep(0)
        finally:
            self.running -= 1
        self.finished.append(request)
        return Response(
            200,
            b"hi" if request.method == "HEAD" else request.body,
            "application/octet-stream",
            headers=(("X-Path", request.path), ("X-Query", request.query)),
        )


@pytest.fixture
async def app() -> RecordingApp:
    return RecordingApp()


@pytest.fixture
async def server(app: RecordingApp) -> AsyncIterator[HttpServer]:
    server = HttpServer(app, max_body=MAX_BODY)
    await server.start("127.0.0.1", 0)
    yield server
    await server.stop(1.0)


class Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def response(self) -> tuple[int, dict[str, str], bytes]:
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 5)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return status, headers, body

    async def closed(self) -> bool:
        """Whether the server closed the connection (EOF, nothing more sent)."""
        return await asyncio.wait_for(self.reader.read(), 5) == b""

    def close(self) -> None:
        self.writer.close()


Connect = Callable[[], Awaitable[Client]]


@pytest.fixture
async def connect(server: HttpServer) -> AsyncIterator[Connect]:
    clients: list[Client] = []

    async def opened() -> Client:
        host, port = server.addresses[0][:2]
        client = Client(*await asyncio.open_connection(host, port))
        clients.append(client)
        return client

    yield opened
    for client in clients:
        client.close()


def post(path: str, body: bytes, *extra: str) -> bytes:
    head = [f"POST {path} HTTP/1.1", "Host: test", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def test_keep_alive_answers_each_request_on_one_connection(
    connect: Connect, app: RecordingApp
) -> None:
    client = await connect()
    for n in range(3):
        await client.send(post(f"/r{n}?x=%20y", b"body %d" % n))
        status, headers, body = await client.response()
        assert (status, body) == (200, b"body %d" % n)
        assert headers["x-path"] == f"/r{n}" and headers["x-query"] == "x=%20y"
        assert headers["content-type"] == "application/octet-stream"
        assert headers["date"].endswith(" GMT") and "connection" not in headers
    assert [r.method for r in app.handled] == ["POST"] * 3
    assert app.handled[0].headers["host"] == "test"
    assert app.handled[0].remote == "127.0.0.1"


async def test_pipelined_requests_are_answered_in_order_one_at_a_time(
    connect: Connect, app: RecordingApp
) -> None:
    client = await connect()
    await client.send(b"".join(post(f"/p{n}", b"%d" % n) for n in range(5)))
    bodies = [(await client.response())[2] for _ in range(5)]
    assert bodies == [b"0", b"1", b"2", b"3", b"4"]
    assert app.most_at_once == 1


async def test_a_chunked_body_is_read_whole(connect: Connect, app: RecordingApp) -> None:
    client = await connect()
    await client.send(
        b"POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n"
    )
    status, _, body = await client.response()
    assert (status, body) == (200, b"hello world")
    assert app.handled[0].content_length is None


async def test_expect_100_continue_is_answered_before_the_body(connect: Connect) -> None:
    client = await connect()
    await client.send(post("/e", b"", "Expect: 100-continue").replace(b"Length: 0", b"Length: 4"))
    interim = await asyncio.wait_for(client.reader.readuntil(b"\r\n\r\n"), 5)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    await client.send(b"data")
    assert (await client.response())[::2] == (200, b"data")


async def test_http_1_0_and_connection_close_end_the_connection(connect: Connect) -> None:
    client = await connect()
    await client.send(b"POST /a HTTP/1.0\r\nContent-Length: 1\r\n\r\nx")
    status, headers, _ = await client.response()
    assert (status, headers["connection"]) == (200, "close")
    assert await client.closed()
    client = await connect()
    await client.send(post("/b", b"y", "Connection: close"))
    assert (await client.response())[1]["connection"] == "close"
    assert await client.closed()
    client = await connect()
    await client.send(b"POST /k HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nz")
    assert "connection" not in (await client.response())[1]
    await client.send(post("/k2", b"again"))
    assert (await client.response())[2] == b"again"


async def test_a_head_refusal_is_answered_without_reading_the_body(
    connect: Connect, app: RecordingApp
) -> None:
    client = await connect()
    await client.send(post("/refuse", b"x" * 100_000)[:-50_000])  # the rest never comes
    status, headers, body = await client.response()
    assert (status, headers["connection"], body) == (404, "close", b"Not found.\n")
    assert await client.closed()
    assert app.handled == []


async def test_a_body_over_the_limit_is_refused_and_the_client_can_read_why(
    connect: Connect, app: RecordingApp
) -> None:
    client = await connect()
    head = b"POST /big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"%x\r\n%s\r\n" % (600, b"z" * 600)
    # The client goes on sending (400 KiB) after the server refused: no reset, the answer is read.
    await client.send(head + chunk * 700)
    status, headers, _ = await client.response()
    assert (status, headers["connection"]) == (413, "close")
    assert await client.closed()
    assert app.handled == []


async def test_a_declared_length_over_the_limit_is_the_apps_to_refuse(
    connect: Connect, app: RecordingApp
) -> None:
    # The app's head check sees the declared length; this app lets it through, so the body
    # is cut off as it is read.
    client = await connect()
    await client.send(post("/declared", b"q" * (MAX_BODY + 1)))
    assert (await client.response())[0] == 413
    assert app.handled == []
    client = await connect()
    await client.send(post("/exact", b"q" * MAX_BODY))
    assert (await client.response())[0] == 200


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"NOT HTTP AT ALL\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nBad Header\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS hello
    ],
    ids=["garbage", "bad-length", "length-and-chunked", "bad-header", "tls"],
)
async def test_what_is_not_http_gets_400_and_a_closed_connection(
    connect: Connect, app: RecordingApp, request_bytes: bytes
) -> None:
    client = await connect()
    await client.send(request_bytes)
    status, headers, body = await client.response()
    assert (status, headers["connection"]) == (400, "close")
    assert body.endswith(b".\n") and body.count(b"\n") == 1
    assert await client.closed()
    assert app.handled == []


async def test_heads_over_the_limit_are_refused(connect: Connect, app: RecordingApp) -> None:
    client = await connect()
    await client.send(b"POST /" + b"u" * (http_server.MAX_HEAD + 10) + b" HTTP/1.1\r\n\r\n")
    assert (await client.response())[0] == 414
    client = await connect()
    filler = "".join(f"X-Filler-{n}: {'v' * 200}\r\n" for n in range(100)).encode()
    await client.send(b"POST / HTTP/1.1\r\n" + filler + b"Content-Length: 0\r\n\r\n")
    assert (await client.response())[0] == 431
    client = await connect()
    many = "".join(f"X-{n}: v\r\n" for n in range(http_server.MAX_HEADERS + 1)).encode()
    await client.send(b"POST / HTTP/1.1\r\n" + many + b"Content-Length: 0\r\n\r\n")
    assert (await client.response())[0] == 431
    assert app.handled == []


async def test_a_header_sent_twice_is_one_value(connect: Connect, app: RecordingApp) -> None:
    client = await connect()
    await client.send(post("/h", b"", "X-Twice: a", "x-twice: b"))
    await client.response()
    assert app.handled[0].headers["x-twice"] == "a, b"


async def test_a_trickled_request_times_out_and_an_idle_connection_closes(
    connect: Connect, app: RecordingApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_server, "REQUEST_TIMEOUT", 0.3)
    monkeypatch.setattr(http_server, "KEEP_ALIVE", 0.3)
    monkeypatch.setattr(http_server, "SWEEP_EVERY", 0.05)
    await asyncio.sleep(1.1)  # the sweep in progress picks up the new pace
    slow = await connect()
    await slow.send(post("/slow", b"12345")[:-3])  # two bytes of the body never follow
    status, headers, _ = await slow.response()
    assert (status, headers["connection"]) == (408, "close")
    assert await slow.closed()
    idle = await connect()
    await idle.send(post("/once", b"1"))
    assert (await idle.response())[0] == 200
    assert await idle.closed()  # then nothing for longer than KEEP_ALIVE
    assert [r.path for r in app.handled] == ["/once"]


@pytest.mark.allow_warnings_log("^A webhook request could not be answered$")
async def test_a_failing_handler_gets_500_and_the_server_goes_on(
    connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    client = await connect()
    await client.send(post("/fail", b""))
    status, headers, body = await client.response()
    assert (status, headers["connection"]) == (500, "close")
    assert body == b"The receiver failed on this request.\n"
    assert "a bug in the handler" in caplog.text
    client = await connect()
    await client.send(post("/after", b"ok"))
    assert (await client.response())[2] == b"ok"


async def test_an_upgrade_request_is_answered_in_http_1_1_then_closed(
    connect: Connect, app: RecordingApp
) -> None:
    client = await connect()
    await client.send(
        post(
            "/up",
            b"body",
            "Connection: Upgrade, HTTP2-Settings",
            "Upgrade: h2c",
            "HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA",
        )
        + b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    )
    status, headers, body = await client.response()
    assert (status, body, headers["connection"]) == (200, b"body", "close")
    assert await client.closed()
    # Its body in pieces, the head on its own.
    client = await connect()
    whole = post("/up2", b"0123456789", "Connection: Upgrade", "Upgrade: websocket")
    head_end = whole.index(b"\r\n\r\n") + 4
    await client.send(whole[:head_end])
    await asyncio.sleep(0.05)
    await client.send(whole[head_end : head_end + 4])
    await asyncio.sleep(0.05)
    await client.send(whole[head_end + 4 :])
    assert (await client.response())[::2] == (200, b"0123456789")
    assert await client.closed()
    # Over the limit.
    client = await connect()
    await client.send(post("/up3", b"b" * (MAX_BODY + 1), "Connection: Upgrade", "Upgrade: h2c"))
    assert (await client.response())[0] == 413
    assert await client.closed()
    assert [r.path for r in app.handled] == ["/up", "/up2"]


async def test_a_handler_whose_client_left_runs_to_its_end(
    connect: Connect, app: RecordingApp
) -> None:
    app.gate = asyncio.Event()
    client = await connect()
    await client.send(post("/left", b"report"))
    await eventually(lambda: bool(app.handled))
    client.writer.transport.abort()
    await asyncio.sleep(0.1)
    app.gate.set()
    await eventually(lambda: bool(app.finished))
    assert app.finished[0].body == b"report"


async def test_stop_answers_requests_in_flight_and_closes_the_rest(
    server: HttpServer, connect: Connect, app: RecordingApp
) -> None:
    busy = await connect()
    idle = await connect()
    await idle.send(post("/idle", b"i"))
    await idle.response()
    app.gate = asyncio.Event()
    await busy.send(post("/busy", b"in flight"))
    await eventually(lambda: len(app.handled) == 2)
    host, port = server.addresses[0][:2]
    stopping = asyncio.create_task(server.stop(5.0))
    assert await idle.closed()
    with pytest.raises(OSError), socket.create_connection((host, port), timeout=1):
        pass  # listening ended at once
    app.gate.set()
    status, headers, body = await busy.response()
    assert (status, body, headers["connection"]) == (200, b"in flight", "close")
    await asyncio.wait_for(stopping, 5)


@pytest.mark.allow_warnings_log("^1 webhook requests were still being answered at stop")
async def test_stop_gives_up_on_a_handler_after_the_grace(
    server: HttpServer, connect: Connect, app: RecordingApp
) -> None:
    app.gate = asyncio.Event()  # never set
    client = await connect()
    await client.send(post("/stuck", b""))
    await eventually(lambda: bool(app.handled))
    await asyncio.wait_for(server.stop(0.2), 5)
    assert await client.closed()


# -- what a review found --------------------------------------------------------------------


async def test_a_header_that_never_ends_is_cut_off_as_it_grows(
    connect: Connect, app: RecordingApp
) -> None:
    client = await connect()
    await client.send(b"POST /h HTTP/1.1\r\nX-Endless: ")
    for _ in range(4 * http_server.MAX_HEAD // 1024):
        await client.send(b"a" * 1024)  # httptools holds the value until it ends: it never does
    status, headers, _ = await client.response()
    assert (status, headers["connection"]) == (431, "close")
    assert await client.closed()
    assert app.handled == []


async def test_trailers_are_not_taken_as_headers(connect: Connect, app: RecordingApp) -> None:
    client = await connect()
    await client.send(
        b"POST /t HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nok\r\n0\r\nAuthorization: Bearer sneaked-in\r\nHost: evil\r\n\r\n"
    )
    assert (await client.response())[::2] == (200, b"ok")
    assert app.handled[0].headers == {"host": "t", "transfer-encoding": "chunked"}


async def test_a_client_that_reads_no_answers_is_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http_server, "REQUEST_TIMEOUT", 0.5)
    monkeypatch.setattr(http_server, "SWEEP_EVERY", 0.05)
    app = RecordingApp()
    server = HttpServer(app, max_body=100_000)
    await server.start("127.0.0.1", 0)
    sock = socket.socket()
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(server.addresses[0][:2])
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        request = post("/echo", b"x" * 60_000)
        sent = 0
        for _ in range(500):  # 30 MB of answers asked for, none read
            try:
                await asyncio.wait_for(loop.sock_sendall(sock, request), 1)
            except (TimeoutError, OSError):
                break  # the server stopped reading (its answers are not taken), or dropped it
            sent += 1
        assert sent < 500
        handled = len(app.handled)
        assert handled < sent  # it answers no more than the client takes
        await eventually(lambda: server.connections == 0)  # then drops it
        assert len(app.handled) == handled
    finally:
        sock.close()
        await server.stop(1.0)


class HeaderEchoApp(RecordingApp):
    async def handle(self, request: Request) -> Response:
        return Response(200, b"", headers=(("X-Path", request.path),))


@pytest.mark.parametrize(
    "path", ["/a%0D%0ASet-Cookie:%20x=1", "/nul%00byte", "/%E2%82%AC"], ids=["crlf", "nul", "euro"]
)
@pytest.mark.allow_warnings_log("^A webhook answer could not be written$")
async def test_an_answer_that_cannot_be_written_is_a_500(path: str) -> None:
    server = HttpServer(HeaderEchoApp(), max_body=MAX_BODY)
    await server.start("127.0.0.1", 0)
    try:
        client = Client(*await asyncio.open_connection(*server.addresses[0][:2]))
        await client.send(post(path, b""))
        status, headers, body = await client.response()
        assert (status, headers["connection"]) == (500, "close")
        assert "set-cookie" not in headers and "x-path" not in headers
        assert body == b"The receiver failed on this request.\n"
        assert await client.closed()
        client.close()
    finally:
        await server.stop(1.0)


async def test_head_is_answered_without_a_body(connect: Connect) -> None:
    client = await connect()
    await client.send(b"HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n")
    head = await asyncio.wait_for(client.reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 200 ") and b"Content-Length: 2\r\n" in head
    await client.send(post("/next", b"framing intact"))  # no stray body before this answer
    assert (await client.response())[::2] == (200, b"framing intact")


async def test_no_100_continue_for_http_1_0(connect: Connect) -> None:
    client = await connect()
    await client.send(b"POST /old HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.reader.read(1), 0.3)
    await client.send(b"abc")
    assert (await client.response())[::2] == (200, b"abc")


async def test_stop_lets_a_request_being_read_arrive_and_be_answered(
    server: HttpServer, connect: Connect
) -> None:
    client = await connect()
    whole = post("/upload", b"u" * 800)
    await client.send(whole[:-400])
    # The server has begun reading it (not merely accepted the connection), then stop has
    # begun, and only then does the rest arrive.
    await eventually(lambda: any(c._request is not None for c in server._connections))
    stopping = asyncio.create_task(server.stop(5.0))
    await eventually(lambda: server.stopping)
    await client.send(whole[-400:])
    status, headers, body = await client.response()
    assert (status, len(body), headers["connection"]) == (200, 800, "close")
    await asyncio.wait_for(stopping, 5)


# -- floods and slow clients ----------------------------------------------------------------


async def test_a_connection_that_sends_nothing_is_dropped_but_a_slow_client_is_not(
    connect: Connect, app: RecordingApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_server, "FIRST_BYTE_TIMEOUT", 0.5)
    monkeypatch.setattr(http_server, "SWEEP_EVERY", 0.05)
    await asyncio.sleep(1.1)  # the sweep in progress picks up the new pace
    silent = await connect()
    slow = await connect()
    request = post("/slow", b"12345")
    # A byte every 0.1 s: the request takes twice the silent connection's deadline to
    # arrive, and is answered (it keeps REQUEST_TIMEOUT, 30 s).
    for start in range(0, len(request), len(request) // 10 + 1):
        await slow.send(request[start : start + len(request) // 10 + 1])
        await asyncio.sleep(0.1)
    assert await silent.closed()
    status, _, body = await slow.response()
    assert (status, body) == (200, b"12345")


@pytest.mark.allow_warnings_log("^The webhook receiver holds its most connections")
async def test_a_flood_of_silent_connections_cannot_starve_a_report(
    app: RecordingApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = HttpServer(app, max_body=MAX_BODY, max_connections=20)
    await server.start("127.0.0.1", 0)
    host, port = server.addresses[0][:2]
    flood: list[Client] = []
    try:
        for _ in range(60):  # three times the cap, sending nothing
            flood.append(Client(*await asyncio.open_connection(host, port)))
        await eventually(lambda: server.evicted + server.connections >= 60)
        assert server.connections <= 20 and server.refused == 0
        report = Client(*await asyncio.open_connection(host, port))
        flood.append(report)
        await report.send(post("/report", b"stored"))
        assert (await report.response())[:3:2] == (200, b"stored")
        # The oldest idle went first: the first connections are the ones closed.
        assert await flood[0].closed()
    finally:
        for client in flood:
            client.close()
        await server.stop(1.0)


@pytest.mark.allow_warnings_log("^The webhook receiver holds its most connections")
async def test_when_every_connection_is_mid_request_a_new_one_gets_503(
    app: RecordingApp,
) -> None:
    server = HttpServer(app, max_body=MAX_BODY, max_connections=5)
    await server.start("127.0.0.1", 0)
    host, port = server.addresses[0][:2]
    busy: list[Client] = []
    try:
        for _ in range(5):  # each has begun a request: none is idle, none is evicted
            client = Client(*await asyncio.open_connection(host, port))
            await client.send(post("/slow", b"12345")[:-2])
            busy.append(client)
        await eventually(lambda: server.connections == 5 and server.idle_connections == 0)
        late = Client(*await asyncio.open_connection(host, port))
        busy.append(late)
        status, headers, body = await late.response()
        assert (status, headers["retry-after"], headers["connection"]) == (503, "1", "close")
        assert b"too many connections" in body and await late.closed()
        assert (server.refused, server.evicted) == (1, 0)
        await busy[0].send(b"45")  # the slow ones finish and are answered
        assert (await busy[0].response())[0] == 200
    finally:
        for client in busy:
            client.close()
        await server.stop(1.0)


def test_the_cap_stays_below_the_open_file_limit() -> None:
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
        assert http_server.connection_cap() == 768  # a quarter kept for everything else
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(128, hard), hard))
        assert http_server.connection_cap() == 64
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.parametrize(
    "head",
    [
        b"POST /r HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",  # no Host
        b"POST /r HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 1\r\n\r\nx",  # two
    ],
    ids=["none", "two"],
)
async def test_http_1_1_without_exactly_one_host_is_400(
    connect: Connect, app: RecordingApp, head: bytes
) -> None:
    client = await connect()
    await client.send(head)
    status, headers, body = await client.response()
    assert (status, headers["connection"]) == (400, "close") and b"Host" in body
    assert await client.closed()
    assert app.handled == []


async def test_http_1_0_needs_no_host(connect: Connect) -> None:
    client = await connect()
    await client.send(b"POST /r HTTP/1.0\r\nContent-Length: 1\r\n\r\nx")
    assert (await client.response())[0] == 200
