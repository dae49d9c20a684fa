"""The dispositions a supervisor can give a call: a short list the user edits.

Kept in ``config_dir / "dispositions.toml"`` as ``dispositions = ["Sale", ...]``; until the
user saves a list of their own, :data:`DEFAULT_DISPOSITIONS` is the list. A disposition is
stored on the call as plain text, so renaming or removing one from the list never changes
a call that already has it (the history keeps what was chosen at the time).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from dialer.core.errors import ConfigError, InvalidInput
from dialer.core.files import read_toml, write_toml_atomically

DEFAULT_DISPOSITIONS: tuple[str, ...] = (
    "Sale",
    "Callback",
    "Not interested",
    "Wrong number",
    "Voicemail",
)

FILE_NAME = "dispositions.toml"
MAX_LENGTH = 40  # a word or three: it is a column in the history and a cell in exports
MAX_COUNT = 50  # a pick list, not a database


def clean_dispositions(names: Iterable[str]) -> list[str]:
    """The list as it will be stored: trimmed, inner runs of spaces collapsed, blank lines
    dropped, repeats (ignoring case) dropped, order kept. Raises :class:`InvalidInput`
    with one sentence for a name that is too long, a control character or too many names."""
    cleaned: list[str] = []
    seen: set[str] = set()
    for raw in names:
        name = " ".join(raw.split())
        if not name:
            continue
        if len(name) > MAX_LENGTH:
            raise InvalidInput(
                f"'{name[:MAX_LENGTH]}…' is too long for a disposition "
                f"(at most {MAX_LENGTH} characters)"
            )
        if not name.isprintable():
            raise InvalidInput(f"The disposition '{name}' contains a control character")
        if name.casefold() in seen:
            continue
        seen.add(name.casefold())
        cleaned.append(name)
    if len(cleaned) > MAX_COUNT:
        raise InvalidInput(f"Keep the list to at most {MAX_COUNT} dispositions")
    return cleaned


class DispositionList:
    """The dispositions file. Reads are cheap (a few lines); saves replace it atomically."""

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def in_folder(cls, config_dir: Path) -> DispositionList:
        return cls(config_dir / FILE_NAME)

    def load(self) -> list[str]:
        """The user's list, or the defaults when none was saved yet."""
        raw = read_toml(self.path, "dispositions")
        if raw is None:
            return list(DEFAULT_DISPOSITIONS)
        names = raw.get("dispositions")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ConfigError(
                f"The dispositions file {self.path} is malformed: "
                "'dispositions' must be a list of texts"
            )
        try:
            return clean_dispositions(names)
        except InvalidInput as exc:
            raise ConfigError(f"The dispositions file {self.path} is malformed: {exc}") from None

    def save(self, names: Iterable[str]) -> list[str]:
        """Store ``names`` (cleaned, see :func:`clean_dispositions`) and return them.
        An empty list is allowed: calls can still be given a disposition typed by hand."""
        cleaned = clean_dispositions(names)
        write_toml_atomically(self.path, {"dispositions": cleaned})
        return cleaned

    def reset(self) -> list[str]:
        """Back to the defaults (the file is removed)."""
        self.path.unlink(missing_ok=True)
        return list(DEFAULT_DISPOSITIONS)
