"""Leakage by mode: the share of a user's private items found in what would leave the device.

For CoGenesis samples in two request layouts (`sections`: one message with `## User Profile`
/ `## User Writing History` / `## Task`; `system`: profile in the system message, task as the
user turn) it builds the outbound payload of each mode with the real privacy engine and the
real sketch preparation (no cloud is needed: only what would be sent is measured):

    passthrough (ceiling) · redact · sketch with each instruction reduction · local (nothing)

and, as the floor, the bare task text. Private items: the name (full, first, last), the city,
quoted strings of Privacy_info/Smart_device_usage, and each clause of those fields (leaked
when at least half of its content words appear in one outbound sentence).

    .venv/bin/python bench/leakage.py --limit 150 --reductions none,title
    .venv/bin/python bench/leakage.py --limit 30 --reductions rewrite --plot bench/leakage.png
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CATEGORIES = ("name_full", "name_first", "name_last", "city", "quoted", "clauses")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="first N samples (default all 150)")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--layouts", default="sections,system")
    parser.add_argument(
        "--reductions",
        default="none,title",
        help="sketch instruction reductions: none,title,rewrite",
    )
    parser.add_argument("--plot", type=Path, help="write a PNG bar chart of leakage by mode")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    parser.add_argument("--threads", type=int, default=1, help="local model threads (rewrite)")
    return parser.parse_args(argv)


async def measure(args: argparse.Namespace) -> dict[str, dict[str, dict[str, list[int]]]]:
    from cogate.collab import SketchRunner
    from cogate.collab.cogenesis import (
        leaks,
        load_samples,
        payload_texts,
        private_items,
        request_messages,
        task_of,
    )
    from cogate.collab.runtime import LocalModel
    from cogate.core.exchange import Exchange
    from cogate.core.settings import Settings
    from cogate.policies import Privacy
    from cogate.proxy.surfaces import exchange_for

    settings = Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="cogate-leak-")), local_threads=args.threads
    )
    privacy = Privacy(settings)
    reductions = [r for r in args.reductions.split(",") if r]
    model = LocalModel(settings) if "rewrite" in reductions else None
    runners = {r: SketchRunner(model, privacy, reduction=r) for r in reductions}  # type: ignore[arg-type]
    samples = load_samples(args.data, args.limit)
    # figures[layout][system][category] = [leaked, total]
    figures: dict[str, dict[str, dict[str, list[int]]]] = {}

    def new_exchange(messages: list[dict[str, str]], mode: str) -> Exchange:
        ex = exchange_for("chat/completions", {"model": "cloud", "messages": messages})
        privacy.resolve(ex)
        ex.mode = mode
        return ex

    for layout in args.layouts.split(","):
        table = figures.setdefault(layout, {})

        def add(system: str, found: dict[str, tuple[int, int]], table=table) -> None:
            row = table.setdefault(system, {c: [0, 0] for c in CATEGORIES})
            for category, (hit, total) in found.items():
                row[category][0] += hit
                row[category][1] += total

        started = time.perf_counter()
        for index, sample in enumerate(samples):
            items = private_items(sample)
            messages = request_messages(sample, layout)
            add("bare task (floor)", leaks(items, [task_of(sample)]))
            add("passthrough", leaks(items, payload_texts({"messages": messages})))
            ex = new_exchange(messages, "redact")
            await asyncio.to_thread(privacy.sanitize, ex)
            add("redact", leaks(items, payload_texts(ex.outbound_body)))
            for reduction, runner in runners.items():
                ex = new_exchange(messages, "sketch")
                prepared = await runner.prepare(ex)
                # A sensitive task answered on the device sends nothing (body None).
                sent = payload_texts(prepared.body) if prepared.body is not None else []
                add(f"sketch ({reduction})", leaks(items, sent))
                outcome = getattr(prepared, "screened", None)
                key = f"{layout} / sketch ({reduction}): {getattr(outcome, 'outcome', None)}"
                SENSITIVE[key] = SENSITIVE.get(key, 0) + 1
            add("local", leaks(items, []))
            if (index + 1) % 10 == 0:
                rate = (time.perf_counter() - started) / (index + 1)
                print(
                    f"  {layout}: {index + 1}/{len(samples)} samples ({rate:.1f}s each)",
                    file=sys.stderr,
                )
    return figures


# Sensitive-task outcomes of the sketch runs (`None`: nothing sensitive in the task).
SENSITIVE: dict[str, int] = {}


def share(cell: list[int]) -> float:
    return cell[0] / cell[1] if cell[1] else 0.0


def report(figures: dict[str, dict[str, dict[str, list[int]]]], n: int) -> str:
    lines = [f"leakage on {n} CoGenesis samples: share of private items found in what leaves", ""]
    for layout, table in figures.items():
        lines.append(f"layout `{layout}`")
        lines.append("")
        header = "| mode | " + " | ".join(CATEGORIES) + " |"
        lines += [header, "|" + "---|" * (len(CATEGORIES) + 1)]
        for system, row in table.items():
            cells = " | ".join(f"{share(row[c]):.1%} ({row[c][0]}/{row[c][1]})" for c in CATEGORIES)
            lines.append(f"| {system} | {cells} |")
        lines.append("")
    return "\n".join(lines)


def targets(figures: dict[str, dict[str, dict[str, list[int]]]]) -> list[str]:
    """The issue's targets for sketch mode, checked per layout and reduction."""
    out = []
    for layout, table in figures.items():
        floor = share(table["bare task (floor)"]["clauses"])
        for system, row in table.items():
            if not system.startswith("sketch"):
                continue
            identifying = sum(
                row[c][0] for c in ("name_full", "name_first", "name_last", "city", "quoted")
            )
            clauses = share(row["clauses"])
            ok = identifying == 0 and clauses < floor
            out.append(
                f"{layout} / {system}: names+cities+quoted leaked {identifying}, clauses "
                f"{clauses:.2%} vs floor {floor:.2%} -> {'MET' if ok else 'NOT MET'}"
            )
    return out


