"""Answers for injected faults, each in the form the failing piece would really produce."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from dataclasses import dataclass
from http import HTTPStatus

from aiohttp import web

from dialer.core.accounts import ProviderKind
from dialer.simulator.model import Fault, FaultKind
from dialer.simulator.wire import PHP_CONTENT_TYPE, json_answer, php_text

logger = logging.getLogger(__name__)

# What each service tends to say when it fails behind an HTTP 200.
DEFAULT_FAILURE = {
    ProviderKind.C2C_V2: "Insufficient balance",
    ProviderKind.CLICK2CALL_V1: "Insufficient Balance",
    ProviderKind.KAZOO: "no resources",
    ProviderKind.DIGIDONAR: "Agent on break/Inactive. Call not allowed",
}

GENERIC_FAILURE = "Service temporarily unavailable"

# The first bytes of each service's usual answer, cut where a dying upstream would cut it.
TRUNCATED_JSON = {
    ProviderKind.C2C_V2: b'{"status": 200, "message": "Call initiated succ',
    ProviderKind.CLICK2CALL_V1: b'{"status": "ok", "id": 10',
    ProviderKind.KAZOO: b'{"auth_token": "", "data": {"application_data": {"rou',
    ProviderKind.DIGIDONAR: b'{"type": "success", "message": "Call to Customer Init',
}

PHP_FATAL = (
    "<br />\n<b>Fatal error</b>:  Uncaught PDOException: SQLSTATE[HY000] [2002] "
    "Connection refused in /var/www/html/includes/db.php:14\nStack trace:\n"
    "#0 /var/www/html/includes/db.php(14): PDO-&gt;__construct()\n#1 {main}\n  thrown in "
    "<b>/var/www/html/includes/db.php</b> on line <b>14</b><br />\n"
)


def proxy_page(status: int) -> str:
    reason = _reason(status)
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


@dataclass
class PendingFault:
    fault: Fault
    provider: ProviderKind | None
    remaining: int


class FaultQueue:
    """Faults waiting for requests. The oldest matching entry is used first."""

    def __init__(self) -> None:
        self._pending: list[PendingFault] = []

    def add(self, fault: Fault, provider: ProviderKind | None, count: int) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        self._pending.append(PendingFault(fault, provider, count))

    def take(self, provider: ProviderKind | None) -> Fault | None:
        for entry in self._pending:
            if entry.provider is None or entry.provider is provider:
                entry.remaining -= 1
                if entry.remaining <= 0:
                    self._pending.remove(entry)
                return entry.fault
        return None

    def clear(self) -> None:
        self._pending.clear()

    def __len__(self) -> int:
        return sum(entry.remaining for entry in self._pending)


def failure_in_200(provider: ProviderKind | None, message: str | None) -> web.Response:
    default = DEFAULT_FAILURE[provider] if provider is not None else GENERIC_FAILURE
    text = message or default
    if provider is ProviderKind.C2C_V2 or provider is None:
        return json_answer({"status": "ERROR", "message": text})
    if provider is ProviderKind.CLICK2CALL_V1:
        return php_text(text)
    if provider is ProviderKind.DIGIDONAR:
        return json_answer({"type": "error", "message": text}, content_type=PHP_CONTENT_TYPE)
    return json_answer(
        {
            "auth_token": "",
            "data": {"message": text},
            "error": "500",
            "message": text,
            "status": "error",
            "version": "4.3.1",
        }
    )


def drop_connection(request: web.Request, *, reset: bool) -> web.Response:
    """Close the client's connection without an answer. ``reset`` sends a TCP RST (what a
    crashing proxy does); otherwise a plain FIN (what an idle-timeout cut looks like).

    The returned response is never delivered: aiohttp notices the closed transport and
    drops it quietly."""
    transport = request.transport
    if transport is not None:
        if reset:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
    return web.Response(status=499, text="")


async def apply_fault(
    fault: Fault, request: web.Request, provider: ProviderKind | None, stopping: asyncio.Event
) -> web.StreamResponse | None:
    """The faulted answer, or None when the request should then be answered normally."""
    kind = fault.kind
    logger.info("fault %s on %s %s", kind.value, request.method, request.path)
    if kind is FaultKind.LATENCY:
        await sleep_unless(stopping, fault.seconds)
        return None
    if kind is FaultKind.TIMEOUT:
        # Hold the request; the client gives up first (handler cancelled) or the time runs
        # out, and then the connection goes away with nothing said.
        await sleep_unless(stopping, fault.seconds)
        return drop_connection(request, reset=False)
    if kind is FaultKind.RESET:
        return drop_connection(request, reset=True)
    if kind is FaultKind.SERVER_ERROR:
        return web.Response(
            status=fault.status,
            text=f"{fault.status} {_reason(fault.status)}\n",
            content_type="text/plain",
        )
    if kind is FaultKind.HTML:
        # PHP dies with a 200 and a fatal-error page; anything else is a proxy's error page.
        page = PHP_FATAL if fault.status == 200 else proxy_page(fault.status)
        return web.Response(status=fault.status, text=page, content_type="text/html")
    if kind is FaultKind.MALFORMED_JSON:
        body = TRUNCATED_JSON[provider] if provider is not None else b'{"status": "ok", "da'
        return web.Response(status=200, body=body, content_type="application/json")
    return failure_in_200(provider, fault.message)


async def sleep_unless(stopping: asyncio.Event, seconds: float) -> None:
    # Returns early when the simulator stops, so stop() never waits out a long fault.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=seconds)
