"""A small busy indicator: a rotating arc in the palette's highlight colour.

Drawn with QPainter on a timer that runs only while the indicator is shown, so a hidden
spinner costs nothing (an animated GIF would need QtSvg/QMovie and keep decoding).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QWidget

STEP_DEGREES = 30
INTERVAL_MS = 80


class Spinner(QWidget):
    def __init__(self, parent: Any = None, *, size: int = 16):
        super().__init__(parent)
        self._angle = 0
        self._size = size
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self._advance)
        self.setFixedSize(size, size)
        self.setVisible(False)

    @property
    def spinning(self) -> bool:
        return self._timer.isActive()

    def start(self) -> None:
        self.setVisible(True)
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self.setVisible(False)

    def sizeHint(self) -> QSize:
        return QSize(self._size, self._size)

    def _advance(self) -> None:
        self._angle = (self._angle + STEP_DEGREES) % 360
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight))
        width = max(2.0, self._size / 8)
        pen.setWidthF(width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        inset = width / 2 + 1
        rect = QRectF(self.rect()).adjusted(inset, inset, -inset, -inset)
        # Qt angles are in 1/16 degree, counter-clockwise from three o'clock.
        painter.drawArc(rect, -self._angle * 16, 270 * 16)
        painter.end()
