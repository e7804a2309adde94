"""Session occurrences, the slot grid and free slots, in London wall-clock time (SPEC §10)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.errors import Conflict, RuleViolation
from domain.rules.schedules import (
    LONDON,
    Session,
    covering_occurrence,
    exists_in_london,
    london_instant,
    occurrence,
    occurrences,
    parse_date,
    parse_slot_length,
    parse_wall_time,
    parse_weekdays,
    sessions_clash,
    slot_starts,
    weekday_names,
)
from domain.rules.slots import BusyTimes, Hold, Timetable, check_against_timetable, check_search_range, free_starts

SPRING_FORWARD = dt.date(2027, 3, 28)
FALL_BACK = dt.date(2027, 10, 31)
DAYS_OF_2027 = st.dates(dt.date(2027, 1, 1), dt.date(2027, 12, 31))
UTC = dt.UTC


@st.composite
def sessions(draw: st.DrawFn) -> Session:
    start = draw(st.integers(0, 23 * 60 + 58))
    end = draw(st.integers(start + 1, 23 * 60 + 59))
    return Session(
        weekdays=draw(st.integers(1, 127)),
        start_minute=start,
        end_minute=end,
        slot_minutes=draw(st.integers(5, 240)),
        valid_from=dt.date(2027, 1, 1),
        valid_to=None,
    )


def wall_minute(instant: dt.datetime) -> tuple[dt.date, int]:
    local = instant.astimezone(LONDON)
    return local.date(), local.hour * 60 + local.minute


@given(session=sessions(), day=DAYS_OF_2027, duration=st.integers(1, 240))
@example(session=Session(127, 0, 180, 30, dt.date(2027, 1, 1), None), day=SPRING_FORWARD, duration=30)
@example(session=Session(127, 0, 180, 30, dt.date(2027, 1, 1), None), day=FALL_BACK, duration=30)
@example(session=Session(127, 60, 150, 15, dt.date(2027, 1, 1), None), day=FALL_BACK, duration=15)
def test_every_slot_lies_inside_its_session_on_the_london_grid(session: Session, day: dt.date, duration: int) -> None:
    found = occurrence(session, day)
    starts = list(slot_starts(session, found, duration))
    assert starts == sorted(set(starts))
    for start in starts:
        assert found.start <= start
        assert start + dt.timedelta(minutes=duration) <= found.end
        local_day, minute = wall_minute(start)
        assert local_day == day
        assert (minute - session.start_minute) % session.slot_minutes == 0
        assert session.start_minute <= minute < session.end_minute
    # Every grid position that exists that day and fits is offered.
    expected = [
        london_instant(day, minute)
        for minute in range(session.start_minute, session.end_minute, session.slot_minutes)
        if exists_in_london(day, minute)
        and found.start <= london_instant(day, minute)
        and london_instant(day, minute) + dt.timedelta(minutes=duration) <= found.end
    ]
    assert starts == expected


@given(day=DAYS_OF_2027)
def test_a_nine_to_five_clinic_keeps_its_clock_times_every_day_of_2027(day: dt.date) -> None:
    session = Session(127, 9 * 60, 17 * 60, 15, dt.date(2027, 1, 1), None)
    starts = list(slot_starts(session, occurrence(session, day), 15))
    assert len(starts) == 32
    assert [wall_minute(s) for s in starts] == [(day, 9 * 60 + 15 * k) for k in range(32)]
    offset = starts[0].astimezone(LONDON).utcoffset()
    assert offset == (dt.timedelta(hours=1) if dt.date(2027, 3, 28) <= day < dt.date(2027, 10, 31) else dt.timedelta())


def test_clock_changes_of_2027() -> None:
    night = Session(127, 0, 180, 30, dt.date(2027, 1, 1), None)
    spring = [s.isoformat() for s in slot_starts(night, occurrence(night, SPRING_FORWARD), 30)]
    # 01:00 and 01:30 do not exist on 28 March; 02:00 BST is 01:00 UTC.
    assert spring == [
        "2027-03-28T00:00:00+00:00",
        "2027-03-28T00:30:00+00:00",
        "2027-03-28T01:00:00+00:00",
        "2027-03-28T01:30:00+00:00",
    ]
    autumn = [s.isoformat() for s in slot_starts(night, occurrence(night, FALL_BACK), 30)]
    assert autumn[0] == "2027-10-30T23:00:00+00:00"  # 00:00 BST
    assert autumn[-1] == "2027-10-31T02:30:00+00:00"  # 02:30 GMT, ending at the session's 03:00
    assert len(autumn) == len(set(autumn)) == 6


@given(
    session=sessions(),
    first=DAYS_OF_2027,
    days=st.integers(0, 40),
    valid_from=DAYS_OF_2027,
    valid_days=st.none() | st.integers(0, 60),
)
def test_occurrences_are_the_valid_dates_on_the_sessions_weekdays(
    session: Session, first: dt.date, days: int, valid_from: dt.date, valid_days: int | None
) -> None:
    valid_to = None if valid_days is None else valid_from + dt.timedelta(days=valid_days)
    session = Session(session.weekdays, session.start_minute, session.end_minute, 15, valid_from, valid_to)
    last = first + dt.timedelta(days=days)
    found = [o.day for o in occurrences(session, first, last)]
    expected = [
        day
        for day in (first + dt.timedelta(days=n) for n in range(days + 1))
        if weekday_names(session.weekdays).count(day.strftime("%a").lower())
        and valid_from <= day
        and (valid_to is None or day <= valid_to)
    ]
    assert found == expected


busy_intervals = st.lists(
    st.tuples(st.integers(0, 7 * 24 * 60), st.integers(1, 600)).map(
        lambda p: (
            dt.datetime(2027, 3, 25, tzinfo=UTC) + dt.timedelta(minutes=p[0]),
            dt.datetime(2027, 3, 25, tzinfo=UTC) + dt.timedelta(minutes=p[0] + p[1]),
        )
    ),
    max_size=30,
)


@given(session=sessions(), busy=busy_intervals, duration=st.none() | st.integers(5, 120))
def test_free_slots_overlap_no_busy_interval_and_every_free_grid_position_is_offered(
    session: Session, busy: list[tuple[dt.datetime, dt.datetime]], duration: int | None
) -> None:
    window = (dt.datetime(2027, 3, 25, 12, tzinfo=UTC), dt.datetime(2027, 4, 1, 6, tzinfo=UTC))
    free = [(s, e) for s, e, _session in free_starts([session], BusyTimes(busy), duration, *window)]
    for start, end in free:
        assert window[0] <= start < window[1]
        assert not any(b_start < end and start < b_end for b_start, b_end in busy)
    length = duration or session.slot_minutes
    expected = []
    for found in occurrences(session, dt.date(2027, 3, 24), dt.date(2027, 4, 2)):
        for start in slot_starts(session, found, length):
            end = start + dt.timedelta(minutes=length)
            if window[0] <= start < window[1] and not any(b < end and start < e for b, e in busy):
                expected.append((start, end))
    assert sorted(free) == sorted(expected)


@given(a=sessions(), b=sessions())
def test_clashing_sessions_is_symmetric(a: Session, b: Session) -> None:
    assert sessions_clash(a, b) == sessions_clash(b, a)


def test_sessions_clash_only_on_a_shared_weekday_time_and_validity() -> None:
    monday_morning = Session(0b1, 9 * 60, 12 * 60, 15, dt.date(2027, 1, 1), dt.date(2027, 6, 30))
    assert sessions_clash(monday_morning, Session(0b11, 11 * 60, 13 * 60, 15, dt.date(2027, 6, 30), None))
    assert not sessions_clash(monday_morning, Session(0b10, 9 * 60, 12 * 60, 15, dt.date(2027, 1, 1), None))
    assert not sessions_clash(monday_morning, Session(0b1, 12 * 60, 13 * 60, 15, dt.date(2027, 1, 1), None))
    assert not sessions_clash(monday_morning, Session(0b1, 9 * 60, 12 * 60, 15, dt.date(2027, 7, 1), None))


def test_parsing_the_schedule_fields() -> None:
    assert parse_weekdays(["mon", " THU ", "mon"]) == 0b1001
    assert weekday_names(0b1001) == ["mon", "thu"]
    assert parse_wall_time("09:05") == 545
    assert parse_slot_length("PT1H") == 60
    assert parse_date("2027-03-28") == SPRING_FORWARD
    for rule, raw in (
        (parse_weekdays, []),
        (parse_weekdays, ["monday"]),
        (parse_weekdays, "mon"),
        (parse_wall_time, "9:00"),
        (parse_wall_time, "24:00"),
        (parse_wall_time, "0\u0669:00"),  # an Arabic-Indic 9
        (parse_wall_time, "\uff10\uff19:00"),  # fullwidth digits
        (parse_wall_time, 900),
        (parse_slot_length, "4m"),
        (parse_slot_length, "4h1m"),
        (parse_date, "2027-02-30"),
        (parse_date, 20270101),
    ):
        with pytest.raises(RuleViolation):
            rule(raw)


NOW = dt.datetime(2027, 3, 1, tzinfo=UTC)
CLINIC = Session(0b11111, 9 * 60, 17 * 60, 15, dt.date(2027, 1, 1), None)  # weekdays, 09:00-17:00


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2027, 3, day, hour, minute, tzinfo=UTC)


def test_bookings_must_lie_inside_a_session_and_outside_unavailability() -> None:
    timetable = Timetable(sessions=[CLINIC], unavailable=[(at(3, 12), at(3, 13))])
    check_against_timetable(timetable, at(2, 9, 7), at(2, 9, 52), NOW)  # off the grid is fine
    check_against_timetable(timetable, at(2, 16), at(2, 17), NOW)
    for start, end in ((at(2, 16, 30), at(2, 17, 30)), (at(6, 10), at(6, 11)), (at(2, 8, 59), at(2, 9, 30))):
        with pytest.raises(Conflict, match=r"appointment.outside_schedule"):
            check_against_timetable(timetable, start, end, NOW)
    with pytest.raises(Conflict, match=r"appointment.clinician_unavailable"):
        check_against_timetable(timetable, at(3, 12, 45), at(3, 13, 15), NOW)
    check_against_timetable(timetable, at(3, 13), at(3, 14), NOW)
    check_against_timetable(Timetable(), at(6, 3), at(6, 4), NOW)  # no schedule: not checked
    check_against_timetable(timetable, at(6, 10), at(6, 11), NOW, future_active=False)


def test_holds() -> None:
    hold = Hold(uuid.uuid4(), at(2, 10), at(2, 10, 15), expires_at=NOW + dt.timedelta(minutes=5))
    expired = Hold(uuid.uuid4(), at(2, 11), at(2, 11, 15), expires_at=NOW)
    timetable = Timetable(sessions=[CLINIC], holds=[hold, expired])
    with pytest.raises(Conflict, match=r"slot.held"):
        check_against_timetable(timetable, at(2, 10, 10), at(2, 10, 30), NOW)
    check_against_timetable(timetable, at(2, 11), at(2, 11, 15), NOW)  # an expired hold blocks nothing
    assert check_against_timetable(timetable, at(2, 10), at(2, 10, 15), NOW, hold.id) is hold
    with pytest.raises(Conflict, match=r"hold.mismatch"):
        check_against_timetable(timetable, at(2, 10), at(2, 10, 30), NOW, hold.id)
    for gone in (expired.id, uuid.uuid4()):
        with pytest.raises(Conflict, match=r"hold.expired"):
            check_against_timetable(timetable, at(2, 11), at(2, 11, 15), NOW, gone)


def test_search_ranges() -> None:
    assert check_search_range(at(1, 0), at(1, 0) + dt.timedelta(days=31)) is None
    assert check_search_range(at(1, 0), at(1, 0) + dt.timedelta(days=31, seconds=1)) == "range.too_long"
    assert check_search_range(at(2, 0), at(1, 0)) == "range.order"


def test_a_booking_across_two_sessions_is_outside_both() -> None:
    morning = Session(0b1, 9 * 60, 12 * 60, 15, dt.date(2027, 1, 1), None)
    afternoon = Session(0b1, 12 * 60, 15 * 60, 15, dt.date(2027, 1, 1), None)
    assert covering_occurrence([morning, afternoon], at(1, 11), at(1, 12)) is not None
    assert covering_occurrence([morning, afternoon], at(1, 11, 30), at(1, 12, 30)) is None
