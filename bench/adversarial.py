"""Adversarial suite of issue 13: leaks by class through the shipped default policy.

Cases (bench/adversarial_cases.py) are run through the privacy engine as the gateway runs it
(`cogate.policies.Privacy` on the default policy; the outbound body is what a recording
upstream would receive), sketch cases through the sketch runner's preparation (what it
would send), and stream cases end to end: `cogate serve` in front of an upstream that
sends oversized SSE events, with the gateway's health probed meanwhile. Prints leaks by
class, class 5's share caught, and precision on a set of texts with no personal data.

The URL-restore forms of issue 25 (bench/adversarial_urls.py) follow: placeholders an
upstream puts in URLs, on Chat Completions, Responses and Messages, whole and streamed.

Run: .venv/bin/python bench/adversarial.py [--json FILE] [--skip-stream] [--skip-urls] [-v]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import adversarial_urls  # noqa: E402
from adversarial_cases import ALL, NO_PII, Case  # noqa: E402
from adversarial_wire import CLASS_10  # noqa: E402

NAMES = {
    1: "numbers in JSON",
    2: "secrets in config text",
    3: "separators and splits",
    4: "unscanned fields",
    5: "recognition misses",
    6: "sketch sends private facts",
    7: "restoring typed placeholders",
    8: "over-redaction",
    9: "upstream stalls gateway",
    10: "wire API fields (Responses, Messages)",
}
EVENT_CAP = 1 << 20  # the default cap on one SSE event
STALL_S = 1.0  # a health probe slower than this while a stream is restored is a stall


def engine(data: Path):
    from cogate.core.settings import Settings
    from cogate.policies.privacy import Privacy

    return Privacy(Settings(data_dir=data, upstream="https://api.openai.com/v1"))


def send(
    privacy, body: dict[str, Any], conversation: str | None = None, route: str = "chat/completions"
):
    """(blocked, what would leave as JSON text, the exchange)."""
    from cogate.core.errors import GatewayError
    from cogate.proxy.surfaces import exchange_for

    ex = exchange_for(route, body, app="bench", conversation=conversation)
    try:
        privacy.resolve(ex)
        privacy.sanitize(ex)
    except GatewayError:
        return True, "", ex
    return False, json.dumps(ex.outbound_body, ensure_ascii=False), ex


def leaked(outbound: str, tells: tuple[str, ...]) -> bool:
    return any(tell in outbound for tell in tells)


def run_engine_case(privacy, case: Case) -> tuple[bool, str]:
    """(leaked, detail) for text, parts, body and keep cases."""
    if case.kind == "text":
        body = {"model": "gpt-4o", "messages": [{"role": "user", "content": case.payload}]}
    elif case.kind == "parts":
        parts = [{"type": "text", "text": piece} for piece in case.payload]
        body = {"model": "gpt-4o", "messages": [{"role": "user", "content": parts}]}
    else:
        body = case.payload if case.kind == "body" else None
    if case.kind == "keep":
        body = {"model": "gpt-4o", "messages": [{"role": "user", "content": case.payload}]}
        blocked, outbound, _ = send(privacy, body)
        if case.extra.get("absent"):  # the tells are what must NOT appear (a wrong type)
            lost = [word for word in case.tells if word in outbound]
        else:
            lost = [word for word in case.tells if word not in outbound]
        return blocked or bool(lost), "blocked" if blocked else f"replaced {lost}" if lost else ""
    blocked, outbound, _ = send(privacy, body, route=case.extra.get("route", "chat/completions"))
    if blocked:
        return False, "blocked"
    found = [tell for tell in case.tells if tell in outbound]
    return bool(found), f"left: {found}" if found else "redacted"


def run_restore_case(privacy, case: Case, index: int) -> tuple[bool, str]:
    conversation = f"bench-restore-{index}"
    first = "My name is Margaret Thornbury, email margaret@thornbury.example.com."
    send(
        privacy, {"model": "gpt-4o", "messages": [{"role": "user", "content": first}]}, conversation
    )
    body = {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": first},
            {"role": "assistant", "content": "Noted."},
            {"role": "user", "content": case.payload},
        ],
    }
    blocked, _, ex = send(privacy, body, conversation)
    if blocked:
        return False, "blocked"
    echoed = ex.outbound_body["messages"][-1]["content"]
    if not isinstance(echoed, str):
        echoed = json.dumps(echoed)
    reply = {"choices": [{"index": 0, "message": {"role": "assistant", "content": echoed}}]}
    restored = ex.restorer.restore_json(reply)["choices"][0]["message"]["content"]
    found = [t for t in case.tells if t in restored and t not in case.payload]
    return bool(found), f"restored {found}" if found else "literal kept"


def run_sketch_case(privacy, case: Case) -> tuple[bool, str]:
    from cogate.collab.sketch import SketchRunner
    from cogate.core.errors import GatewayError
    from cogate.proxy.surfaces import exchange_for

    profile, task = case.payload
    messages = [{"role": "user", "content": f"{profile}\n{task}" if profile else task}]
    ex = exchange_for("chat/completions", {"model": "gpt-4o", "messages": messages})
    privacy.resolve(ex)
    ex.mode = "sketch"
    try:
        prepared = asyncio.run(SketchRunner(None, privacy).prepare(ex))  # type: ignore[arg-type]
    except GatewayError:
        return False, "refused"
    outbound = json.dumps(prepared.body, ensure_ascii=False)
    found = [t for t in case.tells if t.lower() in outbound.lower()]
    return bool(found), f"left: {found}" if found else "kept local"


# -- class 9: an upstream that sends oversized events ---------------------------------------

SSE_SPEC: dict[str, Any] = {}


async def sse_app(scope, receive, send) -> None:
    """Upstream: answers every POST with the events described in its request's `metadata`."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    spec = (json.loads(body or b"{}").get("metadata") or {}) if scope["method"] == "POST" else {}
    size = int(float(spec.get("event_mib", 0.01)) * (1 << 20))
    filler = "[" if spec.get("placeholder_run") else "a"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream")],
        }
    )
    for _ in range(int(spec.get("events", 1))):
        event = {
            "id": "x",
            "object": "chat.completion.chunk",
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": filler * size}, "finish_reason": None}],
        }
        data = f"data: {json.dumps(event)}\n\n".encode()
        await send({"type": "http.response.body", "body": data, "more_body": True})
    await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})


