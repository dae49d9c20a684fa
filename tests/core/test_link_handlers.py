"""Registering the link handlers: the real desktop entry in a temporary XDG_DATA_HOME, the
real ``xdg-mime`` where it is installed, and the Windows registry plan as data and as a
``.reg`` file (the registry itself cannot run here)."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer import __version__
from dialer.core.errors import DialerError
from dialer.core.link_handlers import (
    DESKTOP_FILE_NAME,
    LINK_SCHEMES,
    MACOS_BUNDLE_SENTENCE,
    MACOS_NOT_BUNDLED,
    WINDOWS_PROGID,
    LinkRegistrationError,
    RegistryEntry,
    app_command,
    applications_dir,
    desktop_entry,
    link_handler_status,
    register_link_handlers,
    windows_reg_text,
    windows_registry_plan,
)

XDG_MIME = shutil.which("xdg-mime")
needs_xdg_mime = pytest.mark.skipif(XDG_MIME is None, reason="xdg-utils is not installed")
linux_only = pytest.mark.skipif(
    sys.platform in ("win32", "darwin"), reason="desktop entries are for Linux desktops"
)
DESKTOP_VARIABLES = (
    "XDG_CURRENT_DESKTOP",
    "DESKTOP_SESSION",
    "KDE_FULL_SESSION",
    "KDE_SESSION_VERSION",
    "GNOME_DESKTOP_SESSION_ID",
    "MATE_DESKTOP_SESSION_ID",
)


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of its own: xdg-mime writes this user's mimeapps.list under it, and sees no
    desktop entries of the machine (XDG_DATA_DIRS) nor a desktop environment's own tools."""
    root = tmp_path / "xdg"
    for name in ("home", "data", "config", "system"):
        (root / name).mkdir(parents=True)
    monkeypatch.setenv("HOME", str(root / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(root / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root / "config"))
    monkeypatch.setenv("XDG_DATA_DIRS", str(root / "system"))
    for name in DESKTOP_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return root


@pytest.fixture
def no_desktop_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH without xdg-mime or update-desktop-database (as on a minimal system)."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def exec_argv(exec_value: str) -> list[str]:
    """A desktop entry's Exec value as a launcher reads it (Desktop Entry spec 1.5): the
    string escapes first (``\\\\`` is one backslash), then the quoting (inside double quotes
    a backslash escapes ``"``, `````, ``$`` and ``\\``), then the field codes (``%%`` is
    ``%``)."""
    escapes = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    value = re.sub(r"\\(.)", lambda m: escapes.get(m[1], "\\" + m[1]), exec_value)
    arguments: list[str] = []
    current: list[str] | None = None
    i = 0
    while i < len(value):
        char = value[i]
        if char == " ":
            if current is not None:
                arguments.append("".join(current))
            current = None
        elif char == '"':
            current = current if current is not None else []
            i += 1
            while value[i] != '"':
                if value[i] == "\\" and value[i + 1] in '"`$\\':
                    i += 1
                current.append(value[i])
                i += 1
        else:
            current = [*(current or []), char]
        i += 1
    if current is not None:
        arguments.append("".join(current))
    return [argument.replace("%%", "%") for argument in arguments]


def read_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


# -- the desktop entry ----------------------------------------------------------------------


def test_app_command_is_this_environment_s_dialer() -> None:
    command = app_command()
    script = Path(sys.executable).parent / "dialer"
    expected = [str(script)] if script.is_file() else [sys.executable, "-m", "dialer"]
    assert command == expected


@linux_only
def test_register_writes_the_desktop_entry_and_says_xdg_mime_is_missing(
    xdg: Path, no_desktop_tools: None
) -> None:
    said = register_link_handlers()
    entry = xdg / "data" / "applications" / DESKTOP_FILE_NAME
    assert said == (
        f"Wrote {entry}, but xdg-mime (from xdg-utils) is not installed, so Dialer could not "
        "be made the default for tel:, callto: and sip: links: install xdg-utils and register "
        "again, or choose Dialer in your desktop's default-applications settings"
    )
    fields = read_entry(entry)
    assert fields["Type"] == "Application"
    assert fields["Name"] == "Dialer"
    assert fields["MimeType"] == (
        "x-scheme-handler/tel;x-scheme-handler/callto;x-scheme-handler/sip;"
    )
    assert exec_argv(fields["Exec"]) == [*app_command(), "%u"]
    assert Path(fields["Icon"]).name == "dialer.svg" and Path(fields["Icon"]).is_file()
    assert [p.name for p in entry.parent.iterdir()] == [DESKTOP_FILE_NAME]  # no temp file left


@linux_only
def test_the_registered_command_really_starts_this_dialer(
    xdg: Path, no_desktop_tools: None
) -> None:
    register_link_handlers()
    fields = read_entry(xdg / "data" / "applications" / DESKTOP_FILE_NAME)
    argv = [part for part in exec_argv(fields["Exec"]) if part != "%u"]
    result = subprocess.run(
        [*argv, "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert __version__ in result.stdout


@linux_only
def test_status_without_xdg_mime(xdg: Path, no_desktop_tools: None) -> None:
    entry = xdg / "data" / "applications" / DESKTOP_FILE_NAME
    start = "Cannot tell which app opens links: xdg-mime (from xdg-utils) is not installed"
    assert link_handler_status() == f"{start}; Dialer's desktop entry {entry} is not written yet"
    register_link_handlers()
    assert link_handler_status() == f"{start}; Dialer's desktop entry {entry} is in place"


def test_applications_dir_follows_xdg_data_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert applications_dir() == tmp_path / "data" / "applications"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/data")  # invalid by the spec: ignored
    assert applications_dir() == tmp_path / "home" / ".local" / "share" / "applications"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert applications_dir() == tmp_path / "home" / ".local" / "share" / "applications"


@linux_only
def test_an_unwritable_data_folder_is_one_sentence(
    xdg: Path, no_desktop_tools: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = xdg / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    with pytest.raises(LinkRegistrationError) as caught:
        register_link_handlers()
    assert isinstance(caught.value, DialerError)
    assert str(caught.value).startswith(
        f"Cannot write the desktop entry {blocker}/applications/{DESKTOP_FILE_NAME}: "
    )


def test_exec_quotes_paths_with_spaces_and_shell_characters() -> None:
    command = ["/opt/My Apps/dia$ler's", "--profile", '50% "off"\\now']
    entry = desktop_entry(command)
    exec_value = next(line for line in entry.splitlines() if line.startswith("Exec="))[5:]
    assert exec_value == (
        '"/opt/My Apps/dia\\\\$ler\'s" --profile "50%% \\\\"off\\\\"\\\\\\\\now" %u'
    )
    assert exec_argv(exec_value) == [*command, "%u"]


@given(
    st.lists(
        st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]), min_size=1),
        min_size=1,
        max_size=4,
    )
)
def test_any_printable_command_survives_the_exec_line(command: list[str]) -> None:
    exec_value = next(
        line for line in desktop_entry(command).splitlines() if line.startswith("Exec=")
    )[5:]
    assert exec_argv(exec_value) == [*command, "%u"]


@pytest.mark.parametrize("path", ["/opt/odd\nname/dialer", "/opt/tab\there/dialer", "/x\x7f"])
def test_a_path_with_a_control_character_is_refused(path: str) -> None:
    with pytest.raises(LinkRegistrationError, match="line break or a control character"):
        desktop_entry([path])


def test_a_path_that_is_not_utf8_is_refused() -> None:
    path = os.fsdecode(b"/opt/caf\xe9/dialer")  # Latin-1 bytes: held as a surrogate
    with pytest.raises(LinkRegistrationError, match="is not valid UTF-8"):
        desktop_entry([path])


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="no desktop-file-utils")
def test_desktop_file_validate_accepts_the_entry(tmp_path: Path) -> None:
    path = tmp_path / DESKTOP_FILE_NAME
    path.write_text(desktop_entry(["/opt/My Apps/dialer"], Path("/opt/My Apps/dialer.svg")))
    result = subprocess.run(
        ["desktop-file-validate", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert result.stdout.strip() == "", result.stdout  # not even a hint


# -- xdg-mime, for real where it is installed ------------------------------------------------


@linux_only
@needs_xdg_mime
def test_register_makes_dialer_the_default_with_xdg_mime(xdg: Path) -> None:
    entry = xdg / "data" / "applications" / DESKTOP_FILE_NAME
    assert link_handler_status() == (
        "No default app is chosen for tel: links; no default app is chosen for callto: links; "
        "no default app is chosen for sip: links"
    )
    assert register_link_handlers() == (
        f"Dialer now opens tel:, callto: and sip: links (desktop entry {entry})"
    )
    mimeapps = (xdg / "config" / "mimeapps.list").read_text()
    for scheme in LINK_SCHEMES:
        assert f"x-scheme-handler/{scheme}={DESKTOP_FILE_NAME}" in mimeapps
    assert link_handler_status() == "Dialer opens tel:, callto: and sip: links"
    for scheme in LINK_SCHEMES:
        query = [XDG_MIME or "", "query", "default", f"x-scheme-handler/{scheme}"]
        answer = subprocess.run(query, capture_output=True, text=True, check=True).stdout
        assert answer.strip() == DESKTOP_FILE_NAME
    if shutil.which("update-desktop-database"):
        cache = (entry.parent / "mimeinfo.cache").read_text()
        assert f"x-scheme-handler/tel={DESKTOP_FILE_NAME};" in cache


@linux_only
@needs_xdg_mime
def test_status_names_the_app_another_scheme_goes_to(xdg: Path) -> None:
    register_link_handlers()
    other = xdg / "data" / "applications" / "linphone.desktop"
    other.write_text(
        # xdg-mime skips an entry whose program is not installed: sh is.
        "[Desktop Entry]\nType=Application\nName=Linphone\nExec=sh %u\n"
        "MimeType=x-scheme-handler/sip;\n"
    )
    mimeapps = xdg / "config" / "mimeapps.list"
    mimeapps.write_text(
        mimeapps.read_text().replace(
            f"x-scheme-handler/sip={DESKTOP_FILE_NAME}", "x-scheme-handler/sip=linphone.desktop"
        )
    )
    assert link_handler_status() == (
        "Dialer opens tel: and callto: links; sip: links open linphone.desktop"
    )


@linux_only
def test_a_failing_xdg_mime_is_one_sentence(
    xdg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An xdg-mime that refuses (as on a desktop whose own tool fails) cannot be produced by
    the real one here, so a stand-in script on PATH plays it."""
    tools = tmp_path / "failing-bin"
    tools.mkdir()
    script = tools / "xdg-mime"
    script.write_text("#!/bin/sh\necho 'xdg-mime: no writable mimeapps.list' >&2\nexit 4\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(tools))
    entry = xdg / "data" / "applications" / DESKTOP_FILE_NAME
    with pytest.raises(LinkRegistrationError) as caught:
        register_link_handlers()
    assert str(caught.value) == (
        f"Wrote {entry}, but xdg-mime could not make Dialer the default for tel: links: "
        "xdg-mime: no writable mimeapps.list"
    )
    assert entry.is_file()  # the entry itself still landed


# -- Windows: the plan and its .reg file -------------------------------------------------------

EXE = r"C:\Program Files\Dialer\Dialer.exe"


def plan_values(entries: list[RegistryEntry]) -> dict[tuple[str, str], str]:
    values = {(entry.key, entry.name): entry.value for entry in entries}
    assert len(values) == len(entries)  # no value written twice
    return values


def test_windows_plan_registers_each_scheme_for_this_user() -> None:
    values = plan_values(windows_registry_plan([EXE]))
    command = r'"C:\Program Files\Dialer\Dialer.exe" "%1"'
    for scheme in LINK_SCHEMES:
        key = rf"Software\Classes\{scheme}"
        assert values[key, ""] == f"URL:{scheme}"
        assert values[key, "URL Protocol"] == ""
        assert values[rf"{key}\DefaultIcon", ""] == r'"C:\Program Files\Dialer\Dialer.exe",0'
        assert values[rf"{key}\shell\open\command", ""] == command
        urls = r"Software\Dialer\Capabilities\URLAssociations"
        assert values[urls, scheme] == WINDOWS_PROGID
    assert values[rf"Software\Classes\{WINDOWS_PROGID}\shell\open\command", ""] == command
    assert values[rf"Software\Classes\{WINDOWS_PROGID}", "URL Protocol"] == ""
    assert values[r"Software\Dialer\Capabilities", "ApplicationName"] == "Dialer"
    assert values[r"Software\RegisteredApplications", "Dialer"] == (r"Software\Dialer\Capabilities")


def test_windows_plan_from_python_quotes_every_part() -> None:
    python = r"C:\Users\Asha Rao\venv\Scripts\python.exe"
    values = plan_values(windows_registry_plan([python, "-m", "dialer"]))
    assert values[r"Software\Classes\tel\shell\open\command", ""] == (
        rf'"{python}" "-m" "dialer" "%1"'
    )


def test_windows_refuses_a_quote_in_the_command() -> None:
    with pytest.raises(LinkRegistrationError):
        windows_registry_plan(['C:\\odd"name\\Dialer.exe'])


def parse_reg(text: str) -> list[RegistryEntry]:
    """Read a .reg file back (the subset written: string values)."""
    lines = text.split("\r\n")
    assert lines[0] == "Windows Registry Editor Version 5.00"
    assert lines[-1] == ""  # ends with a line break
    string = r'"((?:[^"\\]|\\.)*)"'
    entries, key = [], ""
    for line in lines[1:-1]:
        if not line:
            continue
        if line.startswith("["):
            assert line.startswith("[HKEY_CURRENT_USER\\") and line.endswith("]")
            key = line[len("[HKEY_CURRENT_USER\\") : -1]
            continue
        match = re.fullmatch(rf"(@|{string})={string}", line)
        assert match is not None, line

        def unescape(value: str) -> str:
            return re.sub(r"\\(.)", r"\1", value)

        name = "" if match[1] == "@" else unescape(match[2])
        entries.append(RegistryEntry(key, name, unescape(match[3])))
    return entries


def test_reg_text_holds_the_plan() -> None:
    plan = windows_registry_plan([EXE])
    text = windows_reg_text(plan)
    assert '\r\n[HKEY_CURRENT_USER\\Software\\Classes\\tel]\r\n@="URL:tel"\r\n' in text
    assert '\r\n"URL Protocol"=""\r\n' in text
    assert (
        "\r\n[HKEY_CURRENT_USER\\Software\\Classes\\tel\\shell\\open\\command]\r\n"
        '@="\\"C:\\\\Program Files\\\\Dialer\\\\Dialer.exe\\" \\"%1\\""\r\n'
    ) in text
    assert "\r\n[HKEY_CURRENT_USER\\Software\\RegisteredApplications]\r\n" in text
    assert parse_reg(text) == plan
    assert text.count("[HKEY_CURRENT_USER\\Software\\Classes\\tel]") == 1  # one block per key


@pytest.mark.skipif(sys.platform == "win32", reason="checks the refusal off Windows")
def test_the_registry_is_not_touched_off_windows() -> None:
    with pytest.raises(LinkRegistrationError, match="only on Windows"):
        register_link_handlers(platform="win32")


# -- macOS -----------------------------------------------------------------------------------


def test_macos_points_to_the_bundle_and_facetime(monkeypatch: pytest.MonkeyPatch) -> None:
    assert register_link_handlers(platform="darwin") == MACOS_NOT_BUNDLED
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert register_link_handlers(platform="darwin") == MACOS_BUNDLE_SENTENCE
    assert link_handler_status(platform="darwin") == MACOS_BUNDLE_SENTENCE
    assert "FaceTime" in MACOS_BUNDLE_SENTENCE and "Default for calls" in MACOS_BUNDLE_SENTENCE


def test_frozen_app_registers_its_own_executable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/dialer/dialer")
    assert app_command() == ["/opt/dialer/dialer"]
    assert os.path.basename(app_command()[0]) == "dialer"
