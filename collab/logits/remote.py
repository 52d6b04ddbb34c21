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
from cogate.collab.http_model import HttpModel, parse_logprobs
from cogate.collab.runtime_api import ChatPrompt, Prompt
from cogate.core.wire import encode_json

END = 0
UNSEEN = -1.0e4  # the log-probability of a token outside this step's top-k: about zero
ROLES = {"system": "", "user": "User: ", "assistant": "Assistant: "}


def plain_prompt(prompt: ChatPrompt) -> str:
    """The messages as plain text for a raw continuation (no chat template is applied by
    `/completions`), in the layout the cloud's drafts use."""
    parts = [f"{ROLES.get(m['role'], 'User: ')}{m['content']}" for m in prompt.messages]
    return "\n\n".join(parts) + "\n\nResponse:\n"


class RemoteStepper:
    """A `Stepper` (collab/logits/decode.py) over the runtime; its calls block (run them in
    a worker thread started by anyio, as the decoder does)."""

    def __init__(self, model: HttpModel, top_k: int) -> None:
        self.model = model
        self.top_k = top_k
        self._pieces: list[bytes | None] = [None]
        self._ids: dict[bytes, int] = {}
        self._prompt = ""
        self._generated = b""

    def start(self, prompt: Prompt) -> np.ndarray:
        if not isinstance(prompt, ChatPrompt):
            raise TypeError("the runtime's stepper reads chat messages (chat_prompt)")
        self._prompt, self._generated = plain_prompt(prompt), b""
        return self._next()

    def step(self, token: int) -> np.ndarray:
        piece = self._pieces[token]
        self._generated += piece or b""
        return self._next()

    def piece(self, token: int) -> bytes | None:
        return self._pieces[token]

    def first_token(self, text: bytes) -> int | None:
        return self._id(text) if text else None

    def _id(self, piece: bytes) -> int:
        if piece not in self._ids:
            self._ids[piece] = len(self._pieces)
            self._pieces.append(piece)
        return self._ids[piece]

    def _next(self) -> np.ndarray:
        text = self._prompt + self._generated.decode("utf-8", errors="ignore")
        body = {
            "model": self.model.name,
            "prompt": text,
            "max_tokens": 1,
            "temperature": 0,
            "logprobs": self.top_k,
            "stream": False,
        }
        data = anyio.from_thread.run(self._call, encode_json(body))
        return self.distribution(data)

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

    def distribution(self, data: dict[str, Any]) -> np.ndarray:
        """Log-probabilities over the ids seen so far from one /completions answer."""
        steps = parse_logprobs(data)
        choice = (data.get("choices") or [{}])[0]
        chosen_end = choice.get("finish_reason") == "stop" and not choice.get("text")
        values: dict[int, float] = {}
        if steps:
            for piece, logprob in steps[0].top.items():
                # An empty alternative is a control token or a partial character some
                # runtimes cannot show: only the chosen end of the answer counts as the end.
                if piece:
                    token = self._id(piece)
                    values[token] = max(values.get(token, UNSEEN), logprob)
            if steps[0].token and steps[0].token not in self._ids and steps[0].logprob:
                values[self._id(steps[0].token)] = float(steps[0].logprob)
        if chosen_end or not values:
            top = max(values.values(), default=0.0)
            logprob = steps[0].logprob if steps and steps[0].logprob is not None else top
            values[END] = max(float(logprob), top) if chosen_end else 0.0
        out = np.full(len(self._pieces), UNSEEN, dtype=np.float64)
        for token, logprob in values.items():
            out[token] = logprob if math.isfinite(logprob) else UNSEEN
        return out
