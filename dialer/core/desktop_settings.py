"""The user's desktop preferences: links, the global hotkey, the tray and notifications.

Kept in ``config_dir / "desktop.toml"``, written atomically like the accounts and flows
files. Every key is optional (a missing one takes its default); an unknown key or a wrong
type is refused with one sentence naming the file, so that a typo in a hand-edited file is
noticed instead of silently ignored.

The hotkey is written in pynput's ``GlobalHotKeys`` syntax (``<ctrl>+<alt>+d``). It is
checked here, without importing pynput: pynput refuses to import at all where there is no X
display, and a setting must be checkable (and saveable) on any machine. The names accepted
are pynput's own ``Key`` names; :func:`parse_hotkey` also takes the way people write keys
(``Ctrl+Alt+D``) and returns pynput's spelling.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from dialer.core.errors import ConfigError, InvalidInput
from dialer.core.files import read_toml, write_toml_atomically
from dialer.core.paths import AppPaths

logger = logging.getLogger(__name__)

DEFAULT_HOTKEY = "<ctrl>+<alt>+d"


@dataclass(frozen=True)
class DesktopSettings:
    call_links_at_once: bool = False  # "call immediately from links" (off: fill the number)
    hotkey_enabled: bool = False  # off by default: it watches the keyboard system-wide
    hotkey: str = DEFAULT_HOTKEY  # pynput GlobalHotKeys syntax
    start_minimised: bool = False  # start in the tray
    notify_call_end: bool = True  # desktop notification when a call completes or fails
    theme: str = "system"  # one of THEMES: follow the system, or always light or dark


# The window's theme choices, as the settings file spells them.
THEMES = ("system", "light", "dark")


def desktop_settings_file(paths: AppPaths) -> Path:
    return paths.config_dir / "desktop.toml"


# -- the hotkey -----------------------------------------------------------------------------

# pynput.keyboard.Key's names (the same on every backend, except those in _NOT_ON_MACOS).
# Left and right modifiers (ctrl_l, shift_r...) are taken as the plain one: pynput's hotkey
# listener folds them together, so a hotkey naming ctrl_l would never fire.
_MODIFIERS = frozenset({"alt", "alt_gr", "cmd", "ctrl"})
_NOT_ON_MACOS = frozenset({"insert", "menu", "num_lock", "pause", "print_screen", "scroll_lock"})
_KEYS = (
    _MODIFIERS
    | _NOT_ON_MACOS
    | {f"f{n}" for n in range(1, 21)}
    | {
        "shift", "backspace", "caps_lock", "delete", "down", "end", "enter", "esc", "home",
        "left", "page_down", "page_up", "right", "space", "tab", "up",
        "media_play_pause", "media_volume_mute", "media_volume_down", "media_volume_up",
        "media_previous", "media_next",
    }
)  # fmt: skip
# How people write some keys -> pynput's name.
_ALIASES = {
    **{f"{key}_{side}": key for key in ("alt", "cmd", "ctrl", "shift") for side in "lr"},
    "control": "ctrl",
    "strg": "ctrl",
    "option": "alt",
    "opt": "alt",
    "altgr": "alt_gr",
    "command": "cmd",
    "super": "cmd",
    "win": "cmd",
    "windows": "cmd",
    "meta": "cmd",
    "escape": "esc",
    "return": "enter",
    "del": "delete",
    "ins": "insert",
    "pgup": "page_up",
    "pageup": "page_up",
    "pgdown": "page_down",
    "pagedown": "page_down",
}
_EXAMPLE = f"for example {DEFAULT_HOTKEY}"


def _split(text: str) -> list[str]:
    """Split on ``+`` the way pynput's ``HotKey.parse`` does: a ``+`` right after another
    separator (or first) is the plus key itself."""
    parts: list[str] = []
    start = 0
    for i, char in enumerate(text):
        if char == "+" and i != start:
            parts.append(text[start:i])
            start = i + 1
    if start == len(text):
        raise InvalidInput(f"The hotkey '{text}' ends with '+': add the key that comes after it")
    parts.append(text[start:])
    return parts


def _key_name(part: str, hotkey: str) -> str:
    """One part of a hotkey in pynput's spelling: ``d``, ``<ctrl>``, ``<65>`` (a key code)."""
    if len(part) == 1:
        if part.isspace() or not part.isprintable():
            raise InvalidInput(f"The hotkey '{hotkey}' has a blank or invisible key")
        return part.lower()
    name = part[1:-1] if len(part) > 2 and part[0] == "<" and part[-1] == ">" else part
    name = name.strip().lower().replace(" ", "_").replace("-", "_")
    name = _ALIASES.get(name, name)
    if name.isdecimal() and name.isascii():
        return f"<{int(name)}>"  # a virtual key code, as pynput allows
    if name not in _KEYS:
        raise InvalidInput(
            f"'{part}' in the hotkey '{hotkey}' is not a key name: use single characters and "
            f"names such as <ctrl>, <alt>, <shift>, <cmd>, <f5>, <space> ({_EXAMPLE})"
        )
    if name in _NOT_ON_MACOS and sys.platform == "darwin":
        raise InvalidInput(f"Macs have no {part} key: choose another key for the hotkey")
    return f"<{name}>"


