"""Audit actions are a type: each one written has its French label, and details read as words."""

from __future__ import annotations

import ast
from pathlib import Path

from backend.audit.actions import LABELS, AuditAction, action_label, details_in_words

BACKEND = Path(__file__).resolve().parents[2] / "backend"
AUDIT_WRITERS = {"record_audit", "_audit", "_publish"}


def test_every_action_has_a_french_label() -> None:
    for action in AuditAction:
        assert LABELS.get(action), action
        assert action_label(action.value) == action.label != action.value


def test_every_action_written_is_an_audit_action_not_a_free_string() -> None:
    for module in BACKEND.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id in AUDIT_WRITERS:
                literals = [a for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                assert not literals, f"{module}:{node.lineno} writes a free string as an audit action"


def test_details_are_shown_in_words_not_as_python_reprs() -> None:
    shown = details_in_words(
        {"role": "admin", "via": "cli", "retry": False, "filters": {"structure_id": 3, "category": "panne"}}
    )
    assert shown == (
        "rôle : admin · depuis : la commande vigie · nouvel essai : non · "
        "filtres : structure n° : 3, category : panne"
    )
    assert "{" not in shown and "'" not in shown
