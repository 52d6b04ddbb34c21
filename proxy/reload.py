"""Hot reload of the policy: on `SIGHUP` and when the policy file changes, the gateway loads
it again. A valid policy applies to the next request (its hash goes into the ledger with
it); an invalid one is logged and the policy in force stays."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

import anyio
from cogate.policies import Privacy
from cogate.policies.schema import PolicyError

log = logging.getLogger("cogate.policy")


class PolicyReloader:
    def __init__(self, privacy: Privacy, path: Path | None, interval: float = 1.0) -> None:
        self.privacy = privacy
        # A shipped name (`hipaa`) is no file to watch; SIGHUP still reloads it.
        self.path = path if path is not None and path.is_file() else None
        self.interval = interval
        self._seen = self._fingerprint()
        self._lock = asyncio.Lock()
        self.reloads = 0
        self.failures = 0

    def _fingerprint(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    async def reload(self, reason: str) -> bool:
        """Load the policy again; True when the new one is in force."""
        async with self._lock:
            before = self.privacy.policy.content_hash()
            try:
                policy = await anyio.to_thread.run_sync(self.privacy.reload)
            except PolicyError as exc:
                self.failures += 1
                log.error("policy reload (%s) failed; keeping %s: %s", reason, before, exc)
                return False
            self.reloads += 1
            log.info(
                "policy reloaded (%s): %s %s (was %s)",
                reason,
                policy.name,
                policy.content_hash(),
                before,
            )
            return True

    async def watch(self) -> None:
        """Poll the file's modification time and size; reload when they change."""
        while True:
            await asyncio.sleep(self.interval)
            seen = self._fingerprint()
            if seen is not None and seen != self._seen:
                self._seen = seen
                await self.reload("file changed")

    def on_sighup(self) -> bool:
        """Reload on SIGHUP; False where signals cannot be handled (not the main thread)."""
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(self.reload("SIGHUP")))
        except (NotImplementedError, RuntimeError, ValueError, AttributeError):
            return False
        return True

    def off_sighup(self) -> None:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError, AttributeError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
