"""Prometheus metrics for operators: counts and latencies, never request content."""

from __future__ import annotations

from collections.abc import Callable

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

BUCKETS_S = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

# The `*_created` series would double every counter and histogram for a timestamp nobody
# graphs; the exposition keeps the names it had before the library took it over.
prometheus_client.disable_created_metrics()


class Metrics:
    """One gateway's metrics in its own registry (several gateways may share a process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._requests = Counter(
            "cogate_requests",
            "Requests handled, by mode, HTTP status, destination and identity.",
            ["mode", "status", "destination", "identity"],
            registry=self.registry,
        )
        self._entities = Counter(
            "cogate_entities_removed",
            "Private values removed, by entity type.",
            ["type"],
            registry=self.registry,
        )
        self._added = Histogram(
            "cogate_added_latency_seconds",
            "Time from ingress until the request could leave (policy, detection, write-ahead "
            "ledger entry).",
            buckets=BUCKETS_S,
            registry=self.registry,
        )
        self._append = Histogram(
            "cogate_ledger_append_seconds",
            "Durable ledger append latency.",
            buckets=BUCKETS_S,
            registry=self.registry,
        )
        self._queue = Gauge(
            "cogate_local_queue_depth",
            "Requests waiting for or using the local model.",
            registry=self.registry,
        )
        self._queue_read: Callable[[], int] | None = None
        self._deaths = Gauge(
            "cogate_local_worker_deaths",
            "Times the local model's worker process died (a crash fails one request).",
            registry=self.registry,
        )
        self._ner_deaths = Gauge(
            "cogate_ner_worker_deaths",
            "Times spaCy NER's worker process died (its text goes to a new worker once).",
            registry=self.registry,
        )

    @property
    def queue_depth(self) -> Callable[[], int] | None:
        """Where the local model's queue depth is read at every scrape (None: reads 0)."""
        return self._queue_read

    @queue_depth.setter
    def queue_depth(self, read: Callable[[], int] | None) -> None:
        self._queue_read = read
        self._queue.set_function(read or (lambda: 0))

    def worker_deaths(self, read: Callable[[], int]) -> None:
        """Where the local model worker's death count is read at every scrape."""
        self._deaths.set_function(read)

    def ner_worker_deaths(self, read: Callable[[], int]) -> None:
        """Where the NER worker's death count is read at every scrape."""
        self._ner_deaths.set_function(read)

    def audit_sink(self, dropped: Callable[[], int], pending: Callable[[], int]) -> None:
        """Where the audit sink's drop count and buffer depth are read at every scrape."""
        Gauge(
            "cogate_audit_sink_dropped",
            "Ledger entries the audit sink dropped because its buffer was full.",
            registry=self.registry,
        ).set_function(dropped)
        Gauge(
            "cogate_audit_sink_pending",
            "Ledger entries waiting for the audit sink to take them.",
            registry=self.registry,
        ).set_function(pending)

    def request(self, mode: str, status: int, destination: str, identity: str = "") -> None:
        self._requests.labels(mode, str(status), destination, identity).inc()

    def removed(self, counts: dict[str, int]) -> None:
        for entity_type, n in counts.items():
            self._entities.labels(entity_type).inc(n)

    def added_latency(self, seconds: float) -> None:
        self._added.observe(seconds)

    def append_latency(self, seconds: float) -> None:
        self._append.observe(seconds)

    def render(self) -> str:
        return generate_latest(self.registry).decode()
