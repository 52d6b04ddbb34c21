"""Fuzz the policy loader: whatever a policy file holds, `load_policy` returns a policy or
raises `PolicyError` naming the problem, and `cogate policy check` exits 0 or 2.

Inputs: random YAML-ish text, random YAML documents over the policy's own keys, and random
mutations (structural and textual) of the shipped `default.yaml`.
"""

from __future__ import annotations

import datetime
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from cogate.policies import PolicyError, load_policy
from cogate.policies.schema import shipped_path
from cogate.proxy.cli import main
from hypothesis import given, settings
from hypothesis import strategies as st

DEFAULT_TEXT = shipped_path("default").read_text(encoding="utf-8")
DEFAULT: dict[str, Any] = yaml.safe_load(DEFAULT_TEXT)
VALIDATION_LINE = re.compile(r"\n  key `.*`: bad value ", re.S)


def check_file(text: str, mutated_key: str | None = None) -> None:
    """The loader and the CLI agree: ok, or a PolicyError / exit 2 naming the problem."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "policy.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            load_policy(path)
            loaded = True
        except PolicyError as exc:
            loaded = False
            check_message(str(exc), path, mutated_key)
        result = CliRunner().invoke(main, ["policy", "check", str(path)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    # A route naming a missing policy loads but fails the check: 2 is fine either way.
    assert result.exit_code in ((0, 2) if loaded else (2,)), result.output
    assert "Traceback" not in result.output


def check_message(message: str, path: Path, mutated_key: str | None) -> None:
    assert message.startswith(("policy ", "no policy ", "cannot read ")), message
    assert str(path) in message
    if " is invalid:" in message:
        # Keys are quoted as they are (a key may hold a newline or a backtick).
        assert VALIDATION_LINE.search(message), message
        if mutated_key is not None:
            # Only that key changed, so the error is about it (or a key it now contains).
            assert f"key `{mutated_key}" in message, message


# -- generators -----------------------------------------------------------------------

KEYS = sorted(DEFAULT) + ["match", "regex", "deny_list", "entity", "policy", "bogus"]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "redact",
            "block",
            "keep",
            "pseudonymize",
            "local",
            "PERSON",
            "default",
            "strict",
            "[a-z]+",
            "(",
            "<private>",
        ]
    )
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(KEYS) | st.text(max_size=6) | st.integers(), inner, max_size=3
        )
    ),
    max_leaves=12,
)
# Characters that mean something to YAML, so random text reaches the parser's corners, and
# constructs random characters rarely spell: tags, timestamps, anchors and aliases.
YAML_TEXT = st.text(
    alphabet=st.sampled_from(list(":-[]{},#&*!|>'\"%@`?\\\n\t ") + list("abmode19.") + ["é"]),
    max_size=80,
) | st.sampled_from(
    [" &a [*a]", " &b {x: *b}", " 2001-02-03", " 2001-13-45", " !!float x", " !!binary x", " ~"]
)


def dump(data: Any, style: bool | None) -> str:
    return yaml.safe_dump(data, default_flow_style=style, allow_unicode=True, sort_keys=False)


@settings(max_examples=80, deadline=None)
@given(text=YAML_TEXT)
def test_random_yaml_text(text: str) -> None:
    check_file(text)


@settings(max_examples=80, deadline=None)
@given(
    data=st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), VALUES, max_size=5),
    style=st.sampled_from([None, True, False]),
)
def test_random_yaml_documents(data: dict, style: bool | None) -> None:
    check_file(dump(data, style))


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into the default policy: keys of mappings, indexes of lists."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            found += paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += paths(child, (*prefix, index))
    return found


DEFAULT_PATHS = paths(DEFAULT)


def copy(node: Any) -> Any:
    return yaml.safe_load(yaml.safe_dump(node))


@settings(max_examples=100, deadline=None)
@given(
    where=st.sampled_from(DEFAULT_PATHS),
    how=st.sampled_from(["replace", "delete", "rename", "add"]),
    value=VALUES,
    new_key=st.sampled_from(KEYS) | st.text(min_size=1, max_size=8),
    style=st.sampled_from([None, True, False]),
)
def test_structural_mutations_of_the_default(where, how, value, new_key, style) -> None:
    data = copy(DEFAULT)
    parent = data
    for part in where[:-1]:
        parent = parent[part]
    last = where[-1]
    if how == "replace":
        parent[last] = value
    elif how == "delete":
        del parent[last]
    elif isinstance(parent, dict) and how == "rename":
        parent[new_key] = parent.pop(last)
    elif isinstance(parent, dict):
        parent[new_key] = value
    else:
        parent.insert(last, value)
    # A top-level mapping changed at `where`: its validation errors must name that key
    # (renames and additions may legitimately be reported under the new key instead).
    named = str(where[0]) if how in ("replace", "delete") else None
    check_file(dump(data, style), mutated_key=named)


@settings(max_examples=100, deadline=None)
@given(
    how=st.sampled_from(["delete", "insert", "duplicate line", "drop line", "indent"]),
    at=st.integers(0, len(DEFAULT_TEXT)),
    size=st.integers(1, 20),
    inserted=YAML_TEXT,
)
def test_text_mutations_of_the_default(how: str, at: int, size: int, inserted: str) -> None:
    text = DEFAULT_TEXT
    lines = text.splitlines(keepends=True)
    line = min(at * len(lines) // (len(text) + 1), len(lines) - 1)
    if how == "delete":
        text = text[:at] + text[at + size :]
    elif how == "insert":
        text = text[:at] + inserted + text[at:]
    elif how == "duplicate line":
        text = "".join(lines[: line + 1] + lines[line:])
    elif how == "drop line":
        text = "".join(lines[:line] + lines[line + 1 :])
    else:
        text = "".join(lines[:line] + [" " * size + lines[line]] + lines[line + 1 :])
    check_file(text)


# -- Known crashes the fuzz found, each with its minimal input -------------------------

CRASHES = [
    pytest.param("mode: 2001-13-45\n", id="yaml-timestamp-out-of-range"),
    pytest.param("mode: !!float abc\n", id="yaml-tagged-float"),
    pytest.param("[" * 1000 + "]" * 1000 + "\n", id="deep-nesting"),
    pytest.param(
        'custom: [{name: a, entity: A, regex: "a{9999999999}"}]\n', id="regex-repeat-overflow"
    ),
    pytest.param("mode: {2001-01-01: 1}\n", id="date-key-in-bad-value"),
    pytest.param("mode: &a [*a]\n", id="self-referencing-anchor"),
]


@pytest.mark.parametrize("text", CRASHES)
def test_known_crash_is_a_policy_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError):
        load_policy(path)
    result = CliRunner().invoke(main, ["policy", "check", str(path)])
    assert result.exit_code == 2, result.output


def test_nul_in_route_policy_path_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text('routes: [{mode: redact, policy: "a\\0b"}]\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["policy", "check", str(path)])
    assert result.exit_code == 2, result.output


def test_dates_are_fine_where_strings_are_expected(tmp_path: Path) -> None:
    # A valid date is a datetime.date after YAML; pydantic names the key instead of crashing.
    path = tmp_path / "policy.yaml"
    path.write_text(f"mode: {datetime.date(2001, 1, 1).isoformat()}\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="key `mode`"):
        load_policy(path)
