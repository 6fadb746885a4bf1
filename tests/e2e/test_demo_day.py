"""The README's main job: the scripted contact-centre day through the real engine and simulator."""

from __future__ import annotations

import io

import pytest

from tray_agent.demo.runner import run_demo
from tray_agent.demo.scenarios import DAY

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


async def test_the_scripted_day_reaches_every_expected_genesys_state_without_breaking_a_rule() -> None:
    out = io.StringIO()
    exit_code = await run_demo(scenario="day", speed=400, out=out)
    text = out.getvalue()
    assert exit_code == 0, text
    assert f"{len(DAY)}/{len(DAY)} expected Genesys states reached" in text, text
    assert "0 invariant violations" in text, text
    teams_steps = sum(step.teams_session is not None for step in DAY)  # Genesys → Teams, on in the demo
    assert teams_steps >= 4 and f"{teams_steps}/{teams_steps} expected Teams states reached" in text, text
