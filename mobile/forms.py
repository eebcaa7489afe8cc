"""Checks of what the observer typed, made on the tablet before anything goes on the network.

No Kivy here: the screens turn a ``FormError`` into a message in the observer's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from shared.sync import ENROLMENT_CODE_LENGTH


class FormError(ValueError):
    """``key`` names the message in ``mobile.i18n``; ``values`` fill its placeholders."""

    def __init__(self, key: str, **values: object):
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Enrolment:
    server_url: str
    code: str = field(repr=False)


def check_server_url(typed: str) -> str:
    """The address as the client will use it: scheme added when left out, no trailing slash."""
    value = typed.strip()
    if not value:
        raise FormError("form.server_missing")
    url = value if "://" in value else f"http://{value}"
    try:
        parts = urlsplit(url)
        valid = (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and parts.port != 0  # reading the port raises ValueError when it is not a number
            and not any(ch.isspace() for ch in url)
        )
    except ValueError:
        valid = False
    if not valid:
        raise FormError("form.server_invalid", value=value)
    return url.rstrip("/")


def check_code(typed: str) -> str:
    """Letters and digits only, upper case: ``abcd efgh`` and ``ABCD-EFGH`` are the same code."""
    code = "".join(ch for ch in typed.upper() if ch.isalnum())
    if not code:
        raise FormError("form.code_missing")
    if len(code) != ENROLMENT_CODE_LENGTH:
        raise FormError("form.code_length", length=ENROLMENT_CODE_LENGTH)
    return code


def check_enrolment(server_url: str, code: str) -> Enrolment:
    return Enrolment(server_url=check_server_url(server_url), code=check_code(code))
