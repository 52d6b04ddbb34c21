"""What sharing one text's NER between the worker and the gateway changes in what is found.

`policies/detect/ner_split.py` cuts long texts between NER's worker process and the gateway's
detection thread. This joins consecutive presidio-research samples into texts of
`--size` characters (their gold spans shifted along), runs the gateway's detector on each
text twice in one process, once shared and once read whole by the worker, and prints
detection.py's figures for both, the gold spans one finds and the other misses, and the
wall time of each. The cut is where a name could be lost; this is the check that none is.

Run: .venv/bin/python bench/ner_split.py [--data DIR] [--size N] [--texts N]
(at most --texts: the samples run out first at large sizes)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import detection  # noqa: E402  (scoring rules shared with bench/detection.py)


def joined_samples(samples: list[dict], size: int, count: int, sep: str) -> list[dict]:
    """`count` texts of about `size` characters, each consecutive samples joined by `sep`."""
    out, i = [], 0
    while len(out) < count and i < len(samples):
        text, spans = "", []
        while len(text) < size and i < len(samples):
            sample, at = samples[i], len(text) + (len(sep) if text else 0)
            text = f"{text}{sep}{sample['full_text']}" if text else sample["full_text"]
            spans += [
                {
                    **s,
                    "start_position": s["start_position"] + at,
                    "end_position": s["end_position"] + at,
                }
                for s in sample["spans"]
            ]
            i += 1
        out.append({"full_text": text, "spans": spans})
    return out


def main() -> None:
    from cogate.core.settings import Settings
    from cogate.policies.detect import ner_split
    from cogate.policies.detect.analyzer import ner_isolation
    from cogate.policies.detect.engine import Detector
    from cogate.policies.schema import load_policy

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=BENCH.parent.parent / "shared" / "data")
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--texts", type=int, default=150)
    args = parser.parse_args()
    if ner_isolation(Settings().ner_isolation) == "inline":
        sys.exit("NER runs in the gateway's own process here: there is nothing to share")
    research = json.loads((args.data / "presidio-research-generated-large.json").read_text())
    half = len(research) // 2
    samples = joined_samples(research[:half], args.size, args.texts // 2, " ")
    samples += joined_samples(research[half:], args.size, args.texts - args.texts // 2, "\n")
    policy = load_policy()
    cut_for = ner_split.cut_for

    def run(shared: bool) -> tuple[list[list], list[float]]:
        # A detector of its own for each way: the analysis cache would answer the second.
        detector = Detector(policy, all_types=True, ner="process")
        ner_split.cut_for = cut_for if shared else (lambda text, seen: None)
        found, times = [], []
        for sample in samples:
            text = sample["full_text"]
            started = time.perf_counter()
            spans = detector.detect(text, acting_only=False)
            times.append(time.perf_counter() - started)
            found.append([(s.entity_type, s.start, s.end) for s in spans])
        ner_split.cut_for = cut_for
        return found, times

    run(True)  # warm both the worker and the gateway's pipeline
    whole, whole_times = run(False)
    shared, shared_times = run(True)
    cut = sum(cut_for(s["full_text"], s["full_text"]) is not None for s in samples)
    print(
        f"{len(samples)} texts of ~{args.size} characters (consecutive presidio-research "
        f"samples joined by a space or a line break); {cut} of them cut"
    )
    figures = {}
    for name, spans in (("whole", whole), ("shared", shared)):
        it = iter(spans)
        figures[name] = detection.score_dataset(samples, lambda _t, it=it: next(it))
    print(f"{'type':20s} {'n':>5s}  recall whole / shared   covered whole / shared")
    for kind in detection.TYPES:
        a, b = figures["whole"][kind], figures["shared"][kind]
        if not a["n"]:
            continue
        print(
            f"{kind:20s} {a['n']:5d}  {a['recall']:.3f} / {b['recall']:.3f}"
            f"           {a['covered']:.3f} / {b['covered']:.3f}"
        )
    lost = gained = 0
    for sample, a, b in zip(samples, whole, shared, strict=True):
        for span in sample["spans"]:
            gold = (span["start_position"], span["end_position"])
            need = (gold[1] - gold[0]) / 2
            in_a = sum(detection.overlap(gold, p[1:]) for p in a) >= need
            in_b = sum(detection.overlap(gold, p[1:]) for p in b) >= need
            lost += in_a and not in_b
            gained += in_b and not in_a
    differ = sum(set(a) != set(b) for a, b in zip(whole, shared, strict=True))
    print(f"gold spans covered whole but not shared: {lost}; shared but not whole: {gained}")
    print(f"texts whose spans differ at all: {differ} of {len(samples)}")
    w, s = statistics.median(whole_times) * 1000, statistics.median(shared_times) * 1000
    print(f"detection per text, median: whole {w:.1f} ms, shared {s:.1f} ms (ratio {s / w:.2f})")


if __name__ == "__main__":
    main()
