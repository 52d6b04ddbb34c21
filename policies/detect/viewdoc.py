"""The NER view of a long text as a spaCy Doc, built from the text's tokens instead of
tokenizing the view again (tokenizing was about a tenth of detection on agent outputs).

spaCy's tokenizer cuts a text into maximal runs of whitespace and of other characters and
tokenizes each run on its own. The view (`segments.ner_view`) only turns characters into
spaces, so every run it keeps is a run of the text, tokenized exactly as there; the runs
it blanks merge with the whitespace around them. A run kept only in part (a long line cut
without a space) has no tokens to reuse: then the view is tokenized as before.
"""

from __future__ import annotations

from typing import cast

import numpy
from spacy.attrs import IDX, IS_SPACE, LENGTH, NORM, ORTH
from spacy.tokens import Doc
from thinc.types import Ints2d


def _whitespace(gap: str, words: list[str], spaces: list[bool]) -> None:
    """Append the tokens spaCy's tokenizer makes of a whitespace run between two runs:
    one space right after a token is its trailing space, the rest one whitespace token
    (at the very start of the text the whole run is a token)."""
    if not gap:
        return
    if words and gap[0] == " ":
        spaces[-1] = True
        gap = gap[1:]
    if gap:
        words.append(gap)
        spaces.append(False)


def view_doc(doc: Doc, text: str, view: str) -> Doc | None:
    """`nlp.make_doc(view)` for a view of `text`, from `doc` (its tokens); None when a run
    of the text is kept only in part."""
    if len(view) != len(text) or not len(doc):
        return None
    starts, lengths, blank, orths, norms = doc.to_array([IDX, LENGTH, IS_SPACE, ORTH, NORM]).T
    starts, lengths, blank = starts.tolist(), lengths.tolist(), blank.tolist()
    strings = doc.vocab.strings
    words: list[str] = []
    spaces: list[bool] = []
    kept: list[int] = []  # for each token of the view, its token in `doc` (-1: whitespace)
    pos, i, n = 0, 0, len(doc)
    while i < n:
        if blank[i]:
            i += 1
            continue
        start, j = starts[i], i + 1
        end = start + lengths[i]
        while j < n and not blank[j] and starts[j] == end:  # the rest of this run
            end += lengths[j]
            j += 1
        piece = view[start:end]
        if piece == text[start:end]:
            before = len(words)
            _whitespace(view[pos:start], words, spaces)
            kept += [-1] * (len(words) - before) + list(range(i, j))
            words += [strings[orth] for orth in orths[i:j].tolist()]
            spaces += [False] * (j - i)
            pos = end
        elif not piece.isspace():
            return None
        i = j
    before = len(words)
    _whitespace(view[pos:], words, spaces)
    kept += [-1] * (len(words) - before)
    out = Doc(doc.vocab, words=words, spaces=spaces)
    _copy_norms(out, norms, kept)
    return out


def _copy_norms(out: Doc, norms: numpy.ndarray, kept: list[int]) -> None:
    # The tokenizer's exceptions set a token's norm ("n't" -> "not"); NER reads norms.
    if not len(out):
        return
    own = out.to_array([NORM])
    source = numpy.asarray(kept)
    reused = source >= 0
    own[reused] = norms[source[reused]]
    out.from_array([NORM], cast(Ints2d, own))  # spaCy's stubs type to_array as floats
