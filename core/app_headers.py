"""The app's own request headers that go upstream with every surface, each held to its shape.

`OpenAI-Organization` and `OpenAI-Project` bill the right account, `OpenAI-Beta` opts into a
beta API, OpenRouter's `HTTP-Referer` and `X-Title` name the app, and `User-Agent` is the
app's, not the gateway's. A header is a field that leaves the device like the body: an
identifier shape cannot carry free text, a title is scanned like any text (the privacy
engine's resolve stage, `SCANNED`), and anything outside its shape is refused (400 naming the
header), never forwarded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from cogate.core.errors import BadRequest

# header (lower case) -> (shape, what the shape is, for the error)
SHAPES: dict[str, tuple[re.Pattern[str], str]] = {
    "openai-organization": (re.compile(r"org-[A-Za-z0-9_-]{1,64}"), "an organization id, org-…"),
    "openai-project": (re.compile(r"proj_[A-Za-z0-9_-]{1,64}"), "a project id, proj_…"),
    "openai-beta": (
        re.compile(r"[a-z0-9_.-]+(=[a-z0-9_.-]+)?(, ?[a-z0-9_.-]+(=[a-z0-9_.-]+)?){0,7}"),
        "comma-separated feature flags such as assistants=v2",
    ),
    "http-referer": (
        re.compile(r"https?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?/?"),
        "the app's origin, a URL such as https://myapp.example (no path or query)",
    ),
    "x-title": (
        re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._:()&'+-]{0,63}"),
        "a short app name (64 letters, digits, spaces and . _ : ( ) & ' + -)",
    ),
    "user-agent": (
        re.compile(r"[\x20-\x7e]{1,256}"),
        "printable ASCII, at most 256 characters",
    ),
}
# Free text (an app name) that the privacy engine scans before it may leave.
SCANNED = ("x-title",)


def app_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The app headers a request carries, each checked against its shape."""
    out: dict[str, str] = {}
    for name, (shape, what) in SHAPES.items():
        value = headers.get(name)
        if value is None:
            continue
        if not shape.fullmatch(value):
            raise BadRequest(
                f"header {name} must be {what}; cogate forwards it upstream only in that "
                "shape, so remove it or send that form",
                param=name,
            )
        out[name] = value
    return out
