"""Reviewing observations: the filtered list, one observation, status, comments, tags, agreement."""
