"""Does every text fit? A check over a shown widget tree: labels, buttons, check boxes,
combo boxes, line edits' placeholders, group boxes, tabs and table headers, each given at
least the room its text needs, and no two widgets of one layout on top of each other.

Used by ``test_layout_fits.py`` in this process (the checker's own tests) and by
``python -m tests.ui.fit_windows`` in a subprocess per scale factor (Qt reads the scale
when the application starts).

A widget that shortens its text on purpose (a file path in a status line) says so with the
``elides`` property set to True and is left alone.
"""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QStyle,
    QStyleOptionComboBox,
    QTabBar,
    QWidget,
)

SLACK = 1  # px: rounding at fractional scale factors


def _shown(widget: QWidget, root: QWidget) -> bool:
    return widget.isVisibleTo(root) and widget.width() > 0 and widget.height() > 0


def _name(widget: QWidget) -> str:
    text = ""
    for getter in ("text", "title", "currentText", "placeholderText"):
        value = getattr(widget, getter, None)
        if callable(value):
            try:
                text = value()
            except TypeError:
                continue
            if text:
                break
    label = widget.accessibleName() or widget.objectName()
    return f"{type(widget).__name__} {label!r} {text[:40]!r}"


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _label_problem(label: QLabel) -> str | None:
    if not label.text() or (label.pixmap() is not None and not label.pixmap().isNull()):
        return None
    if label.wordWrap():
        need = label.heightForWidth(label.width())
        if need > label.height() + SLACK:
            return f"needs {need} px of height, has {label.height()}"
        return None
    hint = label.sizeHint()
    if hint.width() > label.width() + SLACK:
        return f"needs {hint.width()} px, has {label.width()}"
    if hint.height() > label.height() + SLACK:
        return f"needs {hint.height()} px of height, has {label.height()}"
    return None


def _button_problem(button: QAbstractButton) -> str | None:
    if not button.text():
        return None
    if isinstance(button, (QCheckBox, QRadioButton)):
        need = button.sizeHint().width()
    else:
        # A push button's hint has padding beyond its text; the text itself must fit.
        fm = button.fontMetrics()
        icon = button.iconSize().width() + 4 if not button.icon().isNull() else 0
        menu = 12 if isinstance(button, QPushButton) and button.menu() is not None else 0
        need = fm.horizontalAdvance(_plain(button.text())) + icon + menu + 8
    if need > button.width() + SLACK:
        return f"needs {need} px, has {button.width()}"
    return None


def _combo_problem(box: QComboBox) -> str | None:
    text = box.currentText()
    if not text or box.isEditable():
        return None
    option = QStyleOptionComboBox()
    box.initStyleOption(option)
    field = box.style().subControlRect(
        QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, box
    )
    icon = box.iconSize().width() + 4 if not box.itemIcon(box.currentIndex()).isNull() else 0
    need = box.fontMetrics().horizontalAdvance(text) + icon
    if need > field.width() + SLACK:
        return f"shows {need} px of text in {field.width()}"
    return None


def _placeholder_problem(edit: QLineEdit) -> str | None:
    placeholder = edit.placeholderText()
    if not placeholder or edit.text():
        return None
    margins = edit.textMargins()
    room = edit.contentsRect().width() - margins.left() - margins.right() - 6  # frame, cursor
    for action in edit.actions():  # a clear button or an icon takes room too
        if action.isVisible():
            room -= 20
    need = edit.fontMetrics().horizontalAdvance(placeholder)
    if need > room + SLACK:
        return f"placeholder needs {need} px, has {room}"
    return None


def _header_problems(header: QHeaderView) -> list[str]:
    model = header.model()
    if model is None:
        return []
    problems = []
    fm = header.fontMetrics()
    for section in range(header.count()):
        if header.isSectionHidden(section) or header.sectionSize(section) == 0:
            continue
        text = model.headerData(section, header.orientation())
        if not isinstance(text, str) or not text:
            continue
        # Room for the sort arrow where the header shows one, and the section's padding.
        arrow = 14 if header.isSortIndicatorShown() else 0
        need = fm.horizontalAdvance(text) + arrow + 8
        if need > header.sectionSize(section) + SLACK:
            problems.append(f"column {text!r} needs {need} px, has {header.sectionSize(section)}")
    return problems


def _tab_problems(bar: QTabBar) -> list[str]:
    problems = []
    for tab in range(bar.count()):
        need = bar.fontMetrics().horizontalAdvance(_plain(bar.tabText(tab))) + 8
        if need > bar.tabRect(tab).width() + SLACK:
            problems.append(f"tab {bar.tabText(tab)!r} needs {need} px")
    return problems


def _overlaps(layout: QLayout, root: QWidget) -> list[str]:
    placed: list[tuple[QRect, QWidget]] = []
    for n in range(layout.count()):
        item = layout.itemAt(n)
        widget = item.widget() if item is not None else None
        if widget is not None and _shown(widget, root):
            placed.append((widget.geometry(), widget))
    problems = []
    for i, (rect, widget) in enumerate(placed):
        for other_rect, other in placed[i + 1 :]:
            overlap = rect.intersected(other_rect)
            if overlap.width() > SLACK and overlap.height() > SLACK:
                problems.append(f"{_name(widget)} overlaps {_name(other)}")
    return problems


def clipped(root: QWidget) -> list[str]:
    """Every text in ``root`` (shown, laid out) that does not fit, and every overlap, as a
    line each; empty when all is well."""
    problems: list[str] = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not _shown(widget, root) or widget.property("elides") is True:
            continue
        found: list[str] = []
        if isinstance(widget, QLabel):
            found = [p for p in [_label_problem(widget)] if p]
        elif isinstance(widget, QAbstractButton) and not isinstance(widget, QTabBar):
            found = [p for p in [_button_problem(widget)] if p]
        elif isinstance(widget, QComboBox):
            found = [p for p in [_combo_problem(widget)] if p]
        elif isinstance(widget, QLineEdit):
            found = [p for p in [_placeholder_problem(widget)] if p]
        elif isinstance(widget, QGroupBox) and widget.title():
            need = widget.fontMetrics().horizontalAdvance(_plain(widget.title())) + 16
            found = [f"title needs {need} px"] if need > widget.width() + SLACK else []
        elif isinstance(widget, QHeaderView):
            found = _header_problems(widget)
        elif isinstance(widget, QTabBar):
            found = _tab_problems(widget)
        problems += [f"{_name(widget)}: {problem}" for problem in found]
        layout = widget.layout()
        if layout is not None:
            problems += _overlaps(layout, root)
            for sub in layout.findChildren(QLayout):
                problems += _overlaps(sub, root)
    return sorted(set(problems))
