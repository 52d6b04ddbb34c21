"""Latency the privacy engine adds in redact mode, against stock Presidio in the same run.

1. 2 KB of new text (never seen before, full of personal data): cogate's resolve + sanitize
   of a chat request, against the stock engine's analyze + anonymize of the same text
   (`AnalyzerEngine()` defaults on the same spaCy model, `AnonymizerEngine()`); the two are
   alternated so machine noise hits both alike. Wall time and CPU time: the gateway runs
   spaCy's NER in a worker process beside the pattern recognizers (COGATE_NER_ISOLATION;
   `inline` measures the one-process engine).
2. A 20-turn conversation (the app resends the whole history every turn): the added
   latency of each turn, reported at turn 2 and turn 20.
3. 2 KB of German and of French prose (`bench/prose/de.txt`, `fr.txt`: a customer e-mail
   with names, e-mails, phones, addresses, national ids, an IBAN), each round a new order of
   its paragraphs so no cache answers, against stock Presidio running with that language's
   spaCy model where one is installed (French: fr_core_news_sm) and with the English one
   otherwise (German: no German model is installed).

Run: .venv/bin/python bench/redact_overhead.py [--data DIR] [--rounds N] [--languages de,fr]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def texts_of(size: int, data: Path, count: int, offset: int = 0) -> list[str]:
    """`count` distinct texts of about `size` characters made of presidio-research samples."""
    samples = json.loads((data / "presidio-research-generated-large.json").read_text())
    pool = [s["full_text"] for s in samples]
    out, i = [], offset
    for _ in range(count):
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < size:
            parts.append(pool[i % len(pool)])
            i += 1
        out.append(" ".join(parts)[:size])
    return out


def stock(lang: str = "en", model: str | None = None):
    import tldextract
    from cogate.policies.detect.analyzer import spacy_package
    from cogate.policies.recognizers.base import OFFLINE_TLD
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine

    tldextract.tldextract.TLD_EXTRACTOR = OFFLINE_TLD  # no download attempt (same answers)
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": lang, "model_name": model or spacy_package("en_core_web_sm")}],
        }
    )
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=[lang])
    anonymizer = AnonymizerEngine()

    def run(text: str) -> list:
        results = analyzer.analyze(text, language=lang)
        anonymizer.anonymize(text=text, analyzer_results=results)
        return results

    return run


def cogate(workdir: Path):
    from cogate.core.exchange import Exchange
    from cogate.core.settings import Settings
    from cogate.policies import Privacy
    from cogate.proxy.surfaces import exchange_for

    policy = workdir / "bench.yaml"
    # Nothing blocked, so every text goes all the way through (cards and secrets replaced).
    policy.write_text(
        "mode: redact\nactions: {default: pseudonymize, CREDIT_CARD: "
        "pseudonymize, SECRET: pseudonymize}\n"
    )
    privacy = Privacy(Settings(data_dir=workdir / "data", policy=policy))  # COGATE_* apply

    def run(messages: list[dict], conversation: str) -> Exchange:
        ex = exchange_for(
            "chat/completions",
            {"model": "m", "messages": messages},
            conversation=conversation,
        )
        privacy.resolve(ex)
        privacy.sanitize(ex)
        return ex

    return run, privacy.detector(privacy.policy).ner_worker


def worker_cpu(ner) -> float:
    """CPU seconds the NER worker process has used (0 when NER runs in this process)."""
    from cogate.policies.detect.free_cores import process_seconds

    return 0.0 if ner is None or ner.pid is None else process_seconds(ner.pid)


def ms(seconds: float) -> float:
    return seconds * 1000


FRENCH_WARM_UP = "Le rapport de Thomas Girard est prêt et il vous attend à Lyon."
# The stock engine each language's prose is measured against: (language code, spaCy
# pipeline, what the report says). None: the English pipeline, as stock Presidio ships.
STOCK_FOR = {
    "de": ("en", None, "stock Presidio with the English model (no German model installed)"),
    "fr": ("fr", "fr_core_news_sm", "stock Presidio with fr_core_news_sm"),
}


def prose_rounds(lang: str, rounds: int) -> list[str]:
    """`rounds` distinct texts of the language's prose: its paragraphs in another order."""
    paragraphs = (REPO / "bench" / "prose" / f"{lang}.txt").read_text().split("\n\n")
    out = []
    for i in range(rounds):
        turn = i % len(paragraphs)
        order = paragraphs[turn:] + paragraphs[:turn]
        out.append("\n\n".join(order if i < len(paragraphs) else order[::-1]))
    return out


def other_languages(run_cogate, ner, languages: list[str], rounds: int) -> None:
    """Part 3: each language's prose against its stock engine, alternated."""
    for lang in languages:
        code, model, said = STOCK_FOR[lang]
        run_stock = stock(code, model)
        texts = prose_rounds(lang, rounds + 2)
        for text in texts[:2]:  # warm both (loads the French pipeline where it is needed)
            run_stock(text)
            run_cogate([{"role": "user", "content": text}], f"warm-{lang}")
        gc.freeze()
        ours, theirs, cpu = paired(texts[2:], run_cogate, run_stock, ner, lang)
        ours_ms, theirs_ms = statistics.median(ours) * 1000, statistics.median(theirs) * 1000
        size = statistics.median(len(t) for t in texts)
        print(
            f"{size:.0f} characters of {lang} prose (bench/prose/{lang}.txt), median of {rounds}:"
        )
        print(f"  cogate resolve+sanitize (redact):  {ours_ms:8.1f} ms")
        print(f"  {said}: {theirs_ms:8.1f} ms")
        print(f"  ratio cogate/stock:                {ours_ms / theirs_ms:8.2f}  (target <= 0.60)")
        print_cpu(cpu, rounds)


