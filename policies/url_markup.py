"""Which placeholders of a text an app would read as part of a URL in its Markdown or HTML.

Regular expressions miss what a renderer accepts (destinations in angle brackets with
spaces, balanced parentheses, a line break before the destination, reference definitions,
entities and tabs inside HTML attributes), so the text is read the way a renderer reads
it: link and image destinations by a CommonMark parser (markdown-it-py), tags and their
attributes by an HTML tokenizer (the standard library's). Each placeholder is first
replaced by a marker made of letters and digits, which both parsers leave as it is; a
marker found in a destination or attribute puts its placeholder there.

Text may continue after what has been read (a stream, or the next part of one answer), so
the last paragraph and a tag left open are also read as if they were closed there.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

import regex
from markdown_it import MarkdownIt

# What a marker in a place means to the URL guard: the URL it sits in, or the text before
# it in an attribute that is not a URL (whose runs are checked as plain text is).
URL, TEXT = "url", "text"
Place = tuple[str, str]

_MD = MarkdownIt("commonmark")
# Every destination counts, including those markdown-it itself would not link
# (`javascript:`, `data:`): another renderer may.
_MD.validateLink = lambda url: True  # type: ignore[method-assign]
# Code blocks, code spans and HTML blocks hide links from this renderer, not from every
# renderer an app may use: read their text as Markdown too.
_MD.disable(["code", "fence", "html_block", "backticks"])
# The ways an open link destination, angle destination, reference definition or autolink
# may end (nested parentheses go up to markdown-it's limit).
_CLOSERS = (")" * 33, ">" + ")" * 33, ">")
_BLANK_LINE = regex.compile(r"\n[ \t]*\n")
_BLANK_LINE_BEFORE = regex.compile(r"\n[ \t]*\n", regex.REVERSE)
# Attributes whose value is a URL (or a list of them) in HTML and SVG.
URL_ATTRIBUTES = frozenset(
    {
        "href", "src", "srcset", "action", "formaction", "data", "poster", "background",
        "cite", "longdesc", "ping", "lowsrc", "dynsrc", "codebase", "archive", "manifest",
        "icon", "usemap", "imagesrcset", "itemtype", "itemid", "profile", "classid",
        "xlink:href",
    }
)  # fmt: skip
# Attribute values and elements whose text is a program or a document: a placeholder there
# may become anything, a URL among them.
_SCRIPT = "javascript:"
_SCRIPT_ATTRIBUTES = frozenset(("style", "srcdoc"))


def new_marker_prefix() -> str:
    # Random per text: an upstream cannot write a marker of its own into the answer.
    return "cgz" + secrets.token_hex(6) + "q"


def markers(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n}z" for n in range(count)]


@dataclass(frozen=True)
class HtmlState:
    """Where an HTML tokenizer stands after the text released so far: the construct still
    open (a tag being written, kept from its `<`) and the raw-text element it is in
    (`script`, `style`). Carried between events, so each event is tokenized once."""

    open: str = ""
    cdata: str | None = None


CLOSED = HtmlState()
# A tag left open longer than this is read as an attribute of unknown name, which keeps
# URL runs in it (the tokenizer's memory stays bounded whatever the upstream sends).
OPEN_LIMIT = 65536
_UNKNOWN_TAG = '<x data-cogate-overflow="'


def html_after(state: HtmlState, released: str) -> HtmlState:
    """The tokenizer's state once `released` followed `state`."""
    if state == CLOSED and "<" not in released:
        return state
    parser = HTMLParser(convert_charrefs=False)
    if state.cdata is not None:
        parser.set_cdata_mode(state.cdata)
    parser.feed(state.open + released)
    rest = parser.rawdata
    if len(rest) > OPEN_LIMIT:
        rest = _UNKNOWN_TAG
    return HtmlState(rest, parser.cdata_elem)


def places(
    before: str, text: str, spots: list[tuple[int, int]], html: HtmlState = CLOSED
) -> dict[int, list[Place]]:
    """For each spot (a placeholder's span in `text`) read inside a link or image
    destination or an HTML attribute or script: where it was read. `before` is the text
    the app sees just before `text` (earlier events or parts of the same answer), `html`
    the tokenizer's state after it."""
    if not spots:
        return {}
    prefix = new_marker_prefix()
    marks = markers(prefix, len(spots))
    pieces, last = [], 0
    for (start, end), mark in zip(spots, marks, strict=True):
        pieces += [text[last:start], mark]
        last = end
    pieces.append(text[last:])
    marked = "".join(pieces)
    found: dict[int, list[Place]] = {}
    for number, place in _markdown(before + marked, prefix):
        found.setdefault(number, []).append(place)
    if html != CLOSED or "<" in marked:
        for number, place in _html(html, marked, prefix):
            found.setdefault(number, []).append(place)
    return found


