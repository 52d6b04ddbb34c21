"""Field contracts: a declarative table of every field path of a wire API's requests.

Each surface declares its request shape as a tree of nodes; every leaf has one class:
*text* (scanned), *setting* (held to an enum, flag, number range or identifier shape, its
strings scanned as words), *number* (scanned with its key as context when it has 5 or more
digits), *opaque* (relayed under the rule the node states), *credential* (forwarded, never
scanned, masked in the ledger) or *unscannable* (the policy's rule). Object keys are scanned
everywhere. A member the contract does not know is refused with a 400 naming it, unless it
holds no text and no number of 5 or more digits (then its key is scanned and it is sent).

`walk(node, value, scanner)` rewrites a request; `resolve` and `leaves` let tests check the
table against the official SDKs' request types and fuzz every path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cogate.core.errors import BadRequest
from cogate.core.surface import Scanner

from .fields import MIN_NUMBER_DIGITS, WIRE_WORDS, generic, json_text, number, refuse

__all__ = [
    "DROP",
    "Alt",
    "Arr",
    "Credential",
    "Custom",
    "Free",
    "Lazy",
    "Node",
    "Number",
    "Obj",
    "Opaque",
    "Positional",
    "Refused",
    "Setting",
    "Text",
    "Union",
    "Unscannable",
    "Walk",
    "carries_text",
]


class _Drop:
    """A value the policy or a rule removes from the request."""


DROP: Any = _Drop()


@dataclass
class Walk:
    """One request's walk: the scanner, where it is, and what the surface's rules need."""

    scanner: Scanner
    trail: list[str | int] = field(default_factory=list)
    # Values forwarded as credentials: the ledger's copy of the body masks them.
    credentials: list[str] = field(default_factory=list)
    # Per-request facts a surface's opaque rules read (the raw body, the turn's role...).
    state: dict[str, Any] = field(default_factory=dict)

    def path(self) -> str:
        out = ""
        for step in self.trail:
            out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
        return out

    def key(self) -> str | None:
        last = self.trail[-1] if self.trail else None
        return last if isinstance(last, str) else None


class Node:
    """One place in a request; `cls` is its class in the coverage report."""

    cls = "structure"

    def walk(self, value: Any, w: Walk) -> Any:
        raise NotImplementedError

    def child(self, step: str) -> Node | None:
        """The node at `step` below this one (a member name, `[]`, `{*}` or `{type=x}`)."""
        return None

    def steps(self) -> Iterator[tuple[str, Node]]:
        """The steps below this node, for listing every leaf path."""
        return iter(())


def _key_context(key: str | None) -> str:
    if not key or key.isdigit():
        return ""
    return key.replace("_", " ") + ": "


@dataclass(eq=False)
class Text(Node):
    """Free text, scanned. `json`: a string holding JSON (tool arguments), values scanned."""

    json: bool = False
    cls = "text"

    def walk(self, value: Any, w: Walk) -> Any:
        if value is None:
            return value
        if not isinstance(value, str):
            return generic(value, w.path(), w.scanner, key=w.key())
        if self.json:
            return json_text(value, w.path(), w.scanner)
        return w.scanner.text(value, w.path(), context=_key_context(w.key()))


@dataclass(eq=False)
class Free(Node):
    """Any JSON the app wrote (JSON schemas, tool input, metadata): every string, number
    and key scanned."""

    cls = "text"

    def walk(self, value: Any, w: Walk) -> Any:
        return generic(value, w.path(), w.scanner, key=w.key())


@dataclass(eq=False)
class Positional(Node):
    """Data an app or a model wrote whose keys are data too (tool input and examples):
    every string, number and key scanned, and paths (which findings keep) name members by
    position, never by a key that may itself be private."""

    cls = "text"

    def walk(self, value: Any, w: Walk) -> Any:
        return positional(value, w.path(), w.scanner)


def positional(value: Any, path: str, scanner: Scanner) -> Any:
    if isinstance(value, str):
        return scanner.text(value, path)
    if isinstance(value, dict):
        out = {}
        for n, (k, v) in enumerate(value.items()):
            name = scanner.text(k, f"{path}.<key {n}>") if isinstance(k, str) else k
            out[name] = positional(v, f"{path}.<value {n}>", scanner)
        return out
    if isinstance(value, list):
        return [positional(v, f"{path}[{i}]", scanner) for i, v in enumerate(value)]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number(value, path, scanner, None)
    return value


@dataclass(eq=False)
class Setting(Node):
    """A value held to a shape that cannot carry free text; strings still scanned as words
    (`words=False` only for vendors' model names, held to the identifier shape)."""

    check: Callable[[Any], bool]
    shape: str
    words: bool = True
    cls = "setting"

    def walk(self, value: Any, w: Walk) -> Any:
        if value is None:
            return value
        if not self.check(value):
            raise refuse(w.path(), self.shape)
        if isinstance(value, str):
            return w.scanner.text(value, w.path(), words=True) if self.words else value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return number(value, w.path(), w.scanner, w.key())
        if isinstance(value, list | dict):
            return generic(value, w.path(), w.scanner, key=w.key())
        return value


@dataclass(eq=False)
class Number(Node):
    """A JSON number, scanned as its text with its key as context."""

    cls = "number"

    def walk(self, value: Any, w: Walk) -> Any:
        if value is None:
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise refuse(w.path(), "a number")
        return number(value, w.path(), w.scanner, w.key())


@dataclass(eq=False)
class Opaque(Node):
    """Relayed under `rule` (value, walk) -> value to send (or DROP); `note` states it."""

    rule: Callable[[Any, Walk], Any]
    note: str
    cls = "opaque"

    def walk(self, value: Any, w: Walk) -> Any:
        return self.rule(value, w)


@dataclass(eq=False)
class Credential(Node):
    """A third party's credential (an MCP server's token): forwarded, never scanned (a
    finding would record where it was), masked in the ledger's copy of the body."""

    cls = "credential"

    def walk(self, value: Any, w: Walk) -> Any:
        if not isinstance(value, str):
            raise refuse(w.path(), "a string")
        w.credentials.append(value)
        return value


@dataclass(eq=False)
class Unscannable(Node):
    """Content cogate cannot read (images, audio, binary files, remote files, token ids):
    the policy's `unscannable` rule keeps it, drops it or refuses the request."""

    kind: str
    cls = "unscannable"

    def walk(self, value: Any, w: Walk) -> Any:
        if value is None:
            return value
        return value if w.scanner.unscannable(w.path(), self.kind) else DROP


@dataclass(eq=False)
class Refused(Node):
    """A field accepted only elsewhere (`headers` outside MCP tools): always refused."""

    shape: str
    cls = "refused"

    def walk(self, value: Any, w: Walk) -> Any:
        raise refuse(w.path(), self.shape)


@dataclass(eq=False)
class Custom(Node):
    """A node whose walk a surface writes itself (text scanned as one message, signed
    blocks); `inner` describes its paths for coverage and fuzzing."""

    run: Callable[[Any, Walk], Any]
    inner: Node
    cls = "text"

    def walk(self, value: Any, w: Walk) -> Any:
        return self.run(value, w)

    def child(self, step: str) -> Node | None:
        return self.inner.child(step)

    def steps(self) -> Iterator[tuple[str, Node]]:
        return self.inner.steps()


def carries_text(value: Any) -> bool:
    """Whether a value holds a string or a number of 5 or more digits anywhere."""
    if isinstance(value, str):
        return True
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float):
        return sum(c.isdigit() for c in repr(value)) >= MIN_NUMBER_DIGITS
    if isinstance(value, dict):
        return any(isinstance(k, str) and carries_text(v) for k, v in value.items()) or any(
            carries_text(v) for v in value.values()
        )
    if isinstance(value, list):
        return any(carries_text(v) for v in value)
    return True


