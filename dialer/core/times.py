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

import functools
import logging
import math
from datetime import datetime, tzinfo

logger = logging.getLogger(__name__)

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


# -- time zones named by accounts ---------------------------------------------------------
#
# A provider that writes local times without an offset (C2C v2's "2021-04-09 16:27:39")
# writes them in its platform's zone, which an account may name: an IANA name, read through
# zoneinfo (the system's database on Linux and macOS, the tzdata package on Windows). No
# name means this machine's zone, which a naive datetime's timestamp() already reads on
# every system, so the machine's zone never needs a name of its own.


def zone_problem(name: str) -> str | None:
    """Why ``name`` is not a time zone this machine knows (one sentence), or None."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as "Asia"
        shown = name if len(name) <= 60 else name[:57] + "..."
        return (
            f"'{shown}' is not a time zone name this machine knows; give an IANA name such "
            "as Asia/Kolkata, Europe/London or UTC, or leave it empty for this machine's zone"
        )
    return None


@functools.lru_cache(maxsize=64)
def named_zone(name: str | None) -> tzinfo | None:
    """The zone an account names, or None for this machine's (no name, or a name this
    machine does not know: an accounts file edited by hand, or written where the zone
    database differs; said once in the log, as every later report would say it again)."""
    if not name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        logger.warning("Time zone %r is unknown here; this machine's zone is used instead", name)
        return None


def wall_clock_time(moment: datetime, zone: tzinfo | None) -> float:
    """``moment`` as epoch seconds: a naive one read in ``zone`` (None: this machine's), an
    aware one at its own offset. Raises what ``datetime.timestamp`` raises."""
    if zone is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.timestamp()


__all__ = [
    "EARLIEST",
    "LATEST",
    "format_duration",
    "local_datetime",
    "local_iso",
    "local_text",
    "named_zone",
    "plausible",
    "wall_clock_time",
    "zone_problem",
]
