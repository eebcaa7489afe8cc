"""Exports of the filtered observations: rows, CSV, XLSX, JSON, the workshop PDF, pseudonyms."""
