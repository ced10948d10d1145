"""Blender with a real window, for the GUI tier (``tests/gui``), the window benchmark and the
README pictures: a virtual screen (Xvfb), Blender on it running one scenario of
``scenarios.py`` through ``session.py``, and what it saw.

The Blender is ``$BLENDER`` when set (Xvfb then comes from PATH), else Debian's Blender 5.2 in
the root folder that ``scripts/setup-gui`` makes, run through ``scripts/in-gui-root``.
"""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SESSION = Path(__file__).with_name("session.py")
IN_ROOT = REPO / "scripts" / "in-gui-root"
SCREEN_SIZE = (1600, 1000)


def blender_command() -> list[str]:
    blender = os.environ.get("BLENDER")
    return [blender] if blender else [str(IN_ROOT), "blender"]


def xvfb_command() -> list[str]:
    if os.environ.get("BLENDER"):
        return [shutil.which("Xvfb") or "Xvfb"]
    return [str(IN_ROOT), "Xvfb"]


class SessionError(AssertionError):
    """The scenario failed inside Blender, or Blender did not end: the log says why."""


@dataclass
class Report:
    out_dir: Path
    facts: dict = field(default_factory=dict)
    shots: list[Path] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        """The screenshot whose name (after its number) is ``name``."""
        (path,) = [shot for shot in self.shots if shot.stem.split("-", 1)[1] == name]
        return path


class VirtualScreen:
    """An Xvfb display whose framebuffer is a file (``framebuffer``), read for screenshots."""

    def __init__(self, folder: Path, size=SCREEN_SIZE):
        self.folder, self.size = folder, size
        self.framebuffer = folder / "Xvfb_screen0"
        self.display = ""
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> "VirtualScreen":
        self.folder.mkdir(parents=True, exist_ok=True)
        read_end, write_end = os.pipe()
        width, height = self.size
        command = [
            *xvfb_command(),
            "-displayfd", str(write_end),
            "-screen", "0", f"{width}x{height}x24",
            "-fbdir", str(self.folder),
            "-nolisten", "tcp",
        ]  # fmt: skip
        self._process = subprocess.Popen(
            command, pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        os.close(write_end)
        with os.fdopen(read_end) as stream:
            number = stream.readline().strip()
        if not number:
            self._process.kill()
            raise SessionError(f"Xvfb did not start: {' '.join(command)}")
        self.display = f":{number}"
        return self

    def __exit__(self, *exc_info):
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def run(scenario: str, out_dir: Path, params: dict | None = None, timeout: float = 300) -> Report:
    """Run ``scenario`` in a new Blender with a window; its screenshots, log and report go in
    ``out_dir`` (emptied first). Raises ``SessionError`` with the traceback and the log's end
    when the scenario fails or Blender does not end in ``timeout`` seconds."""
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    (out_dir / "params.json").write_text(json.dumps(params or {}))
    log_path = out_dir / "blender.log"
    with VirtualScreen(out_dir / "screen") as screen, log_path.open("w") as log:
        env = {
            **os.environ,
            "DISPLAY": screen.display,
            "LIBGL_ALWAYS_SOFTWARE": "1",
            "BLENDER_USER_RESOURCES": str(out_dir / "blender-user"),
            "RODIN_GUI_FRAMEBUFFER": str(screen.framebuffer),
        }
        command = [
            *blender_command(),
            "--factory-startup",
            "--enable-event-simulate",
            "--online-mode",
            "--python", str(SESSION),
            "--", scenario, str(out_dir),
        ]  # fmt: skip
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise SessionError(f"Blender did not end in {timeout:g} s\n{_tail(log_path)}") from None
    shutil.rmtree(out_dir / "blender-user", ignore_errors=True)  # the installed copy
    report_path = out_dir / "report.json"
    if not report_path.is_file():
        raise SessionError(f"no report (exit {process.returncode})\n{_tail(log_path)}")
    report = json.loads(report_path.read_text())
    if report["error"]:
        raise SessionError(f"{report['error']}\n{_tail(log_path)}")
    shots = [out_dir / "shots" / name for name in report["shots"]]
    shutil.rmtree(out_dir / "screen", ignore_errors=True)
    return Report(out_dir, report["facts"], shots)


def _tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(errors="replace").splitlines()
    return "--- end of Blender's log:\n" + "\n".join(text[-lines:])
