"""Status rules of SPEC section 3, row by row, as the services apply them (on the effective status)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import Conflict
from domain.rules import (
    FINAL_STATUSES,
    Status,
    check_create_status,
    check_reschedulable,
    check_status_change,
    effective_status,
    stored_status_on_create,
)

A, T, C, M = Status.ACTIVE, Status.ATTENDED, Status.CANCELLED, Status.MISSED
START = dt.datetime(2025, 6, 4, 10, 0, tzinfo=dt.UTC)
END = START + dt.timedelta(minutes=30)
MINUTE = dt.timedelta(minutes=1)
BEFORE, AT_START, DURING, AT_END, AFTER = START - MINUTE, START, START + 10 * MINUTE, END, END + MINUTE


def change(stored: Status, target: Status, now: dt.datetime) -> None:
    """What a PATCH of ``status`` does: judge the change from the effective status."""
    check_status_change(effective_status(stored, END, now), target, START, END, now)


def conflict_code(stored: Status, target: Status, now: dt.datetime) -> str:
    with pytest.raises(Conflict) as caught:
        change(stored, target, now)
    assert caught.value.status == 409
    return caught.value.code


# active -> attended: once started, never before
def test_attended_before_start_is_a_conflict() -> None:
    assert conflict_code(A, T, BEFORE) == "status.not_started"


@pytest.mark.parametrize("now", [AT_START, DURING, AT_END, AFTER])
def test_attended_from_the_start_on_is_allowed(now: dt.datetime) -> None:
    change(A, T, now)


# active -> cancelled: before its end
@pytest.mark.parametrize("now", [BEFORE - dt.timedelta(days=30), BEFORE, AT_START, DURING, END - MINUTE])
def test_cancel_before_end_is_allowed(now: dt.datetime) -> None:
    change(A, C, now)


@pytest.mark.parametrize("now", [AT_END, AFTER])
def test_cancel_after_end_is_a_conflict(now: dt.datetime) -> None:
    conflict_code(A, C, now)
    with pytest.raises(Conflict) as caught:  # even judged on the stored, stale "active"
        check_status_change(A, C, START, END, now)
    assert caught.value.code == "status.already_ended"


# active -> missed: automatically at its end, by hand only after it
@pytest.mark.parametrize("now", [BEFORE, AT_START, DURING])
def test_missed_by_hand_before_end_is_a_conflict(now: dt.datetime) -> None:
    assert conflict_code(A, M, now) == "status.not_ended"


@pytest.mark.parametrize("now", [AT_END, AFTER])
def test_missed_after_end_is_allowed(now: dt.datetime) -> None:
    change(A, M, now)
    check_status_change(A, M, START, END, now)


# missed -> attended: a clinician recording attendance late
def test_missed_to_attended_is_allowed() -> None:
    change(M, T, AFTER)
    change(M, T, AFTER + dt.timedelta(days=7))


@pytest.mark.parametrize("target", [A, C])
def test_missed_can_only_become_attended(target: Status) -> None:
    assert conflict_code(M, target, AFTER) == "status.transition"


# attended, cancelled: final, any PATCH refused
@pytest.mark.parametrize("stored", sorted(FINAL_STATUSES))
@pytest.mark.parametrize("target", list(Status))
@pytest.mark.parametrize("now", [BEFORE, DURING, AFTER])
def test_final_states_refuse_everything(stored: Status, target: Status, now: dt.datetime) -> None:
    assert conflict_code(stored, target, now) == "status.final"
    with pytest.raises(Conflict) as caught:
        check_reschedulable(stored)
    assert caught.value.code == "status.final"
    assert caught.value.params == {"status": stored.value}


def test_only_attended_and_cancelled_are_final() -> None:
    assert {T, C} == FINAL_STATUSES


@pytest.mark.parametrize(("stored", "now"), [(A, BEFORE), (A, DURING), (M, AFTER)])
def test_setting_the_current_status_again_is_harmless(stored: Status, now: dt.datetime) -> None:
    change(stored, stored, now)


# the derived missed status
@pytest.mark.parametrize(("now", "expected"), [(BEFORE, A), (DURING, A), (END - MINUTE, A), (AT_END, M), (AFTER, M)])
def test_active_reads_missed_once_ended(now: dt.datetime, expected: Status) -> None:
    assert effective_status(A, END, now) is expected
    assert effective_status("active", END, now) is expected


@pytest.mark.parametrize("stored", [T, C, M])
@pytest.mark.parametrize("now", [BEFORE, AFTER])
def test_other_statuses_read_as_stored(stored: Status, now: dt.datetime) -> None:
    assert effective_status(stored, END, now) is stored


# creating (historical) records
def test_past_active_is_stored_as_missed() -> None:
    assert stored_status_on_create(A, END, AFTER) is M
    assert stored_status_on_create(A, END, AT_END) is M


def test_future_or_running_active_stays_active() -> None:
    assert stored_status_on_create(A, END, BEFORE) is A
    assert stored_status_on_create(A, END, DURING) is A


@pytest.mark.parametrize("status", [T, C, M])
def test_historical_records_keep_their_status(status: Status) -> None:
    assert stored_status_on_create(status, END, AFTER) is status


def test_attended_in_the_future_is_refused_on_create() -> None:
    with pytest.raises(Conflict) as caught:
        check_create_status(T, START, BEFORE, END)
    assert caught.value.code == "status.attended_in_future"
    assert caught.value.status == 409


@pytest.mark.parametrize("now", [AT_START, DURING, AFTER])
def test_attended_once_started_is_fine_on_create(now: dt.datetime) -> None:
    check_create_status(T, START, now, END)


@pytest.mark.parametrize("status", [A, C])
def test_other_statuses_in_the_future_are_fine_on_create(status: Status) -> None:
    check_create_status(status, START, BEFORE, END)


# rescheduling
def test_active_not_ended_can_be_rescheduled() -> None:
    check_reschedulable(effective_status(A, END, DURING))


def test_ended_active_cannot_be_rescheduled() -> None:
    with pytest.raises(Conflict) as caught:
        check_reschedulable(effective_status(A, END, AFTER))
    assert caught.value.code == "appointment.not_active"


# the whole table, as a property of the clock
@given(offset=st.integers(min_value=-3 * 24 * 60, max_value=3 * 24 * 60))
def test_active_appointment_rules_hold_at_any_moment(offset: int) -> None:
    now = START + dt.timedelta(minutes=offset)

    def allowed(target: Status) -> bool:
        try:
            change(A, target, now)
        except Conflict:
            return False
        return True

    assert allowed(T) == (now >= START)
    assert allowed(C) == (now < END)
    assert allowed(M) == (now >= END)
    assert allowed(A) == (now < END)  # after the end it already is missed


def test_a_record_cannot_be_created_missed_before_its_end() -> None:
    with pytest.raises(Conflict) as caught:
        check_create_status(Status.MISSED, START, BEFORE, START + dt.timedelta(hours=1))
    assert caught.value.code == "status.not_ended"
    check_create_status(Status.MISSED, START, START + dt.timedelta(hours=2), START + dt.timedelta(hours=1))
