"""spaCy's NER in its own process, so that it runs beside the pattern recognizers.

NER is most of detection's time, and spaCy's parser cannot share a process with other
work: two threads running it take longer than one after the other. In a second process it
uses the core the gateway's pattern recognizers leave free; the gateway side is
`cogate.policies.detect.ner_process`.

It runs as a plain script (`python -P ner_worker.py FD PACKAGE [FRENCH_PACKAGE]`) and
imports only the standard library and spaCy: not Presidio, not the gateway. The French
pipeline is loaded at the first text with French sentences (English-only traffic never
loads it). Messages over a socket pair:

    gateway → worker   [[start, end], …] of the text's French sentences as JSON, a newline,
                       then the text, UTF-8 bytes (lone surrogates passed through)
    worker → gateway   ["ready"] | ["failed", reason]          (once, after loading)
                       [[start, end, label], …] for each text  | ["error", exception name]
"""

from __future__ import annotations

import faulthandler
import gc
import json
import os
import re
import signal
import sys
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

# The pipes NER does not need (en_core_web_sm's ner has its own tok2vec).
NOT_FOR_NER = ["tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer"]
# fr_core_news_sm's ner has its own tok2vec too.
NOT_FOR_FRENCH_NER = ["tok2vec", "morphologizer", "parser", "attribute_ruler", "lemmatizer"]
MAX_TEXT = 5_000_000


# The French pipeline's labels that name what the English one's do (MISC is left out: it
# is mostly capitalised words, and the English labels it could mean are ignored anyway).
FRENCH_LABELS = {"PER": "PER", "LOC": "LOC", "ORG": "ORG"}
FRENCH_TITLE = re.compile(
    r"(?:Madame|Monsieur|Mademoiselle|Mme|Mlle|Mr|M\.|Me|Maître|Docteur|Dr|Pr|Professeur)"
    r"\.?(?:[ \t]+|$)"  # a title alone ("Monsieur" by itself) is no name
)
# An article before a word in lower case: "La réunion" is no place, "La Rochelle" stays whole.
FRENCH_ARTICLE = re.compile(r"(?:(?:Les?|La|Une?|Des|Du)[ \t]+|L['’])(?=[a-zà-ÿœæ])")


def entities(
    nlp: Callable[[str], Any],
    text: str,
    french: Sequence[Sequence[int]] = (),
    french_nlp: Callable[[], Callable[[str], Any]] | None = None,
) -> list[list[Any]]:
    """spaCy's entities of `text` as [start, end, label] in characters: the French
    pipeline's (from `french_nlp()`) in the `french` ranges, the English one's elsewhere
    (it reads the text with those ranges blanked, so offsets stay the text's)."""
    if not french or french_nlp is None:
        return [[ent.start_char, ent.end_char, ent.label_] for ent in nlp(text).ents]
    english = blanked(text, french)
    found = []
    if not english.isspace():
        found = [[ent.start_char, ent.end_char, ent.label_] for ent in nlp(english).ents]
    reader = french_nlp()
    for start, end in french:
        for ent in reader(text[start:end]).ents:
            at = french_start(text, ent.start_char + start, ent.end_char + start, ent.label_)
            if at is not None:
                found.append([at, ent.end_char + start, FRENCH_LABELS[ent.label_]])
    return sorted(found)


def french_start(text: str, start: int, end: int, label: str) -> int | None:
    """Where a French entity starts once a title or an article before a common noun is cut
    ("Madame Sophie Garnier": the title stays for the model); None when it is no name: a
    MISC, or a span that does not start with a capital ("summary" in a JSON line, "La
    réunion" — French capitalises names, places and organisations)."""
    if label not in FRENCH_LABELS:
        return None
    cut = (FRENCH_TITLE if label == "PER" else FRENCH_ARTICLE).match(text, start, end)
    at = cut.end() if cut else start
    return at if at < end and text[at].isupper() else None


def blanked(text: str, ranges: Sequence[Sequence[int]]) -> str:
    """`text` with `ranges` turned to spaces (line breaks kept, so lines stay lines)."""
    parts, at = [], 0
    for start, end in ranges:
        parts += [text[at:start], re.sub(r"[^\n]", " ", text[start:end])]
        at = end
    parts.append(text[at:])
    return "".join(parts)


def serve(conn: Connection, nlp: Any, french_package: str | None = None) -> None:
    """Answer the gateway until it closes its end."""
    french: list[Any] = []  # the French pipeline, once a text needed it

    def french_nlp() -> Any:
        if not french:
            if french_package is None:
                raise LookupError("no French pipeline was given to the worker")
            import spacy

            french.append(spacy.load(french_package, exclude=NOT_FOR_FRENCH_NER))
            french[0].max_length = MAX_TEXT
        return french[0]

    while True:
        try:
            head, _, body = conn.recv_bytes().partition(b"\n")
        except EOFError:
            return
        try:
            text = body.decode("utf-8", "surrogatepass")
            reply: list[Any] = entities(nlp, text, json.loads(head), french_nlp)
        except Exception as exc:  # the gateway refuses that request; we keep serving
            reply = ["error", type(exc).__name__]
        conn.send_bytes(json.dumps(reply).encode())


def main(argv: list[str]) -> int:
    fd, package = int(argv[0]), argv[1]
    french_package = argv[2] if len(argv) > 2 else None
    faulthandler.enable()  # a crash leaves its stack in the gateway's log (our stderr)
    # Ctrl-C in the gateway's terminal reaches us too; the gateway decides when we end (it
    # closes the socket, or its death does).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(fd)
    # NER needs neither, and together they are two thirds of the worker's memory: thinc
    # imports torch whenever it is installed, and spaCy's factory entry points import
    # Presidio's transformers pipe. Blocked, the worker holds ~150 MB, not ~480.
    sys.modules["torch"] = sys.modules["transformers"] = None  # type: ignore[assignment]
    # numpy's BLAS would start a thread per core at import; spaCy's NER uses its own single-
    # threaded BLAS, and in a process that never started a thread it runs ~15 % faster.
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    try:
        import spacy

        nlp = spacy.load(package, exclude=NOT_FOR_NER)
    except Exception as exc:
        conn.send_bytes(json.dumps(["failed", type(exc).__name__]).encode())
        return 1
    nlp.max_length = MAX_TEXT
    gc.freeze()  # the pipeline stays: full collections need not walk it again
    conn.send_bytes(json.dumps(["ready"]).encode())
    serve(conn, nlp, french_package)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
