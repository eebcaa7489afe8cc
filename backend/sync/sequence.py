"""Server sequence numbers behind pull cursors.

A pull must never skip a change. So every transaction that changes something devices pull locks the
single ``sync_state`` row before anything else and keeps it until commit: sequence numbers are then
committed in the order they were handed out, and a reader that sees ``last_seq = N`` knows every
change numbered up to N is visible.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from backend.models import SyncState


def serialise_writes(session: Session) -> None:
    """Take the server-wide write lock until this transaction ends.

    Make it the transaction's first statement: on SQLite this takes the write lock at once rather than
    upgrading a read lock (the usual source of "database is locked"), and on PostgreSQL every later
    statement then sees what earlier writers committed.
    """
    session.execute(update(SyncState).where(col(SyncState.id) == 1).values(last_seq=SyncState.last_seq))


class SequenceAllocator:
    """Hands out increasing numbers inside one write transaction; ``save`` before commit."""

    def __init__(self, session: Session):
        self._session = session
        serialise_writes(session)
        state = session.exec(select(SyncState).where(SyncState.id == 1)).one()
        self._state = state
        self._next = state.last_seq

    def next(self) -> int:
        self._next += 1
        return self._next

    def save(self) -> None:
        self._state.last_seq = self._next
        self._session.add(self._state)


def last_seq(session: Session) -> int:
    return session.exec(select(SyncState.last_seq).where(SyncState.id == 1)).one()
