"""cogate's own recognizers as one list, and a policy's `custom` recognizers."""

from __future__ import annotations

import re
from collections.abc import Iterable

from cogate.policies.recognizers.addresses import ADDRESS_RULES, PROFILE_LOCATION_RULES
from cogate.policies.recognizers.base import RegexRecognizer
from cogate.policies.recognizers.contacts import OBFUSCATED_EMAIL_RULES, PHONE_RULES
from cogate.policies.recognizers.introductions import INTRODUCTION_RULES, PROFILE_PERSON_RULES
from cogate.policies.recognizers.name_list import NameListRecognizer
from cogate.policies.recognizers.numbers import SPACED_CARD_RULES
from cogate.policies.recognizers.secrets import SECRET_RULES
from cogate.policies.schema import CustomRecognizer
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer


def project_recognizers() -> list[EntityRecognizer]:
    """cogate's own recognizers, added to Presidio's predefined ones."""
    return [
        RegexRecognizer("SECRET", SECRET_RULES, "SecretsRecognizer"),
        RegexRecognizer("EMAIL_ADDRESS", OBFUSCATED_EMAIL_RULES, "ObfuscatedEmailRecognizer"),
        RegexRecognizer("CREDIT_CARD", SPACED_CARD_RULES, "SpacedCardRecognizer"),
        RegexRecognizer("PERSON", PROFILE_PERSON_RULES, "ProfileFieldRecognizer"),
        RegexRecognizer("PERSON", INTRODUCTION_RULES, "IntroductionRecognizer"),
        NameListRecognizer(),
        RegexRecognizer("LOCATION", PROFILE_LOCATION_RULES, "ProfileFieldRecognizer"),
        RegexRecognizer("LOCATION", ADDRESS_RULES, "AddressRecognizer"),
        RegexRecognizer("PHONE_NUMBER", PHONE_RULES, "PhoneDigitsRecognizer"),
    ]


def custom_recognizers(specs: Iterable[CustomRecognizer]) -> list[EntityRecognizer]:
    """A policy's `custom` recognizers as Presidio PatternRecognizers."""
    out: list[EntityRecognizer] = []
    for spec in specs:
        flags = re.DOTALL | re.MULTILINE | (0 if spec.case_sensitive else re.IGNORECASE)
        if spec.deny_list is not None:
            recognizer = PatternRecognizer(
                supported_entity=spec.entity,
                name=spec.name,
                deny_list=[w for w in spec.deny_list if w.strip()],
                deny_list_score=spec.score,
                context=spec.context or None,  # type: ignore[arg-type]
                global_regex_flags=flags,
            )
        else:
            recognizer = PatternRecognizer(
                supported_entity=spec.entity,
                name=spec.name,
                patterns=[Pattern(spec.name, spec.regex or "", spec.score)],
                context=spec.context or None,  # type: ignore[arg-type]
                global_regex_flags=flags,
            )
        out.append(recognizer)
    return out
