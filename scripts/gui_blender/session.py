"""Runs inside Blender with a window: drives the interface as a person does and records what
it sees. Started by ``gui_blender.run`` (never by hand):

    blender --factory-startup --enable-event-simulate --online-mode \
        --python session.py -- SCENARIO OUT_DIR

Input reaches Blender through its own event queue (``Window.event_simulate``: mouse moves,
clicks, keys), so buttons, panels, operators' ``invoke``, timers and wm jobs run exactly as
for a person. The script runs before the event loop starts; the scenario is a generator that
yields the seconds to wait, stepped by a timer. Screenshots are read from Xvfb's framebuffer
file. Everything seen goes into ``OUT_DIR/report.json``; a scenario's exception ends the
session with its traceback there.
"""

import importlib.util
import itertools
import json
import os
import struct
import sys
import time
import traceback
import zlib
from pathlib import Path

import bpy
import numpy as np

PROBE_KEY = "F19"  # a key no default keymap uses: "what is under the mouse?"
HEARTBEAT_INTERVAL = 0.01


class Driver:
    """A person at the window: looks (screenshots, recorded panel texts), points and clicks."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.shots_dir = out_dir / "shots"
        self.shots_dir.mkdir(parents=True, exist_ok=True)
        self.facts: dict = {}
        self.shots: list[str] = []
        self.beats: list[float] = []
        self.marks: list[tuple[str, float]] = []
        self.drawn: dict[str, list] = {}
        self.draws: list[tuple[str, float]] = []  # (panel id, when) of every draw
        self.probed: list = []
        self.framebuffer = Path(os.environ["RODIN_GUI_FRAMEBUFFER"])
        self.addon = ""  # the add-on's module name, once installed
        _register_probe(self)
        bpy.app.timers.register(self._heartbeat, first_interval=0.0, persistent=True)

    # --- the window's parts ---

    @property
    def window(self):
        return bpy.context.window_manager.windows[0]

    @property
    def view3d(self):
        return next(area for area in self.window.screen.areas if area.type == "VIEW_3D")

    @property
    def sidebar(self):
        return next(region for region in self.view3d.regions if region.type == "UI")

    def override(self, area=None, region_type="WINDOW"):
        """A context for calling operators as if from the 3D viewport (or ``area``)."""
        area = area or self.view3d
        region = next(region for region in area.regions if region.type == region_type)
        return bpy.context.temp_override(window=self.window, area=area, region=region)

    # --- time ---

    def _heartbeat(self):
        self.beats.append(time.perf_counter())
        return HEARTBEAT_INTERVAL

    def mark(self, name: str) -> None:
        """Note the moment a phase begins, for ``gaps``."""
        self.marks.append((name, time.perf_counter()))

    def gaps(self, start: str, end: str | None = None) -> list[float]:
        """Seconds between heartbeats from mark ``start`` until mark ``end`` (or now)."""
        moments = dict(self.marks)
        since, until = moments[start], moments.get(end, time.perf_counter())
        beats = [beat for beat in self.beats if since <= beat <= until]
        return [later - earlier for earlier, later in itertools.pairwise(beats)]

    def long_gaps(self, longer_than: float) -> list[tuple[float, float, str]]:
        """(when, seconds, the phase it fell in) of every gap over ``longer_than`` seconds."""
        found = []
        for earlier, later in itertools.pairwise(self.beats):
            if later - earlier > longer_than:
                phase = [name for name, moment in self.marks if moment <= earlier]
                found.append((earlier, later - earlier, phase[-1] if phase else ""))
        return found

    def wait_until(self, condition, what, timeout: float = 60.0, step: float = 0.02):
        """Yield until ``condition()`` is true; fail naming ``what`` (a text, or a function
        that says what is seen instead) after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                seen = what() if callable(what) else what
                raise AssertionError(f"timed out after {timeout:g} s waiting for {seen}")
            yield step

    # --- input ---

    def move(self, x: int, y: int) -> None:
        self.window.event_simulate("MOUSEMOVE", "NOTHING", x=x, y=y)

    def click(self, x: int, y: int, button: str = "LEFTMOUSE"):
        """Point, rest a moment (the button under the mouse lights up), press and release."""
        self.move(x, y)
        self.move(x, y)
        yield 0.05
        self.window.event_simulate(button, "PRESS", x=x, y=y)
        self.window.event_simulate(button, "RELEASE", x=x, y=y)
        yield 0.15

    def key(self, key: str, window=None, **modifiers):
        window = window or self.window
        window.event_simulate(key, "PRESS", **modifiers)
        window.event_simulate(key, "RELEASE", **modifiers)
        yield 0.15

    def probe(self, points) -> dict[str, list[tuple[int, int]]]:
        """Hover each point and ask Blender what button is there, as Ctrl+Shift+C (copy Python
        command) and Ctrl+Shift+Alt+C (copy data path) would: {what: the points showing it}.
        The events queue up and Blender handles them in one pass: fast, and right where there
        is a button, but where there is none the button last under the mouse answers."""
        self.probed.clear()
        for x, y in [self._away(), *points]:
            self.move(x, y)
            self.move(x, y)
            self.window.event_simulate(PROBE_KEY, "PRESS", x=x, y=y)
            self.window.event_simulate(PROBE_KEY, "RELEASE", x=x, y=y)
        yield 0.3
        seen: dict[str, list[tuple[int, int]]] = {}
        for what, point in self.probed:
            seen.setdefault(what, []).append(point)
        return seen

    def probe_point(self, point):
        """What button is at ``point``, asked slowly enough to be exact (None: no button)."""
        self.move(*self._away())
        yield 0.05
        self.move(*point)
        self.move(*point)
        yield 0.05
        self.probed.clear()
        self.window.event_simulate(PROBE_KEY, "PRESS", x=point[0], y=point[1])
        self.window.event_simulate(PROBE_KEY, "RELEASE", x=point[0], y=point[1])
        yield 0.05
        return self.probed[-1][0] if self.probed else None

    def _away(self) -> tuple[int, int]:
        """A spot with no button: the middle of the viewport's left part."""
        viewport = next(region for region in self.view3d.regions if region.type == "WINDOW")
        return viewport.x + viewport.width // 3, viewport.y + viewport.height // 2

    def sidebar_buttons(self):
        """The sidebar's buttons: {"bpy.ops.rodin_texture.generate()": [points], ...}, each
        column scanned from the top (a button's first point in a column is surely on it)."""
        region = self.sidebar
        columns = [0.12, 0.3, 0.5, 0.7, 0.82, 0.9]
        points = [
            (region.x + int(region.width * share), y)
            for share in columns
            for y in range(region.y + region.height - 4, region.y, -6)
        ]
        return (yield from self.probe(points))

    def locate(self, command: str):
        """A point on the sidebar button whose Python command or data path starts with
        ``command``: where the scan first saw it in each column, checked slowly."""
        buttons = yield from self.sidebar_buttons()
        points = [
            point for what, found in buttons.items() if what.startswith(command) for point in found
        ]
        if not points:
            raise AssertionError(f"no button {command} in the sidebar; seen: {sorted(buttons)}")
        answers = []
        for point in _run_starts(points)[:8]:
            answer = yield from self.probe_point(point)
            if answer and answer.startswith(command):
                return point
            answers.append((point, answer))
        raise AssertionError(f"the button {command} does not answer where it was seen: {answers}")

    def press(self, command: str):
        """Click the sidebar button whose Python command or data path starts with ``command``
        (after a redraw: buttons move when what the panel shows changes)."""
        yield from self.redraw()
        point = yield from self.locate(command)
        self.facts.setdefault("pressed", []).append((command, point))
        yield from self.click(*point)

    def open_sidebar_tab(self, category: str):
        """Open the sidebar (N) and click its tabs from the top until ``category`` shows."""
        self.view3d.spaces.active.show_region_ui = True
        yield 0.3
        region = self.sidebar
        x = region.x + region.width - 10
        for y in range(region.y + region.height - 10, region.y, -12):
            if region.active_panel_category == category:
                return
            yield from self.click(x, y)
        raise AssertionError(f"no sidebar tab {category}")

    # --- looking ---

    def redraw(self, longest: float = 5.0):
        """Redraw every area, and wait for the add-on's panels to have drawn again when they
        show (while Cycles bakes, the main loop here may turn only once a second)."""
        draws = len(self.draws)
        for window in bpy.context.window_manager.windows:
            for area in window.screen.areas:
                area.tag_redraw()
        yield 0.35
        deadline = time.monotonic() + longest
        while self.drawn and len(self.draws) == draws and time.monotonic() < deadline:
            yield 0.05

    def screenshot(self, name: str):
        """The whole screen as ``shots/NN-name.png``; returns its pixels (rows from the top)."""
        yield from self.redraw()
        pixels = read_xwd(self.framebuffer.read_bytes())
        path = self.shots_dir / f"{len(self.shots) + 1:02d}-{name}.png"
        write_png(path, pixels)
        self.shots.append(path.name)
        return pixels

    def record_panels(self, module: str) -> None:
        """Wrap the add-on's panels' ``draw`` so each draw also records what it shows (texts,
        icons, operators, enabled state) in ``self.drawn[panel id]``: Blender still draws the
        real layout."""
        panels = [
            cls for cls in bpy.types.Panel.__subclasses__() if cls.__module__.startswith(module)
        ]
        for cls in panels:
            cls.draw = _recording_draw(self, cls.draw, cls.__name__)

    def texts(self, panel: str) -> list[str]:
        return [entry["text"] for entry in self.drawn.get(panel, []) if entry["text"]]

    def operators(self, panel: str) -> list[str]:
        return [entry["operator"] for entry in self.drawn.get(panel, []) if entry["operator"]]

    # --- the add-on ---

    def install(self, zip_path: str):
        """Install and enable the zip with Blender's extension installer, as Install from Disk
        does."""
        with self.override():
            bpy.ops.extensions.package_install_files(
                filepath=zip_path, repo="user_default", enable_on_install=True
            )
        self.addon = "bl_ext.user_default.rodin_texture_addon"
        self.record_panels(self.addon)
        yield 0.2

    def module(self, name: str):
        return sys.modules[f"{self.addon}.{name}"]

    def preferences(self):
        return bpy.context.preferences.addons[self.addon].preferences


