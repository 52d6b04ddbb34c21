"""Detection quality: cogate's engine against Presidio's stock configuration, in one run.

Prints precision, recall and F1 per entity type on presidio-research's generated data set,
recall of secrets on generated tokens (the data set has none), and recall of the name and
location of the CoGenesis dev profiles in their prompts. The stock engine is
`AnalyzerEngine()` with its default recognizers on the same spaCy model.

Run: .venv/bin/python bench/detection.py [--data DIR] [--limit N] [--cogenesis N]
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Gold types of presidio-research and what a detector reports for them.
GOLD_MAP = {"ADDRESS": "LOCATION", "DOMAIN_NAME": "URL"}
TYPES = [
    "PERSON",
    "LOCATION",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "US_DRIVER_LICENSE",
    "DATE_TIME",
    "URL",
    "ORGANIZATION",
]
TARGETS = {
    "EMAIL_ADDRESS": 0.95,
    "PHONE_NUMBER": 0.95,
    "CREDIT_CARD": 0.95,
    "IBAN_CODE": 0.95,
    "US_SSN": 0.95,
    "SECRET": 0.95,
    "PERSON": 0.85,
}


def cogate_engine():
    from cogate.core.settings import Settings
    from cogate.policies.detect.analyzer import ner_isolation
    from cogate.policies.detect.engine import Detector
    from cogate.policies.schema import load_policy

    policy = load_policy()
    # Measure every type, kept ones too; NER where the gateway runs it (COGATE_NER_ISOLATION).
    detector = Detector(policy, all_types=True, ner=ner_isolation(Settings().ner_isolation))

    def spans(text: str) -> list[tuple[str, int, int]]:
        # What the policy acts on: thresholds applied, overlapping spans merged.
        return [(s.entity_type, s.start, s.end) for s in detector.detect(text, acting_only=False)]

    return spans


def stock_engine():
    import tldextract
    from cogate.policies.detect.analyzer import spacy_package
    from cogate.policies.recognizers.base import OFFLINE_TLD
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    # The stock email recognizer calls tldextract's module-level extractor, which would try
    # to download the suffix list; point it at the bundled snapshot (same answers, offline).
    tldextract.tldextract.TLD_EXTRACTOR = OFFLINE_TLD
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": spacy_package("en_core_web_sm")}],
        }
    )
    engine = AnalyzerEngine(nlp_engine=provider.create_engine())

    def spans(text: str) -> list[tuple[str, int, int]]:
        return [(r.entity_type, r.start, r.end) for r in engine.analyze(text, language="en")]

    return spans


def overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def score_dataset(samples, detect) -> dict[str, dict[str, float]]:
    """Typed span matching: a gold span is found when a predicted span of its type covers
    at least half of it; a predicted span is correct when it overlaps a gold span of its type."""
    tp_gold, n_gold, tp_pred, n_pred = (defaultdict(int) for _ in range(4))
    covered, n_all = defaultdict(int), defaultdict(int)
    for sample in samples:
        text = sample["full_text"]
        gold = [
            (
                GOLD_MAP.get(s["entity_type"], s["entity_type"]),
                s["start_position"],
                s["end_position"],
            )
            for s in sample["spans"]
        ]
        pred = detect(text)
        for kind, start, end in gold:
            n_gold[kind] += 1
            n_all[kind] += 1
            need = (end - start) / 2
            if any(p[0] == kind and overlap((start, end), p[1:]) >= need for p in pred):
                tp_gold[kind] += 1
            if sum(overlap((start, end), p[1:]) for p in pred) >= need:
                covered[kind] += 1  # removed under some type: what matters for leakage
        for kind, start, end in pred:
            n_pred[kind] += 1
            if any(g[0] == kind and overlap((start, end), g[1:]) > 0 for g in gold):
                tp_pred[kind] += 1
    out = {}
    for kind in TYPES:
        recall = tp_gold[kind] / n_gold[kind] if n_gold[kind] else float("nan")
        precision = tp_pred[kind] / n_pred[kind] if n_pred[kind] else float("nan")
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision == precision and recall == recall and precision + recall
            else 0.0
        )
        out[kind] = {
            "n": n_gold[kind],
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "covered": covered[kind] / n_all[kind] if n_all[kind] else float("nan"),
        }
    return out


def _token(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def secret_samples(n: int = 40, seed: int = 7) -> tuple[list[str], list[str]]:
    """Texts with one generated credential each, and texts with look-alikes but none."""
    rng = random.Random(seed)
    alnum = string.ascii_letters + string.digits
    makers = [
        lambda: "sk-proj-" + _token(rng, alnum + "_-", 48),
        lambda: "AKIA" + _token(rng, string.ascii_uppercase + string.digits, 16),
        lambda: "ghp_" + _token(rng, alnum, 36),
        lambda: "glpat-" + _token(rng, alnum, 20),
        lambda: "xoxb-" + _token(rng, string.digits, 12) + "-" + _token(rng, alnum, 24),
        lambda: (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI"
            + _token(rng, alnum, 20)
            + "."
            + _token(rng, alnum + "_-", 43)
        ),
        lambda: _token(rng, alnum, 32),  # generic: only findable after a keyword
    ]
    frames = [
        "my key is {}",
        "export OPENAI_API_KEY={}",
        "token: {}",
        "use secret={} for prod",
        'the api_key = "{}" works',
    ]
    positives = []
    for i in range(n):
        positives.append(rng.choice(frames).format(makers[i % len(makers)]()))
        password = _token(rng, alnum, 12)
        positives.append(f"connect to postgres://app:{password}@db.internal:5432/main")
    negatives = [
        "the token economy is growing",
        "skip-connections help deep nets",
        "please review the secret santa list",
        "AKIA is not a word",
        "key findings: revenue up 12%",
        "use a password manager",
        "see https://example.com/docs/v2/install",
        "commit 3f2a9c1 fixed it",
    ]
    return positives, negatives


def score_secrets(detect, positives, negatives) -> dict[str, float]:
    found = sum(any(kind == "SECRET" for kind, _, _ in detect(text)) for text in positives)
    false = sum(any(kind == "SECRET" for kind, _, _ in detect(text)) for text in negatives)
    return {"recall": found / len(positives), "false_alarms": false, "negatives": len(negatives)}


def cogenesis_prompt(sample: dict) -> str:
    history = "\n".join(f"Task: {p['title']}\nContent: {p['text']}" for p in sample["profile"])
    task = sample["conversations"][0]["value"]
    return (
        f"## User Profile\n{sample['additional_profile']}\n\n"
        f"## User Writing History\n{history}\n\n## Task\n{task}"
    )


def profile_items(profile: str) -> dict[str, list[str]]:
    fields = {}
    for line in profile.splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    name = fields.get("Name", "")
    items = {"name": [name, *name.split()], "location": [fields.get("Location", "")]}
    return {k: [v for v in vs if v] for k, vs in items.items()}


def score_cogenesis(samples, detect) -> dict[str, float]:
    hits, total = defaultdict(int), defaultdict(int)
    for sample in samples:
        text = cogenesis_prompt(sample)
        spans = [(s, e) for _, s, e in detect(text)]
        for kind, values in profile_items(sample["additional_profile"]).items():
            for value in values:
                pos = text.find(value)
                while pos >= 0:
                    total[kind] += 1
                    if sum(overlap((pos, pos + len(value)), s) for s in spans) >= len(value):
                        hits[kind] += 1
                    pos = text.find(value, pos + len(value))
    return {k: hits[k] / total[k] for k in total} | {f"n_{k}": total[k] for k in total}


def fmt(x: float) -> str:
    return "  -  " if x != x else f"{x:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=0, help="presidio-research samples (0: all)")
    parser.add_argument("--cogenesis", type=int, default=150, help="CoGenesis profiles")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    research = json.loads((args.data / "presidio-research-generated-large.json").read_text())
    if args.limit:
        research = research[: args.limit]
    cogenesis = json.loads((args.data / "cogenesis-context-aware-dev.json").read_text())
    cogenesis = cogenesis[: args.cogenesis]
    positives, negatives = secret_samples()

    engines = {"cogate": cogate_engine(), "stock": stock_engine()}
    results: dict[str, dict] = {}
    for name, detect in engines.items():
        started = time.perf_counter()
        results[name] = {
            "research": score_dataset(research, detect),
            "secrets": score_secrets(detect, positives, negatives),
            "cogenesis": score_cogenesis(cogenesis, detect),
            "seconds": time.perf_counter() - started,
        }

    print(
        f"presidio-research generated_large: {len(research)} texts "
        "(gold ADDRESS scored as LOCATION, DOMAIN_NAME as URL)"
    )
    print(
        f"{'type':<18}{'n':>5}  {'cogate P':>8} {'R':>6} {'F1':>6} {'cov':>6}   "
        f"{'stock P':>7} {'R':>6} {'F1':>6} {'cov':>6}  target"
    )
    for kind in TYPES:
        c, s = results["cogate"]["research"][kind], results["stock"]["research"][kind]
        target = f"R>={TARGETS[kind]}" if kind in TARGETS else ""
        if kind == "PERSON":
            target += ", P>=0.8"
        print(
            f"{kind:<18}{c['n']:>5}  {fmt(c['precision']):>8} {fmt(c['recall']):>6} "
            f"{fmt(c['f1']):>6} {fmt(c['covered']):>6}   {fmt(s['precision']):>7} "
            f"{fmt(s['recall']):>6} {fmt(s['f1']):>6} {fmt(s['covered']):>6}  {target}"
        )
    print("(cov: share of gold spans removed under any type, what matters for leakage)")
    for name in engines:
        sec = results[name]["secrets"]
        print(
            f"secrets ({len(positives)} generated credentials) {name}: recall "
            f"{sec['recall']:.3f}, false alarms {sec['false_alarms']}/{sec['negatives']}"
        )
    for name in engines:
        cg = results[name]["cogenesis"]
        print(
            f"CoGenesis dev profiles ({len(cogenesis)}) {name}: name recall {cg['name']:.3f} "
            f"(n={cg['n_name']}), location recall {cg['location']:.3f} (n={cg['n_location']})"
        )
    for name in engines:
        print(f"{name}: {results[name]['seconds']:.1f} s for the whole run")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
