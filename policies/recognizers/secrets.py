"""Credentials in configuration text (.env, YAML, INI, JSON, shell) and provider key shapes.

The keyword rules of `SECRET_RULES` (below) need a word boundary before the keyword,
which never occurs after `_` (`DB_PASSWORD=`). These rules read a whole configuration key
that *ends* in a credential word, so `AWS_SECRET_ACCESS_KEY=`, `export PGPASSWORD=` and
`"password": "abc12"` all count, while `PASSWORD_MIN_LENGTH=12` does not. Yelp's
detect-secrets was measured as a base (bench/RESULTS.md): its keyword plugin has the same
idea but reports lines, not offsets, misses several provider shapes and takes ~0.3 s per
64 KB, so the rules are written here as a few compiled alternations instead.
"""

from __future__ import annotations

import re

import regex
from cogate.policies.recognizers.base import RegexRecognizer, Rule, looks_random

# A key that ends in a credential word, with any prefix glued on by `_`, `-` or `.`.
# The short forms only as a word of their own ("bypass:", "compass:" are not credentials).
_PASSWORD_KEY = r"(?:password|passwd|passphrase|(?<![A-Za-z])(?:pass|pwd|pw))"
_SECRET_KEY = (
    r"(?:secret(?:[_\-.]?access)?(?:[_\-.]?key)?|api[_\-.]?key|apikey|access[_\-.]?key|"
    r"(?:auth|access|refresh|bearer|api|bot|session|app|client)?[_\-.]?token|"
    r"client[_\-.]?secret|private[_\-.]?key|credentials?|signing[_\-.]?key|"
    r"encryption[_\-.]?key|master[_\-.]?key|webhook[_\-.]?secret)"
)
# `=`, `:`, `:=`, `=>`, with optional quotes around the key (JSON, YAML) and spaces or tabs
# (never a newline: `password:` ending a line is a heading, not an assignment).
_ASSIGN = r"[\"']?[ \t]*(?:=>|:=|=|:)[ \t]*"
# A quoted value up to its closing quote; an unquoted one up to white space.
_VALUE = r"(?|\"([^\"\n]{3,200})\"|'([^'\n]{3,200})'|`([^`\n]{3,200})`|([^\s\"'`]{3,200}))"

