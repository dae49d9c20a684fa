"""Time zones an account names: checked when it is saved, and read safely afterwards."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dialer.core.times import named_zone, wall_clock_time, zone_problem


@pytest.mark.parametrize("name", ["Asia/Kolkata", "Europe/London", "UTC", "America/New_York"])
def test_iana_names_are_time_zones(name: str) -> None:
    assert zone_problem(name) is None
    assert named_zone(name) == ZoneInfo(name)


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "asia/kolkata", "Asia", "../etc/passwd", "/etc/localtime", "x" * 300]
)
def test_anything_else_is_refused_with_one_sentence_naming_it(name: str) -> None:
    problem = zone_problem(name)
    assert problem is not None and "\n" not in problem
    shown = name if len(name) <= 60 else name[:57] + "..."
    assert problem.startswith(f"'{shown}' is not a time zone name this machine knows; give")
    assert "Asia/Kolkata" in problem and "empty for this machine's zone" in problem


def test_no_name_is_this_machines_zone() -> None:
    assert named_zone(None) is None and named_zone("") is None
    moment = datetime(2021, 4, 9, 16, 27, 39)
    assert wall_clock_time(moment, None) == moment.timestamp()
    kolkata = ZoneInfo("Asia/Kolkata")
    assert wall_clock_time(moment, kolkata) == moment.replace(tzinfo=kolkata).timestamp()


@pytest.mark.allow_warnings_log(r"Time zone 'Nowhere/Else' is unknown here")
def test_a_stored_name_this_machine_does_not_know_falls_back_to_its_zone() -> None:
    # An accounts file edited by hand, or written where the zone database differs.
    assert named_zone("Nowhere/Else") is None
