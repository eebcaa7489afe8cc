"""Tablets and the server: enrolment, device tokens, exactly-once push, pull by cursor (docs/sync.md)."""
