"""The local model as a step-by-step scorer: feed one token, read the next-token logits.

Wraps the `Scorer` held through `LocalModel.exclusive()` (its computation runs in the model's
worker process or in this one) and adds what the decoder needs from the vocabulary: each
token's bytes and the first token of a text. The KV cache of a previous request is reused
for the common prompt prefix (`collab.worker.eval_prompt`).
"""

from __future__ import annotations

import numpy as np
from cogate.collab.runtime import Scorer
from cogate.collab.runtime_api import ChatPrompt, Prompt


class LlamaStepper:
    def __init__(self, scorer: Scorer) -> None:
        import llama_cpp

        self._lib = llama_cpp
        self.scorer = scorer
        self.vocab = scorer.vocab
        self.n_vocab = self.vocab.n_vocab()
        self._eog = self.vocab._model.vocab
        self._pieces: dict[int, bytes | None] = {}
        self._first: dict[bytes, int | None] = {}

    def start(self, prompt: Prompt) -> np.ndarray:
        if isinstance(prompt, ChatPrompt):
            raise TypeError("the embedded model's stepper reads token ids")
        return self.scorer.start(list(prompt))

    def step(self, token: int) -> np.ndarray:
        return self.scorer.step(token)

    def piece(self, token: int) -> bytes | None:
        if token not in self._pieces:
            if self._lib.llama_vocab_is_eog(self._eog, token):
                self._pieces[token] = None
            else:
                self._pieces[token] = self.vocab.detokenize([token])
        return self._pieces[token]

    def first_token(self, text: bytes) -> int | None:
        if text not in self._first:
            tokens = self.vocab.tokenize(text, add_bos=False, special=False) if text else []
            self._first[text] = tokens[0] if tokens else None
        return self._first[text]
