"""The contract between the tablet app and the server: taxonomy, schema, validation messages."""
