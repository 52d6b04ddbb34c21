"""The local model as a step-by-step scorer: feed one token, read the next-token logits.

Works on the raw `llama_cpp.Llama` held through `LocalModel.exclusive()` (or any Llama, for
training). The KV cache of a previous request is reused for the common prompt prefix.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class LlamaStepper:
    def __init__(self, llama: Any) -> None:
        import llama_cpp

        self._lib = llama_cpp
        self.llama = llama
        self.n_vocab = llama.n_vocab()
        self._vocab = llama._model.vocab
        self._pieces: dict[int, bytes | None] = {}
        self._first: dict[bytes, int | None] = {}

    def start(self, prompt: list[int]) -> np.ndarray:
        llama = self.llama
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
        return self._logits()

    def step(self, token: int) -> np.ndarray:
        self.llama.eval([token])
        return self._logits()

    def _logits(self) -> np.ndarray:
        pointer = self.llama._ctx.get_logits_ith(-1)
        return np.ctypeslib.as_array(pointer, shape=(self.n_vocab,)).copy()

    def piece(self, token: int) -> bytes | None:
        if token not in self._pieces:
            if self._lib.llama_vocab_is_eog(self._vocab, token):
                self._pieces[token] = None
            else:
                self._pieces[token] = self.llama.detokenize([token])
        return self._pieces[token]

    def first_token(self, text: bytes) -> int | None:
        if text not in self._first:
            tokens = self.llama.tokenize(text, add_bos=False, special=False) if text else []
            self._first[text] = tokens[0] if tokens else None
        return self._first[text]

    @property
    def tokens_in_context(self) -> int:
        return int(self.llama.n_tokens)
