"""The one catalogue of problems the server reports: a stable code, its message from ``shared.messages``.

Services raise these (``raise not_found()``, ``raise invalid("name", "invalid_name", max_length=200)``);
the wording lives in ``shared.messages`` once, in French (what the server answers) and English.
"""

from __future__ import annotations

import math
from typing import Any

from backend.errors import ApiError, ErrorDetail
from shared.messages import FieldError, message


def problem(
    status_code: int,
    code: str,
    /,
    *,
    says: str | None = None,
    details: list[ErrorDetail] | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> ApiError:
    """Any problem: ``says`` names the message when it is not the code's own."""
    return ApiError(status_code, code, message(says or code, **context), details, headers)


def not_found(says: str = "not_found_in_scope", **context: Any) -> ApiError:
    """404: missing or outside the reader's scope alike, so that existence does not leak."""
    return problem(404, "not_found", says=says, **context)


def forbidden(reason: str, code: str = "forbidden") -> ApiError:
    """403: the reader may see the thing but not do this (``reason`` names the message)."""
    return problem(403, code, says=reason)


def unauthenticated(code: str = "unauthenticated") -> ApiError:
    return problem(401, code)


def detail(field: str, code: str, /, **context: Any) -> ErrorDetail:
    return ErrorDetail(field=field, code=code, message=message(code, **context))


def invalid(field: str, code: str, /, *, says: str | None = None, **context: Any) -> ApiError:
    """422 about one field; the message is also the field's."""
    text = message(says or code, **context)
    return ApiError(422, code, text, [ErrorDetail(field=field, code=code, message=text)])


def invalid_fields(code: str, details: list[ErrorDetail], /, **context: Any) -> ApiError:
    """422 about several fields, each with its own message."""
    return problem(422, code, details=details, **context)


def invalid_filter(errors: list[FieldError]) -> ApiError:
    """422 for filters a query string could not parse."""
    details = [ErrorDetail(field=e.field, code=e.code, message=e.message) for e in errors]
    return invalid_fields("invalid_filter", details)


def conflict(code: str, /, **context: Any) -> ApiError:
    return problem(409, code, **context)


def too_large(code: str, /, **context: Any) -> ApiError:
    return problem(413, code, **context)


def too_many_attempts(code: str, seconds: int) -> ApiError:
    """429 with Retry-After (seconds); the message says when to try again."""
    minutes = max(1, math.ceil(seconds / 60))
    delay = "1 minute" if minutes == 1 else f"{minutes} minutes"
    return problem(429, "too_many_attempts", says=code, headers={"Retry-After": str(seconds)}, delay=delay)