# Values that name a credential rather than being one: variables, templates, types,
# function calls and the placeholders of sample configurations.
_REFERENCE = re.compile(
    r"^(?:\$|%\(|\{\{|<|\*{3,}|x{3,}$|\.\.\.|process\.env|os\.environ|env\(|getenv|"
    r"(?:none|null|nil|true|false|undefined|str|string|int|bytes|optional|required|"
    r"secretstr|changeme_placeholder|your[_\-]?\w*|\w*here)$)",
    re.IGNORECASE,
)
# A dotted path, a call or a subscript (`self.password`, `getpass()`, `form["pw"]`), or an
# identifier naming the credential (`password = password`).
_CODE_PATH = re.compile(
    r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$|^[A-Za-z_][\w.]*[(\[]|^[\[{]|"
    r"^[A-Za-z_]*(?:pass|pwd|secret|token|key|cred)[A-Za-z_]*$",
    re.IGNORECASE,
)


def _config_value(value: str) -> bool:
    """A literal value, not a reference, a type annotation or an expression."""
    value = value.strip().rstrip(",;")
    return len(value) >= 3 and not _REFERENCE.search(value) and not _CODE_PATH.search(value)


def _token_value(value: str) -> bool:
    """After a token/key word: a literal that looks like a credential (letters and digits)."""
    value = value.strip().rstrip(",;")
    if not _config_value(value) or len(value) < 8:
        return False
    return looks_random(value) or (
        any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
    )


def _aws_secret(value: str) -> bool:
    return (
        any(c.islower() for c in value)
        and any(c.isupper() for c in value)
        and any(c.isdigit() for c in value)
    )


CONFIG_SECRET_RULES = [
    Rule(
        "config_password",
        regex.compile(rf"{_PASSWORD_KEY}{_ASSIGN}{_VALUE}", regex.IGNORECASE),
        0.85,
        group=1,
        validate=_config_value,
        cues=("pass", "pwd", "pw"),
    ),
    Rule(
        "config_secret",
        regex.compile(rf"{_SECRET_KEY}{_ASSIGN}{_VALUE}", regex.IGNORECASE),
        0.85,
        group=1,
        validate=_token_value,
        cues=("secret", "key", "token", "cred"),
    ),
]

PROVIDER_KEY_RULES = [
    # One pass for every fixed-prefix shape: Google AIza…, Stripe sk_/rk_live_…, Slack
    # xapp-/xox…, Hugging Face hf_…, npm npm_…, SendGrid SG.….SG, Anthropic sk-ant-….
    Rule(
        "provider_key",
        re.compile(
            r"(?<![\w\-.])(?:AIza[0-9A-Za-z_\-]{35}(?![\w\-])|(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{10,}|"
            r"xapp-\d-[A-Za-z0-9\-]{10,}|xox[abposre]-[A-Za-z0-9\-]{10,}|hf_[A-Za-z0-9]{30,}|"
            r"npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])|SG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}|"
            r"sk-ant-[A-Za-z0-9_\-]{20,})"
        ),
        0.95,
    ),
    # AWS secret access keys: 40 base64 characters, mixed case and digits (a git hash is
    # lower-case hex, so it never passes).
    Rule(
        "aws_secret_key",
        re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"),
        0.7,
        validate=_aws_secret,
    ),
    # Private-key bodies pasted without their BEGIN line: DER of PKCS#1/PKCS#8 RSA, SEC1
    # and PKCS#8 EC/Ed25519 keys and OpenSSH keys start with fixed base64 prefixes
    # (certificates, which are public, start differently).
    Rule(
        "private_key_body",
        re.compile(
            r"(?<![A-Za-z0-9+/])(?:MII[A-Za-z0-9+/]{3}IBA|MHcCAQEE|MIGHAgEA|MC4CAQAw|"
            r"b3BlbnNzaC1rZXktdjE)[A-Za-z0-9+/=]{20,}(?:[ \t]*\r?\n[ \t]*[A-Za-z0-9+/=]{8,})*"
        ),
        0.95,
    ),
]


def secret_recognizers() -> list[RegexRecognizer]:
    return [
        RegexRecognizer("SECRET", CONFIG_SECRET_RULES, "ConfigSecretRecognizer"),
        RegexRecognizer("SECRET", PROVIDER_KEY_RULES, "ProviderKeyRecognizer"),
    ]


_I = re.IGNORECASE
_SECRET_WORDS = (
    r"(?:api[_\- ]?key|apikey|access[_\- ]?key(?:[_\- ]?id)?|secret(?:[_\- ]?key)?|"
    r"client[_\- ]?secret|auth[_\- ]?token|access[_\- ]?token|refresh[_\- ]?token|token|"
    r"bearer|private[_\- ]?key|credentials?)"
)
_PASSWORD_WORDS = r"(?:password|passwd|passphrase|pwd|pass)"

SECRET_RULES = [
    Rule(
        "openai_api_key",
        re.compile(
            r"\bsk-(?:proj-|svcacct-|admin-|ant-[a-z0-9]+-)?"
            r"[A-Za-z0-9_\-]{20,}"
        ),
        0.95,
    ),
    Rule(
        "aws_access_key_id",
        re.compile(
            r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|"
            r"ANVA|APKA)[A-Z0-9]{16}\b"
        ),
        0.95,
    ),
    Rule(
        "github_token",
        re.compile(
            r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|"
            r"github_pat_[A-Za-z0-9_]{22,255})\b"
        ),
        0.95,
    ),
    Rule("gitlab_token", re.compile(r"\bgl(?:pat|dt|ptt|rt)-[A-Za-z0-9_\-]{20,}"), 0.95),
    Rule("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"), 0.95),
    Rule("slack_webhook", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]+"), 0.95),
    Rule(
        "jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"), 0.9
    ),
    Rule(
        "pem_private_key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----.*?"
            r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\Z)",
            re.DOTALL,
        ),
        1.0,
    ),
    # user:password@host in any URL: the password is the secret, the rest stays readable.
    Rule(
        "url_password",
        re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s:/@]+:([^\s@/]+)@", _I),
        0.95,
        group=1,
    ),
    Rule(
        "password_assignment",
        re.compile(
            rf"\b{_PASSWORD_WORDS}\b[\"']?\s*(?:[:=]|=>|\bis\b)\s*[\"']?([^\s\"',;]{{6,}})", _I
        ),
        0.85,
        group=1,
        # `os.environ[...]`, `getpass()`, `self.password`: code that reads it, not the value.
        validate=lambda v: not re.match(r"[A-Za-z_][\w.]*[(\[]|[A-Za-z_]\w*(?:\.\w+)+$", v),
    ),
    Rule(
        "keyword_token",
        re.compile(
            rf"\b{_SECRET_WORDS}\b[\"']?\s*(?:[:=]|=>|\bis\b)?\s*[\"']?([A-Za-z0-9_\-+/=.~]{{16,}})",
            _I,
        ),
        0.85,
        group=1,
        # `process.env.API_TOKEN`, `settings.SECRET_KEY`: a reference, not the value.
        validate=lambda v: (
            looks_random(v) and not re.fullmatch(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+", v)
        ),
    ),
]
