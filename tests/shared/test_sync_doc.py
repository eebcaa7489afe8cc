"""docs/sync.md is the protocol's specification: its tables of fields and codes must match the models."""

from __future__ import annotations

from shared.sync import RESULT_CODES
from shared.sync_doc import DOC, render


def test_sync_doc_tables_match_the_models() -> None:
    document = DOC.read_text(encoding="utf-8")
    assert render(document) == document, "docs/sync.md is out of date: run python -m shared.sync_doc"


def test_sync_doc_lists_every_result_code_with_whether_to_retry() -> None:
    document = DOC.read_text(encoding="utf-8")
    for code, meaning in RESULT_CODES.items():
        assert f"| `{code}` | `{meaning.status.value}` | {'yes' if meaning.retryable else 'no'} |" in document


def test_sync_doc_describes_every_record_field() -> None:
    document = DOC.read_text(encoding="utf-8")
    for row in ("| `severity` | integer or null |", "| `deleted` | boolean |", "| `note` | string or null |"):
        assert row in document
