"""Everything fits a 1024×600 laptop at 100 % and 150 %: every window and dialog rendered
offscreen on such a screen (``fit_windows.py``, a process per scale), with no text cut and
no widget on top of another. The checker itself is tested first, on widgets made to fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from dialer.ui.fitting import FlowLayout
from tests.ui.fit import clipped

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def window(qapp: Any) -> Iterator[QWidget]:
    widget = QWidget()
    yield widget
    widget.close()
    widget.deleteLater()


def show(widget: QWidget, width: int, height: int) -> None:
    widget.resize(width, height)
    widget.show()
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()  # a plain test, no loop running: lays the widgets out


def test_a_well_laid_out_form_passes(window: QWidget) -> None:
    form = QFormLayout(window)
    form.addRow("Name", QLineEdit())
    box = QComboBox()
    box.addItems(["Ring me, then the customer"])
    form.addRow("Mode", box)
    form.addRow(QCheckBox("Record the call"))
    show(window, 500, 200)
    assert clipped(window) == []


def test_text_without_room_is_named(window: QWidget) -> None:
    layout = QHBoxLayout(window)
    label = QLabel("A label much longer than the room it was given")
    button = QPushButton("Note and disposition…")
    box = QComboBox()
    box.addItem("Digits with country code (918867135000)")
    edit = QLineEdit()
    edit.setPlaceholderText("Search contacts: name, company or any digits")
    for widget in (label, button, box, edit):
        widget.setMinimumWidth(1)  # the layout may squeeze each below its text
        widget.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(widget)
    show(window, 320, 60)
    found = "\n".join(clipped(window))
    assert "QLabel" in found and "needs" in found
    assert "QPushButton" in found
    assert "QComboBox" in found and "shows" in found
    assert "placeholder needs" in found

    label.setProperty("elides", True)  # shortened on purpose: left alone
    assert not any(line.startswith("QLabel") for line in clipped(window))


def test_a_wrapped_label_cut_short_and_an_overlap_are_named(window: QWidget) -> None:
    label = QLabel("A sentence that wraps onto several lines when its label is narrow. " * 3)
    label.setWordWrap(True)
    layout = QHBoxLayout(window)
    layout.addWidget(label)
    other = QPushButton("On top")
    layout.addWidget(other)
    show(window, 300, 120)
    label.setGeometry(QRect(0, 0, 150, 20))  # as a screen-capped window squeezes a form
    other.setGeometry(QRect(100, 0, 100, 20))
    found = "\n".join(clipped(window))
    assert "of height" in found
    assert "overlaps" in found


def test_the_flow_layout_wraps_what_does_not_fit_one_row(window: QWidget) -> None:
    flow = FlowLayout(window)
    buttons = [QPushButton(f"Filter number {n}") for n in range(6)]
    for button in buttons:
        flow.addWidget(button)
    show(window, 2000, 100)
    assert {b.y() for b in buttons} == {0}  # one row when there is room
    one_row = flow.heightForWidth(2000)
    narrow = buttons[0].sizeHint().width() * 3
    assert flow.heightForWidth(narrow) > 2 * one_row - 1
    window.resize(narrow, flow.heightForWidth(narrow))
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    assert len({b.y() for b in buttons}) >= 2
    assert clipped(window) == []
    buttons[5].hide()  # hidden items take no room
    assert flow.heightForWidth(narrow) <= flow.heightForWidth(narrow - 1)


@pytest.mark.parametrize("scale", ["1", "1.5"])
def test_every_window_and_dialog_fits_a_1024x600_screen(scale: str, tmp_path: Path) -> None:
    env = {**os.environ, "DIALER_HOME": str(tmp_path)}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    done = subprocess.run(
        [sys.executable, "-m", "tests.ui.fit_windows", scale],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    problems = json.loads(done.stdout[done.stdout.index("{") :])
    assert problems == {}, json.dumps(problems, indent=1, ensure_ascii=False)
