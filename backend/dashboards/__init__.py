"""Dashboards: figures computed in the database, as JSON and as pages."""
