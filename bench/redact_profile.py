"""Where cogate's time goes on 2 KB of new prose: a wall-clock split of `Privacy.sanitize`.

Each stage (spaCy NER, tokenizing, the NER view, the NLP artifacts and their context
keywords, every recognizer, context enhancement, Presidio's deduplication, the
redaction outside the analyzer) is timed by wrapping it; stock Presidio runs on each
text right after cogate, as in `bench/redact_overhead.py`, so caches see the same mix.
Figures are means per text (a rare gen-2 garbage collection lands in one of them; the
medians of redact_overhead.py do not see it).

Run: .venv/bin/python bench/redact_profile.py [--data DIR] [--texts N]
"""

from __future__ import annotations

import argparse
import functools
import gc
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
spent: dict[str, float] = defaultdict(float)


def timed(owner, name: str, label: str) -> None:
    """Replace `owner.name` by a wrapper adding its wall time to `spent[label]`."""
    inner = getattr(owner, name)

    @functools.wraps(inner)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - started

    setattr(owner, name, wrapper)


def instrument(analyzer) -> None:
    import cogate.policies.detect.analyzer as detect
    from presidio_analyzer import EntityRecognizer

    engine = analyzer.nlp_engine
    nlp = engine.nlp["en"]
    timed(analyzer, "analyze", "analyze (all of detection)")
    timed(engine, "process_text", "  NLP artifacts (process_text)")
    timed(nlp, "make_doc", "    tokenizing")
    timed(detect, "ner_view", "    NER view")
    timed(detect, "view_doc", "    NER view's Doc")
    timed(engine, "_doc_to_nlp_artifact", "    lemmas, keywords, entity lists")
    for recognizer in analyzer.registry.recognizers:
        timed(recognizer, "analyze", "  recognizer " + recognizer.name)
    timed(analyzer, "_enhance_using_context", "  context enhancement")
    timed(EntityRecognizer, "remove_duplicates", "  remove_duplicates (also inside recognizers)")

    class TimedNlp:  # spaCy's Language is called, not a method: time the call itself
        def __getattr__(self, key):
            return getattr(nlp, key)

        def __call__(self, *args, **kwargs):
            started = time.perf_counter()
            try:
                return nlp(*args, **kwargs)
            finally:
                spent["    spaCy NER in the gateway (inline, or its share)"] += (
                    time.perf_counter() - started
                )

    engine.nlp["en"] = TimedNlp()


def main() -> None:
    import redact_overhead as bench
    from cogate.policies.detect import analyzer as detect
    from cogate.policies.detect.ner_process import Pending

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--texts", type=int, default=15)
    args = parser.parse_args()
    (run_cogate, _), run_stock = bench.cogate(Path(tempfile.mkdtemp())), bench.stock()
    instrument(next(iter(detect._ANALYZERS.values())))
    timed(Pending, "result", "    waiting for NER's worker (its part of the text)")
    for text in bench.texts_of(2048, args.data, 3, offset=1500):  # warm both
        run_stock(text)
        run_cogate([{"role": "user", "content": text}], "warm")
    gc.freeze()  # as `cogate serve` does after start-up
    spent.clear()
    ours = theirs = 0.0
    for i, text in enumerate(bench.texts_of(2048, args.data, args.texts)):
        started = time.perf_counter()
        run_cogate([{"role": "user", "content": text}], f"new-{i}")
        ours += time.perf_counter() - started
        started = time.perf_counter()
        run_stock(text)
        theirs += time.perf_counter() - started
    per = 1000 / args.texts
    print(f"cogate resolve+sanitize {ours * per:7.2f} ms, stock {theirs * per:7.2f} ms (means)")
    for label, seconds in spent.items():
        print(f"{label:55s} {seconds * per:7.2f} ms")
    recognizers = sum(s for label, s in spent.items() if label.startswith("  recognizer"))
    print(f"{'  recognizers together':55s} {recognizers * per:7.2f} ms")
    outside = ours - spent["analyze (all of detection)"]
    print(f"{'outside the analyzer (walk, normalise, redact, vault)':55s} {outside * per:7.2f} ms")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "bench"))
    main()
