"""Idle footprint and start-up time of the real agent process (Linux: reads /proc)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
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


def measure_agent(idle_seconds: float, warmup: float = 15.0) -> tuple[Footprint, Footprint]:
    python = sys.executable
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    simulator = subprocess.Popen(
        [python, "-m", "tray_agent", "simulator", "--auto-approve"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert simulator.stdout is not None
        lines = [simulator.stdout.readline() for _ in range(3)]
        base_url = lines[0].split()[-1]
        ca_file = lines[2].split()[-1]
        agent = subprocess.Popen(
            [python, "-m", "tests.bench.agent_process", base_url, ca_file], stdout=subprocess.PIPE, text=True, env=env
        )
        try:
            assert agent.stdout is not None
            first_line = agent.stdout.readline()
            first_sync = float(first_line.split()[1]) if first_line.startswith("first-sync") else None
            time.sleep(warmup)
            cpu, rss = _measure(agent, idle_seconds)
        finally:
            agent.terminate()
            agent.wait(10)
    finally:
        simulator.terminate()
        simulator.wait(10)
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
