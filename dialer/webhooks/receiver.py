"""The C2C v2 webhook receiver: an HTTP server that stores every call report it accepts.

It starts in-process on whatever loop is running (the window's qasync loop, ``dialer
webhooks serve``, a test's) and listens on ``/c2c/<token>``, where the token is a random
secret segment so the URL cannot be guessed. For each request, in this order:

- 404 for any other path (a wrong token included), whatever the method; 405 for a method
  other than POST on the right path.
- 413 when the body is over 64 KiB: the declared Content-Length is checked first, then the
  bytes actually read, which are never buffered beyond the limit.
- 400 when the body is not a UTF-8 JSON object. The declared Content-Type is not checked:
  platforms mislabel their pushes (the document's own example is not even valid JSON, and
  "Compose Webhook" lets users set any header), and a 415 would lose a genuine report over
  a label. What is refused is what cannot be read.
- The verification handshake (``?token=`` and ``{"validation_key", "challenge"}``) gets 200
  and ``{"challenge": <the same value>}``; nothing is stored. It needs no Bearer secret: it
  stores nothing, and the platform sends it when the webhook is created, possibly before
  its secret is in our keyring.
- 401 when a secret is required and missing or wrong. The callback's ``webhook_id`` names the
  account (option ``webhook_id``); when that account has a webhook secret (keyring key
  ``account.webhook_secret_key``) the request must carry ``Authorization: Bearer <secret>``.
  When the ``webhook_id`` names no account (or is absent), any C2C v2 account may have sent
  it, so if any of them has a secret, one of those secrets is required: otherwise leaving
  out the ``webhook_id`` would get round every secret. The account whose secret was shown
  is then the one the report is filed under.
- 400 when the object is not a call report (:mod:`dialer.webhooks.callback`). Its local
  times are read in the time zone of the account it is filed under (the ``time_zone``
  setting; this machine's when none is named, or when the accounts it may be for differ).
- 200 ``{"ok": true}`` only once ``HistoryStore.ingest`` returned, that is once the report
  is durably stored; 503 if the store, the keyring or the accounts file fails (the platform
  may try again; nothing was stored).

Every refusal is one sentence of plain text. No log line carries the path token or a
secret: the access log is off, the token is registered with :mod:`dialer.core.redact`, and
the receiver logs only the remote address and the outcome.

The HTTP is :mod:`dialer.webhooks.http_server` (keep-alive, limits, timeouts; why it is not
aiohttp's is said there).
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import json
import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import tzinfo
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from dialer.core.accounts import Account, AccountSource, ProviderKind
from dialer.core.errors import ConfigError, DialerError
from dialer.core.redact import register_secret
from dialer.core.secrets import SecretStore, get_secret
from dialer.core.threads import LoopThread
from dialer.core.times import named_zone
from dialer.history.store import HistoryStore
from dialer.webhooks.callback import (
    MalformedCallback,
    callback_from_json,
    decode_callback,
    is_verification,
)
from dialer.webhooks.http_server import HttpServer, Request, Response, plain
from dialer.webhooks.settings import PATH_PREFIX, format_host

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
_STORED = b'{"ok": true}'  # the answer once a report is stored (encoded once)
_JSON = "application/json"
# How long stop() lets requests in flight finish (their reports are being stored).
SHUTDOWN_GRACE = 5.0
# The accounts file is re-read at most this often (it is read on the loop, per request).
ACCOUNTS_MAX_AGE = 1.0
# A webhook secret is trusted from memory this long, so a secret added to an account that
# had none applies within 5 s (at once after forget_secrets()). A request that fails the
# check makes the receiver read the keyring again (at most once a second), so a changed
# secret is accepted on its first delivery.
SECRET_MAX_AGE = 5.0
SECRET_RECHECK_AGE = 1.0


class WebhookReceiver:
    """``await receiver.start()`` returns the URL bound; ``await receiver.stop()`` ends it.

    ``history`` is where reports go; ``accounts`` and ``secrets`` say which account a report
    belongs to and which Bearer secret it must carry; ``path_token`` is the secret path
    segment (see :func:`dialer.webhooks.settings.path_token`). ``port`` 0 takes any free port.

    ``serve_on``: serve from that thread's event loop instead of the running one. The window
    passes the history's serving thread (:attr:`HistoryStore.serving_thread`; the SQLite
    store's writer thread): a burst of reports then neither waits for the window's work nor
    slows it, and each report joins the next write batch without a thread hop (the history
    tells its listeners on the window's loop: :meth:`HistoryStore.call_listeners_on`).
    """

    def __init__(
        self,
        history: HistoryStore,
        accounts: AccountSource,
        secrets: SecretStore,
        *,
        path_token: str,
        host: str = "127.0.0.1",
        port: int = 0,
        serve_on: LoopThread | None = None,
    ) -> None:
        if not path_token or "/" in path_token:
            raise ValueError("the path token must be a non-empty single path segment")
        self.history = history
        self.accounts = accounts
        self.secrets = secrets
        self.host = host
        self.port = port
        self._path = PATH_PREFIX + path_token
        register_secret(path_token)
        self._serve_on = serve_on
        self._thread: LoopThread | None = None  # while serving from serve_on
        self._server: HttpServer | None = None
        self._url: str | None = None
        self._accounts: tuple[float, _C2cAccounts] | None = None
        self._secret_cache = _SecretCache(secrets)
        # HTTP status -> how many requests got it: what the benchmarks and the app can show.
        self.status_counts: Counter[int] = Counter()

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> str:
        if self._server is not None or self._thread is not None:
            raise RuntimeError("the webhook receiver is already running")
        if self._serve_on is None:
            return await self._start_here()
        url = await self._serve_on.run(self._start_here())
        self._thread = self._serve_on
        return url

    async def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            await self._stop_here()
        else:
            await thread.run(self._stop_here())

    async def _start_here(self) -> str:
        # The server keeps no access log (it would write the secret path to the log file).
        server = HttpServer(self, max_body=MAX_BODY)
        try:
            await server.start(self.host, self.port)
        except OSError as exc:
            raise ConfigError(_bind_error(self.host, self.port, exc)) from None
        self._server = server
        bound_host, bound_port = server.addresses[0][:2]
        self._url = f"http://{format_host(str(bound_host))}:{bound_port}{self._path}"
        logger.info(
            "C2C v2 webhook receiver listening on %s:%s", format_host(str(bound_host)), bound_port
        )
        return self._url

    async def _stop_here(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        await server.stop(SHUTDOWN_GRACE)
        logger.info("C2C v2 webhook receiver stopped")

    async def __aenter__(self) -> WebhookReceiver:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The URL bound (host and port as listening; a public URL is the settings' job)."""
        if self._url is None:
            raise RuntimeError("the webhook receiver has not been started")
        return self._url

    @property
    def port_bound(self) -> int:
        if self._server is None:
            raise RuntimeError("the webhook receiver is not running")
        return int(self._server.addresses[0][1])

    def forget_secrets(self) -> None:
        """Read accounts and webhook secrets afresh on the next request (after an edit)."""
        if self._thread is not None:
            self._thread.call_soon(self._forget)
        else:
            self._forget()

    def _forget(self) -> None:
        self._accounts = None
        self._secret_cache.clear()

    # -- one request (the HttpServer's application) ------------------------------------------

    def check_head(self, request: Request) -> Response | None:
        """404, 405 or 413 before the body is read."""
        refusal = self._check_head(request)
        if refusal is not None:
            self.status_counts[refusal.status] += 1
        return refusal

    def _check_head(self, request: Request) -> Response | None:
        if not hmac.compare_digest(request.path.encode(), self._path.encode()):
            return plain(404, "Not found.")
        if request.method != "POST":
            return plain(405, "Only POST is accepted here.", Allow="POST")
        declared = request.content_length
        if declared is not None and declared > MAX_BODY:
            logger.info("webhook from %s refused: %d bytes declared", _remote(request), declared)
            return _too_large()
        return None

    def body_too_large(self, request: Request) -> Response:
        logger.info("webhook from %s refused: body over 64 KiB", _remote(request))
        self.status_counts[413] += 1
        return _too_large()

    async def handle(self, request: Request) -> Response:
        response = await self._answer(request)
        self.status_counts[response.status] += 1
        return response

    async def _answer(self, request: Request) -> Response:
        # The peer's address is read only for a log line: a report that is stored logs none.
        try:
            text, data = decode_callback(request.body)
        except MalformedCallback as exc:
            logger.info("webhook from %s refused: %s", _remote(request), exc.reason)
            return plain(400, exc.reason)
        if isinstance(data, dict) and "challenge" in data:  # the query is parsed only then
            query = dict(parse_qsl(request.query, keep_blank_values=True))
            challenge = is_verification(query, data)
            if challenge is not None:
                logger.info("answered the webhook verification handshake from %s", _remote(request))
                return Response(200, json.dumps({"challenge": challenge}).encode(), _JSON)
        if not isinstance(data, dict):
            return plain(400, "The body is not a JSON object; a call report is an object.")
        try:
            granted = await self._authorise(request, data)
        except DialerError as exc:
            logger.error("webhook from %s not stored: %s", _remote(request), exc)
            return plain(503, f"The receiver cannot check this request now: {exc}")
        if isinstance(granted, str):
            logger.info("webhook from %s refused: %s", _remote(request), granted)
            return plain(401, granted, WWW_Authenticate="Bearer")
        try:
            report = callback_from_json(
                text,
                data,
                account=granted.account,
                accounts=granted.accounts,
                zone=self._c2c_accounts().zone_for(granted),
            )
        except MalformedCallback as exc:
            logger.info("webhook from %s refused: %s", _remote(request), exc.reason)
            return plain(400, exc.reason)
        try:
            record = await self.history.ingest(report)
        except Exception:
            logger.exception("a C2C v2 call report from %s could not be stored", _remote(request))
            return plain(503, "The report could not be stored; nothing was kept.")
        if logger.isEnabledFor(logging.DEBUG):
            # Debug, not info: at thousands of reports a second a line each would be the cost.
            logger.debug(
                "C2C v2 report from %s stored on call %s (%s, %s)",
                _remote(request),
                record.id,
                record.origin,
                report.cause,
            )
        return Response(200, _STORED, _JSON)

    async def _authorise(self, request: Request, data: dict[str, Any]) -> _Granted | str:
        """Which accounts the report is authorised for, or why it is refused.

        A report may change calls only of the accounts it was authorised for: the one its
        ``webhook_id`` names when that needs no secret, or those whose secret it showed.
        Whatever its ``mid`` or ``callId`` say, a call of any other account is not its to
        change (the history keeps such a report as an outside call)."""
        webhook_id = data.get("webhook_id")
        wanted = None
        if isinstance(webhook_id, str | int) and not isinstance(webhook_id, bool):
            wanted = str(webhook_id).strip()
        claim = self._c2c_accounts().claimed_by(wanted)
        presented = _bearer(request)
        for attempt in range(2):
            max_age = SECRET_MAX_AGE if attempt == 0 else SECRET_RECHECK_AGE
            found = self._secret_cache.fresh(claim.keys, max_age)  # no task, no await
            if found is None:
                found = await self._secret_cache.get_many(claim.keys, max_age)
            required = {name: s for name, s in zip(claim.names, found, strict=True) if s}
            if not required:
                # No secret stands in the way: the accounts claimed (all of them when the
                # webhook_id names none, and then no C2C v2 account has a secret at all).
                return claim.granted
            if presented is not None:
                matching = [
                    name
                    for name, secret in required.items()
                    if hmac.compare_digest(secret.encode(), presented.encode())
                ]
                if matching:
                    if len(matching) == 1:
                        return _Granted(matching[0], None)
                    return _Granted(claim.sole_named, frozenset(matching))
        if presented is None:
            return "This webhook needs an 'Authorization: Bearer <secret>' header."
        return "The Bearer secret does not match the webhook's secret."

    def _c2c_accounts(self) -> _C2cAccounts:
        now = time.monotonic()
        if self._accounts is None or now - self._accounts[0] > ACCOUNTS_MAX_AGE:
            listed = [a for a in self.accounts.list() if a.provider is ProviderKind.C2C_V2]
            self._accounts = (now, _C2cAccounts(listed))
        return self._accounts[1]


class _Granted(NamedTuple):
    """What a report was authorised for: the account it is filed under, and the accounts
    whose calls it may change when that is more than the one (None: that one; both None:
    any, as no account is protected)."""

    account: str | None
    accounts: frozenset[str] | None


class _Claim(NamedTuple):
    """Who may have sent a report naming one ``webhook_id``."""

    names: tuple[str, ...]  # the accounts it names, or every account when it names none
    keys: tuple[str, ...]  # their webhook secrets' keyring keys, in the same order
    sole_named: str | None  # the account it names, when it names exactly one
    granted: _Granted  # what a report naming it may change when none of them has a secret


class _C2cAccounts:
    """The C2C v2 accounts as read at one moment, with what each ``webhook_id`` claims
    worked out once (the receiver asks per report)."""

    def __init__(self, accounts: list[Account]) -> None:
        # The zone each account reads its reports' local times in (None: this machine's).
        self._zones = {a.name: named_zone(a.option("time_zone")) for a in accounts}
        self._anyone_zone = _common_zone(self._zones.values())
        self._anyone = _Claim(
            tuple(a.name for a in accounts),
            tuple(a.webhook_secret_key for a in accounts),
            None,
            _Granted(None, None),
        )
        named: dict[str, list[Account]] = {}
        for account in accounts:
            webhook_id = account.option("webhook_id")
            if webhook_id is not None:
                named.setdefault(webhook_id, []).append(account)
        self._by_id = {
            webhook_id: _Claim(
                tuple(a.name for a in these),
                tuple(a.webhook_secret_key for a in these),
                these[0].name if len(these) == 1 else None,
                _Granted(these[0].name, None)
                if len(these) == 1
                else _Granted(None, frozenset(a.name for a in these)),
            )
            for webhook_id, these in named.items()
        }

    def claimed_by(self, webhook_id: str | None) -> _Claim:
        if webhook_id is None:
            return self._anyone
        return self._by_id.get(webhook_id, self._anyone)

    def zone_for(self, granted: _Granted) -> tzinfo | None:
        """The zone a report's local times are read in: its account's; for a report that
        may change the calls of several (or of any), the zone they all name, else this
        machine's."""
        if granted.account is not None:
            return self._zones.get(granted.account)
        if granted.accounts is not None:
            return _common_zone(self._zones.get(name) for name in granted.accounts)
        return self._anyone_zone


def _common_zone(zones: Iterable[tzinfo | None]) -> tzinfo | None:
    """The one zone all of ``zones`` are, or None (this machine's) when they differ."""
    distinct = set(zones)
    return distinct.pop() if len(distinct) == 1 else None


class _SecretCache:
    """Webhook secrets read from the keyring (off the loop) and kept for a while; readers of
    one key at the same moment share one keyring call."""

    def __init__(self, secrets: SecretStore) -> None:
        self._secrets = secrets
        self._values: dict[str, tuple[float, str | None]] = {}
        self._pending: dict[str, asyncio.Future[str | None]] = {}

    def clear(self) -> None:
        self._values.clear()

    def fresh(self, keys: Sequence[str], max_age: float) -> list[str | None] | None:
        """The secrets of ``keys`` if every one was read within ``max_age``, else None."""
        now = time.monotonic()
        found = []
        for key in keys:
            entry = self._values.get(key)
            if entry is None or now - entry[0] > max_age:
                return None
            found.append(entry[1])
        return found

    async def get_many(self, keys: Sequence[str], max_age: float) -> list[str | None]:
        return list(await asyncio.gather(*(self.get(key, max_age) for key in keys)))

    async def get(self, key: str, max_age: float) -> str | None:
        cached = self._values.get(key)
        if cached is not None and time.monotonic() - cached[0] <= max_age:
            return cached[1]
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch(key))
            self._pending[key] = pending
            pending.add_done_callback(lambda done: self._settled(key, done))
        return await asyncio.shield(pending)

    async def _fetch(self, key: str) -> str | None:
        secret = await get_secret(self._secrets, key)
        self._values[key] = (time.monotonic(), secret)
        return secret

    def _settled(self, key: str, done: asyncio.Future[str | None]) -> None:
        if self._pending.get(key) is done:
            del self._pending[key]
        if not done.cancelled():
            done.exception()  # retrieved here too: a waiter may have been cancelled


def _remote(request: Request) -> str:
    return request.remote or "?"


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def _too_large() -> Response:
    # The connection closes: the rest of the body is not worth reading.
    return plain(413, "The body is over 64 KiB; a call report is far smaller.", close=True)


def _bind_error(host: str, port: int, exc: OSError) -> str:
    where = f"{format_host(host)}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"Port {port} on {host} is already in use (another 'dialer webhooks serve', or the "
            "app's own receiver?); choose another port with --port or in webhooks.toml"
        )
    if exc.errno == errno.EACCES:
        return f"Not allowed to listen on {where} (ports below 1024 need privileges)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"Cannot listen on {where}: that address is not one of this machine's"
    return f"Cannot listen on {where}: {exc.strerror or exc}"


__all__ = ["MAX_BODY", "WebhookReceiver"]
