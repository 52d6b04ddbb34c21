"""The policy schema: what a policy YAML may say, validated with pydantic (`extra="forbid"`).

A policy file lists only what differs from the shipped `default.yaml`; `load_policy` merges
it over the default, validates the result and turns pydantic's errors into messages that
name the key, the bad value and the fix.
"""

from __future__ import annotations

import hashlib
import json
import re
import reprlib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import rfc8785
import yaml
from cogate.core.exchange import Exchange
from cogate.core.modes import Mode
from cogate.policies.sensitive import FOUND_CATEGORIES
from cogate.policies.vocabulary import known_types, unknown_type_errors
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

Action = Literal["pseudonymize", "mask", "hash", "drop", "block", "keep"]
ACTIONS = ("pseudonymize", "mask", "hash", "drop", "block", "keep")
SHIPPED = ("default", "strict", "example-routes", "hipaa", "gdpr", "pci")
# The standards a shipped preset may claim (`cogate policy coverage` lists their identifiers).
STANDARDS = ("hipaa", "gdpr", "pci")


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the key, the value and the fix."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CustomRecognizer(_Model):
    """A project-specific detector: a list of words (`deny_list`) or a `regex`."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    entity: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    deny_list: list[str] | None = None
    regex: str | None = None
    score: float = Field(default=0.8, ge=0.0, le=1.0)
    context: list[str] = Field(default_factory=list)
    case_sensitive: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> CustomRecognizer:
        if (self.deny_list is None) == (self.regex is None):
            raise ValueError("give exactly one of `deny_list` (a list of words) or `regex`")
        if self.deny_list is not None and not [w for w in self.deny_list if w.strip()]:
            raise ValueError("`deny_list` is empty; list at least one word")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except (re.error, OverflowError, RecursionError) as exc:
                raise ValueError(f"`regex` does not compile ({exc}); fix the pattern") from None
        return self


class Collab(_Model):
    """Options of the collaboration modes."""

    # sketch: when the cloud fails, answer from the local model alone (the reply says so in
    # x-cogate-fallback) instead of returning the upstream's error.
    fallback_local: bool = False
    # logits: what to do when the upstream cannot continue a partial answer with logprobs.
    logits_fallback: Literal["sketch", "local", "refuse"] = "sketch"


class PrivateContext(_Model):
    """Sections the collaborative modes (sketch, logits) keep on the device as a whole."""

    system_message: bool = True
    markers: list[tuple[str, str]] = Field(default_factory=lambda: [("<private>", "</private>")])
    headings: list[str] = Field(default_factory=lambda: ["User Profile", "User Writing History"])
    # A task that itself states a health, sexuality, religion, finance or legal matter
    # (policies/sensitive.py): answer it on the device (`local`), send it with those terms
    # replaced by their kind (`generalise`: "a health matter"), or send it as is (`allow`).
    sensitive_task: Literal["local", "generalise", "allow"] = "local"

    @field_validator("markers")
    @classmethod
    def _markers_nonempty(cls, value: list[tuple[str, str]]) -> list[tuple[str, str]]:
        for opening, closing in value:
            if not opening or not closing:
                raise ValueError("each marker is a pair [open, close] of non-empty strings")
        return value


_URL_HOST = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


class RestoreOptions(_Model):
    """How answers are restored: values go into URLs only on `url_hosts` (`*.` for subdomains)."""

    url_hosts: list[str] = Field(default_factory=list)

    @field_validator("url_hosts")
    @classmethod
    def _host_names(cls, value: list[str]) -> list[str]:
        for host in value:
            if not _URL_HOST.fullmatch(host.lower()):
                raise ValueError(
                    f"{host!r} is not a host name; list names such as mail.example.com or "
                    "*.example.com (no scheme, port or path)"
                )
        return [host.lower() for host in value]


class RouteMatch(_Model):
    """Glob patterns (`*`, `?`); an absent key matches anything. `found`: entity types
    (`US_SSN`) and sensitive-matter categories (`HEALTH`; policies/sensitive.py
    FOUND_CATEGORIES), one of which the request must hold."""

    app: str | None = None
    host: str | None = None
    model: str | None = None
    found: list[str] | None = None

    @field_validator("found")
    @classmethod
    def _found_names(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if not value:
                raise ValueError("`found` is empty; list entity types or categories")
            for name in value:
                if not isinstance(name, str) or not name.strip():
                    raise ValueError("`found` lists entity types (US_SSN) or categories (HEALTH)")
        return value


class Route(_Model):
    """Choose a mode and/or another policy for requests matching `match`."""

    name: str | None = None
    match: RouteMatch = Field(default_factory=RouteMatch)
    mode: Mode | None = None
    policy: str | None = None  # a shipped policy name or a path relative to this file
    # Once this route applied to a conversation, its later turns take it too.
    sticky: bool = False

    @model_validator(mode="after")
    def _does_something(self) -> Route:
        if self.mode is None and self.policy is None:
            raise ValueError("a route needs `mode` or `policy` (or both)")
        return self


class Policy(_Model):
    """The effective policy of a request (the shipped default with a file's changes)."""

    name: str = "default"
    description: str = ""
    # The regulation whose identifiers this policy claims to cover (`cogate policy coverage`).
    standard: Literal["hipaa", "gdpr", "pci"] | None = None
    mode: Mode = "redact"
    actions: dict[str, Action] = Field(default_factory=lambda: {"default": "pseudonymize"})  # type: ignore[arg-type]
    score_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    thresholds: dict[str, float] = Field(default_factory=dict)
    entities: list[str] | None = None  # None: every type the engine knows
    custom: list[CustomRecognizer] = Field(default_factory=list)
    allow_list: list[str] = Field(default_factory=list)
    private_context: PrivateContext = Field(default_factory=PrivateContext)
    collab: Collab = Field(default_factory=Collab)
    routes: list[Route] = Field(default_factory=list)
    restore: RestoreOptions = Field(default_factory=RestoreOptions)
    unscannable: Literal["block", "drop", "allow"] = "block"
    store_body: bool = True
    spacy_model: str = "en_core_web_sm"
    phone_regions: list[str] = Field(default_factory=lambda: ["US", "GB"])

    @field_validator("actions")
    @classmethod
    def _has_default(cls, value: dict[str, str]) -> dict[str, str]:
        if "default" not in value:
            raise ValueError("`actions` needs a `default` entry (the action for other types)")
        return value

    @field_validator("thresholds")
    @classmethod
    def _thresholds_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for key, score in value.items():
            if not 0.0 <= score <= 1.0:
                raise ValueError(f"threshold of {key} is {score}; use a score between 0 and 1")
        return value

    def action_for(self, entity_type: str) -> str:
        return self.actions.get(entity_type, self.actions["default"])

    def threshold_for(self, entity_type: str) -> float:
        return self.thresholds.get(entity_type, self.score_threshold)

    def canonical(self) -> bytes:
        """The policy's content as RFC 8785 canonical JSON, the form the ledger hashes too.

        Ledger entries name this form in `policy.canon` ("rfc8785"); entries without it were
        written when the hash covered `json.dumps(sort_keys=True, separators=(",", ":"),
        ensure_ascii=False)` instead.
        """
        return rfc8785.dumps(self.model_dump(mode="json"))

    def content_hash(self) -> str:
        return "sha256:" + hashlib.sha256(self.canonical()).hexdigest()

    def detection_key(self) -> str:
        """What the detection results depend on: equal keys may share cached analyses."""
        data = self.model_dump(
            mode="json",
            include={"custom", "spacy_model", "phone_regions"},
        )
        raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(raw).hexdigest()[:16]


def shipped_path(name: str) -> Path:
    return Path(str(resources.files("cogate.policies").joinpath(f"{name}.yaml")))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(
            f"no policy at {path}; give the path of a YAML file (`mode: redact` is a complete "
            "policy) and run `cogate policy check FILE`"
        ) from None
    except (OSError, ValueError) as exc:  # ValueError: undecodable bytes, a NUL in the path
        raise PolicyError(f"cannot read the policy {path} ({type(exc).__name__})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise PolicyError(f"policy {path} is not valid YAML{where}; fix the syntax") from None
    except RecursionError:
        raise PolicyError(f"policy {path} is nested too deeply; flatten it") from None
    except (ValueError, TypeError) as exc:
        # PyYAML's constructors raise plain errors for values they cannot build
        # (`2001-13-45`, `!!float abc`).
        raise PolicyError(f"policy {path} has a value YAML cannot read ({exc}); fix it") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PolicyError(
            f"policy {path} must be a YAML mapping of keys such as `mode: redact`, "
            f"not a {type(data).__name__}"
        )
    return data


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; any other value (lists included) replaces the base's."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


_FIXES = {
    "extra_forbidden": "remove it or check its spelling",
    "literal_error": "use one of the values listed",
    "missing": "add it",
    "float_parsing": "use a number between 0 and 1",
    "bool_parsing": "use true or false",
    "string_type": "use a string",
    "list_type": "use a YAML list",
    "dict_type": "use a YAML mapping",
}


def explain(error: ValidationError, source: str) -> str:
    lines = [f"policy {source} is invalid:"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        bad = item.get("input")
        try:
            shown = json.dumps(bad, ensure_ascii=False, default=str)
        except (TypeError, ValueError):  # YAML allows date keys and self-referencing anchors
            shown = reprlib.repr(bad)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        message = item["msg"].removeprefix("Value error, ")
        fix = _FIXES.get(item["type"], "")
        text = f"  key `{key}`: bad value {shown}: {message}"
        lines.append(text + (f"; fix: {fix}" if fix else ""))
    return "\n".join(lines)


def _default_data() -> dict[str, Any]:
    return _read_yaml(shipped_path("default"))


def policy_from_data(
    data: dict[str, Any], source: str, base: dict[str, Any] | None = None
) -> Policy:
    merged = merge(_default_data() if base is None else base, data)
    try:
        policy = Policy.model_validate(merged)
    except ValidationError as exc:
        raise PolicyError(explain(exc, source)) from None
    errors = vocabulary_errors(policy)
    if errors:
        raise PolicyError("\n".join([f"policy {source} is invalid:", *errors]))
    return policy


def vocabulary_errors(policy: Policy) -> list[str]:
    """Every entity type the policy names that no recognizer produces (an action for `IBAN`
    would never apply: IBANs are `IBAN_CODE`), one line each. A route key that lists types
    (`match.found`) is checked with `unknown_type_errors(..., listed=True)` the same way."""
    known = known_types(spec.entity for spec in policy.custom)
    errors = unknown_type_errors(policy.actions, "actions", known)
    errors += unknown_type_errors(policy.thresholds, "thresholds", known)
    if policy.entities is not None:
        errors += unknown_type_errors(policy.entities, "entities", known, listed=True)
    # `found` also names sensitive-matter categories, in any case (`HEALTH`, `health`).
    categories = {c for name in FOUND_CATEGORIES for c in (name, name.upper())}
    for index, route in enumerate(policy.routes):
        if route.match.found:
            key = f"routes.{index}.match.found"
            errors += unknown_type_errors(
                route.match.found, key, known, categories=categories, listed=True
            )
    return errors


def load_policy(path: Path | str | None = None) -> Policy:
    """The shipped default, or the default with the changes a policy file lists."""
    if path is None:
        return policy_from_data({}, "default")
    path = resolve_reference(str(path), None)  # a shipped name (`strict`, `hipaa`) or a path
    data = expand_deny_list_files(_read_yaml(path), path)
    policy = policy_from_data(data, str(path))
    if "name" not in data:
        policy = policy.model_copy(update={"name": path.stem})
    return policy


def check_policy(path: Path | str | None) -> Policy:
    """The policy at `path` (a file or shipped name) with every policy its routes name loaded
    too: what `cogate policy check` and `serve`'s start-up check before anything heavy."""
    loaded = load_policy(path)
    where = None if path is None else resolve_reference(str(path), None)
    for index, route in enumerate(loaded.routes):
        if route.policy is not None:
            try:
                load_policy(resolve_reference(route.policy, where))
            except PolicyError as exc:
                raise PolicyError(
                    f"key `routes.{index}.policy`: bad value {route.policy!r}: {exc}"
                ) from None
    return loaded


def expand_deny_list_files(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """`custom[].deny_list_file` (one word or phrase a line, `#` comments; relative to the
    policy file) read into `deny_list`, so the words are part of the policy's content hash."""
    custom = data.get("custom")
    if not isinstance(custom, list):
        return data
    expanded = []
    for index, item in enumerate(custom):
        if isinstance(item, dict) and "deny_list_file" in item:
            item = dict(item)
            name = item.pop("deny_list_file")
            key = f"custom.{index}.deny_list_file"
            if "deny_list" in item or not isinstance(name, str):
                raise PolicyError(
                    f"policy {path} is invalid:\n  key `{key}`: bad value {name!r}: give a "
                    "file name as a string, and either `deny_list` or `deny_list_file`"
                )
            words_path = (path.parent / name).expanduser()
            try:
                lines = words_path.read_text(encoding="utf-8").splitlines()
            except (OSError, ValueError) as exc:
                raise PolicyError(
                    f"policy {path} is invalid:\n  key `{key}`: bad value {name!r}: cannot "
                    f"read {words_path} ({type(exc).__name__}); fix: give a text file, one "
                    "entry a line, relative to the policy file"
                ) from None
            item["deny_list"] = [w.strip() for w in lines if w.strip() and not w.startswith("#")]
        expanded.append(item)
    return {**data, "custom": expanded}


def read_policy_data(path: Path | str | None) -> dict[str, Any]:
    """What a policy file itself says (its changes to the default), as parsed YAML."""
    if path is None:
        return _default_data()
    return _read_yaml(resolve_reference(str(path), None))


def resolve_reference(reference: str, relative_to: Path | None) -> Path:
    """A route's `policy`: a shipped policy name or a path (relative to the routing file)."""
    if reference in SHIPPED:
        return shipped_path(reference)
    path = Path(reference).expanduser()
    if not path.is_absolute() and relative_to is not None:
        path = relative_to.parent / path
    return path


def policy_of(ex: Exchange) -> Policy:
    """The full policy an exchange runs under (set by `Privacy.resolve`)."""
    if not isinstance(ex.policy, Policy):
        raise TypeError("the exchange has no resolved policy; run Privacy.resolve first")
    return ex.policy
