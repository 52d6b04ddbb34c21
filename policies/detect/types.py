"""The entity-type vocabulary as the live recognizer roster has it: every type some
registered recognizer (Presidio's, cogate's, a policy's `custom`) produces, with the family,
languages and example of `policies/vocabulary.py` where it lists the type."""

from __future__ import annotations

from collections.abc import Iterable

from cogate.policies.detect.analyzer import recognizer_roster
from cogate.policies.recognizers.project import custom_recognizers
from cogate.policies.schema import CustomRecognizer
from cogate.policies.vocabulary import TYPES, EntityType


def _family(module: str) -> str:
    """`presidio` for Presidio's predefined recognizers, else cogate's module name."""
    if module.startswith("presidio_analyzer"):
        return "presidio"
    return module.rsplit(".", 1)[-1]


def registered_types(
    phone_regions: tuple[str, ...] = ("US", "GB"), custom: Iterable[CustomRecognizer] = ()
) -> dict[str, EntityType]:
    """Each type the roster (and `custom`) can produce; a type the table does not list
    joins with its recognizer's family and languages and no example."""
    out: dict[str, EntityType] = {}
    specs = list(custom)
    for recognizer in [*recognizer_roster(phone_regions), *custom_recognizers(specs)]:
        for name in recognizer.supported_entities:
            if name in out:
                continue
            if name in TYPES:
                out[name] = TYPES[name]
            elif any(spec.entity == name for spec in specs):
                out[name] = EntityType(name, "custom", "", (recognizer.supported_language,))
            else:
                family = _family(type(recognizer).__module__)
                out[name] = EntityType(name, family, "", (recognizer.supported_language,))
    return out