def _run_starts(points, step=6) -> list[tuple[int, int]]:
    """The top point of each vertical run of ``points`` (``step`` apart in one column), the
    runs nearest the sidebar's middle column first."""
    starts, previous = [], None
    for x, y in sorted(points, key=lambda p: (p[0], -p[1])):
        if previous is None or previous[0] != x or previous[1] - y > step:
            starts.append((x, y))
        previous = (x, y)
    middle = sorted(x for x, _ in points)[len(points) // 2]
    return sorted(starts, key=lambda p: abs(p[0] - middle))


def _recording_draw(driver: Driver, draw, panel_id: str):
    def recording(panel, context):
        shown: list = []
        draw(_PanelView(panel, _RecordingLayout(panel.layout, shown)), context)
        driver.drawn[panel_id] = shown
        driver.draws.append((panel_id, time.perf_counter()))

    return recording


class _PanelView:
    """The panel as its ``draw`` sees it, with a recording layout."""

    def __init__(self, panel, layout):
        self._panel, self.layout = panel, layout

    def __getattr__(self, name):
        return getattr(self._panel, name)


class _RecordingLayout:
    """Forwards every call to the real ``UILayout`` and notes what it puts on screen."""

    SUB_LAYOUTS = {"row", "column", "box", "split", "grid_flow", "column_flow"}

    def __init__(self, layout, shown, enabled=True):
        object.__setattr__(self, "_layout", layout)
        object.__setattr__(self, "_shown", shown)
        object.__setattr__(self, "_enabled", enabled)

    def __setattr__(self, name, value):
        setattr(self._layout, name, value)
        if name == "enabled":
            object.__setattr__(self, "_enabled", self._enabled and value)

    def __getattr__(self, name):
        attribute = getattr(self._layout, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            value = attribute(*args, **kwargs)
            if name in self.SUB_LAYOUTS:
                return _RecordingLayout(value, self._shown, self._enabled)
            if name in ("panel", "panel_prop"):  # (header, body); no body while closed
                return tuple(
                    None if part is None else _RecordingLayout(part, self._shown, self._enabled)
                    for part in value
                )
            if name in ("label", "operator", "prop", "progress", "template_icon"):
                text = kwargs.get("text")
                if text is None and name == "operator":
                    text = _operator_label(args[0])
                self._shown.append(
                    {
                        "kind": name,
                        "text": str(text or ""),
                        "icon": kwargs.get("icon", ""),
                        "operator": args[0] if name == "operator" else "",
                        "property": args[1] if name == "prop" else "",
                        "enabled": self._enabled,
                    }
                )
            return value

        return call


def _operator_label(idname: str) -> str:
    """The button text Blender shows for an operator: its name, translated as Blender does."""
    module, _, name = idname.partition(".")
    label = getattr(getattr(bpy.ops, module), name).get_rna_type().name
    return bpy.app.translations.pgettext_iface(label, "Operator")


def _register_probe(driver: Driver) -> None:
    """An operator on ``PROBE_KEY`` that notes what the button under the mouse is."""

    class GUI_TEST_OT_probe(bpy.types.Operator):
        bl_idname = "gui_test.probe"
        bl_label = "What Is Under the Mouse"

        def invoke(self, context, event):
            manager = context.window_manager
            for operator, options in (
                (bpy.ops.ui.copy_python_command_button, {}),
                (bpy.ops.ui.copy_data_path_button, {"full_path": True}),
            ):
                if operator.poll():
                    manager.clipboard = ""
                    operator(**options)
                    if manager.clipboard:
                        driver.probed.append((manager.clipboard, (event.mouse_x, event.mouse_y)))
                        break
            return {"FINISHED"}

    bpy.utils.register_class(GUI_TEST_OT_probe)
    keymap = bpy.context.window_manager.keyconfigs.addon.keymaps.new("Window", space_type="EMPTY")
    keymap.keymap_items.new(GUI_TEST_OT_probe.bl_idname, PROBE_KEY, "PRESS")


# --- screenshots ------------------------------------------------------------------------------


def read_xwd(data: bytes) -> np.ndarray:
    """An X window dump (Xvfb's ``-fbdir`` file, 24-bit TrueColor in 32-bit pixels) as an
    (height, width, 3) RGB array."""
    header = struct.unpack(">25I", data[:100])
    header_size, width, height = header[0], header[4], header[5]
    byte_order, bits_per_pixel, bytes_per_line, ncolours = (
        header[7],
        header[11],
        header[12],
        header[19],
    )
    if bits_per_pixel != 32:
        raise ValueError(f"framebuffer has {bits_per_pixel}-bit pixels, not 32")
    start = header_size + 12 * ncolours
    rows = np.frombuffer(data, np.uint8, height * bytes_per_line, start).reshape(height, -1)
    pixels = rows[:, : width * 4].reshape(height, width, 4)
    # 0: least significant byte first, so each pixel's bytes are blue, green, red, unused.
    return pixels[:, :, 2::-1].copy() if byte_order == 0 else pixels[:, :, 1:].copy()


def write_png(path: Path, rgb: np.ndarray) -> None:
    height, width, _ = rgb.shape

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    rows = np.concatenate([np.zeros((height, 1), np.uint8), rgb.reshape(height, -1)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


# --- running a scenario -------------------------------------------------------------------------


def _load_scenarios():
    path = Path(__file__).with_name("scenarios.py")
    spec = importlib.util.spec_from_file_location("gui_scenarios", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    arguments = sys.argv[sys.argv.index("--") + 1 :]
    scenario_name, out_dir = arguments[0], Path(arguments[1])
    params = json.loads((out_dir / "params.json").read_text())
    driver = Driver(out_dir)
    steps = getattr(_load_scenarios(), scenario_name)(driver, params)
    report = {"scenario": scenario_name, "error": None}

    def finish():
        report.update(facts=driver.facts, shots=driver.shots)
        (out_dir / "report.json").write_text(json.dumps(report, indent=1, default=str))
        bpy.ops.wm.quit_blender()

    def step():
        try:
            wait = next(steps)
        except StopIteration:
            finish()
            return None
        except BaseException:
            report["error"] = traceback.format_exc()
            finish()
            return None
        return max(float(wait or 0.0), 0.0)

    bpy.app.timers.register(step, first_interval=1.0, persistent=True)  # a scenario may load a file


main()
