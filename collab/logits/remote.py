"""The user's runtime as logits mode's local side: its next-token top-k log-probabilities.

A runtime over HTTP gives no full logits vector, only the top-k alternatives of each token
it generates on the legacy `/completions` route (llama-server, vLLM, llama_cpp.server). So
each step asks it for one token with `logprobs: k` after the prompt and the answer so far,
and turns the alternatives into the decoder's shape: a vocabulary of the byte strings seen
so far (id 0 is the end of the answer), every token outside this step's top-k at a
probability of about zero. Fusion with the cloud then runs over the union of both sides'
top-k through bytes, as it does across tokenizers.
"""

from __future__ import annotations

import json
import math
from typing import Any

import anyio.from_thread
import numpy as np
from cogate.collab.http_model import HttpModel, LogprobStep, parse_logprobs
from cogate.collab.runtime_api import ChatPrompt, Prompt
from cogate.core.wire import encode_json

END = 0
UNSEEN = -1.0e4  # the log-probability of a token outside this step's top-k: about zero
CHUNK_TOKENS = 8  # tokens the runtime writes per call (with their top-k each)
ROLES = {"system": "", "user": "User: ", "assistant": "Assistant: "}


def plain_prompt(prompt: ChatPrompt) -> str:
    """The messages as plain text for a raw continuation (no chat template is applied by
    `/completions`), in the layout the cloud's drafts use."""
    parts = [f"{ROLES.get(m['role'], 'User: ')}{m['content']}" for m in prompt.messages]
    return "\n\n".join(parts) + "\n\nResponse:\n"


class RemoteStepper:
    """A `Stepper` (collab/logits/decode.py) over the runtime; its calls block (run them in
    a worker thread started by anyio, as the decoder does).

    Each call asks for a chunk of tokens with their top-k: while the answer takes the
    runtime's own tokens the chunk serves the next steps, so the runtime reads what it wrote
    (a text sent back is tokenised anew, and "\n" + "\n" is not the token "\n\n"); the first
    other choice asks again after the answer so far.
    """

    def __init__(self, model: HttpModel, top_k: int, chunk: int = CHUNK_TOKENS) -> None:
        self.model = model
        self.top_k = top_k
        self.chunk_tokens = chunk
        self._pieces: list[bytes | None] = [None]
        self._ids: dict[bytes, int] = {}
        self._prompt = ""
        self._generated = b""
        self._chunk: list[LogprobStep] = []
        self._ended = False  # the runtime ended its answer after the chunk
        self._at = 0
        self.calls = 0

    def start(self, prompt: Prompt) -> np.ndarray:
        if not isinstance(prompt, ChatPrompt):
            raise TypeError("the runtime's stepper reads chat messages (chat_prompt)")
        self._prompt, self._generated = plain_prompt(prompt), b""
        self._ask()
        # Whitespace the runtime puts before its answer is layout, not text.
        while self._at < len(self._chunk) and not self._chunk[self._at].token.strip():
            self._prompt += self._chunk[self._at].token.decode("utf-8", errors="ignore")
            self._at += 1
        return self._next()

    def step(self, token: int) -> np.ndarray:
        piece = self._pieces[token]
        self._generated += piece or b""
        if self._at < len(self._chunk) and self._chunk[self._at].token == piece:
            self._at += 1
        else:
            self._chunk, self._at, self._ended = [], 0, False
        return self._next()

    def piece(self, token: int) -> bytes | None:
        return self._pieces[token]

    def first_token(self, text: bytes) -> int | None:
        # A cloud option this runtime did not rank joins the pool under its own id; the
        # decoder gives it a floor probability (decode._ranked).
        return self._id(text) if text else None

    def _id(self, piece: bytes) -> int:
        if piece not in self._ids:
            self._ids[piece] = len(self._pieces)
            self._pieces.append(piece)
        return self._ids[piece]

    def _next(self) -> np.ndarray:
        if self._at >= len(self._chunk) and not self._ended:
            self._ask()
        if self._at >= len(self._chunk):
            return self._end()  # the runtime ended its answer here
        return self.distribution(self._chunk[self._at])

    def _ask(self) -> None:
        text = self._prompt + self._generated.decode("utf-8", errors="ignore")
        body = {
            "model": self.model.name,
            "prompt": text,
            "max_tokens": self.chunk_tokens,
            "temperature": 0,
            "logprobs": self.top_k,
            "stream": False,
        }
        data = anyio.from_thread.run(self._call, encode_json(body))
        self.calls += 1
        choice = (data.get("choices") or [{}])[0]
        self._chunk = [s for s in parse_logprobs(data) if s.token or s.top]
        self._at = 0
        # Fewer tokens than asked and a "stop": the runtime chose to end after them.
        self._ended = choice.get("finish_reason") == "stop" or not self._chunk

    async def _call(self, body: bytes) -> dict[str, Any]:
        response = await self.model.post("completions", body)
        try:
            data = json.loads(await response.aread())
        except ValueError:
            raise self.model.unavailable("its /completions answer is not JSON") from None
        finally:
            await response.aclose()
        if not isinstance(data, dict):
            raise self.model.unavailable("its /completions answer is not an object")
        return data

    def _end(self) -> np.ndarray:
        out = np.full(len(self._pieces), UNSEEN, dtype=np.float64)
        out[END] = 0.0
        return out

    def distribution(self, step: LogprobStep) -> np.ndarray:
        """Log-probabilities over the ids seen so far at one step of the runtime's answer."""
        values: dict[int, float] = {}
        for piece, logprob in step.top.items():
            # An empty alternative is a control token or a partial character some runtimes
            # cannot show: the end of the answer is known from the finish reason instead.
            if piece and math.isfinite(logprob):
                token = self._id(piece)
                values[token] = max(values.get(token, UNSEEN), logprob)
        if step.token and step.logprob is not None and math.isfinite(step.logprob):
            token = self._id(step.token)
            values[token] = max(values.get(token, UNSEEN), float(step.logprob))
        elif step.token and not values:
            values[self._id(step.token)] = 0.0
        out = np.full(len(self._pieces), UNSEEN, dtype=np.float64)
        for token, logprob in values.items():
            out[token] = logprob
        return out
