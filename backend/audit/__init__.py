"""The audit log: its actions as a type, written in the same transaction as the change."""
