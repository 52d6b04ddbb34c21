"""Under `auto` NER isolation, a text goes to the worker only while another core is free:
the busy time /proc/stat counts on the gateway's cores, less its own and its worker's."""

from __future__ import annotations

import os

from cogate.core.settings import Settings
from cogate.policies import Privacy
from cogate.policies.detect.engine import Detector
from cogate.policies.detect.free_cores import TICKS, FreeCores, busy_seconds
from cogate.policies.detect.ner_process import NerProcess
from cogate.policies.schema import load_policy

STAT = (
    "cpu  {total} 0 0 0 0 0 0 0 0 0\ncpu0 {c0} 0 0 900 5 0 0 0 0 0\ncpu1 {c1} 0 0 900 5 0 0 0 0 0\n"
)


def stat(cpu0: float, cpu1: float) -> str:
    """/proc/stat text with `cpuN` busy for that many seconds (as user time)."""
    c0, c1 = int(cpu0 * TICKS), int(cpu1 * TICKS)
    return STAT.format(total=c0 + c1, c0=c0, c1=c1)


class Machine:
    """A fake clock, /proc/stat and process times the probe reads."""

    def __init__(self) -> None:
        self.now, self.cpu0, self.cpu1, self.ours, self.worker = 100.0, 50.0, 50.0, 0.0, 0.0
        self.worker_pid: int | None = 4242

    def run(self, seconds: float, *, others: float, ours: float = 0.0, worker: float = 0.0):
        """`seconds` pass with other processes using `others` cores, us and our worker
        `ours` and `worker` cores (spread over both cores)."""
        used = (others + ours + worker) * seconds
        self.cpu0 += used / 2
        self.cpu1 += used / 2
        self.ours += ours * seconds
        self.worker += worker * seconds
        self.now += seconds

    def probe(self) -> FreeCores:
        return FreeCores(
            lambda: self.worker_pid,
            cores={0, 1},
            read_stat=lambda: stat(self.cpu0, self.cpu1),
            clock=lambda: self.now,
            own=lambda: self.ours,
            worker_seconds=lambda pid: self.worker,
        )


def test_busy_seconds_counts_only_the_given_cores() -> None:
    text = stat(10.0, 20.0)
    assert busy_seconds({0}, text) == 10.0
    assert busy_seconds({0, 1}, text) == 30.0
    assert busy_seconds({5}, text) == 0.0  # the aggregate "cpu" line is never counted


def test_an_idle_machine_sends_texts_to_the_worker() -> None:
    machine = Machine()
    probe = machine.probe()
    assert probe.enough_for_worker()  # nothing measured yet: as configured
    machine.run(1.0, others=0.1)
    assert probe.enough_for_worker()
    assert probe.free is not None and 1.85 < probe.free < 1.95
    assert probe.busy_texts == 0


def test_our_own_and_the_workers_time_is_not_someone_elses() -> None:
    machine = Machine()
    probe = machine.probe()
    probe.enough_for_worker()
    machine.run(1.0, others=0.0, ours=1.0, worker=0.9)  # the gateway and its worker, busy
    assert probe.enough_for_worker()
    assert probe.free is not None and probe.free > 1.9


def test_another_busy_job_keeps_texts_here_until_it_stops() -> None:
    machine = Machine()
    probe = machine.probe()
    probe.enough_for_worker()
    machine.run(1.0, others=1.0, ours=0.4)
    assert not probe.enough_for_worker()
    assert not probe.enough_for_worker()  # within the interval: the same answer
    assert probe.busy_texts == 2
    machine.run(1.0, others=0.05)
    assert probe.enough_for_worker()


def test_a_restarted_worker_counts_from_zero() -> None:
    machine = Machine()
    probe = machine.probe()
    machine.worker = 30.0  # the old worker's lifetime CPU
    probe.enough_for_worker()
    machine.worker_pid, machine.worker = 4343, 0.0  # replaced: its own count starts again
    machine.run(1.0, others=0.0, worker=0.8)
    assert probe.enough_for_worker() and probe.free is not None and probe.free > 1.9


def test_without_proc_stat_the_worker_is_used() -> None:
    def unreadable() -> str:
        raise OSError("no /proc here")

    probe = FreeCores(lambda: None, cores={0, 1}, read_stat=unreadable)
    assert probe.enough_for_worker() and probe.enough_for_worker()
    assert probe.free is None


def test_auto_reads_the_text_here_while_the_cores_are_busy(monkeypatch) -> None:
    detector = Detector(load_policy(None), all_types=True, ner="auto")
    probe = detector.free_cores
    assert probe is not None and detector.ner_worker is not None
    sent: list[str] = []
    submit = NerProcess.submit

    def recording(self, text: str, *french):
        sent.append(text)
        return submit(self, text, *french)

    monkeypatch.setattr(NerProcess, "submit", recording)
    text = "Maria Gonzalez flew to Valencia on Tuesday."
    monkeypatch.setattr(probe, "enough_for_worker", lambda: False)
    busy = detector.raw(text)
    assert sent == [] and any(s.entity_type == "PERSON" for s in busy)
    monkeypatch.setattr(probe, "enough_for_worker", lambda: True)
    detector.cache = type(detector.cache)()  # analyse the same text again
    assert detector.raw(text) == busy and sent == [text]


def test_health_says_how_many_cores_are_free_and_how_many_texts_stayed_here(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})  # `auto` keeps a worker
    privacy = Privacy(Settings(data_dir=tmp_path, upstream="https://api.openai.com/v1"))
    status = privacy.detection_status()
    assert status["ner_isolation"] == "auto" and "ner_worker" in status
    assert set(status["cores"]) == {"free", "texts_read_here"}
    probe = privacy.detector(privacy.policy).free_cores
    assert probe is not None
    before = status["cores"]["texts_read_here"]
    probe.free, probe.every = 0.2, float("inf")  # as measured with both cores busy, kept
    probe.enough_for_worker()
    assert privacy.detection_status()["cores"]["texts_read_here"] == before + 1