def parse_hotkey(text: str) -> str:
    """Check a hotkey and return it in pynput's spelling (``Ctrl+Alt+D`` -> ``<ctrl>+<alt>+d``).

    A hotkey needs Ctrl, Alt or Cmd/Win (Shift alone is not enough: Shift+D is how a capital
    D is typed) and at least one other key, each key once. Raises :class:`InvalidInput`
    with one sentence naming the bad part.
    """
    hotkey = text.strip()
    if not hotkey:
        raise InvalidInput(f"Type a hotkey, {_EXAMPLE}")
    if any(char in "\r\n\t" for char in hotkey):
        raise InvalidInput("A hotkey goes on a single line")
    names = [_key_name(part.strip() or part, hotkey) for part in _split(hotkey)]
    bare = [name.strip("<>") if len(name) > 2 else name for name in names]
    repeated = next((name for name in bare if bare.count(name) > 1), None)
    if repeated is not None:
        raise InvalidInput(f"The hotkey '{hotkey}' names {repeated} more than once")
    if not set(bare) & _MODIFIERS:
        raise InvalidInput(
            f"The hotkey '{hotkey}' needs Ctrl, Alt or Cmd/Win: without one it would fire "
            f"while you type ({_EXAMPLE})"
        )
    if not set(bare) - _MODIFIERS - {"shift"}:
        raise InvalidInput(
            f"The hotkey '{hotkey}' has only modifier keys: add the key that completes it "
            f"({_EXAMPLE})"
        )
    return "+".join(names)


def hotkey_label(hotkey: str) -> str:
    """How a hotkey is shown to people, in a form :func:`parse_hotkey` reads back:
    ``<ctrl>+<alt>+d`` -> ``Ctrl+Alt+D``, ``<page_up>`` -> ``Page Up``."""
    labels = {"alt_gr": "AltGr", "cmd": "Cmd" if sys.platform == "darwin" else "Win"}
    shown = []
    for part in _split(hotkey):
        name = part[1:-1] if len(part) > 2 and part[0] == "<" and part[-1] == ">" else part
        if len(name) == 1:
            upper = name.upper()  # not when it does not read back as the same key (ß: SS)
            shown.append(upper if len(upper) == 1 and upper.lower() == name else name)
        elif name.isdecimal():
            shown.append(part)  # a key code stays as pynput writes it
        else:
            shown.append(labels.get(name, name.replace("_", " ").title()))
    return "+".join(shown)


# -- the file -------------------------------------------------------------------------------


def _from_toml(raw: dict[str, Any]) -> DesktopSettings:
    known = {f.name: f for f in fields(DesktopSettings)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ValueError(f"unknown key '{unknown[0]}' (known: {', '.join(known)})")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        expected = bool if known[name].type in ("bool", bool) else str
        if type(value) is not expected:
            kind = "true or false" if expected is bool else "a quoted string"
            raise ValueError(f"{name} must be {kind}")
        values[name] = value
    settings = DesktopSettings(**values)
    if settings.theme not in THEMES:
        raise ValueError(f"theme must be one of {', '.join(THEMES)}")
    try:
        hotkey = parse_hotkey(settings.hotkey)
    except InvalidInput as exc:
        raise ValueError(f"hotkey: {exc}") from None
    return replace(settings, hotkey=hotkey)


def load_desktop_settings(paths: AppPaths) -> DesktopSettings:
    """The saved settings; the defaults when nothing was saved yet. Raises
    :class:`ConfigError` (one sentence naming the file) when the file cannot be used."""
    path = desktop_settings_file(paths)
    raw = read_toml(path, "desktop settings")
    if raw is None:
        return DesktopSettings()
    try:
        return _from_toml(raw)
    except ValueError as exc:
        raise ConfigError(f"The desktop settings file {path} is malformed: {exc}") from None


def save_desktop_settings(paths: AppPaths, settings: DesktopSettings) -> None:
    """Write the settings (the hotkey in pynput's spelling). Raises :class:`InvalidInput`
    for a hotkey that is not one, and :class:`ConfigError` when the file cannot be written."""
    document = asdict(replace(settings, hotkey=parse_hotkey(settings.hotkey)))
    path = desktop_settings_file(paths)
    try:
        write_toml_atomically(path, document)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(f"Cannot save the desktop settings to {path}: {reason}") from None
    logger.debug("Saved the desktop settings to %s", path)
