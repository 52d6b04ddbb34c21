"""Span diff: which gold spans of bench/detection.py one tree's engine finds and another's does not.

`bench/detection.py` prints figures; this names the spans behind a change of figure. Each
tree's engine is run by that tree's interpreter (its venv's editable install decides which
`cogate` is imported), its predicted spans dumped to JSON, and the two dumps compared under
detection.py's own matching rules: the cogate figures of both trees, then every gold span
(presidio-research) or profile occurrence (CoGenesis) that one tree covers and the other not.

Run: .venv/bin/python bench/span_diff.py --against /work/wt/base/.venv/bin/python
     [--data DIR] [--limit N] [--this-json F] [--other-json F] [--dump F]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import detection  # noqa: E402  (scoring rules shared with bench/detection.py)

Span = tuple[str, int, int]


def load_data(data: Path, limit: int, n_cogenesis: int) -> tuple[list, list]:
    research = json.loads((data / "presidio-research-generated-large.json").read_text())
    cogenesis = json.loads((data / "cogenesis-context-aware-dev.json").read_text())
    return research[:limit] if limit else research, cogenesis[:n_cogenesis]


def dump(research: list, cogenesis: list) -> dict:
    """This interpreter's cogate spans on every text detection.py scores."""
    import cogate.policies

    detect = detection.cogate_engine()
    positives, negatives = detection.secret_samples()
    return {
        "cogate": str(Path(cogate.policies.__file__).parent),
        "research": [detect(s["full_text"]) for s in research],
        "cogenesis": [detect(detection.cogenesis_prompt(s)) for s in cogenesis],
        "secrets": [detect(t) for t in [*positives, *negatives]],
    }


def replay(spans: list) -> Callable[[str], list[Span]]:
    """A detector answering from a dump, for detection.py's scorers (they call it in order)."""
    it: Iterator = iter(spans)
    return lambda _text: [tuple(s) for s in next(it)]


def figures(d: dict, research: list, cogenesis: list) -> dict[str, float]:
    positives, negatives = detection.secret_samples()
    out: dict[str, float] = {}
    for kind, row in detection.score_dataset(research, replay(d["research"])).items():
        out |= {f"{kind} {m}": row[m] for m in ("precision", "recall", "covered")}
    cg = detection.score_cogenesis(cogenesis, replay(d["cogenesis"]))
    out |= {"CoGenesis name recall": cg["name"], "CoGenesis location recall": cg["location"]}
    sec = detection.score_secrets(replay(d["secrets"]), positives, negatives)
    out |= {"secrets recall": sec["recall"], "secrets false alarms": -sec["false_alarms"]}
    return out


def gold_hits(sample: dict, pred: list) -> list[tuple[Span, bool, bool]]:
    """(gold span, found under its own type, covered under any type), as detection.py counts."""
    out = []
    for s in sample["spans"]:
        kind = detection.GOLD_MAP.get(s["entity_type"], s["entity_type"])
        gold = (s["start_position"], s["end_position"])
        need = (gold[1] - gold[0]) / 2
        typed = any(p[0] == kind and detection.overlap(gold, p[1:]) >= need for p in pred)
        covered = sum(detection.overlap(gold, p[1:]) for p in pred) >= need
        out.append(((kind, *gold), typed, covered))
    return out


def cogenesis_hits(sample: dict, pred: list) -> list[tuple[str, str, int, bool]]:
    text = detection.cogenesis_prompt(sample)
    spans = [(s, e) for _, s, e in pred]
    out = []
    for kind, values in detection.profile_items(sample["additional_profile"]).items():
        for value in values:
            pos = text.find(value)
            while pos >= 0:
                hit = sum(detection.overlap((pos, pos + len(value)), s) for s in spans)
                out.append((kind, value, pos, hit >= len(value)))
                pos = text.find(value, pos + len(value))
    return out


def near(pred: list, start: int, end: int) -> str:
    return ", ".join(f"{p[0]}[{p[1]}:{p[2]}]" for p in pred if p[1] < end + 1 and p[2] > start - 1)


def diff_research(this: dict, other: dict, research: list) -> list[str]:
    lines = []
    for i, sample in enumerate(research):
        text = sample["full_text"]
        a = gold_hits(sample, this["research"][i])
        b = gold_hits(sample, other["research"][i])
        for (span, ta, ca), (_, tb, cb) in zip(a, b, strict=True):
            for what, x, y in (("typed", ta, tb), ("covered", ca, cb)):
                if x != y:
                    kind, start, end = span
                    lines.append(
                        f"  #{i} {kind} {what}: {'this' if x else 'other'} only  "
                        f"{text[start:end]!r}  in {text[max(0, start - 30) : end + 20]!r}\n"
                        f"      this: {near(this['research'][i], start, end) or '-'}\n"
                        f"      other: {near(other['research'][i], start, end) or '-'}"
                    )
    return lines


