"""Light or dark, as the system says: the palette, and message colours readable on it.

Windows 11 and macOS hand Qt a palette that already follows the system; on Linux the
platform theme may report a dark colour scheme and still give a light palette (no GTK or
KDE platform theme installed). There we switch to Fusion with a dark palette of our own.
Widgets never hard-code colours: a message label carries a ``level`` property ("error",
"warning", "info", "ok") and one application style sheet, rebuilt whenever the palette
changes, colours it with a shade chosen for the current background.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

# (on a light background, on a dark background): each at least 4.5:1 against the
# window colours used here (WCAG AA for normal text).
LEVEL_COLOURS = {
    "error": ("#b00020", "#ff8a80"),
    "warning": ("#8a5300", "#ffd180"),
    "ok": ("#1b6e20", "#a5d6a7"),
}


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def level_colour(level: str, palette: QPalette) -> QColor:
    if level not in LEVEL_COLOURS:
        return palette.color(QPalette.ColorRole.WindowText)
    light, dark = LEVEL_COLOURS[level]
    return QColor(dark if is_dark(palette) else light)


def style_sheet(palette: QPalette) -> str:
    rules = [
        f'QLabel[level="{level}"] {{ color: {level_colour(level, palette).name()}; }}'
        for level in LEVEL_COLOURS
    ]
    rules.append('QLabel[level="info"] { color: palette(link); }')
    return "\n".join(rules)


def show_level(label: QWidget, level: str) -> None:
    """Colour a message label for ``level``; the style sheet matches on the property."""
    if label.property("level") == level:
        return
    label.setProperty("level", level)
    style = label.style()
    style.unpolish(label)
    style.polish(label)


def dark_palette() -> QPalette:
    palette = QPalette()
    roles = QPalette.ColorRole
    colours = {
        roles.Window: "#202124",
        roles.WindowText: "#e8eaed",
        roles.Base: "#17181a",
        roles.AlternateBase: "#26282b",
        roles.ToolTipBase: "#303134",
        roles.ToolTipText: "#e8eaed",
        roles.PlaceholderText: "#9aa0a6",
        roles.Text: "#e8eaed",
        roles.Button: "#2d2e31",
        roles.ButtonText: "#e8eaed",
        roles.BrightText: "#ff8a80",
        roles.Highlight: "#8ab4f8",
        roles.HighlightedText: "#202124",
        roles.Link: "#8ab4f8",
        roles.LinkVisited: "#c58af9",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.Text, roles.ButtonText, roles.WindowText):
        palette.setColor(disabled, role, QColor("#6f7378"))
    return palette


class ThemeFollower(QObject):
    """Keeps the application's palette and message colours in step with the system."""

    def __init__(self, app: QApplication):
        super().__init__(app)
        self._app = app
        self._light_style = app.style().name()
        self._fallback = False  # our own dark palette is applied
        self._applying = False
        self.choice = "system"  # or "light" / "dark": the person's, over the system's
        app.styleHints().colorSchemeChanged.connect(self.apply)
        app.installEventFilter(self)
        self.apply()

    def choose(self, choice: str) -> None:
        """Follow the system ("system"), or stay light or dark whatever it says."""
        self.choice = choice
        self.apply()

    def apply(self, scheme: Qt.ColorScheme | None = None) -> None:
        app = self._app
        scheme = app.styleHints().colorScheme() if scheme is None else scheme
        if self.choice == "dark":
            scheme = Qt.ColorScheme.Dark
        elif self.choice == "light":
            scheme = Qt.ColorScheme.Light
        self._applying = True
        try:
            if scheme == Qt.ColorScheme.Dark and not is_dark(app.palette()):
                app.setStyle("Fusion")
                app.setPalette(dark_palette())
                self._fallback = True
            elif scheme != Qt.ColorScheme.Dark and (self._fallback or is_dark(app.palette())):
                # Back from our dark palette, or light chosen over a dark system palette.
                app.setStyle(self._light_style if self._fallback else "Fusion")
                app.setPalette(app.style().standardPalette())
                self._fallback = False
            app.setStyleSheet(style_sheet(app.palette()))
        finally:
            self._applying = False

    def eventFilter(self, watched: Any, event: QEvent) -> bool:
        # A palette the platform changed by itself (Windows/macOS switching theme).
        if (
            watched is self._app
            and event.type() == QEvent.Type.ApplicationPaletteChange
            and not self._applying
        ):
            self._app.setStyleSheet(style_sheet(self._app.palette()))
        return False


def follow_system_theme(app: QGuiApplication) -> ThemeFollower | None:
    if not isinstance(app, QApplication):
        return None
    follower = ThemeFollower(app)
    app.setProperty("dialer_theme", follower)  # for choose_theme, from the settings
    return follower


def choose_theme(choice: str) -> None:
    """Apply the person's theme choice (the desktop settings) to the running application."""
    app = QApplication.instance()
    follower = app.property("dialer_theme") if app is not None else None
    if isinstance(follower, ThemeFollower):
        follower.choose(choice)
