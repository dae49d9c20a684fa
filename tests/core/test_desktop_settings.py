"""Desktop settings: the real ``desktop.toml`` under a temporary DIALER_HOME."""

from __future__ import annotations

import tomllib
from dataclasses import asdict
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.core.desktop_settings import (
    DEFAULT_HOTKEY,
    DesktopSettings,
    desktop_settings_file,
    hotkey_label,
    load_desktop_settings,
    parse_hotkey,
    save_desktop_settings,
)
from dialer.core.errors import ConfigError, InvalidInput
from dialer.core.paths import AppPaths


@pytest.fixture
def paths(dialer_home: Path) -> AppPaths:
    return AppPaths.default()


def write(paths: AppPaths, text: str) -> Path:
    path = desktop_settings_file(paths)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_when_nothing_is_saved(paths: AppPaths) -> None:
    settings = load_desktop_settings(paths)
    assert settings == DesktopSettings()
    assert not settings.call_links_at_once
    assert not settings.hotkey_enabled  # off by default
    assert settings.hotkey == "<ctrl>+<alt>+d"
    assert not settings.start_minimised
    assert settings.notify_call_end
    assert not desktop_settings_file(paths).exists()  # reading writes nothing


def test_saved_to_the_config_folder_and_read_back(paths: AppPaths) -> None:
    settings = DesktopSettings(
        call_links_at_once=True,
        hotkey_enabled=True,
        hotkey="Ctrl+Shift+F9",
        start_minimised=True,
        notify_call_end=False,
    )
    save_desktop_settings(paths, settings)
    path = paths.config_dir / "desktop.toml"
    on_disk = tomllib.loads(path.read_text(encoding="utf-8"))
    assert on_disk == {**asdict(settings), "hotkey": "<ctrl>+<shift>+<f9>"}
    loaded = load_desktop_settings(paths)
    assert loaded == DesktopSettings(True, True, "<ctrl>+<shift>+<f9>", True, False)
    # Written through a temporary file renamed over the old one: nothing else left behind.
    save_desktop_settings(paths, DesktopSettings())
    assert [p.name for p in paths.config_dir.iterdir()] == ["desktop.toml"]
    assert load_desktop_settings(paths) == DesktopSettings()


def test_missing_keys_take_their_defaults(paths: AppPaths) -> None:
    write(paths, "start_minimised = true\n")
    assert load_desktop_settings(paths) == DesktopSettings(start_minimised=True)


def test_a_hotkey_written_by_hand_is_read_in_pynputs_spelling(paths: AppPaths) -> None:
    write(paths, 'hotkey = "Ctrl + Alt + Page Up"\nhotkey_enabled = true\n')
    loaded = load_desktop_settings(paths)
    assert loaded.hotkey == "<ctrl>+<alt>+<page_up>"
    assert loaded.hotkey_enabled


def test_an_invalid_hotkey_is_not_saved(paths: AppPaths) -> None:
    save_desktop_settings(paths, DesktopSettings(call_links_at_once=True))
    before = desktop_settings_file(paths).read_bytes()
    with pytest.raises(InvalidInput) as caught:
        save_desktop_settings(paths, DesktopSettings(hotkey="<ctrl>+<hyper>+d"))
    assert str(caught.value).startswith("'<hyper>' in the hotkey '<ctrl>+<hyper>+d' is not a key")
    assert desktop_settings_file(paths).read_bytes() == before


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("hotkey_enabled = tru", "Cannot read the desktop settings file"),
        ('hotkey_enabled = "yes"', "hotkey_enabled must be true or false"),
        ("hotkey = 5", "hotkey must be a quoted string"),
        ("notify_call_end = 1", "notify_call_end must be true or false"),
        ("hotkey_enable = true", "unknown key 'hotkey_enable'"),
        ('hotkey = "<ctrl>+<alt>+<nope>"', "hotkey: '<nope>' in the hotkey"),
        ('hotkey = "d"', "hotkey: The hotkey 'd' needs Ctrl, Alt or Cmd/Win"),
        ('theme = "purple"', "theme must be one of system, light, dark"),
    ],
)
def test_a_broken_file_is_one_sentence_naming_it(
    paths: AppPaths, content: str, reason: str
) -> None:
    path = write(paths, content + "\n")
    with pytest.raises(ConfigError) as caught:
        load_desktop_settings(paths)
    message = str(caught.value)
    assert str(path) in message
    assert reason in message
    assert "\n" not in message


