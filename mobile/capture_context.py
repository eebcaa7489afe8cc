"""Who is followed now and which tool is in hand: the context every quick tap records with its category.

The context is chosen on the capture screen and kept in the store per visit, so it survives a restart;
switching it is one small write, offline like a tap.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from mobile.store import Store
from shared.schema import Visit
from shared.taxonomy import Taxonomy

CONTEXT_KEY = "capture_context"
# Tools offered on the capture screen: the tablet's most used first, the rest of the grid after them.
TOOLS_SHOWN = 5


@dataclass(frozen=True)
class CaptureContext:
    role: str | None = None  # a code of the grid's `role` attribute; None: not said
    tool: str | None = None  # a code of the grid's `tool` attribute; None: « aucun »


def followed_roles(visit: Visit, taxonomy: Taxonomy) -> list[str]:
    """The professionals one tap can switch between: the visit's, or the whole grid if it named none."""
    return list(visit.observed_roles) or [v.code for v in taxonomy.attribute("role").values]


def tools_offered(store: Store, taxonomy: Taxonomy, keep: str | None = None) -> list[str]:
    """The few tools most used on this tablet (the grid's order breaks ties), always with ``keep``."""
    grid = [v.code for v in taxonomy.attribute("tool").values]
    used = store.tool_counts()
    ordered = sorted(grid, key=lambda code: (-used.get(code, 0), grid.index(code)))
    shown = ordered[:TOOLS_SHOWN]
    if keep is not None and keep in grid and keep not in shown:
        shown[-1] = keep
    return shown


def load_context(store: Store, visit: Visit) -> CaptureContext:
    """The visit's context as last chosen; at its start, its first professional and no tool."""
    raw = store.get_meta(CONTEXT_KEY)
    saved = json.loads(raw) if raw else {}
    if saved.get("visit_id") == str(visit.id):
        return CaptureContext(role=saved.get("role"), tool=saved.get("tool"))
    return CaptureContext(role=visit.observed_roles[0] if visit.observed_roles else None)


def save_context(store: Store, visit_id: uuid.UUID, context: CaptureContext) -> None:
    store.set_meta(
        **{CONTEXT_KEY: json.dumps({"visit_id": str(visit_id), "role": context.role, "tool": context.tool})}
    )
