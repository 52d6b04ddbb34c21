"""The field contracts of the wire APIs: one table per surface (`<surface>.tsv`, with its
shared shapes in `<surface>.<shape>.tsv`), each row a request field path and its class.

The classes every table uses are here; a surface adds its own (signed blocks, inline
files) and its hand-written rows as overrides. `tests/contract` checks the tables against
the official SDKs' request types and sends a canary through every path.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from cogate.policies.contract import (
    Credential,
    Free,
    Node,
    Number,
    Setting,
    Text,
    Unscannable,
)
from cogate.policies.contract_shapes import FLAG, MODEL, cipher
from cogate.policies.contract_table import load
from cogate.policies.fields import ID, TOKEN_ID

__all__ = ["CLASSES", "WORD", "contract", "read"]

HERE = Path(__file__).parent


def read(name: str) -> str:
    return (HERE / f"{name}.tsv").read_text(encoding="utf-8")


@cache
def words() -> frozenset[str]:
    lines = (HERE / "words.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


class Word(Setting):
    """An enumerated word or an identifier: the identifier shape; the wire APIs' own words
    kept as they are, any other value scanned as words (`conv_margaret_thornbury`)."""

    def __init__(self) -> None:
        super().__init__(
            lambda v: isinstance(v, str) and ID.fullmatch(v) is not None,
            "an identifier (1-128 of A-Z a-z 0-9 _ . : / -)",
        )

    def walk(self, value: Any, w: Any) -> Any:
        if isinstance(value, str) and value in words():
            return value
        return super().walk(value, w)


WORD = Word()
CLASSES: dict[str, Node] = {
    "TEXT": Text(),
    "FREE": Free(),
    "ARGS": Text(json=True),
    "WORD": WORD,
    "FLAG": FLAG,
    "NUMBER": Number(),
    "MODEL": MODEL,
    "CIPHER": cipher(),
    "CRED": Credential(),
    "IMAGE": Unscannable("image_url"),
    "FILE_URL": Unscannable("file_url"),
    "IMAGE_DATA": Unscannable("image"),
    "DOC_DATA": Unscannable("document"),
    "AUDIO": Unscannable("input_audio"),
    # A participant's name (chat `name`): any string, scanned as words.
    "NAME": Setting(lambda v: isinstance(v, str), "a string"),
    "FILE_DATA": Unscannable("file"),
    "LOGIT_BIAS": Setting(
        lambda v: (
            isinstance(v, dict)
            and all(
                isinstance(k, str)
                and TOKEN_ID.fullmatch(k) is not None
                and isinstance(n, int | float)
                and not isinstance(n, bool)
                and abs(n) <= 100
                for k, n in v.items()
            )
        ),
        "an object of token ids (up to 6 digits) to numbers",
    ),
}


def contract(name: str, classes: dict[str, Node], **options: Any) -> Node:
    return load(read, name, {**CLASSES, **classes}, **options)
