"""Texture many meshes with Rodin, headless: scene files or folders in, textured GLB/.blend out.

    .venv/bin/python scripts/batch.py assets/ --image ref.png --output out/
    blender -b --online-mode --python scripts/batch.py -- assets/ --image ref.png --output out/

The key comes from RODIN_API_KEY (or HYPER3D_API_KEY, or --api-key). Each file's outputs go
in a folder of their own at its path under the inputs: props/chair.glb's meshes in
OUTPUT/props/chair_glb/MESH.glb, its .blend in OUTPUT/props/chair_glb/chair.blend. A journal in
OUTPUT/.rodin-batch/ lets a killed run be started again (even with its inputs moved) without
submitting anything twice.
Exit status: 0 when every mesh was textured or skipped, 1 when any failed, 2 for bad input.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the add-on package, from source

from rodin_texture_addon.batch import command

if __name__ == "__main__":
    command.run_and_exit(sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else sys.argv[1:])
