"""What CSV and vCard import share: reading a file as text, numbers as stored, the report."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

from dialer.core.errors import InvalidInput, InvalidNumber

_CANONICAL = re.compile(r"\+\d+")
_INTERNATIONAL = re.compile(r"\s*(\+|00|tel:|callto:)", re.IGNORECASE)


@dataclass(frozen=True)
class ImportReport:
    """What an import did. ``skipped`` holds ``(where, reason)``: for CSV ``where`` is the
    line the record starts on (the header is line 1); for vCard it is the card's position
    in the file (1 for the first card), and the reason names its line."""

    added: int
    skipped: list[tuple[int, str]] = field(default_factory=list)


def stored_number(text: str, region: str | None) -> str:
    """How an imported or typed number is stored: E.164 (with `` ext. N`` when it has an
    extension) when it parses, else as given, stripped; the dialer refuses it later with
    its own message.

    Without a default region only international input (``+``, ``00``, ``tel:``) is parsed:
    ``9876543210`` stays as typed rather than being read as country code 98 (Iran), and is
    read at call time with the account's region.
    """
    from dialer.core.numbers import parse_number

    stripped = text.strip()
    if not stripped or _CANONICAL.fullmatch(stripped):
        return stripped  # already E.164, or not: either way it is stored as it is
    if region is None and not _INTERNATIONAL.match(stripped):
        return stripped
    candidate = "+" + stripped[2:] if stripped.startswith("00") else stripped
    try:
        number = parse_number(candidate, region)
    except InvalidNumber:
        return stripped
    return f"{number.e164} ext. {number.extension}" if number.extension else number.e164


def read_text(path: Path, kind: str) -> tuple[str, str]:
    """The file as text and the encoding it was read with: UTF-8 (BOM or not), UTF-16 with
    a BOM, else Windows-1252; :class:`InvalidInput` naming the file when it is none."""
    parts, encoding = read_text_parts(path, kind)
    return "".join(parts), encoding


def read_text_parts(path: Path, kind: str) -> tuple[list[str], str]:
    """:func:`read_text`, the text in consecutive parts of about a megabyte: joining a
    10 MB file into one string is a single copy that holds the GIL for 8-10 ms, during
    which the window's thread cannot run (imports run on a worker thread)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"{path} does not exist") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a folder, not a {kind} file") from None
    except OSError as exc:
        raise InvalidInput(f"{path} could not be read: {exc.strerror or exc}") from None
    if not data or data.isspace():  # not data.strip(): that copies the whole file
        raise InvalidInput(f"{path} is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return [data.decode("utf-16")], "utf-16"
        except UnicodeDecodeError:
            raise InvalidInput(
                f"{path} starts like a UTF-16 file but is not valid UTF-16"
            ) from None
    if data.startswith(b"PK\x03\x04"):
        raise InvalidInput(
            f"{path} is a ZIP archive or an Excel/LibreOffice workbook, not a {kind} file; "
            f"save it as {kind} first"
        )
    if b"\x00" in data[:65536]:
        raise InvalidInput(f"{path} holds binary data, not {kind} text")
    try:
        return _decode(data, "utf-8-sig"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            return _decode(data, "cp1252"), "cp1252"
        except UnicodeDecodeError:
            raise InvalidInput(
                f"{path} is neither UTF-8 nor Windows-1252 text (byte "
                f"0x{data[utf8_error.start]:02x} at offset {utf8_error.start}); "
                "save it as UTF-8 and import it again"
            ) from None


_DECODE_CHUNK = 1 << 20


def _decode(data: bytes, encoding: str) -> list[str]:
    """``data.decode(encoding)``, a megabyte at a time, in parts: decoding a 10 MB file in
    one call holds the GIL for 15-20 ms, during which the window's thread cannot run (the
    import runs on a worker thread). A decoding error names its offset in the whole of
    ``data``."""
    decoder = codecs.getincrementaldecoder(encoding)()
    parts: list[str] = []
    for start in range(0, len(data), _DECODE_CHUNK):
        pending = len(decoder.getstate()[0])  # bytes of a character cut by the last chunk
        chunk = data[start : start + _DECODE_CHUNK]
        try:
            parts.append(decoder.decode(chunk, final=start + _DECODE_CHUNK >= len(data)))
        except UnicodeDecodeError as exc:
            at = start - pending
            raise UnicodeDecodeError(
                exc.encoding, data, at + exc.start, at + exc.end, exc.reason
            ) from None
    return parts
