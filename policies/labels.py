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

from cogate.core.errors import BadRequest
from cogate.policies.detect.engine import Detector

MAX_LABEL = 64
SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
TAG_PREFIX = "tag:"


def _words(label: str) -> str:
    """ "eleanor_vance" -> "Eleanor Vance": the name list matches capitalised words."""
    return re.sub(r"[_:-]+", " ", label).title()


class LabelGuard:
    def __init__(self, key: bytes, cache_size: int = 4096) -> None:
        self.key = key
        self.cache_size = cache_size
        self._seen: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def tag(self, label: str) -> str:
        return TAG_PREFIX + hmac.new(self.key, label.encode(), hashlib.sha256).hexdigest()[:16]

    def _finds(self, label: str, detector: Detector) -> bool:
        # spaCy's NER has no context in a one-word label and guesses (it calls "ci-bot" a
        # person); patterns (e-mail, numbers, custom lists) and the name list decide instead.
        spans = [*detector.detect(label), *detector.detect(_words(label))]
        return any(span.recognizer != "SpacyRecognizer" for span in spans)

    def clean(self, label: str, detector: Detector) -> str:
        """`label` itself when it is safe to show, else its keyed tag."""
        with self._lock:
            known = self._seen.get(label)
        if known is not None:
            return known
        unsafe = len(label) > MAX_LABEL or not SAFE.fullmatch(label)
        shown = self.tag(label) if unsafe or self._finds(label, detector) else label
        with self._lock:
            self._seen[label] = shown
            while len(self._seen) > self.cache_size:
                self._seen.popitem(last=False)
        return shown


def check_header_text(headers: dict[str, str], names: tuple[str, ...], detector: Detector) -> None:
    """Refuse a request whose free-text header (`X-Title`) holds what the policy removes:
    a header cannot carry a placeholder back, so it leaves whole or not at all."""
    for name in names:
        value = headers.get(name)
        if not value:
            continue
        found = sorted({span.entity_type for span in detector.detect(value)})
        if found:
            raise BadRequest(
                f"header {name} holds {', '.join(found)}, which the policy removes; "
                "send an app name without it",
                param=name,
            )
