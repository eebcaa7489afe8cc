"""Workshops: preparation, presenter mode, phone votes, actions and their follow-up, the record."""
