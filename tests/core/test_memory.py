"""The sync memory's stored form: what a restart keeps, and what it refuses."""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tray_agent.core.memory import (
    MAX_AGE,
    Candidate,
    Episode,
    InFlight,
    MemoryRefused,
    PausedBy,
    Phase,
    SyncMemory,
    Write,
    decode,
    encode,
    persisted_part,
)

NOW = 1_800_000_000.0
MID_MEETING = SyncMemory(
    phase=Phase.FOLLOWING,
    acted_signal="Meeting|Busy",
    seen_presence_id="id-meeting",
    episode=Episode("id-meeting", "id-training", "Available"),
    candidate=Candidate("Available", NOW - 3),
    acknowledge_from=NOW - 1,
    write_times=(NOW - 300, NOW - 20),
    paused_until=math.inf,
    tripped_until=None,
    force=True,
    in_flight=InFlight(Write("id-busy", "Busy", False), "id-meeting"),
    user_id="user-1",
)


def test_what_the_rules_need_survives_a_round_trip_through_json() -> None:
    stored = json.loads(json.dumps(encode(MID_MEETING, NOW)))
    assert decode(stored, NOW + 60) == persisted_part(MID_MEETING)


def test_a_half_read_change_and_sync_now_are_forgotten() -> None:
    restored = decode(encode(MID_MEETING, NOW), NOW)
    assert restored.candidate is None and restored.force is False and restored.acknowledge_from is None


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        pytest.param(lambda d: d.update(version=2), "schema version", id="another version"),
        pytest.param(lambda d: d.update(saved_at=NOW - MAX_AGE - 1), "older than", id="older than a shift"),
        pytest.param(lambda d: d.update(saved_at=NOW + 3600), "future", id="from the future"),
        pytest.param(lambda d: d.update(phase="dancing"), "unknown phase", id="unknown phase"),
        pytest.param(lambda d: d.update(write_times=["soon"]), "write_times", id="bad write times"),
        pytest.param(lambda d: d.update(tripped_until=float("nan")), "finite", id="NaN"),
        pytest.param(lambda d: d.update(episode={"owned": "x"}), "short string", id="half an episode"),
        pytest.param(lambda d: d.update(seen_presence_id="x" * 10_000), "short string", id="huge id"),
        pytest.param(lambda d: d.update(in_flight={"presence_id": "x"}), "in_flight", id="bad in-flight write"),
        pytest.param(lambda d: d.update(paused_by="supervisor"), "paused_by", id="unknown pauser"),
    ],
)
def test_a_damaged_memory_is_refused_with_its_reason(damage: object, why: str) -> None:
    stored = encode(MID_MEETING, NOW)
    damage(stored)  # type: ignore[operator]
    with pytest.raises(MemoryRefused, match=why):
        decode(stored, NOW)


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
    )
)
def test_anything_else_is_refused_or_read_never_an_error(data: object) -> None:
    with contextlib.suppress(MemoryRefused):
        decode(data, NOW)


@given(st.dictionaries(st.sampled_from(list(encode(MID_MEETING, NOW))), st.none() | st.integers() | st.text()))
def test_any_field_replaced_by_junk_is_refused_or_read(junk: dict[str, object]) -> None:
    stored = {**encode(MID_MEETING, NOW), **junk}
    try:
        memory = decode(stored, NOW)
    except MemoryRefused:
        return
    assert isinstance(memory, SyncMemory)


def test_paused_until_resumed_is_kept_as_such() -> None:
    memory = replace(SyncMemory(), paused_until=math.inf)
    assert decode(encode(memory, NOW), NOW).paused_until == math.inf


def test_who_paused_is_kept_and_a_store_from_before_it_was_kept_counts_as_the_agents_pause() -> None:
    memory = replace(SyncMemory(), paused_until=NOW + 600, paused_by=PausedBy.GENESYS)
    assert decode(encode(memory, NOW), NOW).paused_by is PausedBy.GENESYS
    older = encode(memory, NOW)
    del older["paused_by"]
    assert decode(older, NOW).paused_by is PausedBy.AGENT