def test_undecodable_file(paths: AppPaths) -> None:
    path = desktop_settings_file(paths)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"hotkey = '\xff'\n")
    with pytest.raises(ConfigError, match="Cannot read the desktop settings file"):
        load_desktop_settings(paths)


def test_unwritable_folder_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "home"
    blocker.write_text("a file where the folder should be")
    paths = AppPaths.under(blocker)
    with pytest.raises(ConfigError) as caught:
        save_desktop_settings(paths, DesktopSettings())
    assert str(caught.value).startswith(f"Cannot save the desktop settings to {blocker}")


# -- the hotkey syntax ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("<ctrl>+<alt>+d", "<ctrl>+<alt>+d"),
        ("Ctrl+Alt+D", "<ctrl>+<alt>+d"),
        ("  ctrl + alt + d ", "<ctrl>+<alt>+d"),
        ("<ctrl_l>+<shift_r>+<F5>", "<ctrl>+<shift>+<f5>"),  # sides fold as pynput folds them
        ("Control+Option+x", "<ctrl>+<alt>+x"),
        ("Win+Esc", "<cmd>+<esc>"),
        ("Super+Return", "<cmd>+<enter>"),
        ("AltGr+1", "<alt_gr>+1"),
        ("<ctrl>++", "<ctrl>++"),  # the plus key, as pynput splits it
        ("<ctrl>+<alt>+<65>", "<ctrl>+<alt>+<65>"),  # a virtual key code
        ("ctrl+alt+caps lock", "<ctrl>+<alt>+<caps_lock>"),
        ("Ctrl+Alt+Page-Down", "<ctrl>+<alt>+<page_down>"),
        ("ctrl+alt+ö", "<ctrl>+<alt>+ö"),
    ],
)
def test_parse_hotkey(typed: str, expected: str) -> None:
    assert parse_hotkey(typed) == expected


@pytest.mark.parametrize(
    ("typed", "sentence"),
    [
        ("", "Type a hotkey, for example <ctrl>+<alt>+d"),
        ("d", "The hotkey 'd' needs Ctrl, Alt or Cmd/Win"),
        ("shift+d", "The hotkey 'shift+d' needs Ctrl, Alt or Cmd/Win"),
        ("ctrl+alt", "The hotkey 'ctrl+alt' has only modifier keys"),
        ("ctrl+shift", "The hotkey 'ctrl+shift' has only modifier keys"),
        ("ctrl+<ctrl_l>+d", "The hotkey 'ctrl+<ctrl_l>+d' names ctrl more than once"),
        ("ctrl+d+D", "The hotkey 'ctrl+d+D' names d more than once"),
        ("ctrl+", "The hotkey 'ctrl+' ends with '+'"),
        ("ctrl+hyper+d", "'hyper' in the hotkey 'ctrl+hyper+d' is not a key name"),
        ("<ctrl>+<alt>+<dd>", "'<dd>' in the hotkey '<ctrl>+<alt>+<dd>' is not a key name"),
        ("ctrl+alt+ +d", "The hotkey 'ctrl+alt+ +d' has a blank or invisible key"),
        ("ctrl+\nd", "A hotkey goes on a single line"),
    ],
)
def test_parse_hotkey_refuses_with_a_sentence(typed: str, sentence: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_hotkey(typed)
    assert str(caught.value).startswith(sentence)


def test_label_of_the_default() -> None:
    assert hotkey_label(DEFAULT_HOTKEY) == "Ctrl+Alt+D"
    assert hotkey_label("<ctrl>+<shift>+<page_up>") == "Ctrl+Shift+Page Up"
    assert hotkey_label("<ctrl>+<65>") == "Ctrl+<65>"


_NAMED = st.sampled_from(
    ["<f1>", "<f12>", "<space>", "<page_up>", "<caps_lock>", "<esc>", "<media_next>", "<65>"]
)
_CHARS = st.characters(categories=["Ll", "Lu", "Nd", "P"]).filter(lambda c: len(c.lower()) == 1)


@given(
    modifiers=st.sets(st.sampled_from(["<ctrl>", "<alt>", "<cmd>", "<alt_gr>"]), min_size=1),
    shift=st.booleans(),
    key=st.one_of(_NAMED, _CHARS),
)
def test_a_label_reads_back_as_the_same_hotkey(modifiers: set[str], shift: bool, key: str) -> None:
    hotkey = parse_hotkey("+".join([*sorted(modifiers), *(["<shift>"] if shift else []), key]))
    assert parse_hotkey(hotkey) == hotkey
    assert parse_hotkey(hotkey_label(hotkey)) == hotkey
