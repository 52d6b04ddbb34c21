"""`make demo`: cogate's main job on the embedded defaults, with no cloud key and no internet.

Starts a stand-in cloud (llama.cpp's OpenAI-compatible server with the embedded SmolLM2
model) and `cogate serve` on loopback, then shows a request with personal data in `redact`
mode, a profile-laden request in `sketch` mode, and the ledger's verification.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import click
import httpx
from cogate.collab.runtime_check import ProbeResult
from cogate.proxy.servers import (
    ServerDied,
    ServerURL,
    cogate_server,
    describe_exit,
    llama_server,
    log_tail,
)

COGATE = str(Path(sys.executable).parent / "cogate")
WIDTH = min(shutil.get_terminal_size((100, 20)).columns, 100)

REDACT_REQUEST = (
    "Write a two-sentence reminder to my colleague Maria Gonzalez "
    "(maria.gonzalez@example.com, +1 415 555 0199) about Friday's budget review."
)
BLOCKED_REQUEST = "Book the hotel for Maria Gonzalez with my card 4111 1111 1111 1111."
# A CoGenesis-style request (fictitious person): profile and writing history stay local.
SKETCH_REQUEST = """## User Profile
Name: Daniel Okafor
Age: 34
Location: Leeds
Occupation: Primary school teacher
Privacy_info: recently started therapy for anxiety; saving secretly for a house deposit
Smart_device_usage: tracks sleep with a smart ring; "Okafor Family" shared calendar

## User Writing History
Task: A note about our class garden
Content: The children planted tomatoes this spring and learned to water them every morning.