def diff_cogenesis(this: dict, other: dict, cogenesis: list) -> list[str]:
    lines = []
    for i, sample in enumerate(cogenesis):
        text = detection.cogenesis_prompt(sample)
        a = cogenesis_hits(sample, this["cogenesis"][i])
        b = cogenesis_hits(sample, other["cogenesis"][i])
        for (kind, value, pos, x), (_, _, _, y) in zip(a, b, strict=True):
            if x != y:
                context = text[max(0, pos - 30) : pos + len(value) + 20]
                lines.append(
                    f"  profile {i} {kind}: {'this' if x else 'other'} only  {value!r}  "
                    f"in {context!r}"
                )
    return lines


def diff_predictions(this: dict, other: dict, research: list, kinds: set[str]) -> list[str]:
    """Predicted spans of one tree only, by type: right (overlapping a gold span of that type,
    what precision counts) or wrong; the wrong ones listed for the types in `kinds`."""
    tally: dict[str, list[int]] = {}
    lines = []
    for i, sample in enumerate(research):
        text = sample["full_text"]
        gold = [(g[0], g[1], g[2]) for g, _, _ in gold_hits(sample, [])]
        a = {tuple(p) for p in this["research"][i]}
        b = {tuple(p) for p in other["research"][i]}
        for side, preds in ((0, a - b), (2, b - a)):
            for kind, start, end in sorted(preds, key=lambda p: p[1]):
                right = any(g[0] == kind and detection.overlap((start, end), g[1:]) for g in gold)
                tally.setdefault(kind, [0, 0, 0, 0])[side + (not right)] += 1
                if not right and kind in kinds:
                    who = "this" if side == 0 else "other"
                    lines.append(f"  #{i} {kind} wrong, {who} only: {text[start:end]!r}")
    head = [
        f"  {k}: this only {t[0]} right {t[1]} wrong; other only {t[2]} right {t[3]} wrong"
        for k, t in sorted(tally.items())
    ]
    return head + lines


def other_dump(python: str, args: argparse.Namespace) -> dict:
    """Run this script under the other tree's interpreter, which imports that tree's cogate."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "spans.json"
        cmd = [python, str(Path(__file__).resolve()), "--dump", str(out), "--data", str(args.data)]
        cmd += ["--limit", str(args.limit), "--cogenesis", str(args.cogenesis)]
        subprocess.run(cmd, check=True, cwd=tempfile.gettempdir())
        return json.loads(out.read_text())


def obtain(path: Path | None, make: Callable[[], dict], save: Path | None) -> dict:
    if path and path.exists():
        return json.loads(path.read_text())
    d = make()
    if save:
        save.write_text(json.dumps(d))
    return d


def report(this: dict, other: dict, research: list, cogenesis: list) -> int:
    fa, fb = figures(this, research, cogenesis), figures(other, research, cogenesis)
    print(f"this:  {this['cogate']}\nother: {other['cogate']}")
    print(f"{'figure':<32}{'other':>8}{'this':>8}")
    worse = 0
    for key in fa:
        a, b = fa[key], fb[key]
        if a != a and b != b:
            continue
        mark = "  LOWER" if a < b else ""
        worse += a < b
        print(f"{key:<32}{detection.fmt(abs(b)):>8}{detection.fmt(abs(a)):>8}{mark}")
    lower_precision = {k.split()[0] for k in fa if k.endswith("precision") and fa[k] < fb[k]}
    sections = {
        "presidio-research gold spans found by one tree only": diff_research(this, other, research),
        "CoGenesis profile occurrences found by one tree only": diff_cogenesis(
            this, other, cogenesis
        ),
        "predicted spans of one tree only (wrong ones listed where precision is lower)": (
            diff_predictions(this, other, research, lower_precision)
        ),
    }
    for title, lines in sections.items():
        print(f"\n{title}: {len(lines)}")
        print("\n".join(lines))
    print(f"\nfigures lower in this tree than in the other: {worse}")
    return worse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=BENCH.parent.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=0, help="presidio-research samples (0: all)")
    parser.add_argument("--cogenesis", type=int, default=150, help="CoGenesis profiles")
    parser.add_argument("--against", help="the other tree's Python (its venv's bin/python)")
    parser.add_argument("--dump", type=Path, help="only write this interpreter's spans here")
    parser.add_argument("--this-json", type=Path, help="reuse (or save) this tree's spans")
    parser.add_argument("--other-json", type=Path, help="reuse (or save) the other tree's spans")
    args = parser.parse_args()

    research, cogenesis = load_data(args.data, args.limit, args.cogenesis)
    if args.dump:
        args.dump.write_text(json.dumps(dump(research, cogenesis)))
        return
    if not args.against and not (args.other_json and args.other_json.exists()):
        parser.error("--against PYTHON (or an existing --other-json FILE) names the other tree")
    other = obtain(args.other_json, lambda: other_dump(args.against, args), args.other_json)
    this = obtain(args.this_json, lambda: dump(research, cogenesis), args.this_json)
    sys.exit(1 if report(this, other, research, cogenesis) else 0)


if __name__ == "__main__":
    main()
