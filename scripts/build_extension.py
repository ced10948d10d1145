"""Build the installable extension zip with Blender's own extension tool.

    python scripts/build_extension.py [--output-dir dist] [--repository]

Stages ``blender_manifest.toml`` next to the add-on's code (Blender wants both at the root of
the zip), validates the manifest against Blender's tag list, and builds
``rodin_texture_addon-<version>.zip``. With ``--repository`` the output folder also gets the
``index.json`` and ``index.html`` of a static extension repository (``server-generate``).

The tool is ``bl_pkg/cli/blender_ext.py`` inside the ``bpy`` wheel of the running Python (or of
a Blender install, with ``--blender-ext``); it needs no Blender process.
"""

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "rodin_texture_addon"
MANIFEST = REPO / "blender_manifest.toml"
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")


class BuildError(Exception):
    pass


def blender_tools() -> tuple[Path, Path]:
    """``blender_ext.py`` and Blender's tag list, from the bpy module this Python would import."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        raise BuildError("no bpy module here: run with the project's venv (.venv/bin/python)")
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*/scripts"))
    if not found:
        raise BuildError(f"bpy at {spec.origin} has no scripts folder")
    scripts = found[-1]
    return (
        scripts / "addons_core/bl_pkg/cli/blender_ext.py",
        scripts / "modules/_bpy_internal/extensions/tags.py",
    )


def run_tool(tool: Path, *arguments) -> str:
    command = [sys.executable, str(tool), *map(str, arguments)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BuildError(f"blender_ext {arguments[0]} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def manifest_version() -> str:
    with MANIFEST.open("rb") as stream:
        return tomllib.load(stream)["version"]


def stage(folder: Path) -> Path:
    """The add-on's code without caches, with the manifest beside ``__init__.py``."""
    staged = folder / PACKAGE
    shutil.copytree(REPO / PACKAGE, staged, ignore=SKIPPED)
    shutil.copy2(MANIFEST, staged / MANIFEST.name)
    return staged


def build(output_dir: Path, tool: Path | None = None, valid_tags: Path | None = None) -> Path:
    """Validate and build; returns the zip's path. Without a tool, the one from bpy."""
    if tool is None:
        tool, valid_tags = blender_tools()
    output_dir.mkdir(parents=True, exist_ok=True)
    tags = ["--valid-tags", str(valid_tags) if valid_tags else ""]
    target = output_dir / f"{PACKAGE}-{manifest_version()}.zip"
    target.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="rodin-build-") as folder:
        staged = stage(Path(folder))
        run_tool(tool, "validate", *tags, str(staged))
        run_tool(tool, "build", *tags, "--source-dir", str(staged), "--output-filepath", target)
    run_tool(tool, "validate", *tags, str(target))
    return target


def generate_repository(output_dir: Path, tool: Path) -> Path:
    """Write the static repository listing for every zip in ``output_dir``."""
    run_tool(tool, "server-generate", "--repo-dir", str(output_dir), "--html")
    return output_dir / "index.json"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-dir", type=Path, default=REPO / "dist")
    parser.add_argument(
        "--repository", action="store_true", help="also write index.json/index.html for hosting"
    )
    parser.add_argument(
        "--blender-ext", type=Path, help="blender_ext.py of a Blender install (default: from bpy)"
    )
    options = parser.parse_args(argv)
    try:
        tool, valid_tags = (options.blender_ext, None) if options.blender_ext else blender_tools()
        target = build(options.output_dir.resolve(), tool, valid_tags)
        print(f"extension: {target}")
        if options.repository:
            print(f"repository: {generate_repository(options.output_dir.resolve(), tool)}")
    except BuildError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