## Task
Write a short blog post about teaching children to enjoy reading."""


@contextlib.contextmanager
def progress(label: str, expected_s: float) -> Iterator[None]:
    """A progress bar on stderr while something slow (a model load) happens.

    The work gives no progress of its own, so a thread advances the bar with the clock,
    stopping short of the end until the work is done.
    """
    done = threading.Event()
    start = time.monotonic()
    finished = False
    # A log file gets the final line only (click would also print the label up front).
    target = sys.stderr if sys.stderr.isatty() else io.StringIO()
    with click.progressbar(
        length=int(expected_s * 5), label=f"  {label}", file=target, width=30
    ) as bar:

        def tick() -> None:
            while not done.wait(0.2):
                if bar.pos < (bar.length or 0) - 1:
                    bar.update(1)

        thread = threading.Thread(target=tick, daemon=True)
        thread.start()
        try:
            yield
            finished = True
        finally:
            done.set()
            thread.join()
            if finished:
                bar.update((bar.length or 0) - bar.pos)
            else:  # the bar must not look complete when the work failed
                bar.render_finish()
                sys.stderr.write(f"  {label}: failed after {time.monotonic() - start:.0f}s\n")
    sys.stderr.write(f"  {label}: done in {time.monotonic() - start:.0f}s\n")


def heading(text: str) -> None:
    print("\n" + text)
    print("=" * min(len(text), WIDTH))


def block(title: str, text: str) -> None:
    print(f"\n-- {title}")
    for line in text.splitlines() or [""]:
        print(textwrap.fill(line, WIDTH, initial_indent="   ", subsequent_indent="   ") or "")


def chat(base: str, content: str, mode: str | None = None, *, check: bool = True) -> httpx.Response:
    headers = {"authorization": "Bearer sk-demo-not-a-real-key", "x-cogate-app": "demo"}
    if mode:
        headers["x-cogate-mode"] = mode
    body = {
        "model": "smollm2",
        "messages": [{"role": "user", "content": content}],
        "max_tokens": 120,
        "temperature": 0.2,
    }
    response = httpx.post(
        f"{base}/chat/completions", json=body, headers=headers, timeout=600, trust_env=False
    )
    if check:
        response.raise_for_status()
    return response


def left_the_device(data_dir: Path, audit_id: str) -> str:
    """The bytes the ledger recorded as sent upstream for one entry."""
    shown = subprocess.run(
        [COGATE, "audit", "show", audit_id, "--raw", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    try:
        body = json.loads(shown)
        messages = body.get("messages") or []
        return "\n\n".join(f"[{m.get('role')}] {m.get('content')}" for m in messages) or shown
    except ValueError:
        return shown


def show_modes(gateway: str, data_dir: Path) -> None:
    """Steps 1 and 2: a redact round trip, a refusal, and a sketch round trip."""
    heading("1. redact: personal data is replaced before it leaves, restored after")
    block("what the app sent", REDACT_REQUEST)
    with progress("waiting for the answer", 20):
        reply = chat(gateway, REDACT_REQUEST)
    audit_id = reply.headers["x-cogate-audit-id"]
    block(
        f"what left the device (ledger entry {audit_id})",
        left_the_device(data_dir, audit_id),
    )
    block(
        f"the answer the app received (mode {reply.headers['x-cogate-mode']})",
        reply.json()["choices"][0]["message"]["content"],
    )

    block("what the app sent next", BLOCKED_REQUEST)
    refused = chat(gateway, BLOCKED_REQUEST, check=False)
    block(
        f"refused by the policy, nothing left (HTTP {refused.status_code})",
        refused.json()["error"]["message"],
    )

    heading("2. sketch: the profile stays on the device; the cloud writes an outline")
    block("what the app sent", SKETCH_REQUEST)
    with progress("cloud outline, then the local model writes the answer", 60):
        reply = chat(gateway, SKETCH_REQUEST, mode="sketch")
    audit_id = reply.headers["x-cogate-audit-id"]
    block(
        f"what left the device (ledger entry {audit_id})",
        left_the_device(data_dir, audit_id),
    )
    block(
        f"the answer the app received (mode {reply.headers['x-cogate-mode']}, written locally)",
        reply.json()["choices"][0]["message"]["content"],
    )


def explain_failure(error: Exception, servers: list[ServerURL]) -> str:
    """Which process died, how, and its last log lines, instead of a client traceback."""
    lines = [f"demo failed: {type(error).__name__}: {str(error).splitlines()[0]}"]
    if isinstance(error, httpx.HTTPStatusError):
        lines.append(f"the gateway answered: {error.response.text[:500]}")
    died: list[ServerDied] = [error] if isinstance(error, ServerDied) else []
    for server in servers:
        code = server.proc.poll()
        if code is not None:
            died.append(ServerDied(server.name, server.pid, code, server.log))
    for dead in died:
        lines.append(f"\n{dead.name} (pid {dead.pid}) {describe_exit(dead.returncode)}")
        if dead.returncode < 0:
            lines.append(ProbeResult(dead.returncode, "").explain())
        lines.append(f"last lines of its log ({dead.log}):\n{textwrap.indent(dead.tail, '   ')}")
    if not died:
        for server in servers:
            tail = textwrap.indent(log_tail(server.log, 10), "   ")
            lines.append(f"\n{server.name} (pid {server.pid}) is running; its log:\n{tail}")
    return "\n".join(lines)


def main() -> None:
    print("cogate demo: a local privacy gateway in front of an OpenAI-compatible API")
    print("(the 'cloud' here is llama.cpp's server with SmolLM2-135M on loopback)\n")
    with tempfile.TemporaryDirectory(prefix="cogate-demo-") as tmp:
        work = Path(tmp)
        data_dir = work / "data"
        servers: list[ServerURL] = []
        with contextlib.ExitStack() as stack:
            try:
                with progress("starting the stand-in cloud (llama.cpp + SmolLM2)", 15):
                    servers.append(stack.enter_context(llama_server(work)))
                with progress("starting cogate (policy, spaCy, local model, ledger)", 25):
                    servers.append(
                        stack.enter_context(cogate_server(work, servers[0], data_dir=data_dir))
                    )
                show_modes(servers[1], data_dir)
            except (ServerDied, httpx.HTTPError) as exc:
                # Read the processes' state before the stack stops them.
                print(explain_failure(exc, servers), file=sys.stderr)
                sys.exit(1)

        heading("3. the ledger: every egress recorded, hash-chained and signed")
        verify = subprocess.run(
            [COGATE, "audit", "verify", "--data-dir", str(data_dir)], capture_output=True, text=True
        )
        print(verify.stdout.strip() or verify.stderr.strip())
        print(f"\n`cogate audit verify` exit code: {verify.returncode} (0 = intact)")
        if verify.returncode != 0:
            sys.exit(verify.returncode)


if __name__ == "__main__":
    main()
