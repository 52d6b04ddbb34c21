"""Every field path of the official SDKs' request types, read from their TypedDicts.

Paths use the contract's steps: `.member`, `[]` (a list item), `{*}` (a map's value) and
`{type=x}` / `{role=x}` (an object told apart by that member). Each path ends in the kind
of value the SDK allows there (`str`, `enum`, `int`, `float`, `bool`, `any`).
"""

from __future__ import annotations

import collections.abc as cabc
import types
import typing
from typing import Any, Literal, get_args, get_origin

_WRAPPERS = {"Required", "NotRequired", "ReadOnly", "Annotated"}
_LISTS = (list, cabc.Iterable, cabc.Sequence, tuple, set, frozenset)
_MAPS = (dict, cabc.Mapping)


def _strip(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        name = getattr(origin, "_name", None) or getattr(tp, "_name", None)
        if origin is typing.Annotated or name in _WRAPPERS:
            tp = get_args(tp)[0]
            continue
        if type(tp).__name__ == "TypeAliasType":
            tp = tp.__value__
            continue
        return tp


def _options(tp: Any) -> list[Any]:
    tp = _strip(tp)
    if get_origin(tp) in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in get_args(tp):
            out.extend(_options(arg))
        return out
    return [tp]


def _is_typed_dict(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__total__")


def _hints(td: Any) -> dict[str, Any]:
    return typing.get_type_hints(td, include_extras=True)


def _literals(tp: Any) -> list[str]:
    values = [o for o in _options(tp) if o is not type(None)]
    if values and all(get_origin(v) is Literal for v in values):
        return [a for v in values for a in get_args(v) if isinstance(a, str)]
    return []


def tags_of(td: Any) -> list[str]:
    """The steps that tell this object apart among its siblings (one per value of its
    `type` literal, else of its `role` literal), or ['']."""
    hints = _hints(td)
    for member in ("type", "role"):
        if member in hints:
            values = _literals(hints[member])
            if values:
                return ["{" + f"{member}={value}" + "}" for value in values]
    return [""]


def paths(tp: Any, prefix: str = "", seen: frozenset[Any] = frozenset()) -> set[tuple[str, str]]:
    """(path, leaf kind) for every leaf reachable from `tp`."""
    out: set[tuple[str, str]] = set()
    for option in _options(tp):
        out |= _paths_one(option, prefix, seen)
    return out


def _paths_one(tp: Any, prefix: str, seen: frozenset[Any]) -> set[tuple[str, str]]:
    if tp is type(None):
        return set()
    if _is_typed_dict(tp):
        if tp in seen:
            return {(prefix, "recursive")}
        out: set[tuple[str, str]] = set()
        for tag in tags_of(tp):
            here = prefix + tag
            for name, hint in _hints(tp).items():
                out |= paths(hint, f"{here}.{name}" if here else name, seen | {tp})
        return out
    origin = get_origin(tp)
    if origin is Literal:
        return {(prefix, "enum")}
    if origin in _LISTS or tp in _LISTS:
        args = get_args(tp)
        return paths(args[0], prefix + "[]", seen) if args else {(prefix + "[]", "any")}
    if origin in _MAPS or tp in _MAPS:
        args = get_args(tp)
        value = args[1] if len(args) == 2 else object
        return paths(value, prefix + "{*}", seen)
    if tp in (str, bytes):
        return {(prefix, "str")}
    if tp is bool:
        return {(prefix, "bool")}
    if tp in (int, float):
        return {(prefix, tp.__name__)}
    return {(prefix, "any")}


def sdk_paths(params: Any) -> set[tuple[str, str]]:
    """The request body paths of one SDK params TypedDict (or a union of them)."""
    return paths(params)
