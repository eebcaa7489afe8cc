"""Vigie server: sync API, facilitator pages and exports."""