def _occurrences(value: str, prefix: str) -> Iterator[tuple[int, int]]:
    """(marker number, where it starts) for each marker in `value`."""
    lowered = value.lower()
    at = lowered.find(prefix)
    while at >= 0:
        end = lowered.find("z", at + len(prefix))
        digits = lowered[at + len(prefix) : end]
        if end > 0 and digits.isdigit():
            yield int(digits), at
        at = lowered.find(prefix, at + 1)


def _numbers(value: str, prefix: str) -> Iterator[int]:
    return (number for number, _ in _occurrences(value, prefix))


def _paragraphs(doc: str, prefix: str) -> Iterator[tuple[str, bool]]:
    """The paragraphs holding a marker, and whether each is the last one (which may
    continue). A destination never crosses a blank line, so each is read on its own."""
    first = doc.find(prefix)
    earlier = _BLANK_LINE_BEFORE.search(doc, 0, first)
    begin = earlier.end() if earlier is not None else 0
    for blank in [*_BLANK_LINE.finditer(doc, begin), None]:
        end = blank.start() if blank is not None else len(doc)
        chunk = doc[begin:end]
        if prefix in chunk and ("](" in chunk or "]:" in chunk or "<" in chunk):
            yield chunk, blank is None
        if blank is not None:
            begin = blank.end()


def _markdown(doc: str, prefix: str) -> Iterator[tuple[int, Place]]:
    """A paragraph followed by a blank line is read as it is. The last one may go on, so
    each of its markers is read as if the text were cut right after it and closed there:
    a destination holding the marker stays one whatever follows (a title, more path)."""
    for chunk, last in _paragraphs(doc, prefix):
        ends = [
            at + chunk[at:].index("z", len(prefix)) + 1
            for _, at in _occurrences(chunk, prefix)
            if _may_be_destination(chunk, at)
        ]
        if not ends:
            continue
        last_ones = [chunk[:end] + closer for end in ends for closer in _CLOSERS]
        sources = last_ones if last else [chunk]
        for source in sources:
            for url in _destinations(source):
                for number in _numbers(url, prefix):
                    yield number, (URL, url)


_OPENERS = ("](", "]:", "<")


def _may_be_destination(chunk: str, at: int) -> bool:
    """False when no destination can hold text[at] (the parser need not be asked): a plain
    destination or autolink has no space in it, so its opener is in the word before `at`
    or just before that word; an angle destination has no line break or `>` in it."""
    start = at
    while start > 0 and not chunk[start - 1].isspace():
        start -= 1
    word = chunk[start:at]
    if any(opener in word for opener in _OPENERS):
        return True
    if chunk[:start].rstrip().endswith(("](", "]:")):
        return True
    angle = chunk.rfind("<", 0, at)
    return angle >= 0 and "\n" not in chunk[angle:at] and ">" not in chunk[angle:at]


def _destinations(source: str) -> Iterator[str]:
    env: dict = {}
    for token in _MD.parse(source, env):
        for child in token.children or ():
            if child.type == "link_open":
                yield str(child.attrGet("href") or "")
            elif child.type == "image":
                yield str(child.attrGet("src") or "")
    for reference in env.get("references", {}).values():
        yield str(reference.get("href") or "")


class _Attributes(HTMLParser):
    """Collects, for each marker, the attribute or script it was read in."""

    def __init__(self, prefix: str) -> None:
        super().__init__(convert_charrefs=True)
        self.prefix = prefix
        self.found: list[tuple[int, Place]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if not value or self.prefix not in value.lower():
                continue
            for number, at in _occurrences(value, self.prefix):
                if name in URL_ATTRIBUTES:
                    place = (URL, value)
                elif name.startswith("on") or name in _SCRIPT_ATTRIBUTES:
                    place = (URL, _SCRIPT)
                else:  # alt, title, content...: text, whose runs may still hold a URL
                    place = (TEXT, value[:at])
                self.found.append((number, place))

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        if self.cdata_elem is not None and self.prefix in data.lower():  # <script>, <style>
            self.found += [(number, (URL, _SCRIPT)) for number in _numbers(data, self.prefix)]


def _html(state: HtmlState, marked: str, prefix: str) -> Iterator[tuple[int, Place]]:
    parser = _Attributes(prefix)
    if state.cdata is not None:
        parser.set_cdata_mode(state.cdata)
    parser.feed(state.open + marked)
    yield from parser.found
    rest = parser.rawdata  # a tag (or script) still open where the text ends
    if prefix not in rest.lower():
        return
    if parser.cdata_elem is not None:
        yield from ((number, (URL, _SCRIPT)) for number in _numbers(rest, prefix))
        return
    for closer in ('">', "'>", ">"):
        tail = _Attributes(prefix)
        tail.feed(rest + closer)
        yield from tail.found