def paired(texts, run_cogate, run_stock, ner, label: str):
    """Each text through cogate then stock Presidio: wall times of each, and the CPU of the
    gateway, of the NER worker and of stock."""
    ours, theirs = [], []
    cpu = {"gateway": 0.0, "worker": 0.0, "stock": 0.0}
    for i, text in enumerate(texts):
        started, cpu_at, worker_at = time.perf_counter(), time.process_time(), worker_cpu(ner)
        run_cogate([{"role": "user", "content": text}], f"{label}-{i}")
        ours.append(time.perf_counter() - started)
        cpu["gateway"] += time.process_time() - cpu_at
        cpu["worker"] += worker_cpu(ner) - worker_at
        started, cpu_at = time.perf_counter(), time.process_time()
        run_stock(text)
        theirs.append(time.perf_counter() - started)
        cpu["stock"] += time.process_time() - cpu_at
    return ours, theirs, cpu


def print_cpu(cpu: dict[str, float], rounds: int) -> None:
    per = {name: seconds / rounds * 1000 for name, seconds in cpu.items()}
    ours_cpu = per["gateway"] + per["worker"]
    print(
        f"  CPU per text: cogate {ours_cpu:.1f} ms (gateway {per['gateway']:.1f} + NER worker "
        f"{per['worker']:.1f}), stock {per['stock']:.1f} ms; ratio {ours_cpu / per['stock']:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--conversations", type=int, default=5)
    parser.add_argument(
        "--languages", default="de,fr", help="prose of these languages too (empty: none)"
    )
    parser.add_argument("--prose-only", action="store_true", help="only part 3")
    args = parser.parse_args()
    languages = [lang for lang in args.languages.split(",") if lang]
    if not args.prose_only:
        english(args)
    if languages:
        with tempfile.TemporaryDirectory() as tmp:
            run_cogate, ner = cogate(Path(tmp))
            other_languages(run_cogate, ner, languages, args.rounds)


def english(args: argparse.Namespace) -> None:
    """Parts 1 and 2: English 2 KB texts against stock Presidio, and the conversation."""
    with tempfile.TemporaryDirectory() as tmp:
        (run_cogate, ner), run_stock = cogate(Path(tmp)), stock()
        for text in texts_of(2048, args.data, 3, offset=1500):  # warm both
            run_stock(text)
            run_cogate([{"role": "user", "content": text}], "warm")
        # A few of the samples hold a French address line, read by the French pipeline:
        # loaded here, as stock's pipeline is loaded before its first text.
        run_cogate([{"role": "user", "content": FRENCH_WARM_UP}], "warm")
        gc.freeze()  # as `cogate serve` does after start-up (stock's objects frozen too)

        texts = texts_of(2048, args.data, args.rounds)
        ours, theirs, cpu = paired(texts, run_cogate, run_stock, ner, "new")

        turn_times: dict[int, list[float]] = {}
        chunks = texts_of(300, args.data, 40 * args.conversations, offset=700)
        for c in range(args.conversations):
            messages = [{"role": "system", "content": "You are a helpful assistant."}]
            for turn in range(1, 21):
                base = (c * 20 + turn) * 2
                messages.append({"role": "user", "content": chunks[base % len(chunks)]})
                started = time.perf_counter()
                run_cogate(messages, f"conversation-{c}")
                turn_times.setdefault(turn, []).append(time.perf_counter() - started)
                messages.append({"role": "assistant", "content": chunks[(base + 1) % len(chunks)]})

    ours_ms, theirs_ms = statistics.median(ours) * 1000, statistics.median(theirs) * 1000
    print(f"2 KB of new text, median of {args.rounds} distinct texts:")
    print(f"  cogate resolve+sanitize (redact):  {ours_ms:8.1f} ms")
    print(f"  stock Presidio analyze+anonymize:  {theirs_ms:8.1f} ms")
    print(f"  ratio cogate/stock:                {ours_ms / theirs_ms:8.2f}  (target <= 0.50)")
    print_cpu(cpu, args.rounds)
    t2 = statistics.median(turn_times[2]) * 1000
    t20 = statistics.median(turn_times[20]) * 1000
    history = sum(len(m["content"]) for m in messages)
    print(
        f"20-turn conversation (~300 chars per message, {history} chars of history at turn "
        f"20), median of {args.conversations} conversations:"
    )
    print(f"  turn 2:  {t2:8.1f} ms")
    print(f"  turn 20: {t20:8.1f} ms")
    print(f"  ratio turn 20 / turn 2: {t20 / t2:.2f}  (target <= 1.5)")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
