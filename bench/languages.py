"""Detection beyond English: recall and precision per language and per kind of value, and
false findings per 10k characters on texts without personal data (bench/language_cases.py).

A gold value is found when spans the default policy acts on cover all of it (whatever
their type: what matters is that nothing of it leaves); a national identifier must also be
typed as a national identifier. A span the policy acts on that touches no gold value is a
false finding.

Run: .venv/bin/python bench/languages.py [--json FILE] [-v]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))

import language_cases  # noqa: E402

KINDS = ["NAME", "EMAIL", "PHONE", "NATIONAL_ID", "IBAN", "ADDRESS"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each miss")
    args = parser.parse_args()
    from cogate.policies.detect.engine import Detector
    from cogate.policies.recognizers.europe.national_ids import national_id_types
    from cogate.policies.schema import load_policy

    ids = set(national_id_types())
    detector = Detector(load_policy())
    started = time.perf_counter()
    found, total = defaultdict(int), defaultdict(int)
    right, predicted = defaultdict(int), defaultdict(int)
    cases = language_cases.cases()
    for case in cases:
        spans = detector.detect(case.text)
        at = case.text.index(case.value)
        gold = set(range(at, at + len(case.value)))
        covered = set()
        for span in spans:
            if case.kind != "NATIONAL_ID" or span.entity_type in ids:
                covered.update(range(span.start, span.end))
            predicted[case.lang] += 1
            right[case.lang] += bool(gold & set(range(span.start, span.end)))
        total[case.lang, case.kind] += 1
        if gold <= covered:
            found[case.lang, case.kind] += 1
        elif args.verbose:
            print(f"miss {case.lang} {case.kind:<11} {case.surface:<5} {case.text!r}")
    rows = {}
    print(f"{len(cases)} labelled cases; recall per language and kind (n per cell in brackets)")
    print("lang " + "".join(f"{k:>16}" for k in KINDS) + "   precision  false/10k (no-PII)")
    for lang in language_cases.NAMES:
        texts = language_cases.no_pii(lang)
        false, chars = 0, sum(len(t) for t in texts)
        for text in texts:
            spans = detector.detect(text)
            false += len(spans)
            if args.verbose:
                for s in spans:
                    print(f"false {lang} {s.entity_type} {text[s.start : s.end]!r} in {text!r}")
        recall = {k: found[lang, k] / total[lang, k] for k in KINDS if total[lang, k]}
        precision = right[lang] / predicted[lang] if predicted[lang] else float("nan")
        per_10k = false / chars * 10_000
        rows[lang] = {
            "recall": recall,
            "n": {k: total[lang, k] for k in KINDS},
            "precision": precision,
            "no_pii_texts": len(texts),
            "no_pii_false": false,
            "false_per_10k": per_10k,
        }
        cells = "".join(
            f"{recall.get(k, float('nan')):>11.3f} ({total[lang, k]:>2})" for k in KINDS
        )
        print(f"{lang:<5}{cells}   {precision:9.3f}  {per_10k:6.2f} ({len(texts)} texts)")
    rows["scripts"] = _scripts(detector, args.verbose)
    print(f"{time.perf_counter() - started:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


def _scripts(detector, verbose: bool) -> dict:
    """Names in Hebrew, Thai, Greek, Russian and Ukrainian: recall, false findings/10k."""
    import name_cases

    found, total = defaultdict(int), defaultdict(int)
    for script, text, value in name_cases.SCRIPT_NAMES:
        at = text.index(value)
        covered = set()
        for span in detector.detect(text):
            covered.update(range(span.start, span.end))
        total[script] += 1
        if set(range(at, at + len(value))) <= covered:
            found[script] += 1
        elif verbose:
            print(f"miss {script} NAME {text!r}")
    print("script  name recall  false/10k (no-PII)")
    out = {}
    for script, texts in name_cases.SCRIPT_NO_PII.items():
        false = 0
        for text in texts:
            spans = detector.detect(text)
            false += len(spans)
            for s in spans if verbose else []:
                print(f"false {script} {s.entity_type} {text[s.start : s.end]!r} in {text!r}")
        per_10k = false / sum(len(t) for t in texts) * 10_000
        recall = found[script] / total[script]
        out[script] = {"recall": recall, "n": total[script], "false_per_10k": per_10k}
        print(f"{script:<8}{recall:>6.3f} ({total[script]})  {per_10k:8.2f} ({len(texts)} texts)")
    return out


if __name__ == "__main__":
    main()
