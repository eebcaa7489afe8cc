"""The ``vigie`` command: one module per command group, all registered on ``app``."""

from backend.cli import accounts, data, db, feed_tokens, grid, privacy, serve, tablets
from backend.cli.common import app

__all__ = ["accounts", "app", "data", "db", "feed_tokens", "grid", "privacy", "serve", "tablets"]
