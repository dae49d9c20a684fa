"""Registering the app, for this user only, as what opens ``tel:``, ``callto:`` and ``sip:``.

* Linux: a desktop entry ``dialer.desktop`` in ``$XDG_DATA_HOME/applications`` (by default
  ``~/.local/share/applications``) declaring the three ``x-scheme-handler`` types, then
  ``xdg-mime default`` for each (which writes the user's ``mimeapps.list``) and
  ``update-desktop-database`` on that folder, where those tools are installed. The entry has
  the same name as the one the ``.deb`` installs, so it takes that one's place for this user.
* Windows: keys under ``HKEY_CURRENT_USER`` (no administrator needed): each scheme as a URL
  protocol, a ProgID for the default-apps page, the app's ``Capabilities`` and its line in
  ``RegisteredApplications``. Windows lets only the user choose a default, so the sentence
  returned points to the default-apps page. The keys are data (:func:`windows_registry_plan`)
  and render as a ``.reg`` file (:func:`windows_reg_text`), which is what the tests check
  here and what IT can import on machines where the installer is not used.
* macOS: the app bundle's ``Info.plist`` declares the schemes (``packaging/``); there is
  nothing to write, and the sentence says where the user picks the default.

Nothing here imports Qt. Commands run with a timeout and without a shell.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from dialer.core.errors import DialerError
from dialer.core.resources import resources_dir

logger = logging.getLogger(__name__)

LINK_SCHEMES = ("tel", "callto", "sip")
DESKTOP_FILE_NAME = "dialer.desktop"
APP_TITLE = "Dialer"
WINDOWS_PROGID = "Dialer.Link"
WINDOWS_APP_KEY = rf"Software\{APP_TITLE}"
WINDOWS_DEFAULT_APPS = "ms-settings:defaultapps"
_COMMAND_TIMEOUT = 20.0  # seconds; xdg-mime is a shell script that may start helpers


class LinkRegistrationError(DialerError):
    """Registering the link handlers failed; the message says what and how to fix it."""


def _schemes_text(schemes: Sequence[str] = LINK_SCHEMES) -> str:
    named = [f"{scheme}:" for scheme in schemes]
    return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"


# -- the command that starts the app ---------------------------------------------------------


def app_command() -> list[str]:
    """The command that starts this app: the frozen executable, else the ``dialer`` console
    script of this Python's environment, else ``python -m dialer``."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    # Not resolved: a virtualenv's python is a link, and the script sits beside the link.
    script = Path(sys.executable).parent / ("dialer.exe" if os.name == "nt" else "dialer")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "dialer"]


def _icon_file() -> Path | None:
    icon = resources_dir() / "dialer.svg"
    return icon if icon.is_file() else None


# -- Linux -----------------------------------------------------------------------------------

# Characters that make the Desktop Entry spec quote an Exec argument.
_EXEC_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")


def _exec_argument(argument: str) -> str:
    """One Exec argument, quoted as the Desktop Entry spec says, then escaped as a string
    value (a backslash is written twice) with ``%`` doubled (it starts field codes)."""
    if any(ord(char) < 32 or ord(char) == 127 for char in argument):
        raise LinkRegistrationError(
            f"Cannot register links: the app's path {argument!r} has a line break or a "
            "control character, which a desktop entry cannot hold"
        )
    try:
        argument.encode("utf-8")
    except UnicodeEncodeError:  # a file name that is not UTF-8 (held as surrogates)
        raise LinkRegistrationError(
            f"Cannot register links: the app's path {argument!r} is not valid UTF-8, which "
            "a desktop entry needs; install Dialer in a folder with a plainer name"
        ) from None
    quoted = argument
    if any(char in _EXEC_RESERVED for char in argument):
        escaped = "".join("\\" + char if char in '"`$\\' else char for char in argument)
        quoted = f'"{escaped}"'
    return quoted.replace("\\", "\\\\").replace("%", "%%")


def desktop_entry(command: Sequence[str], icon: Path | None = None) -> str:
    """The text of the per-user ``dialer.desktop``: ``command`` then ``%u`` (the link)."""
    exec_line = " ".join([*(_exec_argument(part) for part in command), "%u"])
    mime_types = "".join(f"x-scheme-handler/{scheme};" for scheme in LINK_SCHEMES)
    icon_value = str(icon).replace("\\", "\\\\") if icon is not None else "dialer"
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        f"Name={APP_TITLE}\n"
        "GenericName=Click-to-call dialer\n"
        "Comment=Call a contact: your phone rings, then the customer's\n"
        f"Exec={exec_line}\n"
        f"Icon={icon_value}\n"
        "Terminal=false\n"
        "Categories=Network;Telephony;\n"
        f"MimeType={mime_types}\n"
        "StartupWMClass=Dialer\n"
    )


def applications_dir() -> Path:
    """Where this user's desktop entries go (``$XDG_DATA_HOME/applications``)."""
    data_home = os.environ.get("XDG_DATA_HOME", "").strip()
    # The spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    base = Path(data_home) if data_home and Path(data_home).is_absolute() else None
    return (base or Path.home() / ".local" / "share") / "applications"


