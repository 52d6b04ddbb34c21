"""Self-declared labels (the app name, identity names) are data too: scan before logging.

A label goes to logs, metrics and the ledger in clear only when it is short, made of
name-like characters and the policy finds nothing in it; otherwise a keyed tag stands in
(equal labels still correlate, the text is not kept).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections import OrderedDict

from .detect import Detector

MAX_LABEL = 64
SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
TAG_PREFIX = "tag:"


class LabelGuard:
    def __init__(self, key: bytes, cache_size: int = 4096) -> None:
        self.key = key
        self.cache_size = cache_size
        self._seen: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def tag(self, label: str) -> str:
        return TAG_PREFIX + hmac.new(self.key, label.encode(), hashlib.sha256).hexdigest()[:16]

    def clean(self, label: str, detector: Detector) -> str:
        """`label` itself when it is safe to show, else its keyed tag."""
        with self._lock:
            known = self._seen.get(label)
        if known is not None:
            return known
        # Separators become spaces so recognizers see words ("jane_doe" -> "jane doe"); dots
        # stay, holding e-mail addresses and host names together.
        unsafe = len(label) > MAX_LABEL or not SAFE.fullmatch(label)
        shown = (
            self.tag(label) if unsafe or detector.detect(re.sub(r"[_:-]+", " ", label)) else label
        )
        with self._lock:
            self._seen[label] = shown
            while len(self._seen) > self.cache_size:
                self._seen.popitem(last=False)
        return shown
