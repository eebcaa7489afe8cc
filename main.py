"""Entry point for the Android build: buildozer wants a ``main.py`` at the top of the packaged folder."""

from mobile.main import VigieApp

if __name__ == "__main__":
    VigieApp().run()
