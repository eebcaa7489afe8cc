"""Forms on pages: a validation problem (422) becomes the form's error; any other problem goes on up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from backend.errors import ApiError


@dataclass
class FormOutcome:
    error: ApiError | None = None


@contextmanager
def form_problems() -> Iterator[FormOutcome]:
    """``with form_problems() as form: service(...)``, then ``if form.error:`` show the form again."""
    outcome = FormOutcome()
    try:
        yield outcome
    except ApiError as exc:
        if exc.status_code != 422:
            raise
        outcome.error = exc
