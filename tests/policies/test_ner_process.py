"""spaCy NER in its worker process: the same findings as in the gateway's own process, and
a dead worker refuses the request it was reading, is logged, and is replaced."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from cogate.policies.detect.analyzer import ner_isolation, spacy_package
from cogate.policies.detect.engine import Detector
from cogate.policies.detect.ner_process import NerProcess, NerUnavailable
from cogate.policies.detect.registry import reads_entities
from cogate.policies.schema import load_policy

from .conftest import chat, exchange

DATA = Path("/work/shared/data/presidio-research-generated-large.json")
TEXTS = [
    "Hi, I'm Maria Gonzalez from Valencia; write to maria.g@example.com or call 555-0142.",
    "Dear Dr. Okafor,\n\nthe Acme Corp office in Leeds confirmed Tuesday's meeting.\n",
    # Long enough for the NER view (segments.ner_view): code lines blanked, prose kept.
    "def handler(event):\n    return event['x'] + 1\n" * 40
    + "# Maintainer: Priya Raman <priya.raman@example.org>, based in Chennai\n"
    + "x = [1, 2, 3]\n" * 40,
    "lone surrogate \udc80 beside Jean Dupont of Lyon",
    "",
    "   \n",
]


def findings(detector: Detector, text: str) -> tuple:
    return detector.raw(text)  # each detector has its own cache: both analyse the text


@pytest.fixture(scope="module")
def detectors() -> tuple[Detector, Detector]:
    policy = load_policy(None)
    return (
        Detector(policy, all_types=True, ner="inline"),
        Detector(policy, all_types=True, ner="process"),
    )


def test_the_worker_finds_what_the_gateway_process_finds(detectors) -> None:
    inline, process = detectors
    texts = list(TEXTS)
    if DATA.exists():  # the development set, where this machine has it
        texts += [sample["full_text"] for sample in json.loads(DATA.read_text())[:120]]
    for text in texts:
        assert findings(process, text) == findings(inline, text), text[:60]
    assert any(findings(process, t) for t in TEXTS)  # the comparison compared something


def test_recognizers_that_read_entities_run_last(detectors) -> None:
    _, process = detectors
    chosen = process.analyzer.registry.get_recognizers("en", entities=process.entities)
    readers = [reads_entities(r) for r in chosen]
    assert readers[-2:] == [1, 2]  # the name lists (own look-ups first), then spaCy's own
    assert readers == sorted(readers)
    again = process.analyzer.registry.get_recognizers("en", entities=process.entities)
    assert [r.name for r in again] == [r.name for r in chosen]  # a fixed order


def test_a_reply_nobody_read_does_not_answer_the_next_text() -> None:
    ner = NerProcess(spacy_package("en_core_web_sm"))
    try:
        ner.submit("Angela Merkel visited Paris.")  # never read: a policy keeping every NER type
        second = ner.submit("Nothing here but Tokyo.")
        assert [label for *_, label in second.result()] == ["GPE"]
    finally:
        ner.close()


def test_a_text_whose_worker_dies_goes_to_a_new_worker_once() -> None:
    ner = NerProcess(spacy_package("en_core_web_sm"))
    try:
        ner.submit("warm-up").result()
        first = ner.pid
        assert first is not None
        os.kill(first, signal.SIGSTOP)  # the text below waits, unread, until the kill
        pending = ner.submit("Barack Obama was born in Hawaii.")
        os.kill(first, signal.SIGKILL)
        assert {label for *_, label in pending.result()} == {"PERSON", "GPE"}
        assert ner.status()["deaths"] == 1 and ner.pid not in (None, first)
    finally:
        ner.close()


def test_a_text_whose_second_worker_dies_too_is_refused(caplog) -> None:
    ner = NerProcess(spacy_package("en_core_web_sm"), retries=0)
    try:
        ner.submit("warm-up").result()
        first = ner.pid
        assert first is not None
        pending = ner.submit("Barack Obama was born in Hawaii. " * 2000)
        os.kill(first, signal.SIGKILL)
        with (
            caplog.at_level(logging.ERROR, logger="cogate.policies.ner"),
            pytest.raises(NerUnavailable, match="SIGKILL") as refused,
        ):
            pending.result()
        assert refused.value.status == 503
        assert "Barack" not in str(refused.value)
        assert any("died with SIGKILL" in r.getMessage() for r in caplog.records)
        assert ner.status()["deaths"] == 1
        assert ner.status()["last_death"] == "SIGKILL while reading a text"
        found = ner.submit("Barack Obama was born in Hawaii.").result()
        assert ner.pid not in (None, first)
        assert {label for *_, label in found} == {"PERSON", "GPE"}
    finally:
        ner.close()


def test_a_worker_that_died_idle_is_replaced_before_the_next_text(caplog) -> None:
    ner = NerProcess(spacy_package("en_core_web_sm"))
    try:
        ner.submit("warm-up").result()
        first = ner.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        with caplog.at_level(logging.ERROR, logger="cogate.policies.ner"):
            found = ner.submit("Call Ada Lovelace.").result()
        assert [label for *_, label in found] == ["PERSON"]
        # Seen dead before the text was sent ("idle"), or after (then the text was resent).
        assert ner.status()["deaths"] == 1
        assert ner.status()["last_death"].startswith("SIGKILL while ")
        assert any("died with SIGKILL" in r.getMessage() for r in caplog.records)
    finally:
        ner.close()


def test_a_request_whose_worker_died_is_refused_and_the_next_is_served(
    privacy, monkeypatch
) -> None:
    detector = privacy.detector(privacy.policy)
    ner = detector.ner_worker
    assert ner is not None  # the shipped settings run NER in its worker
    if detector.free_cores is not None:  # `auto`: the text must go to the worker, busy or not
        monkeypatch.setattr(detector.free_cores, "enough_for_worker", lambda: True)
    ner.submit("warm-up").result()
    victim = ner.pid
    os.kill(victim, signal.SIGSTOP)  # so the request's text is certainly still unread
    ner.retries = 0  # as if the text itself killed the worker twice
    ex = exchange(body=chat(("user", "Forward this to Grace Hopper, request 7f3a-refused.")))
    privacy.resolve(ex)
    outcome: list[BaseException] = []

    def sanitize() -> None:
        try:
            privacy.sanitize(ex)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            outcome.append(exc)

    thread = threading.Thread(target=sanitize)
    try:
        thread.start()
        deadline = time.monotonic() + 30
        while ner._waiting is None and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(victim, signal.SIGKILL)
        thread.join(60)
    finally:
        ner.retries = 1
    assert len(outcome) == 1 and isinstance(outcome[0], NerUnavailable)
    assert "Grace" not in json.dumps(outcome[0].body())
    assert ex.outbound_body is None  # nothing to forward

    ex = exchange(body=chat(("user", "Forward this to Grace Hopper, request 7f3a-served.")))
    privacy.resolve(ex)
    privacy.sanitize(ex)
    assert ex.outbound_body is not None and b"Grace" not in ex.outbound_body
    assert ner.pid not in (None, victim)


def test_auto_runs_ner_in_a_worker_only_with_a_second_core(monkeypatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert ner_isolation("auto") == "inline"
    assert ner_isolation("process") == "process"  # asked for: given
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert ner_isolation("auto") == "auto"  # the worker, for texts that find a core free
    assert ner_isolation("inline") == "inline"


def test_auto_counts_cores_where_affinity_is_unknown(monkeypatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity")  # as on macOS
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert ner_isolation("auto") == "inline"
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert ner_isolation("auto") == "auto"
