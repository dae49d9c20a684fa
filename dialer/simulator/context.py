"""State the fake services share: configuration, the call engine, the outgoing HTTP client."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from dialer.simulator.engine import CallEngine
from dialer.simulator.model import SimulatorConfig

logger = logging.getLogger(__name__)


@dataclass
class WebhookDelivery:
    """One callback the simulator pushed (or tried to), for tests and the control API."""

    url: str
    payload: dict[str, object]
    attempts: int = 0
    status: int | None = None  # the receiver's last HTTP status, None if it never answered
    error: str | None = None
    delivered: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "url": self.url,
            "payload": self.payload,
            "attempts": self.attempts,
            "status": self.status,
            "error": self.error,
            "delivered": self.delivered,
        }


@dataclass
class SimContext:
    config: SimulatorConfig
    engine: CallEngine
    base_url: str = ""
    http: httpx.AsyncClient | None = None
    webhooks: list[WebhookDelivery] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def push_json(self, url: str, payload: dict[str, object]) -> WebhookDelivery:
        """POST a callback; the document counts only 200 and 202 as received, so anything
        else is retried (twice) like a failure to connect."""
        delivery = WebhookDelivery(url=url, payload=payload)
        shown = _without_query(url)
        self.webhooks.append(delivery)
        if self.stopping.is_set():
            delivery.error = "simulator is stopping"
            return delivery
        if self.http is None:
            # Made on first use: most runs never push a callback, and building a client
            # (its TLS context) costs more than starting the whole server.
            # trust_env off: a desktop's proxy settings must not capture callbacks to localhost.
            self.http = httpx.AsyncClient(trust_env=False)
        http = self.http
        for attempt in range(3):
            if attempt:
                await asyncio.sleep(self.config.webhook_retry_delay)
            delivery.attempts = attempt + 1
            try:
                response = await http.post(url, json=payload, timeout=self.config.webhook_timeout)
            except httpx.HTTPError as exc:
                delivery.error = f"{type(exc).__name__}: {exc}"
                logger.warning(
                    "webhook push to %s failed (attempt %d): %s", shown, attempt + 1, exc
                )
                continue
            delivery.status = response.status_code
            if response.status_code in (200, 202):
                delivery.delivered = True
                delivery.error = None
                return delivery
            delivery.error = f"HTTP {response.status_code}"
            logger.warning(
                "webhook receiver %s answered HTTP %d (attempt %d)",
                shown,
                response.status_code,
                attempt + 1,
            )
        logger.error("giving up on the webhook push to %s after 3 attempts", shown)
        return delivery


def _without_query(url: str) -> str:
    # Receivers often carry a shared secret in the query string; keep it out of the log.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
