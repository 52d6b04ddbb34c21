"""Start-up time and resident memory of `cogate serve`.

Starts the gateway (forwarding to an unreachable upstream: the answers are 502s, the
redaction before them is real), then measures: seconds until /cogate/health answers,
seconds until a first redacted English request is answered, the same for a first request
in other languages (French, German, names of other countries and scripts), and the
resident memory summed over the gateway's processes (the NER worker included) after each.

Run: .venv/bin/python bench/startup.py [--rounds N]
To compare two trees, run it with each tree's own virtual environment.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ENGLISH = "Mail Mark Jones at mark.jones@example.com about the Q3 report; phone 415-555-0134."
OTHER_LANGUAGES = (
    "Bonjour, je m'appelle Camille Fournier et j'habite 14 rue des Lilas, 75011 Paris. "
    "Bitte schick die Unterlagen an Lukas Becker, Steuer-ID 65 929 970 489. "
    "Напишите Олександру Шевченку."
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def resident_mib(pid: int) -> tuple[int, int]:
    """(MiB resident, process count) over the gateway's process group."""
    members = subprocess.run(
        ["pgrep", "-g", str(os.getpgid(pid))], capture_output=True, text=True
    ).stdout.split()
    total = 0
    for member in members:
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total // 1024, len(members)


def ask(port: int, text: str) -> int:
    body = {"model": "m", "messages": [{"role": "user", "content": text}]}
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    return httpx.post(url, json=body, timeout=300).status_code


def one_start() -> dict[str, float]:
    cogate = str(Path(sys.executable).parent / "cogate")
    port = free_port()
    data = tempfile.mkdtemp(prefix="cogate-startup-")
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", data]
    args += ["--upstream", "http://127.0.0.1:9/v1"]
    began = time.perf_counter()
    proc = subprocess.Popen(
        [cogate, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/cogate/health", timeout=1).status_code:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
            if time.perf_counter() - began > 300 or proc.poll() is not None:
                raise SystemExit("cogate serve did not start")
        figures = {"health_s": time.perf_counter() - began}
        figures["rss_health_mib"], _ = resident_mib(proc.pid)
        ask(port, ENGLISH)
        figures["first_english_s"] = time.perf_counter() - began
        figures["rss_english_mib"], _ = resident_mib(proc.pid)
        mark = time.perf_counter()
        ask(port, OTHER_LANGUAGES)
        figures["first_other_s"] = time.perf_counter() - mark
        figures["rss_other_mib"], figures["processes"] = resident_mib(proc.pid)
        return figures
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    runs = [one_start() for _ in range(args.rounds)]
    for key in runs[0]:
        values = [run[key] for run in runs]
        shown = " ".join(f"{v:.1f}" for v in values)
        print(f"{key:<18} median {statistics.median(values):8.1f}   runs {shown}")


if __name__ == "__main__":
    main()
