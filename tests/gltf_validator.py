"""The Khronos glTF validator for tests: runs scripts/validate_gltf.mjs with node."""

import json
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "validate_gltf.mjs"


def validate(path) -> dict:
    """The validator's report of one glTF/GLB file."""
    done = subprocess.run(
        ["node", str(SCRIPT), str(Path(path).resolve())],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode not in (0, 1):
        raise RuntimeError(f"the glTF validator failed to run: {done.stderr.strip()}")
    return json.loads(done.stdout)


def assert_valid(path):
    """Fail, listing the validator's error messages, when the file has any error."""
    report = validate(path)
    if report["issues"]["numErrors"]:
        errors = [
            f"{issue['code']} at {issue.get('pointer', '?')}: {issue['message']}"
            for issue in report["issues"]["messages"]
            if issue["severity"] == 0
        ]
        raise AssertionError(f"{path} is not valid glTF:\n" + "\n".join(errors))
