"""The live call card: the call this window placed last, as it goes. Who is being called,
which leg rings, a running talk timer once both are connected, and what comes next, in
words an agent reads at a glance. It follows the history's changes of that one call."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout

from dialer.core.calls import CallStatus
from dialer.core.times import format_duration
from dialer.history import CallRecord
from dialer.ui.contacts_model import display_number
from dialer.ui.theme import show_level

TICK_MS = 1000  # the talk timer's pace


def _shown(number: str | None) -> str:
    return display_number(number) if number else "?"


def call_lines(
    record: CallRecord, *, customer_first: bool, connected_for: float | None
) -> tuple[str, str, str]:
    """(the leg line, what comes next, level) for ``record``."""
    customer, agent = _shown(record.customer), _shown(record.agent)
    first, then = (customer, agent) if customer_first else (agent, customer)
    status = record.status
    if record.flow_id:
        first, then = customer, f"flow {record.flow_id}"
    if status is CallStatus.PLACING:
        return "Sending the call to the provider…", f"{first} rings first, then {then}", "info"
    if status is CallStatus.ACCEPTED:
        return "Accepted by the provider", f"{first} rings in a moment, then {then}", "info"
    if status is CallStatus.RINGING_AGENT:
        return f"{agent} is ringing (your phone)", f"Answer it: then {customer} is rung", "info"
    if status is CallStatus.RINGING_CUSTOMER:
        return f"{customer} is ringing", "When they answer, you are connected", "info"
    if status is CallStatus.CONNECTED:
        talk = format_duration(connected_for or 0.0) or "0:00"
        return f"Connected: {talk}", "The outcome is recorded when the call ends", "ok"
    if status is CallStatus.COMPLETED:
        talk = format_duration(record.talk_seconds)
        return (f"Completed, talk {talk}" if talk else "Completed"), "", "ok"
    if status is CallStatus.NO_REPORT:
        return "Placed: the provider reports no outcome", "", "info"
    if status is CallStatus.FAILED:
        return "Failed", record.error or record.cause or record.message, "error"
    words = {
        CallStatus.NO_ANSWER: "No answer",
        CallStatus.BUSY: "Busy",
        CallStatus.CANCELLED: "Cancelled",
    }
    return words.get(status, str(status)), record.cause, "warning"


class CallCard(QFrame):
    """Shows one call (``follow``) and keeps it current (``update``, from the window's
    history listener); hidden until the first call."""

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Call in progress")
        self.title = QLabel(self)
        self.title.setAccessibleName("Calling")
        self.leg = QLabel(self)
        self.leg.setAccessibleName("Call state")
        self.next = QLabel(self)
        self.next.setAccessibleName("What comes next")
        self.next.setWordWrap(True)
        layout = QVBoxLayout(self)
        for label in (self.title, self.leg, self.next):
            layout.addWidget(label)
        self.record: CallRecord | None = None
        self._customer_first = False
        self._connected_at: float | None = None
        self._timer = QTimer(self, interval=TICK_MS)
        self._timer.timeout.connect(self._show)
        self.setVisible(False)

    def follow(self, record: CallRecord, *, who: str = "", customer_first: bool = False) -> None:
        """Show ``record`` from now on (a call just placed, or being placed)."""
        self.record = record
        self._customer_first = customer_first
        self._connected_at = None
        name = f" ({who})" if who else ""
        self.title.setText(f"Calling {_shown(record.customer)}{name}")
        self.setVisible(True)
        self._show()

    def update_record(self, record: CallRecord) -> None:
        """A stored change; only the call shown is taken."""
        if self.record is None or record.id != self.record.id:
            return
        if record.status is CallStatus.CONNECTED and self._connected_at is None:
            self._connected_at = time.monotonic()
        self.record = record
        self._show()

    def _show(self) -> None:
        record = self.record
        if record is None:
            return
        connected_for = (
            time.monotonic() - self._connected_at if self._connected_at is not None else None
        )
        leg, coming, level = call_lines(
            record, customer_first=self._customer_first, connected_for=connected_for
        )
        self.leg.setText(leg)
        show_level(self.leg, level)
        self.next.setText(coming)
        self.next.setVisible(bool(coming))
        live = record.status is CallStatus.CONNECTED
        if live and not self._timer.isActive():
            self._timer.start()
        elif not live:
            self._timer.stop()


__all__ = ["CallCard", "call_lines"]