def run_stream_cases(cases: list[Case], workdir: Path) -> list[tuple[bool, str]]:
    import subprocess

    import httpx
    from cogate.proxy.servers import cogate_server, free_port, stop, wait_ready

    port = free_port()
    log = workdir / "sse-upstream.log"
    with log.open("wb") as out:
        upstream = subprocess.Popen(
            [sys.executable, __file__, "--sse-upstream", str(port)], stdout=out, stderr=out
        )
    results = []
    try:
        base = f"http://127.0.0.1:{port}/v1"
        wait_ready(f"{base}/models", upstream, log)
        policy = workdir / "policy.yaml"
        policy.write_text("mode: redact\n")
        with cogate_server(workdir, base, args=["--policy", str(policy)]) as gateway:
            for case in cases:
                results.append(_one_stream(httpx, str(gateway), case))
    finally:
        stop(upstream)
    return results


def _one_stream(httpx, gateway: str, case: Case) -> tuple[bool, str]:
    health = gateway.rsplit("/v1", 1)[0] + "/cogate/health"
    worst = [0.0]
    done = threading.Event()

    def probe() -> None:
        with httpx.Client(trust_env=False, timeout=120) as client:
            while not done.is_set():
                t0 = time.perf_counter()
                client.get(health)
                worst[0] = max(worst[0], time.perf_counter() - t0)
                time.sleep(0.05)

    thread = threading.Thread(target=probe, daemon=True)
    body = {
        "model": "m",
        "stream": True,
        # A private value switches restoring on: the stream is then parsed event by event,
        # which is what a hostile upstream attacks (a stream with nothing to restore is
        # relayed byte for byte, unparsed, and costs the gateway nothing).
        "messages": [{"role": "user", "content": "hello, I am Margaret Thornbury"}],
        "metadata": {k: str(v) for k, v in case.payload.items()},
    }
    biggest, error_event, t0 = 0, False, time.perf_counter()
    thread.start()
    try:
        with (
            httpx.Client(trust_env=False, timeout=300) as client,
            client.stream("POST", f"{gateway}/chat/completions", json=body) as reply,
        ):
            for line in reply.iter_lines():
                if line.startswith("data:"):
                    biggest = max(biggest, len(line))
                    error_event |= '"error"' in line[:200]
            status = reply.status_code
    finally:
        done.set()
        thread.join()
    total = time.perf_counter() - t0
    over_cap = case.payload["event_mib"] * (1 << 20) > EVENT_CAP
    relayed_over_cap = over_cap and biggest > EVENT_CAP
    stalled = worst[0] > STALL_S
    detail = (
        f"{case.note}: status {status}, {total:.1f} s, worst health probe {worst[0]:.2f} s, "
        f"largest event relayed {biggest / (1 << 20):.2f} MiB, error event {error_event}"
    )
    return stalled or relayed_over_cap, detail


