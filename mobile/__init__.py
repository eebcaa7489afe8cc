"""Vigie tablet app. ``store`` and ``sync_client`` hold no Kivy code, so they run and test headless."""
