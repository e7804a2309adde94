"""Bulk-read random ids: well-formed, never repeated, and never shared with a forked child."""

from __future__ import annotations

import os
import re
import time
import uuid

from hypothesis import given
from hypothesis import strategies as st

from domain.random_ids import random_hex_id, random_uuid, time_ordered_uuid


def test_random_uuids_are_version_4_and_distinct_across_many_refills() -> None:
    made = [random_uuid() for _ in range(5000)]  # about 20 refills of the buffer
    assert len(set(made)) == len(made)
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 for u in made)


def test_request_ids_are_32_hex_digits_and_distinct() -> None:
    made = [random_hex_id() for _ in range(2000)]
    assert len(set(made)) == len(made)
    assert all(re.fullmatch(r"[0-9a-f]{32}", made_id) for made_id in made)


def test_a_forked_child_does_not_reuse_its_parents_buffered_bytes() -> None:
    random_hex_id()  # the parent now holds a buffer with unused bytes
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next id and leave at once
        os.close(read_end)
        os.write(write_end, random_hex_id().encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    child_id = os.read(read_end, 64).decode()
    os.close(read_end)
    assert child_id != random_hex_id()


@given(st.integers(min_value=0, max_value=2**48 - 2), st.integers(min_value=1, max_value=2**20))
def test_time_ordered_uuids_are_version_7_and_sort_by_their_millisecond(earlier: int, gap: int) -> None:
    later = min(earlier + gap, 2**48 - 1)
    first, second = time_ordered_uuid(earlier), time_ordered_uuid(later)
    assert (first.version, first.variant) == (7, uuid.RFC_4122)
    assert int(first.hex[:12], 16) == earlier
    assert first.bytes < second.bytes  # PostgreSQL orders uuid values by their bytes


def test_time_ordered_uuids_carry_the_current_millisecond_and_do_not_repeat() -> None:
    before = time.time_ns() // 1_000_000
    ids = [time_ordered_uuid() for _ in range(5000)]
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == len(ids)
    assert all(before <= int(i.hex[:12], 16) <= after for i in ids)
