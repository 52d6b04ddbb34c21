"""Whether the cores the gateway may use leave room for NER's worker process right now.

The worker only pays when it gets a core of its own. With another job busy on a two-core
machine, three busy things share two cores, and 2 KB of prose took 0.70–0.85 of stock
Presidio's time with the worker against 0.57–0.58 in one process (`bench/RESULTS.md`).
So under `COGATE_NER_ISOLATION=auto` each text asks this first: how much of this process's
cores the machine's *other* processes used over the last half second (the busy time
`/proc/stat` counts on those cores, less the gateway's and its worker's own CPU time).
When fewer than `NEEDED` cores are left, the text is read in the gateway's own process.
Where `/proc/stat` cannot be read, the worker is used as configured.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection
from pathlib import Path

# Cores the detection thread and the worker need between them, less some slack for the
# gateway's other threads and the jiffy granularity of /proc/stat.
NEEDED = 1.5
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def busy_seconds(cores: Collection[int], stat: str) -> float:
    """CPU seconds `cores` have spent busy since boot, from the text of /proc/stat."""
    busy = 0
    for line in stat.splitlines():
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu") or not name[3:].isdigit() or int(name[3:]) not in cores:
            continue
        user, nice, system, _idle, _iowait, irq, softirq, steal = (
            int(field) for field in rest.split()[:8]
        )
        busy += user + nice + system + irq + softirq + steal
    return busy / TICKS


def process_seconds(pid: int) -> float:
    """The user and system CPU seconds process `pid` has used (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def own_seconds() -> float:
    """This process's CPU seconds, every thread."""
    times = os.times()
    return times.user + times.system


class FreeCores:
    """Cores of this process's affinity that other processes left idle, measured at most
    every `every` seconds; `worker_pid` gives the NER worker's pid (None when it has none)."""

    def __init__(
        self,
        worker_pid: Callable[[], int | None],
        *,
        cores: Collection[int] | None = None,
        every: float = 0.5,
        read_stat: Callable[[], str] = lambda: Path("/proc/stat").read_text(),
        clock: Callable[[], float] = time.monotonic,
        own: Callable[[], float] = own_seconds,
        worker_seconds: Callable[[int], float] = process_seconds,
    ) -> None:
        if cores is None:
            cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else ()
        self.cores = frozenset(cores)
        self.every = every
        self._read_stat, self._clock = read_stat, clock
        self._own, self._worker_seconds, self._worker_pid = own, worker_seconds, worker_pid
        self._last: tuple[float, float, float, int | None, float] | None = None
        self.free: float | None = None  # None: not measured (yet, or not on this system)
        self.busy_texts = 0  # texts read in the gateway because the cores were busy

    def enough_for_worker(self) -> bool:
        """Whether to send the next text to the worker; counts the texts it keeps here."""
        self._measure()
        if self.free is None or self.free >= NEEDED:
            return True
        self.busy_texts += 1
        return False

    def _measure(self) -> None:
        now = self._clock()
        if self._last is not None and now - self._last[0] < self.every:
            return
        sample = self._sample(now)
        if sample is None:
            return
        if self._last is not None:
            at, busy, own, pid, worker = self._last
            ours = sample[2] - own
            # A worker that changed (a restart) counts from zero.
            ours += sample[4] - (worker if sample[3] == pid else 0.0)
            others = max(0.0, (sample[1] - busy) - ours)
            self.free = len(self.cores) - others / (now - at)
        self._last = sample

    def _sample(self, now: float) -> tuple[float, float, float, int | None, float] | None:
        if not self.cores:
            return None
        try:
            busy = busy_seconds(self.cores, self._read_stat())
        except (OSError, ValueError):
            return None
        pid = self._worker_pid()
        worker = self._worker_seconds(pid) if pid is not None else 0.0
        return now, busy, self._own(), pid, worker
