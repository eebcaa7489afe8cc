"""``python -m backend.cli``: what the ``vigie`` console script runs."""

from backend.cli import app

app()
