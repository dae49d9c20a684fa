"""Times as the history keeps them (Unix seconds, a float) and as people read them.

Two rules keep one odd value from breaking a read:

- What a provider reports is taken as a time only inside :data:`EARLIEST`..:data:`LATEST`
  (:func:`plausible`). A report that says ``9999-12-31T23:59:59-12:00`` is kept verbatim, and
  its time stored as unknown: that instant is the year 10000 in UTC, which no ``datetime``
  holds, and every export and the panel would fail on it.
- Every reader formats through :func:`local_text` / :func:`local_iso`, which answer for any
  float at all (a file written by another version, a row typed into ``psql``): a time no
  calendar can show reads as unknown, never as an exception.
"""

from __future__ import annotations

import math
from datetime import datetime

# 2000-01-01 and 2200-01-01, UTC: no call this app places or hears of falls outside, and
# every instant between is a date in every time zone.
EARLIEST = 946_684_800.0
LATEST = 7_258_118_400.0


def plausible(epoch: float | None) -> float | None:
    """``epoch`` when it is a time a call can have, else None (unknown)."""
    if epoch is None or isinstance(epoch, bool):
        return None
    try:
        value = float(epoch)
    except (TypeError, ValueError, OverflowError):
        return None
    return value if EARLIEST <= value < LATEST else None


def local_datetime(epoch: float | None) -> datetime | None:
    """``epoch`` as an aware local datetime, or None when no calendar holds it."""
    if epoch is None or isinstance(epoch, bool) or not isinstance(epoch, int | float):
        return None
    try:  # NaN and the infinities are refused here too
        return datetime.fromtimestamp(epoch).astimezone()
    except (ValueError, OverflowError, OSError):
        return None


def local_text(epoch: float | None, unknown: str = "") -> str:
    """``2021-04-09 16:27:39`` in this machine's time zone; ``unknown`` when no calendar
    (Python's: the years 1 to 9999, which exports hold to as well) can show it."""
    if epoch is None or isinstance(epoch, bool) or not isinstance(epoch, int | float):
        return unknown
    try:
        return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")
    except (ValueError, OverflowError, OSError):
        return unknown


def local_iso(epoch: float | None) -> str | None:
    """ISO 8601 with the local offset (``2021-04-09T16:27:39+05:30``), or None."""
    moment = local_datetime(epoch)
    return None if moment is None else moment.isoformat(timespec="seconds")


def format_duration(seconds: float | None) -> str:
    """``75`` -> ``1:15``, ``3725`` -> ``1:02:05``; unknown (or not a finite number) -> empty."""
    if seconds is None or isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return ""
    if not math.isfinite(seconds):
        return ""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


__all__ = [
    "EARLIEST",
    "LATEST",
    "format_duration",
    "local_datetime",
    "local_iso",
    "local_text",
    "plausible",
]