# A PNG bar chart without a plotting library (none is a dependency): a 5x7 pixel font,
# filled rectangles and zlib.
_FONT = {
    "A": "0E 11 11 1F 11 11 11",
    "B": "1E 11 11 1E 11 11 1E",
    "C": "0E 11 10 10 10 11 0E",
    "D": "1E 11 11 11 11 11 1E",
    "E": "1F 10 10 1E 10 10 1F",
    "F": "1F 10 10 1E 10 10 10",
    "G": "0E 11 10 17 11 11 0F",
    "H": "11 11 11 1F 11 11 11",
    "I": "0E 04 04 04 04 04 0E",
    "J": "07 02 02 02 02 12 0C",
    "K": "11 12 14 18 14 12 11",
    "L": "10 10 10 10 10 10 1F",
    "M": "11 1B 15 15 11 11 11",
    "N": "11 11 19 15 13 11 11",
    "O": "0E 11 11 11 11 11 0E",
    "P": "1E 11 11 1E 10 10 10",
    "Q": "0E 11 11 11 15 12 0D",
    "R": "1E 11 11 1E 14 12 11",
    "S": "0F 10 10 0E 01 01 1E",
    "T": "1F 04 04 04 04 04 04",
    "U": "11 11 11 11 11 11 0E",
    "V": "11 11 11 11 11 0A 04",
    "W": "11 11 11 15 15 15 0A",
    "X": "11 11 0A 04 0A 11 11",
    "Y": "11 11 11 0A 04 04 04",
    "Z": "1F 01 02 04 08 10 1F",
    "0": "0E 11 13 15 19 11 0E",
    "1": "04 0C 04 04 04 04 0E",
    "2": "0E 11 01 02 04 08 1F",
    "3": "1F 02 04 02 01 11 0E",
    "4": "02 06 0A 12 1F 02 02",
    "5": "1F 10 1E 01 01 11 0E",
    "6": "06 08 10 1E 11 11 0E",
    "7": "1F 01 02 04 08 08 08",
    "8": "0E 11 11 0E 11 11 0E",
    "9": "0E 11 11 0F 01 02 0C",
    " ": "00 00 00 00 00 00 00",
    "%": "18 19 02 04 08 13 03",
    "(": "02 04 08 08 08 04 02",
    ")": "08 04 02 02 02 04 08",
    ".": "00 00 00 00 00 0C 0C",
    "/": "00 01 02 04 08 10 00",
    "-": "00 00 00 1F 00 00 00",
    "+": "00 04 04 1F 04 04 00",
    ":": "00 0C 0C 00 0C 0C 00",
    "_": "00 00 00 00 00 00 1F",
    ",": "00 00 00 00 0C 04 08",
}
_COLOURS = [(66, 133, 244), (234, 67, 53), (251, 188, 5), (52, 168, 83), (154, 96, 196)]


