"""Credentials typed into shell commands and URLs: `curl -u user:pass`, `--password=…`,
`mysql -pSecret`, `user:pass@host` without a scheme, and `Authorization:` headers passed
with `-H`. The value is the secret; the command around it stays readable."""

from __future__ import annotations

import re

from cogate.policies.recognizers.base import RegexRecognizer, Rule

_I = re.IGNORECASE
# Names of a variable, a template or a prompt rather than the value itself.
_REFERENCE = re.compile(r"^(?:\$|%|\{\{|<|\*{3,}|x{3,}$|\.\.\.|\[|your[_\-]?\w*$|changeme$)", _I)
_NOT_USER = frozenset({"mailto", "tel", "sip", "http", "https", "ftp", "data", "urn", "file"})


def _literal(value: str) -> bool:
    value = value.strip("\"'")
    return len(value) >= 3 and not _REFERENCE.search(value)


def _user_password(value: str) -> bool:
    # `docker run -u 1000:1000` is a uid and a gid.
    return _literal(value) and not value.isdigit()


COMMAND_SECRET_RULES = [
    # curl/wget/httpie: -u user:pass, --user user:pass, --user=user:pass, --proxy-user.
    Rule(
        "command_user_password",
        re.compile(
            r"(?<![\w\-])(?:-u|-U|--user|--proxy-user|--auth)"
            r"(?:[ \t]+|=)[\"']?[^\s:\"'@]{1,64}:([^\s\"']{3,200})"
        ),
        0.9,
        group=1,
        validate=_user_password,
        cues=("-u", "--user", "--proxy-user", "--auth"),
    ),
    # --password=…, --password …, --token …, --api-key …, --client-secret ….
    Rule(
        "command_password_option",
        re.compile(
            r"(?<![\w\-])--(?:password|passwd|pass|pwd|db-password|token|auth-token|api-key|"
            r"apikey|secret|client-secret|access-key|secret-key)(?:[ \t]+|=)"
            r"[\"']?([^\s\"']{3,200})",
            _I,
        ),
        0.9,
        group=1,
        validate=_literal,
        cues=("--pass", "--pwd", "--db-pass", "--token", "--auth", "--api", "--secret", "--client"),
    ),
    # mysql -pSecret / -p'Secret' (the value is glued to the option).
    Rule(
        "mysql_password",
        re.compile(
            r"\b(?:mysql|mysqldump|mariadb|mysqladmin)\b[^\n]*?[ \t]-p[\"']?"
            r"([^\s\"'\-][^\s\"']{2,})"
        ),
        0.9,
        group=1,
        validate=_literal,
        cues=("mysql", "mariadb"),
    ),
    # user:pass@host with no scheme (`psql app:pw@db.internal/main`, `redis://` has its own).
    Rule(
        "host_password",
        re.compile(
            r"(?<![\w/:@.\-])([A-Za-z0-9_.\-]{1,64}):([^\s@/:\"']{3,128})@"
            r"(?=(?:[A-Za-z0-9\-]+\.)+[A-Za-z]{2,}|localhost|\d{1,3}\.\d)"
        ),
        0.85,
        group=2,
        cues=("@",),
    ),
    # Authorization / Proxy-Authorization headers in a shell string or a header dump.
    Rule(
        "authorization_header",
        re.compile(
            r"(?:proxy-)?authorization[\"']?[ \t]*[:=][ \t]*[\"']?"
            r"(?:(?:bearer|basic|token|digest|apikey|bot|sso-key)[ \t]+)?([^\s\"',;]{8,})",
            _I,
        ),
        0.9,
        group=1,
        validate=_literal,
        cues=("authorization",),
    ),
]


class CommandSecretRecognizer(RegexRecognizer):
    """The rules above; `user:pass@host` is skipped when the "user" is a URI scheme."""

    def __init__(self) -> None:
        super().__init__("SECRET", COMMAND_SECRET_RULES, "CommandSecretRecognizer")

    def analyze(self, text, entities, nlp_artifacts=None):
        results = super().analyze(text, entities, nlp_artifacts)
        out = []
        for result in results:
            name = (result.recognition_metadata or {}).get("recognizer_name")
            if name == "host_password":
                user = re.search(r"([A-Za-z0-9_.\-]{1,64}):$", text[: result.start])
                if user is not None and user.group(1).lower() in _NOT_USER:
                    continue
            out.append(result)
        return out