def _unknown(value: Any, w: Walk) -> Any:
    """A member the contract does not know: sent only when it cannot carry text."""
    if carries_text(value):
        raise BadRequest(
            f"unknown field `{w.path()}` carries text cogate does not know how to scan. Fix "
            "the value or remove the field (a boolean, null or a short number may stay)",
            param=w.path(),
        )
    return generic(value, w.path(), w.scanner, key=w.key())  # keys inside scanned


@dataclass(eq=False)
class Obj(Node):
    """An object: known `members`; `extra` walks any other member (a map), whose key is
    scanned; without `extra`, another member passes only if it carries no text."""

    members: Mapping[str, Node] = field(default_factory=dict)
    extra: Node | None = None
    enter: Callable[[dict[str, Any], Walk], None] | None = None

    def walk(self, value: Any, w: Walk) -> Any:
        if value is None:
            return value
        if not isinstance(value, dict):
            raise refuse(w.path(), "an object")
        if self.enter is not None:
            self.enter(value, w)
        out: dict[str, Any] = {}
        for key, item in value.items():
            w.trail.append(key)
            node = self.members.get(key)
            if node is not None:
                name, sent = key, node.walk(item, w)
            else:
                # A key may itself be private: paths (which findings keep) name it by position.
                w.trail[-1] = f"<key {len(out)}>"
                name = key if key in WIRE_WORDS else w.scanner.text(key, w.path(), words=True)
                w.trail[-1] = key if name == key else f"<value {len(out)}>"
                sent = self.extra.walk(item, w) if self.extra is not None else _unknown(item, w)
                if name in out:
                    raise refuse(w.path(), "a key that stays distinct once redacted")
            w.trail.pop()
            if sent is not DROP:
                out[name] = sent
        return out

    def child(self, step: str) -> Node | None:
        if step == "{*}":
            return self.extra
        return self.members.get(step, None)

    def steps(self) -> Iterator[tuple[str, Node]]:
        yield from self.members.items()
        if self.extra is not None:
            yield "{*}", self.extra


