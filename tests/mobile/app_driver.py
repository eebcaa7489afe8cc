"""Runs the real tablet app in a window and plays a scripted scenario on it, as a finger and a keyboard would.

``python -m tests.mobile.app_driver SCENARIO.json RESULT.json`` — the tests start it in a subprocess
(Kivy wants one app per process and its own event loop) under Xvfb, then assert on RESULT.json.
Touches enter through Kivy's event loop exactly as the window's own input does, so buttons really
fire ``on_press``/``on_release`` and text fields really take focus; text arrives as the window's
``on_textinput``/``on_key_down`` events. Screenshots are read from the X server's framebuffer, so
they show what the display shows, not what the app believes it drew.

Steps (JSON objects, run one after the other, one frame at least between two steps):
  {"do": "tap", "id": ID}                      touch down, next frame touch up, at the widget's centre
  {"do": "type", "id": ID, "text": T, "replace": bool}   tap the field, optionally select all and delete, type
  {"do": "wait_for", "screen": NAME}           wait for the current screen
  {"do": "wait_for", "id": ID, "contains": T}  wait for a widget's text
  {"do": "wait_for", "id": ID, "property": P, "equals": V}
  {"do": "snapshot", "name": N}                record the screen, its widgets' texts and states, the time
  {"do": "screenshot", "name": N}              save test-artifacts/mobile/N.png from the X framebuffer
  {"do": "resize", "width": W, "height": H}     turn or resize the window (pixels), as a tablet turned
  {"do": "signal", "path": P}                  create the file P (tells the test a point was reached)
  {"do": "wait_for", "file": P}                wait until the test creates the file P
  any wait_for may name a "snapshot": taken in the very frame the wait ends, before the app's clock
  runs again (a background sync can change the screen between two steps)
  {"do": "crash"}                              write the result so far, then SIGKILL this process: no
                                               on_stop, no store close, as when a tablet dies
Every wait takes an optional "timeout" in seconds (default 10). A widget inside a scroll view is
scrolled into sight before it is tapped, as a finger would.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kivy.base import EventLoop  # type: ignore[import-untyped]
from kivy.clock import Clock  # type: ignore[import-untyped]
from kivy.input.motionevent import MotionEvent  # type: ignore[import-untyped]
from kivy.metrics import dp  # type: ignore[import-untyped]
from kivy.uix.scrollview import ScrollView  # type: ignore[import-untyped]

from mobile.main import VigieApp
from tests.mobile.screen import read_xvfb_screen

Step = dict[str, Any]
DEFAULT_WAIT = 10.0
SETTLE_FRAMES = 3  # frames drawn before a screenshot, so the last change is on the display
_touch_ids = itertools.count(1)


class StepFailedError(Exception):
    pass


def _overflows(widget: Any) -> bool:
    if not isinstance(widget, ScrollView) or not widget.children:
        return False
    content = widget.children[0]
    return bool(content.height > widget.height + 1 or content.width > widget.width + 1)


class ScriptedTouch(MotionEvent):  # type: ignore[misc]
    """A one-finger touch at window coordinates (pixels, origin bottom left)."""

    def __init__(self, x: float, y: float) -> None:
        window = EventLoop.window
        args = {"x": x / (window.width - 1.0), "y": y / (window.height - 1.0)}
        super().__init__("scripted", next(_touch_ids), args, is_touch=True, type_id="touch")
        self.profile = ["pos"]

    def depack(self, args: dict[str, float]) -> None:
        self.sx, self.sy = args["x"], args["y"]
        super().depack(args)


class ScenarioPlayer:
    def __init__(self, app: VigieApp, scenario: dict[str, Any], result_path: Path) -> None:
        self.app = app
        self.result_path = result_path
        self.steps: list[Step] = scenario["steps"]
        self.name = str(scenario.get("name", "scenario"))
        self.framebuffer = Path(scenario["framebuffer"])
        self.artifacts = Path(scenario["artifacts"])
        self.deadline = float(scenario.get("timeout", 30))
        self.started = time.monotonic()
        self.result: dict[str, Any] = {"snapshots": {}, "screenshots": {}, "error": None, "steps": []}
        self._script: Iterator[None] = iter(())

    # --- driving ------------------------------------------------------------------------------------

    def start(self, *_args: Any) -> None:
        self.started = time.monotonic()
        self._script = self._play()
        Clock.schedule_interval(self._tick, 0)

    def _tick(self, _dt: float) -> bool:
        try:
            if time.monotonic() - self.started > self.deadline:
                raise StepFailedError(f"scenario still running after {self.deadline} s")
            next(self._script)
        except StopIteration:
            self.app.stop()
            return False
        except Exception as error:
            self._fail(error)
            return False
        return True

    def _play(self) -> Iterator[None]:
        # The first frames may come late after start-up; let the window draw before anything else.
        yield from self._frames(SETTLE_FRAMES)
        for index, step in enumerate(self.steps):
            began = self.elapsed
            try:
                yield from self._run(step)
            except StepFailedError as failure:
                raise StepFailedError(
                    f"step {index} {json.dumps(step, ensure_ascii=False)}: {failure}"
                ) from None
            self.result["steps"].append({"step": step, "began": began, "ended": self.elapsed})
            yield

    def _run(self, step: Step) -> Iterator[None]:
        action = step["do"]
        if action == "tap":
            yield from self._tap(self._widget(step["id"]))
        elif action == "type":
            yield from self._type(step["id"], step["text"], bool(step.get("replace", False)))
        elif action == "wait_for":
            yield from self._wait_for(step)
            if "snapshot" in step:
                self.result["snapshots"][step["snapshot"]] = self._snapshot()
        elif action == "snapshot":
            self.result["snapshots"][step["name"]] = self._snapshot()
        elif action == "screenshot":
            yield from self._screenshot(step["name"])
        elif action == "resize":
            EventLoop.window.size = (step["width"], step["height"])
            EventLoop.window.left, EventLoop.window.top = 0, 0  # whole on the X screen
            yield from self._frames(SETTLE_FRAMES)
        elif action == "signal":
            Path(step["path"]).touch()
        elif action == "crash":
            self.write_result()
            os.kill(os.getpid(), signal.SIGKILL)
        else:
            raise StepFailedError(f"unknown action {action!r}")

    def _fail(self, error: Exception) -> None:
        detail = str(error) if isinstance(error, StepFailedError) else traceback.format_exc()
        self.result["error"] = detail
        try:
            self.result["snapshots"]["failure"] = self._snapshot()
            self._save_screen(f"failure-{self.name}")
        finally:
            self.app.stop()

    @property
    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 3)

    # --- what a finger and a keyboard do ----------------------------------------------------------

    def write_result(self) -> None:
        self.result_path.write_text(json.dumps(self.result, ensure_ascii=False, indent=2), encoding="utf-8")

    def _tap(self, widget: Any) -> Iterator[None]:
        if widget.get_root_window() is None:
            raise StepFailedError(f"{widget} is not on the window")
        scroller = widget.parent
        while scroller is not None and not isinstance(scroller, ScrollView):
            scroller = (
                None if scroller.parent is scroller else scroller.parent
            )  # the window is its own parent
        if scroller is not None:
            scroller.scroll_to(widget, padding=dp(20), animate=False)
            yield from self._frames(2)
        x, y = widget.to_window(widget.center_x, widget.center_y)
        touch = ScriptedTouch(x, y)
        EventLoop.post_dispatch_input("begin", touch)
        yield  # a finger stays down for a frame at least: the pressed state gets drawn
        EventLoop.post_dispatch_input("end", touch)

    def _type(self, widget_id: str, text: str, replace: bool) -> Iterator[None]:
        field = self._widget(widget_id)
        if not field.focus:
            yield from self._tap(field)
            yield
        if not field.focus:
            raise StepFailedError(f"{widget_id} did not take the focus when tapped")
        window = EventLoop.window
        if replace:
            for key, scancode, codepoint, modifiers in ((97, 4, "a", ["ctrl"]), (8, 42, None, [])):
                window.dispatch("on_key_down", key, scancode, codepoint, modifiers)
                window.dispatch("on_key_up", key, scancode)
                yield
        for character in text:  # one key at a time, as typed
            window.dispatch("on_textinput", character)
        yield

    def _wait_for(self, step: Step) -> Iterator[None]:
        timeout = float(step.get("timeout", DEFAULT_WAIT))
        until = time.monotonic() + timeout
        while not self._holds(step):
            if time.monotonic() > until:
                raise StepFailedError(f"not true after {timeout} s; now: {json.dumps(self._snapshot())}")
            yield

    def _holds(self, step: Step) -> bool:
        if "file" in step:
            return Path(step["file"]).exists()
        manager = self.app.root
        if "screen" in step and manager.current != step["screen"]:
            return False
        if "id" not in step:
            return True
        widget = manager.current_screen.ids.get(step["id"])
        if widget is None:
            return False
        if "contains" in step and step["contains"] not in widget.text:
            return False
        return not ("property" in step and getattr(widget, step["property"]) != step["equals"])

    def _widget(self, widget_id: str) -> Any:
        screen = self.app.root.current_screen
        widget = screen.ids.get(widget_id)
        if widget is None:
            raise StepFailedError(f"no widget {widget_id!r} on screen {screen.name!r}")
        return widget

    # --- what the observer sees -------------------------------------------------------------------

    def _snapshot(self) -> dict[str, Any]:
        manager = self.app.root
        screen = manager.current_screen
        widgets = {}
        for widget_id, widget in screen.ids.items():
            state: dict[str, Any] = {
                "type": widget.__class__.__name__,  # ids hold weak proxies; __class__ is the widget's
                "disabled": bool(widget.disabled),
                "size_dp": [round(widget.width / dp(1)), round(widget.height / dp(1))],
                "pos_dp": [round(c / dp(1)) for c in widget.to_window(widget.x, widget.y)],
            }
            for name in ("text", "focus", "hint_text", "state"):
                if hasattr(widget, name):
                    state[name] = getattr(widget, name)
            if hasattr(widget, "color"):
                state["color"] = [round(c, 3) for c in widget.color]
            widgets[widget_id] = state
        return {
            "t": self.elapsed,
            "screen": manager.current,
            # Scroll areas on the screen whose content is taller or wider than they are: what the observer
            # would have to scroll to reach (an area whose content fits scrolls nothing).
            "scroll_views": sum(_overflows(w) for w in screen.walk(restrict=True)),
            "frames_drawn": Clock.frames_displayed,
            "window": list(EventLoop.window.size),
            "widgets": widgets,
        }

    def _frames(self, count: int) -> Iterator[None]:
        target = Clock.frames_displayed + count
        while Clock.frames_displayed < target:
            yield

    def _screenshot(self, name: str) -> Iterator[None]:
        EventLoop.window.canvas.ask_update()
        yield from self._frames(SETTLE_FRAMES)
        self._save_screen(name)

    def _save_screen(self, name: str) -> None:
        # The X screen is larger than any window the tests open (both orientations): keep the window.
        window = EventLoop.window
        width, height = window.system_size
        screen = read_xvfb_screen(self.framebuffer).crop(int(window.left), int(window.top), width, height)
        if (screen.width, screen.height) != (width, height):
            raise StepFailedError(f"the window is not whole on the X screen: {window.left, window.top}")
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{name}.png"
        screen.save_png(path)
        self.result["screenshots"][name] = {
            "path": str(path),
            "size": [screen.width, screen.height],
            "colours": screen.colours(),
            "white": round(screen.share_of((255, 255, 255)), 3),
            "black": round(screen.share_of((0, 0, 0)), 3),
        }


def main(scenario_path: str, result_path: str) -> int:
    scenario = json.loads(Path(scenario_path).read_text(encoding="utf-8"))
    app = VigieApp()
    player = ScenarioPlayer(app, scenario, Path(result_path))
    app.bind(on_start=player.start)
    try:
        app.run()
    except Exception:
        player.result["error"] = player.result["error"] or traceback.format_exc()
    player.write_result()
    return 0 if player.result["error"] is None else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