def _run(tool: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run a desktop tool (a full path from ``shutil.which``) and return what it did."""
    try:
        return subprocess.run(  # noqa: S603 - a fixed tool with fixed arguments, no shell
            [tool, *arguments],
            capture_output=True,
            text=True,
            timeout=_COMMAND_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        name = Path(tool).name
        raise LinkRegistrationError(f"{name} did not run: {exc}") from None


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "no reason given")


def _register_linux() -> str:
    folder = applications_dir()
    entry = folder / DESKTOP_FILE_NAME
    text = desktop_entry(app_command(), _icon_file())
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = entry.with_name(f".{DESKTOP_FILE_NAME}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, entry)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise LinkRegistrationError(f"Cannot write the desktop entry {entry}: {reason}") from None
    logger.info("Wrote the desktop entry %s", entry)
    database = shutil.which("update-desktop-database")
    if database is not None:
        result = _run(database, str(folder))
        if result.returncode != 0:  # menus may lag behind; the links work regardless
            logger.warning("update-desktop-database failed: %s", _first_line(result.stderr))
    xdg_mime = shutil.which("xdg-mime")
    if xdg_mime is None:
        return (
            f"Wrote {entry}, but xdg-mime (from xdg-utils) is not installed, so Dialer could "
            f"not be made the default for {_schemes_text()} links: install xdg-utils and "
            "register again, or choose Dialer in your desktop's default-applications settings"
        )
    for scheme in LINK_SCHEMES:
        result = _run(xdg_mime, "default", DESKTOP_FILE_NAME, f"x-scheme-handler/{scheme}")
        if result.returncode != 0:
            raise LinkRegistrationError(
                f"Wrote {entry}, but xdg-mime could not make Dialer the default for {scheme}: "
                f"links: {_first_line(result.stderr or result.stdout)}"
            )
    # xdg-mime exits 0 even when it could not write mimeapps.list: ask it back.
    handlers = {scheme: _linux_handler(xdg_mime, scheme) for scheme in LINK_SCHEMES}
    if any(handler != DESKTOP_FILE_NAME for handler in handlers.values()):
        raise LinkRegistrationError(
            f"Wrote {entry} and asked xdg-mime to make Dialer the default, but "
            f"{_describe_handlers(handlers, {DESKTOP_FILE_NAME})}: check that your "
            "mimeapps.list can be written, or choose Dialer in your desktop's settings"
        )
    return f"Dialer now opens {_schemes_text()} links (desktop entry {entry})"


def _linux_handler(xdg_mime: str, scheme: str) -> str:
    """The desktop entry that opens ``scheme:`` links, "" when none does."""
    result = _run(xdg_mime, "query", "default", f"x-scheme-handler/{scheme}")
    return result.stdout.strip() if result.returncode == 0 else ""


def _linux_status() -> str:
    xdg_mime = shutil.which("xdg-mime")
    if xdg_mime is None:
        entry = applications_dir() / DESKTOP_FILE_NAME
        where = "is in place" if entry.is_file() else "is not written yet"
        return (
            f"Cannot tell which app opens links: xdg-mime (from xdg-utils) is not installed; "
            f"Dialer's desktop entry {entry} {where}"
        )
    handlers = {scheme: _linux_handler(xdg_mime, scheme) for scheme in LINK_SCHEMES}
    return _capitalised(_describe_handlers(handlers, {DESKTOP_FILE_NAME}))


def _describe_handlers(handlers: dict[str, str], ours: set[str]) -> str:
    """What opens each kind of link, from ``scheme -> handler`` (``""``: none), as the end
    of a sentence (not capitalised)."""
    mine = [scheme for scheme, handler in handlers.items() if handler in ours]
    parts = []
    if mine:
        parts.append(f"Dialer opens {_schemes_text(mine)} links")
    for scheme, handler in handlers.items():
        if handler in ours:
            continue
        if handler:
            parts.append(f"{scheme}: links open {handler}")
        else:
            parts.append(f"no default app is chosen for {scheme}: links")
    return "; ".join(parts)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- Windows ---------------------------------------------------------------------------------


class RegistryEntry(NamedTuple):
    """One string value under ``HKEY_CURRENT_USER``: ``name`` "" is the key's default value."""

    key: str
    name: str
    value: str


def windows_command(command: Sequence[str]) -> str:
    """``"C:\\...\\Dialer.exe" "%1"``: each part quoted (paths may hold spaces; Windows paths
    cannot hold a ``"``), then the link as ``"%1"``."""
    for part in command:
        if '"' in part:
            raise LinkRegistrationError(f"Cannot register links: {part!r} contains a '\"'")
    return " ".join(f'"{part}"' for part in [*command, "%1"])


def windows_registry_plan(command: Sequence[str]) -> list[RegistryEntry]:
    """Every value to write under ``HKEY_CURRENT_USER``, in order."""
    open_command = windows_command(command)
    icon = f'"{command[0]}",0'
    entries: list[RegistryEntry] = []

    def handler(key: str, description: str) -> None:
        entries.extend(
            [
                RegistryEntry(key, "", description),
                RegistryEntry(key, "URL Protocol", ""),
                RegistryEntry(rf"{key}\DefaultIcon", "", icon),
                RegistryEntry(rf"{key}\shell\open\command", "", open_command),
            ]
        )

    for scheme in LINK_SCHEMES:
        handler(rf"Software\Classes\{scheme}", f"URL:{scheme}")
    # What the default-apps page lists and remembers as the user's choice.
    handler(rf"Software\Classes\{WINDOWS_PROGID}", f"{APP_TITLE} link")
    capabilities = rf"{WINDOWS_APP_KEY}\Capabilities"
    entries += [
        RegistryEntry(capabilities, "ApplicationName", APP_TITLE),
        RegistryEntry(
            capabilities, "ApplicationDescription", "Click-to-call: tel:, callto: and sip: links"
        ),
        *(
            RegistryEntry(rf"{capabilities}\URLAssociations", scheme, WINDOWS_PROGID)
            for scheme in LINK_SCHEMES
        ),
        RegistryEntry(r"Software\RegisteredApplications", APP_TITLE, capabilities),
    ]
    return entries


def _reg_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def windows_reg_text(entries: Sequence[RegistryEntry]) -> str:
    """The plan as a ``.reg`` file (Registry Editor 5.00, CRLF line ends; save as UTF-16)."""
    lines = ["Windows Registry Editor Version 5.00"]
    current = None
    for entry in entries:
        if entry.key != current:
            lines += ["", rf"[HKEY_CURRENT_USER\{entry.key}]"]
            current = entry.key
        name = "@" if entry.name == "" else _reg_string(entry.name)
        lines.append(f"{name}={_reg_string(entry.value)}")
    return "\r\n".join([*lines, ""])


def _write_windows_registry(entries: Sequence[RegistryEntry]) -> None:
    if sys.platform != "win32":
        raise LinkRegistrationError("The Windows registry exists only on Windows")
    import winreg

    for entry in entries:
        try:
            with winreg.CreateKeyEx(
                winreg.HKEY_CURRENT_USER, entry.key, 0, winreg.KEY_SET_VALUE
            ) as key:
                winreg.SetValueEx(key, entry.name or None, 0, winreg.REG_SZ, entry.value)
        except OSError as exc:
            raise LinkRegistrationError(
                rf"Cannot write HKEY_CURRENT_USER\{entry.key} in the registry: {exc}"
            ) from None


def _register_windows() -> str:
    _write_windows_registry(windows_registry_plan(app_command()))
    return (
        f"Dialer is registered for {_schemes_text()} links; Windows asks you to choose the "
        f"default yourself: open Settings › Apps › Default apps ({WINDOWS_DEFAULT_APPS}), "
        "pick Dialer and choose it for each link type"
    )


def _windows_status() -> str:
    if sys.platform != "win32":
        raise LinkRegistrationError("The Windows registry exists only on Windows")
    import winreg

    root = r"Software\Microsoft\Windows\Shell\Associations\UrlAssociations"
    handlers: dict[str, str] = {}
    for scheme in LINK_SCHEMES:
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, rf"{root}\{scheme}\UserChoice") as key:
                handlers[scheme] = str(winreg.QueryValueEx(key, "ProgId")[0])
        except OSError:
            handlers[scheme] = ""
    return _capitalised(_describe_handlers(handlers, {WINDOWS_PROGID}))


