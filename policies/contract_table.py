"""A contract declared as a table: field paths (relative to where the table is used) to
the nodes of `contract.py`; shared shapes (a tool, an input item) are tables used twice."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .contract import Alt, Arr, Credential, Custom, Lazy, Node, Number, Obj, Union

__all__ = ["credentials", "leaves", "load", "read_rows", "resolve", "split", "table"]


_STEP = re.compile(r"\[\]|\{\*\}|\{[a-z_]+=[^}]*\}|[^.\[{]+")


def split(path: str) -> list[str]:
    """`input[]{type=message}.content` -> ['input', '[]', '{type=message}', 'content']."""
    return _STEP.findall(path)


@dataclass
class _Trie:
    leaf: Node | None = None
    kids: dict[str, _Trie] = field(default_factory=dict)


def table(entries: Mapping[str, Node], **options: Any) -> Node:
    """A contract from a table of paths (relative to where it is used) to nodes; a node may
    be another table, so shared shapes (a tool, an input item) are declared once.

    `options`: `missing` ({path: variant} for objects without their `type`), `enter`
    ({path: hook} run on an object before its members), `wrap` ({path: node -> node}: a
    surface's rule around the node the table builds there, e.g. signed blocks).
    """
    root = _Trie()
    for path, node in entries.items():
        spot = root
        for step in split(path):
            spot = spot.kids.setdefault(step, _Trie())
        spot.leaf = node
    return _build(root, "", options)


def _build(spot: _Trie, path: str, options: Mapping[str, Any]) -> Node:
    if not spot.kids:
        assert spot.leaf is not None, path
        leaf_wrap = (options.get("wrap") or {}).get(path)
        return leaf_wrap(spot.leaf) if leaf_wrap is not None else spot.leaf
    tagged = {s: t for s, t in spot.kids.items() if s.startswith("{") and s != "{*}"}
    members = {s: t for s, t in spot.kids.items() if s not in tagged and s not in ("[]", "{*}")}
    structure: Node | None = None
    if tagged:
        by = next(iter(tagged))[1:].split("=", 1)[0]
        variants = {}
        for step, sub in tagged.items():
            merged = _Trie(sub.leaf, {**members, **sub.kids})
            variants[step[len(by) + 2 : -1]] = _build(merged, path + step, options)
        structure = Union(by, variants, (options.get("missing") or {}).get(path))
    elif members or "{*}" in spot.kids:
        extra = spot.kids.get("{*}")
        structure = Obj(
            {
                name: _build(t, f"{path}.{name}" if path else name, options)
                for name, t in members.items()
            },
            _build(extra, path + "{*}", options) if extra is not None else None,
            (options.get("enter") or {}).get(path),
        )
    items = spot.kids.get("[]")
    listed = Arr(_build(items, path + "[]", options)) if items is not None else None
    node = _alt(spot.leaf, listed, structure)
    wrap = (options.get("wrap") or {}).get(path)
    return wrap(node) if wrap is not None else node


def _alt(leaf: Node | None, listed: Node | None, structure: Node | None) -> Node:
    if leaf is None and listed is None and structure is not None:
        return structure
    if leaf is None and structure is None and listed is not None:
        return listed
    if isinstance(leaf, Alt):
        return Alt(leaf.text, listed or leaf.many, structure or leaf.obj, leaf.num, leaf.flag)
    alt = Alt(many=listed, obj=structure)
    if leaf is not None:
        if getattr(leaf, "shape", "") == "true or false":
            alt.flag = leaf
        elif isinstance(leaf, Number):
            alt.num = leaf
        else:
            alt.text = leaf
    return alt


def read_rows(text: str) -> dict[str, str]:
    """`path<TAB>CLASS` lines (blank lines and `#` comments skipped)."""
    rows: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        path, sep, name = line.partition("\t")
        if not sep:
            raise ValueError(f"line {number}: expected `path<TAB>CLASS`, got {line!r}")
        rows[path] = name.strip()
    return rows


def load(
    read: Callable[[str], str],
    name: str,
    classes: Mapping[str, Node],
    overrides: Mapping[str, Mapping[str, Node]] | None = None,
    **options: Any,
) -> Node:
    """The contract in table `name` (read(name) gives its text): each row's class is looked
    up in `classes`; `@FRAGMENT` uses the table `name.fragment` (loaded once, shared);
    `overrides[table]` adds or replaces rows of that table with nodes."""
    fragments: dict[str, Node] = {}

    def build(table_name: str) -> Node:
        entries: dict[str, Node] = {}
        replaced = (overrides or {}).get(table_name, {})
        for path, cls in read_rows(read(table_name)).items():
            if any(path != r and path.startswith(r) and path[len(r)] in ".[{" for r in replaced):
                continue  # a row below a hand-written node: that node walks it
            if cls.startswith("@"):
                entries[path] = fragment(f"{name}.{cls[1:].lower()}")
            elif cls in classes:
                entries[path] = classes[cls]
            else:
                raise ValueError(f"{table_name}: {path} has an unknown class {cls!r}")
        entries.update(replaced)
        return table(entries, **options.get(table_name, {}))

    def fragment(table_name: str) -> Node:
        if table_name not in fragments:
            fragments[table_name] = Lazy(lambda: build(table_name))
        return fragments[table_name]

    return build(name)


def _leaf(node: Node) -> bool:
    return not isinstance(node, Obj | Arr | Union | Alt | Lazy | Custom)


def resolve(node: Node, steps: list[str]) -> Node | None:
    """The node at a path of steps; a leaf that takes any JSON (free text, opaque) covers
    everything below it."""
    for step in steps:
        if _leaf(node):
            return node if node.cls in ("text", "opaque", "setting", "unscannable") else None
        found = node.child(step)
        if found is None:
            return None
        node = found
    return node


def leaves(
    node: Node, prefix: tuple[str, ...] = (), seen: frozenset[int] = frozenset()
) -> Iterator[tuple[tuple[str, ...], Node]]:
    """Every leaf path of a contract (a recursive node is followed once per path)."""
    if _leaf(node):
        yield prefix, node
        return
    if id(node) in seen:
        return
    inner = seen | {id(node)}
    if isinstance(node, Custom | Lazy):
        inner_node = node.inner if isinstance(node, Custom) else node.node
        yield from leaves(inner_node, prefix, inner)
        return
    for step, child in node.steps():
        yield from leaves(child, prefix + ((step,) if step else ()), inner)


def credentials(node: Node, value: Any) -> list[str]:
    """The values a body holds at the contract's credential paths (nothing scanned)."""
    while isinstance(node, Lazy | Custom):
        node = node.node if isinstance(node, Lazy) else node.inner
    if isinstance(node, Credential):
        return [value] if isinstance(value, str) else []
    if isinstance(node, Alt):
        branch = node._for(value) if value is not None else None
        return credentials(branch, value) if branch is not None else []
    if isinstance(node, Union) and isinstance(value, dict):
        tag = value.get(node.by, node.missing)
        variant = node.variants.get(tag) if isinstance(tag, str) else None
        return credentials(variant, value) if variant is not None else []
    if isinstance(node, Arr) and isinstance(value, list):
        return [c for item in value for c in credentials(node.item, item)]
    if isinstance(node, Obj) and isinstance(value, dict):
        found = []
        for key, item in value.items():
            child = node.members.get(key, node.extra)
            if child is not None:
                found += credentials(child, item)
        return found
    return []
