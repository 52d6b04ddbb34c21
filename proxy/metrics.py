"""Prometheus metrics for operators: counts and latencies, never request content."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Callable

BUCKETS_S = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Histogram:
    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS_S) + 1)
        self.total = 0.0
        self.n = 0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS_S, seconds)] += 1
        self.total += seconds
        self.n += 1

    def lines(self, name: str, labels: str = "") -> list[str]:
        out, running = [], 0
        sep = "," if labels else ""
        for bound, count in zip((*BUCKETS_S, float("inf")), self.counts, strict=True):
            running += count
            le = "+Inf" if bound == float("inf") else repr(bound)
            out.append(f'{name}_bucket{{{labels}{sep}le="{le}"}} {running}')
        braces = f"{{{labels}}}" if labels else ""
        out.append(f"{name}_sum{braces} {self.total}")
        out.append(f"{name}_count{braces} {self.n}")
        return out


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str, str], int] = defaultdict(int)
        self.entities: dict[str, int] = defaultdict(int)
        self.added = Histogram()
        self.ledger_append = Histogram()
        self.queue_depth: Callable[[], int] | None = None

    def request(self, mode: str, status: int, destination: str, identity: str = "") -> None:
        with self._lock:
            self.requests[(mode, str(status), destination, identity)] += 1

    def removed(self, counts: dict[str, int]) -> None:
        with self._lock:
            for entity_type, n in counts.items():
                self.entities[entity_type] += n

    def added_latency(self, seconds: float) -> None:
        with self._lock:
            self.added.observe(seconds)

    def append_latency(self, seconds: float) -> None:
        with self._lock:
            self.ledger_append.observe(seconds)

    def render(self) -> str:
        with self._lock:
            lines = [
                "# HELP cogate_requests_total Requests handled, by mode, HTTP status, "
                "destination and identity.",
                "# TYPE cogate_requests_total counter",
            ]
            for (mode, status, dest, who), n in sorted(self.requests.items()):
                lines.append(
                    f'cogate_requests_total{{mode="{_label(mode)}",status="{status}",'
                    f'destination="{_label(dest)}",identity="{_label(who)}"}} {n}'
                )
            lines += [
                "# HELP cogate_entities_removed_total Private values removed, by entity type.",
                "# TYPE cogate_entities_removed_total counter",
            ]
            for entity_type, n in sorted(self.entities.items()):
                lines.append(f'cogate_entities_removed_total{{type="{_label(entity_type)}"}} {n}')
            lines += [
                "# HELP cogate_added_latency_seconds Time from ingress until the request could "
                "leave (policy, detection, write-ahead ledger entry).",
                "# TYPE cogate_added_latency_seconds histogram",
                *self.added.lines("cogate_added_latency_seconds"),
                "# HELP cogate_ledger_append_seconds Durable ledger append latency.",
                "# TYPE cogate_ledger_append_seconds histogram",
                *self.ledger_append.lines("cogate_ledger_append_seconds"),
            ]
            depth = self.queue_depth() if self.queue_depth else 0
            lines += [
                "# HELP cogate_local_queue_depth Requests waiting for or using the local model.",
                "# TYPE cogate_local_queue_depth gauge",
                f"cogate_local_queue_depth {depth}",
            ]
        return "\n".join(lines) + "\n"