@dataclass(eq=False)
class Arr(Node):
    """A list; items the policy drops are removed."""

    item: Node

    def walk(self, value: Any, w: Walk) -> Any:
        if value is None:
            return value
        if not isinstance(value, list):
            raise refuse(w.path(), "a list")
        out = []
        for i, item in enumerate(value):
            w.trail.append(i)
            sent = self.item.walk(item, w)
            w.trail.pop()
            if sent is not DROP:
                out.append(sent)
        return out

    def child(self, step: str) -> Node | None:
        return self.item if step == "[]" else None

    def steps(self) -> Iterator[tuple[str, Node]]:
        yield "[]", self.item


@dataclass(eq=False)
class Union(Node):
    """Objects told apart by one member (`type`, `role`); `missing`: the variant of an
    object without it; an unknown variant is refused naming it."""

    by: str
    variants: Mapping[str, Node]
    missing: str | None = None

    def pick(self, value: Any, w: Walk) -> Node:
        if not isinstance(value, dict):
            raise refuse(w.path(), f"an object with a `{self.by}`")
        tag = value.get(self.by, self.missing)
        node = self.variants.get(tag) if isinstance(tag, str) else None
        if node is None:
            shown = tag if isinstance(tag, str) and tag.isidentifier() else "(a value)"
            raise BadRequest(
                f"`{w.path()}` is a {self.by} {shown!r} cogate does not know how to scan; "
                f"use one of: {', '.join(sorted(self.variants))}",
                # An unknown block type names the block; a bad role or a type that is not
                # a word names the member.
                param=w.path()
                if self.by == "type" and isinstance(tag, str)
                else f"{w.path()}.{self.by}",
            )
        return node

    def walk(self, value: Any, w: Walk) -> Any:
        return self.pick(value, w).walk(value, w)

    def child(self, step: str) -> Node | None:
        prefix = "{" + self.by + "="
        if step.startswith(prefix) and step.endswith("}"):
            return self.variants.get(step[len(prefix) : -1])
        return None

    def steps(self) -> Iterator[tuple[str, Node]]:
        for tag, node in self.variants.items():
            yield "{" + f"{self.by}={tag}" + "}", node


@dataclass(eq=False)
class Alt(Node):
    """A value of several JSON kinds (a string or a list of parts...), walked by its kind."""

    text: Node | None = None
    many: Node | None = None
    obj: Node | None = None
    num: Node | None = None
    flag: Node | None = None

    def walk(self, value: Any, w: Walk) -> Any:
        if value is None:
            return value
        node = self._for(value)
        if node is None:
            raise refuse(w.path(), self._shape())
        return node.walk(value, w)

    def _for(self, value: Any) -> Node | None:
        if isinstance(value, str):
            return self.text
        if isinstance(value, bool):
            return self.flag
        if isinstance(value, int | float):
            return self.num
        if isinstance(value, list):
            return self.many
        if isinstance(value, dict):
            return self.obj
        return None

    def _shape(self) -> str:
        names = ("a string", "a list", "an object", "a number", "true or false")
        nodes = (self.text, self.many, self.obj, self.num, self.flag)
        return " or ".join(n for n, node in zip(names, nodes, strict=True) if node is not None)

    def branches(self) -> list[Node]:
        return [n for n in (self.text, self.many, self.obj, self.num, self.flag) if n]

    def child(self, step: str) -> Node | None:
        for node in self.branches():
            found = node.child(step)
            if found is not None:
                return found
        return None

    def steps(self) -> Iterator[tuple[str, Node]]:
        for node in self.branches():
            yield "", node


class Lazy(Node):
    """A node defined later (recursive shapes: tool results holding content blocks)."""

    def __init__(self, make: Callable[[], Node]) -> None:
        self._make = make
        self._node: Node | None = None

    @property
    def node(self) -> Node:
        if self._node is None:
            self._node = self._make()
        return self._node

    def walk(self, value: Any, w: Walk) -> Any:
        return self.node.walk(value, w)

    def child(self, step: str) -> Node | None:
        return self.node.child(step)

    def steps(self) -> Iterator[tuple[str, Node]]:
        return self.node.steps()
