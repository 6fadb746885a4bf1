"""Idle footprint and start-up time of the real agent process (Linux: reads /proc)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Footprint:
    label: str
    cpu_percent: float
    rss_mb: float
    first_sync_s: float | None = None


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _rss_mb(pid: int) -> float:
    match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else float("nan")


def _measure(process: subprocess.Popen[str], seconds: float) -> tuple[float, float]:
    cpu_before, started = _cpu_seconds(process.pid), time.monotonic()
    time.sleep(seconds)
    cpu_after, elapsed = _cpu_seconds(process.pid), time.monotonic() - started
    return 100 * (cpu_after - cpu_before) / elapsed, _rss_mb(process.pid)


def _first_sync(agent: subprocess.Popen[str], started: float) -> float | None:
    """Seconds from the process start to its first "synced" decision (read from its own output)."""
    assert agent.stdout is not None
    for line in agent.stdout:
        if "decision synced" in line:
            return time.monotonic() - started
    return None


def measure_agent(idle_seconds: float, warmup: float = 15.0) -> tuple[Footprint, Footprint]:
    """``tray-agent run`` (the real agent, headless) against ``tray-agent simulator`` in another process."""
    python = sys.executable
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "TRAY_AGENT_HOME": home}
        first_sync, cpu, rss = _measure_run(python, env, idle_seconds, warmup)
    baseline = subprocess.Popen([python, "-c", "import time; time.sleep(3600)"], text=True)
    try:
        time.sleep(1.0)
        base_cpu, base_rss = _measure(baseline, min(idle_seconds, 10.0))
    finally:
        baseline.terminate()
        baseline.wait(10)
    return Footprint("agent (headless, signed in, idle)", cpu, rss, first_sync), Footprint(
        "bare `python -c` interpreter", base_cpu, base_rss
    )


def _measure_run(
    python: str, env: dict[str, str], idle_seconds: float, warmup: float
) -> tuple[float | None, float, float]:
    simulator = subprocess.Popen([python, "-m", "tray_agent", "simulator"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert simulator.stdout is not None
        lines = [simulator.stdout.readline() for _ in range(3)]
        base_url = lines[0].split()[-1]
        ca_file = lines[2].split()[-1]
        started = time.monotonic()
        agent = subprocess.Popen(
            [python, "-m", "tray_agent", "run", "--simulator", base_url, "--ca", ca_file],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            first_sync = _first_sync(agent, started)
            threading.Thread(target=lambda: agent.stdout and agent.stdout.read(), daemon=True).start()
            time.sleep(warmup)
            cpu, rss = _measure(agent, idle_seconds)
        finally:
            agent.terminate()
            agent.wait(10)
    finally:
        simulator.terminate()
        simulator.wait(10)
    return first_sync, cpu, rss
