"""Working hours: Teams is polled only while the agent works."""

from __future__ import annotations

import pytest

from tray_agent.core.polling import WorkingHours

MON, TUE, SAT, SUN = 0, 1, 5, 6


def at(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


@pytest.mark.parametrize(
    ("spec", "weekday", "time", "inside"),
    [
        ("", SUN, "03:00", True),
        ("Mon-Fri 08:00-18:00", MON, "08:00", True),
        ("Mon-Fri 08:00-18:00", MON, "17:59", True),
        ("Mon-Fri 08:00-18:00", MON, "18:00", False),
        ("Mon-Fri 08:00-18:00", MON, "07:59", False),
        ("Mon-Fri 08:00-18:00", SAT, "10:00", False),
        ("mon,wed,fri 9-17", TUE, "10:00", False),
        ("mon,wed,fri 9-17", MON, "10:00", True),
        ("Sat-Mon 10:00-14:00", SUN, "12:00", True),  # a range that wraps the week
        ("Mon-Fri 22:00-06:00", MON, "23:00", True),  # overnight: belongs to the day it starts
        ("Mon-Fri 22:00-06:00", TUE, "05:00", True),
        ("Mon-Fri 22:00-06:00", SAT, "05:00", True),  # Friday night's shift
        ("Mon-Fri 22:00-06:00", MON, "05:00", False),  # Sunday night is not a shift
        ("Mon-Fri 22:00-06:00", TUE, "12:00", False),
    ],
)
def test_working_hours(spec: str, weekday: int, time: str, inside: bool) -> None:
    assert WorkingHours.parse(spec).contains(weekday, at(time)) is inside


@pytest.mark.parametrize("spec", ["Mon-Fri", "Funday 08:00-18:00", "Mon-Fri 08:00", "Mon-Fri 8-8", "Mon 25:00-26:00"])
def test_a_bad_spec_says_what_is_expected(spec: str) -> None:
    with pytest.raises(ValueError, match="working hours"):
        WorkingHours.parse(spec)
