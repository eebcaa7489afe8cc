"""Alembic migrations of the server database (shipped as a package so `vigie db upgrade` finds them)."""
