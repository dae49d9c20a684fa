"""Light or dark, as the system says: the palette, and message colours readable on it.

Windows 11 and macOS hand Qt a palette that already follows the system; on Linux the
platform theme may report a dark colour scheme and still give a light palette (no GTK or
KDE platform theme installed). There we switch to Fusion with a dark palette of our own.
Widgets never hard-code colours: a message label carries a ``level`` property ("error",
"warning", "info", "ok") and one application style sheet, rebuilt whenever the palette
changes, colours it with a shade chosen for the current background.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

if TYPE_CHECKING:
    from PySide6.QtCore import Qt

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
    """Keeps the application's palette and message colours in step with the system.

    Asking Qt for the system's colour scheme builds PySide's whole ``Qt`` namespace (some
    15 ms), which a bare window never pays. So before the first paint the follower goes by
    what it knew (``assume_dark``: the person's choice, or the system's scheme at the last
    start, kept in ``memo``), and asks the system only in :meth:`follow`, once the frame is
    on screen. With nothing to go by it follows at once."""

    def __init__(
        self,
        app: QApplication,
        choice: str = "system",
        *,
        assume_dark: bool | None = None,
        memo: Path | None = None,
    ):
        super().__init__(app)
        self._app = app
        self._light_style = ""  # the platform's style, before any switch to Fusion
        self._fallback = False  # our own dark palette is applied
        self._applying = False
        self._following = False
        self._memo = memo
        self.choice = choice  # "system", or "light" / "dark": the person's, over the system's
        if choice == "system" and assume_dark is None:
            self.follow()
        else:
            self._show(bool(assume_dark) if choice == "system" else choice == "dark")

    def follow(self) -> None:
        """Ask the system, apply what it says, and follow its changes from now on."""
        if self._following:
            return
        self._following = True
        app = self._app
        app.styleHints().colorSchemeChanged.connect(self.apply)
        # A palette the platform changed by itself (Windows/macOS switching theme).
        app.paletteChanged.connect(self._palette_changed)
        self.apply()

    def stop(self) -> None:
        """Follow the system no more (the palette and style stay as they are)."""
        if self._following:
            self._following = False
            self._app.styleHints().colorSchemeChanged.disconnect(self.apply)
            self._app.paletteChanged.disconnect(self._palette_changed)

    def choose(self, choice: str) -> None:
        """Follow the system ("system"), or stay light or dark whatever it says."""
        if choice == self.choice and self._following:
            return  # applied already (the desktop settings say it again at start)
        self.choice = choice
        self.apply()

    def apply(self, scheme: Qt.ColorScheme | None = None) -> None:
        from PySide6.QtCore import Qt  # not at the top: see the class's text

        app = self._app
        scheme = app.styleHints().colorScheme() if scheme is None else scheme
        self._remember(scheme == Qt.ColorScheme.Dark)  # the system's, whatever was chosen
        if self.choice == "dark":
            scheme = Qt.ColorScheme.Dark
        elif self.choice == "light":
            scheme = Qt.ColorScheme.Light
        self._show(scheme == Qt.ColorScheme.Dark)

    def _show(self, dark: bool) -> None:
        app = self._app
        self._applying = True
        try:
            if dark and not is_dark(app.palette()):
                if not self._fallback:
                    self._light_style = app.style().name()
                app.setStyle("Fusion")
                app.setPalette(dark_palette())
                self._fallback = True
            elif not dark and (self._fallback or is_dark(app.palette())):
                # Back from our dark palette, or light chosen over a dark system palette.
                app.setStyle(self._light_style if self._fallback else "Fusion")
                app.setPalette(app.style().standardPalette())
                self._fallback = False
            self._set_sheet()
        finally:
            self._applying = False

    def _set_sheet(self) -> None:
        # Only when it changes: setting it re-polishes every widget (30-40 ms once the
        # window is built).
        sheet = style_sheet(self._app.palette())
        if self._app.styleSheet() != sheet:
            self._app.setStyleSheet(sheet)

    def _remember(self, dark: bool) -> None:
        """The system's scheme, for the next start's first paint."""
        if self._memo is None or remembered_dark(self._memo) is dark:
            return
        from PySide6.QtCore import QSettings

        QSettings(str(self._memo), QSettings.Format.IniFormat).setValue(
            MEMO_KEY, "dark" if dark else "light"
        )

    def _palette_changed(self, _palette: QPalette) -> None:
        if not self._applying:
            self._set_sheet()


MEMO_KEY = "theme/system"  # "dark" or "light": what the system said at the last start


def remembered_dark(memo: Path) -> bool | None:
    """Whether the system was dark at the last start (None: not known)."""
    from PySide6.QtCore import QSettings

    value = QSettings(str(memo), QSettings.Format.IniFormat).value(MEMO_KEY)
    return None if value not in ("dark", "light") else value == "dark"


def follow_system_theme(
    app: QGuiApplication, choice: str = "system", memo: Path | None = None
) -> ThemeFollower | None:
    """The application's theme from now on: the person's ``choice``, or the system's;
    ``memo``: where the system's scheme is kept from one start to the next (the first paint
    then waits for no question to the system; :func:`follow_theme` asks it)."""
    if not isinstance(app, QApplication):
        return None
    assume = remembered_dark(memo) if memo is not None and choice == "system" else None
    follower = ThemeFollower(app, choice, assume_dark=assume, memo=memo)
    app.setProperty("dialer_theme", follower)  # for choose_theme, from the settings
    return follower


def follow_theme() -> None:
    """Once the first paint is done: ask the system for its scheme, and follow it."""
    app = QApplication.instance()
    follower = app.property("dialer_theme") if app is not None else None
    if isinstance(follower, ThemeFollower):
        follower.follow()


def choose_theme(choice: str) -> None:
    """Apply the person's theme choice (the desktop settings) to the running application."""
    app = QApplication.instance()
    follower = app.property("dialer_theme") if app is not None else None
    if isinstance(follower, ThemeFollower):
        follower.choose(choice)
