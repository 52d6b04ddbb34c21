"""spaCy's NER in its own process, so that it runs beside the pattern recognizers.

NER is most of detection's time, and spaCy's parser cannot share a process with other
work: two threads running it take longer than one after the other. In a second process it
uses the core the gateway's pattern recognizers leave free; the gateway side is
`cogate.policies.detect.ner_process`.

It runs as a plain script (`python -P ner_worker.py FD PACKAGE`) and imports only the
standard library and spaCy: not Presidio, not the gateway. Messages over a socket pair:

    gateway → worker   a text, UTF-8 bytes (lone surrogates passed through)
    worker → gateway   ["ready"] | ["failed", reason]          (once, after loading)
                       [[start, end, label], …] for each text  | ["error", exception name]
"""

from __future__ import annotations

import faulthandler
import gc
import json
import os
import signal
import sys
from multiprocessing.connection import Connection
from typing import Any

# The pipes NER does not need (en_core_web_sm's ner has its own tok2vec).
NOT_FOR_NER = ["tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer"]
MAX_TEXT = 5_000_000


def entities(nlp: Any, text: str) -> list[list[Any]]:
    """spaCy's entities of `text` as [start, end, label] in characters."""
    return [[ent.start_char, ent.end_char, ent.label_] for ent in nlp(text).ents]


def serve(conn: Connection, nlp: Any) -> None:
    """Answer the gateway until it closes its end."""
    while True:
        try:
            text = conn.recv_bytes().decode("utf-8", "surrogatepass")
        except EOFError:
            return
        try:
            reply: list[Any] = entities(nlp, text)
        except Exception as exc:  # the gateway refuses that request; we keep serving
            reply = ["error", type(exc).__name__]
        conn.send_bytes(json.dumps(reply).encode())


def main(argv: list[str]) -> int:
    fd, package = int(argv[0]), argv[1]
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
    serve(conn, nlp)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