def precision(privacy) -> dict[str, Any]:
    detector = privacy.detector(privacy.policy)
    flagged, by_type, chars = 0, defaultdict(int), 0
    for text in NO_PII:
        spans = detector.detect(text)
        chars += len(text)
        flagged += bool(spans)
        for span in spans:
            by_type[span.entity_type] += 1
    # Source code as an agent sends it: the project's own ledger package, in 2 KB blocks.
    code_findings, code_chars, code_types = 0, 0, defaultdict(int)
    for path in sorted((REPO / "audit").glob("*.py")):
        source = path.read_text()
        for at in range(0, len(source), 2048):
            block = source[at : at + 2048]
            code_chars += len(block)
            for span in detector.detect(block):
                code_findings += 1
                code_types[span.entity_type] += 1
    return {
        "code_chars": code_chars,
        "code_findings": code_findings,
        "code_by_type": dict(code_types),
        "texts": len(NO_PII),
        "texts_unchanged": len(NO_PII) - flagged,
        "false_findings": sum(by_type.values()),
        "false_by_type": dict(by_type),
        "chars": chars,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--skip-stream", action="store_true", help="skip the class 9 cases")
    parser.add_argument("--skip-urls", action="store_true", help="skip the URL-restore forms")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every leak")
    parser.add_argument("--classes", help="run only these classes (comma-separated numbers)")
    parser.add_argument("--sse-upstream", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sse_upstream:
        import uvicorn

        uvicorn.run(sse_app, host="127.0.0.1", port=args.sse_upstream, log_level="warning")
        return
    work = Path(tempfile.mkdtemp(prefix="cogate-adversarial-"))
    privacy = engine(work / "data")
    outcomes: dict[int, list[tuple[bool, str, Case]]] = defaultdict(list)
    chosen = {int(c) for c in args.classes.split(",")} if args.classes else None
    cases = [c for c in ALL + CLASS_10 if chosen is None or c.leak_class in chosen]
    stream_cases = [c for c in cases if c.kind == "stream"]
    for index, case in enumerate(cases):
        if case.kind == "stream":
            continue
        if case.kind == "restore":
            leak, detail = run_restore_case(privacy, case, index)
        elif case.kind == "sketch":
            leak, detail = run_sketch_case(privacy, case)
        else:
            leak, detail = run_engine_case(privacy, case)
        outcomes[case.leak_class].append((leak, detail, case))
    if not args.skip_stream and stream_cases:
        for case, (leak, detail) in zip(
            stream_cases, run_stream_cases(stream_cases, work), strict=True
        ):
            outcomes[9].append((leak, detail, case))
    urls = None if args.skip_urls else adversarial_urls.run(work)
    report(outcomes, precision(privacy), args, urls)


def report(outcomes, prec: dict[str, Any], args, urls: dict[str, Any] | None = None) -> None:
    total = sum(len(v) for v in outcomes.values())
    print(f"adversarial suite: {total} cases, default policy")
    print(f"{'class':<34} {'cases':>5} {'leaks':>5} {'caught':>7}")
    figures: dict[str, Any] = {"classes": {}, "precision": prec}
    for cls in sorted(outcomes):
        rows = outcomes[cls]
        leaks = sum(leak for leak, _, _ in rows)
        caught = 1 - leaks / len(rows)
        label = f"{cls}. {NAMES[cls]}"
        print(f"{label:<34} {len(rows):>5} {leaks:>5} {caught:>7.1%}")
        figures["classes"][cls] = {"cases": len(rows), "leaks": leaks, "caught": round(caught, 3)}
        held = [leak for leak, _, case in rows if case.note == "held out"]
        if held:
            print(
                f"    held out (written after tuning): {len(held) - sum(held)}/{len(held)} caught"
            )
            figures["classes"][cls]["held_out"] = {"cases": len(held), "leaks": sum(held)}
        for leak, detail, case in rows:
            if (leak and args.verbose) or case.kind == "stream":
                shown = str(case.payload)[:70].replace("\n", " ")
                shown = case.note if case.kind == "stream" else shown
                print(f"    {'LEAK' if leak else 'ok  '} {shown!r}: {detail}")
    print(
        f"no-PII set: {prec['texts_unchanged']}/{prec['texts']} texts unchanged "
        f"({prec['texts_unchanged'] / prec['texts']:.1%}), {prec['false_findings']} false "
        f"findings in {prec['chars']} chars {prec['false_by_type']}"
    )
    per_10k = prec["code_findings"] / max(prec["code_chars"], 1) * 10_000
    print(
        f"source code (audit/*.py, {prec['code_chars']} chars): {prec['code_findings']} findings "
        f"({per_10k:.1f} per 10k chars) {prec['code_by_type']}"
    )
    if urls is not None:  # issue 25: URL-restore forms
        adversarial_urls.report(urls, args.verbose)
        figures["url_restore"] = {k: v for k, v in urls.items() if k != "runs"}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
