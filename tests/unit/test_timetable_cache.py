"""The process's timetable copies: bounded, least recently used dropped first (no database)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.rules.slots import Timetable
from domain.services.timetable_cache import TimetableCache, TimetableCopy


def _copy(version: int) -> TimetableCopy:
    return TimetableCopy(clinician_id=1, clinician="Dr Jones", version=version, timetable=Timetable())


def test_a_copy_is_kept_until_forgotten() -> None:
    copies = TimetableCache()
    assert copies.get("dr jones") is None
    copies.put("dr jones", _copy(3))
    assert copies.get("dr jones") == _copy(3)
    copies.put("dr jones", _copy(4))  # a newer copy replaces it
    assert copies.get("dr jones") == _copy(4) and len(copies) == 1
    copies.forget("dr jones", 3)  # found out of date by a request that read version 3: the newer stays
    assert copies.get("dr jones") == _copy(4)
    copies.forget("dr jones", 4)
    copies.forget("dr jones", 4)  # forgetting twice is harmless
    assert copies.get("dr jones") is None and len(copies) == 0


OPERATIONS = st.lists(st.tuples(st.sampled_from(["put", "get", "forget"]), st.integers(0, 9)), max_size=60)


@given(capacity=st.integers(1, 5), operations=OPERATIONS)
def test_the_most_recently_used_copies_are_the_ones_kept(capacity: int, operations: list[tuple[str, int]]) -> None:
    copies = TimetableCache(capacity)
    used: list[int] = []  # keys from least to most recently used, as a plain model
    for operation, key in operations:
        name = f"clinician {key}"
        if operation == "put":
            copies.put(name, _copy(key))
            used = [k for k in used if k != key] + [key]
        elif operation == "get":
            found = copies.get(name)
            assert (found is not None) == (key in used[-capacity:])
            if found is not None:
                assert found.version == key
                used = [k for k in used if k != key] + [key]
        else:
            copies.forget(name, key)
            used = [k for k in used if k != key]
        used = used[-capacity:]
        assert len(copies) == len(used) <= capacity
