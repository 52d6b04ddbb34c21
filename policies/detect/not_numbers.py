"""Digit strings that look like an IP address or a phone number but are, by their context,
a version or an identifier.

`1.2.3.4` is a valid IPv4 address and `4403921187` a valid US number, so the stock
recognizers take them; in agent text and logs they are far more often a release
(`Version 1.2.3.4`, `requests==2.31.0.1`) or a record id (`order #4403921187`, `"id":
4403921187`, a Unix timestamp). The context decides, never the value alone: `10.0.0.1`
by itself stays an address, and a phone word (`call`, `tel`, `"phone":`) or a phone's
separators keep a number a phone.
"""

from __future__ import annotations

import re

_I = re.IGNORECASE

# A version word, key or operator right before the value: `Version 1.2.3.4`, `"version":
# "1.2.3.4"`, `APP_VERSION=`, `release 3.10.0.2`, `requests==2.31.0.1`, `>=1.0.0.1`; or a
# section of a document (`RFC 9162 §2.1.3.2`, `section 4.2.1.3`).
_VERSION_BEFORE = re.compile(
    r"(?:(?:(?<!\w)\w*(?:version|versão|versión|versione|versie|wersja)|"
    r"(?<!\w)(?:\w+[_.\-])?(?:ver|release|build|revision|rev|tag|firmware|fw|sdk|patch)|"
    r"(?:upgrade|update)[ \t]+to)\b[\"']?[ \t]*[:=]?[ \t]*[\"']?|[=<>~!]=[ \t]*|"
    r"(?:§|\b(?:section|sect|sec|chapter|clause|paragraph|para|step|figure|table)\.?)[ \t]*)$",
    _I,
)
# A package pinned with `@` in an install line (`npm install lodash@4.17.21.0`); after `@`
# elsewhere it is a login's host (`ssh deploy@10.0.0.1`).
_PACKAGE_AT = re.compile(r"(?:^|\s)[@\w./\-]+@$")
_INSTALL_LINE = re.compile(
    r"\b(?:install|add|upgrade|require|dependencies|npx|pnpm|yarn|npm|pip|gem|cargo)\b", _I
)
# A pre-release or build suffix right after: `1.2.3.4-rc1`, `1.0.0.1+build7`.
_VERSION_AFTER = re.compile(r"[\-+](?:rc|beta|alpha|dev|pre|post|snapshot|build)", _I)


def version_not_ip(text: str, start: int, end: int) -> bool:
    """Whether the dotted quad at [start, end) is a version by what stands around it."""
    line_start = text.rfind("\n", 0, start) + 1
    before = text[max(line_start, start - 40) : start]
    if _VERSION_BEFORE.search(before) or _VERSION_AFTER.match(text, end):
        return True
    if before.endswith("@") and _PACKAGE_AT.search(before):
        return bool(_INSTALL_LINE.search(text, line_start, start))
    return False


# Words that make a number a phone number, in the main European languages.
_PHONE_WORDS = re.compile(
    r"\b(?:call|calling|phone|tel|tél|telephone|téléphone|telefon|telefono|teléfono|"
    r"telefone|telefoon|mobile|mobil|móvil|mobiel|cell|cellulare|handy|fax|sms|text|texting|"
    r"whatsapp|signal|dial|ring|reach|contact|kontakt|portable|telemóvel|komórka|tfn|tlf)",
    _I,
)
# An identifier's word or key right before the number: `id 4403921187`, `order #…`,
# `"id": …`, `ticket=…`, `user_id: …`.
_ID_BEFORE = re.compile(
    r"(?:\b(?:(?:\w+[_\-.])?id|ids|order|orders|ticket|invoice|issue|pr|pid|uid|gid|job|"
    r"build|run|seq|offset|count|total|size|bytes|ref|reference|record|row|tx|txn|account|"
    r"acct|customer|transaction|request|trace|span|event|message|msg|commit|ts|timestamp|"
    r"epoch|created|updated|modified|expires|expiry)(?:[ \t]+(?:no\.?|nr\.?|number|num))?"
    r"[\"']?[ \t]*(?:[:=#]|is)?[ \t]*#?[\"']?|#)$",
    _I,
)
# A JSON or log key right before the value, whatever its name: `"amount": `, `elapsed=`.
_KEY_BEFORE = re.compile(r"(?:[\"'](\w+)[\"'][ \t]*:|\b(\w+)=)[ \t]*[\"']?$")
_BARE = re.compile(r"#?\d{9,13}")


def id_not_phone(text: str, start: int, end: int) -> bool:
    """Whether the phone-shaped number at [start, end) is an id or a timestamp: a bare run
    of digits (no `+`, no separators) with no phone word shortly before it, after an
    identifier's word or a key that is not a phone's, or shaped as a Unix time in seconds
    or milliseconds."""
    if not _BARE.fullmatch(text, start, end):
        return False
    line_start = text.rfind("\n", 0, start) + 1
    before = text[max(line_start, start - 40) : start]
    if _PHONE_WORDS.search(before):
        return False
    if _ID_BEFORE.search(before) or _KEY_BEFORE.search(before):
        return True
    digits = text[start:end].lstrip("#")
    # 2001-09-09 to 2033-05-18 in seconds (1e9…2e9), or in milliseconds.
    return (len(digits) == 10 and digits[0] == "1") or (len(digits) == 13 and digits[0] == "1")
