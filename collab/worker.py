"""The local model's worker process: it holds the weights and runs llama.cpp, so that a crash
there (SIGILL from instructions the machine traps, SIGSEGV, the kernel's OOM killer) ends
this process and not the gateway. The gateway side is `cogate.collab.supervisor`.

It runs as a plain script (`python worker.py FD MODEL N_CTX THREADS`) and imports only the
standard library, numpy and llama_cpp: a restart costs the model load, not the gateway's
imports. The decoding loop below is also what the in-process runtime uses, so both keep one
behaviour. Messages are JSON arrays over a socket pair, logits raw float32 frames:

    gateway → worker   ["generate", prompt, sampling, max_tokens]  then maybe ["cancel"]
                       ["start", prompt] | ["step", token]         (logits mode)
    worker → gateway   ["ready", n_vocab] | ["failed", reason]     (once, after loading)
                       ["text", piece]… ["end", finish_reason, completion_tokens]
                       ["logits"] followed by one raw frame | ["error", exception name]
"""

from __future__ import annotations

import codecs
import faulthandler
import json
import signal
import sys
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

import numpy as np


def decode(
    llama: Any,
    prompt: Sequence[int],
    sampling: dict[str, Any],
    max_tokens: int,
    emit: Callable[[str], None],
    stopped: Callable[[], bool],
) -> tuple[str, int]:
    """Generate after `prompt`, calling `emit` with text pieces; returns (finish reason,
    completion tokens). `stopped` is asked before every token: true ends with "cancelled"."""
    import llama_cpp

    if sampling.get("seed") is not None:
        llama.set_seed(sampling["seed"])
    vocab = llama._model.vocab
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    stops = StopMatcher(sampling.get("stop") or ())
    count = 0

    def flush() -> None:
        tail = stops.flush() + decoder.decode(b"", final=True)
        if tail:
            emit(tail)

    for token in llama.generate(
        list(prompt),
        temp=sampling["temperature"],
        top_p=sampling["top_p"],
        top_k=sampling["top_k"],
        repeat_penalty=sampling["repeat_penalty"],
        reset=True,
    ):
        if stopped():
            return "cancelled", count
        if llama_cpp.llama_vocab_is_eog(vocab, token):
            break
        count += 1
        text, hit = stops.feed(decoder.decode(llama.detokenize([token])))
        if text:
            emit(text)
        if hit:
            return "stop", count
        if count >= max_tokens:
            flush()
            return "length", count
    flush()
    return "stop", count


def eval_prompt(llama: Any, prompt: list[int]) -> np.ndarray:
    """Evaluate `prompt`, reusing the KV cache of the longest prefix it shares with what the
    model read last; returns the next-token logits."""
    common = 0
    for cached, wanted in zip(llama._input_ids.tolist(), prompt, strict=False):
        if cached != wanted:
            break
        common += 1
    common = min(common, len(prompt) - 1)  # re-read at least one token for fresh logits
    if common > 0 and llama._ctx.kv_cache_seq_rm(-1, common, -1):
        llama.n_tokens = common
    else:
        llama.reset()
        common = 0
    llama.eval(prompt[common:])
    return last_logits(llama)


def eval_token(llama: Any, token: int) -> np.ndarray:
    llama.eval([token])
    return last_logits(llama)


def last_logits(llama: Any) -> np.ndarray:
    pointer = llama._ctx.get_logits_ith(-1)
    return np.ctypeslib.as_array(pointer, shape=(llama.n_vocab(),)).copy()


class StopMatcher:
    """Holds back text that may be the start of a stop string; cuts at the first match."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = [stop for stop in stops if stop]
        self.pending = ""

    def feed(self, text: str) -> tuple[str, bool]:
        if not self.stops:
            return text, False
        self.pending += text
        cuts = [self.pending.find(stop) for stop in self.stops]
        found = [cut for cut in cuts if cut >= 0]
        if found:
            out = self.pending[: min(found)]
            self.pending = ""
            return out, True
        keep = 0
        for stop in self.stops:
            for size in range(min(len(stop) - 1, len(self.pending)), 0, -1):
                if self.pending.endswith(stop[:size]):
                    keep = max(keep, size)
                    break
        out = self.pending[: len(self.pending) - keep]
        self.pending = self.pending[len(self.pending) - keep :]
        return out, False

    def flush(self) -> str:
        out, self.pending = self.pending, ""
        return out


# The worker's side --------------------------------------------------------------------------


def send(conn: Connection, message: list[Any]) -> None:
    conn.send_bytes(json.dumps(message).encode())


def receive(conn: Connection) -> list[Any]:
    return json.loads(conn.recv_bytes())


def serve(conn: Connection, llama: Any) -> None:
    """Answer the gateway until it closes its end."""
    while True:
        try:
            message = receive(conn)
        except EOFError:
            return
        try:
            answer(conn, llama, message)
        except Exception as exc:  # a Python error is the request's, not the worker's end
            send(conn, ["error", type(exc).__name__])


def answer(conn: Connection, llama: Any, message: list[Any]) -> None:
    op = message[0]
    if op == "generate":
        _, prompt, sampling, max_tokens = message

        def cancelled() -> bool:
            # The gateway sends nothing else while a generation runs.
            return conn.poll() and receive(conn)[0] == "cancel"

        finish, count = decode(
            llama, prompt, sampling, max_tokens, lambda text: send(conn, ["text", text]), cancelled
        )
        send(conn, ["end", finish, count])
    elif op in ("start", "step"):
        logits = eval_prompt(llama, message[1]) if op == "start" else eval_token(llama, message[1])
        send(conn, ["logits"])
        conn.send_bytes(logits.astype(np.float32, copy=False).tobytes())
    elif op != "cancel":  # a cancel that crossed the generation's end is harmless
        send(conn, ["error", f"unknown operation {op!r}"])


def main(argv: list[str]) -> int:
    fd, model, n_ctx, threads = int(argv[0]), argv[1], int(argv[2]), int(argv[3])
    faulthandler.enable()  # a crash leaves its stack in the gateway's log (our stderr)
    # Ctrl-C in the gateway's terminal reaches us too; the gateway decides when we end (it
    # closes the socket, or its death does).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(fd)
    from llama_cpp import Llama

    kwargs: dict[str, Any] = {"n_ctx": n_ctx, "verbose": False}
    if threads:
        kwargs.update(n_threads=threads, n_threads_batch=threads)
    try:
        llama = Llama(model_path=model, **kwargs)
    except Exception as exc:
        send(conn, ["failed", type(exc).__name__])
        return 1
    send(conn, ["ready", llama.n_vocab()])
    serve(conn, llama)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