class _Canvas:
    """An RGB pixel buffer with rectangles and a 5x7 pixel font, saved as PNG."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(b"\xff" * (width * height * 3))

    def rect(self, x0: int, y0: int, x1: int, y1: int, colour: tuple[int, int, int]) -> None:
        for y in range(max(0, y0), min(self.height, y1)):
            row = y * self.width * 3
            for x in range(max(0, x0), min(self.width, x1)):
                self.pixels[row + 3 * x : row + 3 * x + 3] = bytes(colour)

    def text(self, x: int, y: int, label: str, colour=(0, 0, 0), size: int = 2) -> None:
        for char in label.upper():
            rows = _FONT.get(char, _FONT[" "]).split()
            for dy, bits in enumerate(rows):
                value = int(bits, 16)
                for dx in range(5):
                    if value & (1 << (4 - dx)):
                        x0, y0 = x + dx * size, y + dy * size
                        self.rect(x0, y0, x0 + size, y0 + size, colour)
            x += 6 * size

    def save(self, path: Path) -> None:
        import struct
        import zlib

        width, height = self.width, self.height
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * width * 3 : (y + 1) * width * 3]) for y in range(height)
        )

        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            crc = struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
            return struct.pack(">I", len(data)) + body + crc

        header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        path.write_bytes(
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b"")
        )


def bar_chart(path: Path, title: str, groups: list[str], series: dict[str, list[float]]) -> None:
    """Grouped bars (values in percent) with labels, written as an RGB PNG."""
    bar_w, gap = 16, 28
    width = 120 + len(groups) * (len(series) * bar_w + gap)
    height = 520
    top, bottom = 70, 400  # plot area rows
    canvas = _Canvas(width, height)
    canvas.text(20, 20, title)
    canvas.rect(80, top, 81, bottom, (0, 0, 0))
    canvas.rect(80, bottom, width - 20, bottom + 1, (0, 0, 0))
    for tick in (0, 25, 50, 75, 100):
        y = bottom - (bottom - top) * tick // 100
        canvas.rect(76, y, width - 20, y + 1, (225, 225, 225) if tick else (0, 0, 0))
        canvas.text(20, y - 7, f"{tick}%")
    x = 100
    for index, group in enumerate(groups):
        start = x
        for number, values in enumerate(series.values()):
            value = max(0.0, min(100.0, values[index]))
            y = bottom - int((bottom - top) * value / 100)
            colour = _COLOURS[number % len(_COLOURS)]
            canvas.rect(x, min(y, bottom - 1), x + bar_w - 2, bottom, colour)
            canvas.text(x, y - 12, f"{value:.0f}", size=1)
            x += bar_w
        label_y = bottom + 10
        for word in group.split():  # one word a line under the group
            canvas.text(start, label_y, word, size=1)
            label_y += 10
        x += gap
    legend_y = height - 60
    for number, name in enumerate(series):
        y = legend_y + 14 * number
        canvas.rect(20, y, 30, y + 10, _COLOURS[number % len(_COLOURS)])
        canvas.text(36, y + 2, name, size=1)
    canvas.save(path)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    figures = asyncio.run(measure(args))
    n = len(json.loads((args.data / "cogenesis-context-aware-dev.json").read_text())[: args.limit])
    print(report(figures, n))
    print("\n".join(targets(figures)))
    print("sensitive-task outcomes (samples):")
    print("\n".join(f"  {key}: {count}" for key, count in sorted(SENSITIVE.items())))
    print(f"\n({time.perf_counter() - started:.0f}s)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    if args.plot:
        groups = list(next(iter(figures.values())))
        series = {
            f"{layout}: clauses": [100 * share(table[g]["clauses"]) for g in groups]
            for layout, table in figures.items()
        }
        series.update(
            {
                f"{layout}: names, cities, quoted": [
                    100
                    * sum(
                        table[g][c][0]
                        for c in ("name_full", "name_first", "name_last", "city", "quoted")
                    )
                    / max(
                        1,
                        sum(
                            table[g][c][1]
                            for c in ("name_full", "name_first", "name_last", "city", "quoted")
                        ),
                    )
                    for g in groups
                ]
                for layout, table in figures.items()
            }
        )
        bar_chart(args.plot, "LEAKAGE BY MODE (% OF PRIVATE ITEMS)", groups, series)
        print(f"plot written to {args.plot}")


if __name__ == "__main__":
    main()
