"""Call-end notifications and the tray's state, fed by real history records.

The offscreen platform has no system tray, so the icon itself is absent here (as on a
desktop without one); what each notification says is recorded in ``shown`` either way."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QWidget

from dialer.core.calls import CallStatus
from dialer.history import CallOrigin, CallRecord
from dialer.ui.tray import CallTray, bring_to_front, tray_available


def placed(id: str = "c1", **fields: Any) -> CallRecord:
    values: dict[str, Any] = {"status": CallStatus.ACCEPTED, **fields}
    return CallRecord(
        id=id, account="Demo C2C v2", provider="c2c-v2", customer="+918867135000", **values
    )


def make_tray(qapp: Any, *, notify: bool = True) -> tuple[CallTray, QWidget]:
    window = QWidget()
    quits: list[bool] = []
    tray = CallTray(
        window, QIcon(), title="Dialer", quit_app=lambda: quits.append(True), notify=notify
    )
    return tray, window


def test_a_call_placed_here_that_ends_is_notified_once(qapp: Any) -> None:
    tray, _window = make_tray(qapp)
    call = placed()
    tray.record_changed(call)
    assert tray.calls_in_progress == 1
    tray.record_changed(replace(call, status=CallStatus.CONNECTED))
    done = replace(call, status=CallStatus.COMPLETED, talk_seconds=65)
    tray.record_changed(done)
    tray.record_changed(done)  # a repeated change: no second notification
    assert tray.shown == [("Call completed", "+918867135000 on Demo C2C v2: talked 1 min 5 s")]
    assert tray.calls_in_progress == 0


def test_failures_say_why(qapp: Any) -> None:
    tray, _window = make_tray(qapp)
    tray.record_changed(placed("a"))
    tray.record_changed(placed("b"))
    tray.record_changed(placed("a", status=CallStatus.FAILED, error="Insufficient balance"))
    tray.record_changed(placed("b", status=CallStatus.BUSY, cause="BUSY/BUSY"))
    assert tray.shown == [
        ("Call failed", "+918867135000 on Demo C2C v2: Insufficient balance"),
        ("Line busy", "+918867135000 on Demo C2C v2: BUSY/BUSY"),
    ]


def test_history_outside_calls_and_unreported_outcomes_stay_quiet(qapp: Any) -> None:
    tray, _window = make_tray(qapp)
    tray.record_changed(placed("old", status=CallStatus.COMPLETED))  # never seen open here
    outside = placed("out", origin=CallOrigin.OUTSIDE)
    tray.record_changed(outside)
    tray.record_changed(replace(outside, status=CallStatus.COMPLETED))
    tray.record_changed(placed("dd"))
    tray.record_changed(placed("dd", status=CallStatus.NO_REPORT))  # DigiDonar: no outcome
    assert tray.shown == []
    assert tray.calls_in_progress == 0


def test_notifications_can_be_turned_off(qapp: Any) -> None:
    tray, _window = make_tray(qapp, notify=False)
    tray.record_changed(placed())
    tray.record_changed(placed(status=CallStatus.NO_ANSWER))
    assert tray.shown == []


def test_the_window_is_toggled_and_brought_to_front(qapp: Any) -> None:
    tray, window = make_tray(qapp)
    assert tray.icon is None or not tray_available() or tray.icon.isVisible()
    window.showMinimized()
    bring_to_front(window)
    assert window.isVisible() and not window.isMinimized()
    tray.toggle_window()
    assert not window.isVisible()
    tray.toggle_window()
    assert window.isVisible()
    window.close()
