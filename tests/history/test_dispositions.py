"""The user-editable disposition list, on a real file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dialer.core.errors import ConfigError, InvalidInput
from dialer.history.dispositions import (
    DEFAULT_DISPOSITIONS,
    MAX_LENGTH,
    DispositionList,
    clean_dispositions,
)


def test_defaults_until_the_user_saves_a_list(tmp_path: Path) -> None:
    dispositions = DispositionList.in_folder(tmp_path / "config")
    assert dispositions.load() == list(DEFAULT_DISPOSITIONS)
    assert {"Sale", "Callback", "Not interested", "Wrong number", "Voicemail"} <= set(
        dispositions.load()
    )
    assert not dispositions.path.exists()  # reading never writes


def test_a_saved_list_is_read_back_cleaned(tmp_path: Path) -> None:
    dispositions = DispositionList.in_folder(tmp_path / "config")
    saved = dispositions.save(["  Sale ", "Call   back later", "", "sale", "Demo booked"])
    assert saved == ["Sale", "Call back later", "Demo booked"]
    assert DispositionList(dispositions.path).load() == saved
    import tomllib

    assert tomllib.loads(dispositions.path.read_text(encoding="utf-8")) == {"dispositions": saved}
    assert [p.name for p in dispositions.path.parent.iterdir()] == ["dispositions.toml"]


def test_an_empty_list_is_kept_and_reset_brings_the_defaults_back(tmp_path: Path) -> None:
    dispositions = DispositionList.in_folder(tmp_path)
    assert dispositions.save([" ", ""]) == []
    assert dispositions.load() == []
    assert dispositions.reset() == list(DEFAULT_DISPOSITIONS)
    assert dispositions.load() == list(DEFAULT_DISPOSITIONS)


def test_bad_names_are_refused_with_one_sentence(tmp_path: Path) -> None:
    dispositions = DispositionList.in_folder(tmp_path)
    with pytest.raises(InvalidInput, match="too long"):
        dispositions.save(["x" * (MAX_LENGTH + 1)])
    with pytest.raises(InvalidInput, match="control character"):
        clean_dispositions(["Sale\x07"])
    with pytest.raises(InvalidInput, match="at most"):
        clean_dispositions([f"D{n}" for n in range(51)])
    assert not dispositions.path.exists()  # nothing half-written


def test_a_damaged_file_is_reported_not_guessed(tmp_path: Path) -> None:
    dispositions = DispositionList.in_folder(tmp_path)
    dispositions.path.write_text('dispositions = "Sale"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="must be a list"):
        dispositions.load()
    dispositions.path.write_text("dispositions = [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="Cannot read the dispositions file"):
        dispositions.load()
    dispositions.path.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="Cannot read"):
        dispositions.load()


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_the_folder_is_created_private(tmp_path: Path) -> None:
    dispositions = DispositionList.in_folder(tmp_path / "new" / "config")
    dispositions.save(["Sale"])
    assert dispositions.path.parent.stat().st_mode & 0o077 == 0
