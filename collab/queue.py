"""The bounded queue in front of a local model (the embedded one or the user's runtime):
every generation takes a slot, and a request finding none free is refused at once (503)
rather than left to wait behind the others."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from cogate.core.errors import Overloaded


class BoundedQueue:
    def __init__(self, size: int, what: str) -> None:
        self.size = max(1, size)
        self.what = what  # "the local model", "the local model runtime"
        self.in_use = 0
        self._lock = threading.Lock()

    def busy(self) -> Overloaded:
        return Overloaded(
            f"{self.what} is busy ({self.in_use} requests running or queued, the limit is "
            f"{self.size}); retry shortly or raise COGATE_LOCAL_QUEUE",
            headers={"retry-after": "2"},
        )

    def check_capacity(self) -> None:
        """Raise Overloaded now if every slot is taken (a hint: takes no slot)."""
        if self.in_use >= self.size:
            raise self.busy()

    def admit(self) -> QueueSlot:
        """Take a slot, or raise Overloaded when none is free."""
        with self._lock:
            if self.in_use >= self.size:
                raise self.busy()
            self.in_use += 1
        return QueueSlot(self)

    def _release(self) -> None:
        with self._lock:
            self.in_use -= 1


@dataclass
class QueueSlot:
    """One place in the queue; releasing twice is harmless."""

    queue: BoundedQueue
    released: bool = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.queue._release()
