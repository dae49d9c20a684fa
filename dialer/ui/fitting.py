"""Windows that fit a small screen (a 1024×600 laptop, or 1536×900 at 150 %).

Qt sizes a window from its layout, then caps it at the screen: a form taller than the
screen is squeezed, its rows drawn on top of each other. So a tall form scrolls instead
(:func:`scrolling`), a window asks for its preferred size only up to the screen
(:func:`resize_within_screen`), and text that wraps after the window is shown (a status
found out later) makes the window taller rather than being cut (:func:`grow_to_fit`).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QFrame, QLayout, QLayoutItem, QScrollArea, QWidget


class FormScroller(QScrollArea):
    """A frameless vertical scroll area around one widget: as tall as the widget wants
    when there is room, scrolling when there is not."""

    def __init__(self, widget: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self._inner = widget
        self.setWidget(widget)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.viewport().setAutoFillBackground(False)
        widget.setAutoFillBackground(False)

    def sizeHint(self) -> QSize:
        inner = self._inner.sizeHint()
        bar = self.verticalScrollBar().sizeHint().width()
        return QSize(inner.width() + bar, inner.height())

    def minimumSizeHint(self) -> QSize:
        inner = self._inner.minimumSizeHint()
        bar = self.verticalScrollBar().sizeHint().width()
        # As wide as the widget needs; a few lines high (the rest scrolls).
        return QSize(inner.width() + bar, min(inner.height(), 4 * self.fontMetrics().height()))


def scrolling(widget: QWidget) -> FormScroller:
    return FormScroller(widget)


def _available(window: QWidget) -> QSize:
    return window.screen().availableGeometry().size()


def resize_within_screen(window: QWidget, width: int, height: int) -> None:
    """``window.resize(width, height)``, but no larger than the screen it is on."""
    room = _available(window)
    window.resize(min(width, room.width()), min(height, room.height()))


def grow_to_fit(window: QWidget) -> None:
    """Make a shown window tall enough for its text wrapped at its current width (up to
    the screen): Qt keeps a window's size when a label's text changes after it is shown."""
    layout = window.layout()
    if layout is None:
        return
    layout.activate()
    if layout.hasHeightForWidth():
        need = layout.totalHeightForWidth(window.width())
    else:
        need = layout.totalMinimumSize().height()
    height = min(max(need, window.height()), _available(window).height())
    if height != window.height():
        window.resize(window.width(), height)


class FlowLayout(QLayout):
    """Items left to right, wrapping onto another row when the width runs out (the
    history's filters: one row on a wide window, two on a laptop's). Hidden items take no
    room. Qt has no such layout of its own; this is its documented "flow layout" idea."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6):
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._gap = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), place=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, place=True)

    def sizeHint(self) -> QSize:
        # One row: every item side by side.
        shown = self._shown()
        width = sum(item.sizeHint().width() for item in shown) + self._gap * max(len(shown) - 1, 0)
        height = max((item.sizeHint().height() for item in shown), default=0)
        margins = self.contentsMargins()
        return QSize(width + margins.left() + margins.right(), height)

    def minimumSize(self) -> QSize:
        # As narrow as the widest item: the rest wraps.
        size = QSize()
        for item in self._shown():
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _shown(self) -> list[QLayoutItem]:
        return [item for item in self._items if not item.isEmpty()]

    def _arrange(self, rect: QRect, *, place: bool) -> int:
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        x, y, row_height = area.x(), area.y(), 0
        for item in self._shown():
            hint = item.sizeHint()
            if x > area.x() and x + hint.width() > area.right() + 1:
                x, y, row_height = area.x(), y + row_height + self._gap, 0
            if place:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._gap
            row_height = max(row_height, hint.height())
        return y + row_height - rect.y() + margins.bottom()