# -- macOS -----------------------------------------------------------------------------------

MACOS_BUNDLE_SENTENCE = (
    "On macOS the Dialer app declares tel:, callto: and sip: links itself; to make it the "
    "default for tel: links, choose Dialer under FaceTime › Settings › General › "
    "Default for calls"
)
MACOS_NOT_BUNDLED = (
    "Links cannot be registered for Dialer started from Python on macOS: the app bundle "
    "declares them; install Dialer.app"
)


def _macos_sentence() -> str:
    return MACOS_BUNDLE_SENTENCE if getattr(sys, "frozen", False) else MACOS_NOT_BUNDLED


# -- entry points ----------------------------------------------------------------------------


def register_link_handlers(*, platform: str | None = None) -> str:
    """Register this app for ``tel:``, ``callto:`` and ``sip:`` links, for this user.

    Returns the sentence to show (what was done, or what the user must still do). Raises
    :class:`LinkRegistrationError` with one sentence when it failed. Blocking (it runs
    desktop tools): call it off the GUI thread.
    """
    platform = platform or sys.platform
    if platform == "win32":
        return _register_windows()
    if platform == "darwin":
        return _macos_sentence()
    return _register_linux()


def link_handler_status(*, platform: str | None = None) -> str:
    """Which app opens each kind of link now, as a sentence. Blocking, like registering."""
    platform = platform or sys.platform
    if platform == "win32":
        return _windows_status()
    if platform == "darwin":
        return _macos_sentence()
    return _linux_status()
