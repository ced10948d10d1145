"""Raw HTTP helpers for the emulator's own tests (the ``emulator`` fixture is the root one)."""

import io
import time

import pytest
import requests
from PIL import Image
from rodin_emulator import glb

TIMEOUT = 10


def image_bytes(format_name: str = "PNG", size: int = 32) -> bytes:
    """A colour gradient: red grows to the right, green downwards."""
    image = Image.new("RGB", (size, size))
    step = 256 // size
    image.putdata([(x * step, y * step, 128) for y in range(size) for x in range(size)])
    buffer = io.BytesIO()
    image.save(buffer, format_name)
    return buffer.getvalue()


PNG = image_bytes()
CUBE = glb.cube_glb()


class Api:
    """The emulator's API over real HTTP, with the test key unless told otherwise."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Bearer test-key"

    def url(self, endpoint: str) -> str:
        return f"{self.emulator.base_url}/{endpoint}"

    def submit(self, files=None, **fields) -> requests.Response:
        """A multipart submit: the test image and cube unless ``files`` replaces the parts."""
        if files is None:
            files = {
                "image": ("reference.png", PNG, "image/png"),
                "model": ("model.glb", CUBE, "model/gltf-binary"),
            }
        return self.session.post(
            self.url("rodin_texture_only"), files=files, data=fields, timeout=TIMEOUT
        )

    def submitted(self, **fields) -> dict:
        answer = self.submit(**fields)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def post(self, endpoint: str, form: bool = False, **body) -> requests.Response:
        """A JSON body, or a form-encoded one."""
        payload = {"data": body} if form else {"json": body}
        return self.session.post(self.url(endpoint), timeout=TIMEOUT, **payload)

    def status(self, task: dict, form: bool = False) -> requests.Response:
        return self.post("status", form, subscription_key=task["jobs"]["subscription_key"])

    def download(self, task: dict, form: bool = False) -> requests.Response:
        return self.post("download", form, task_uuid=task["uuid"])

    def wait_until_finished(self, task: dict) -> list[dict]:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            jobs = self.status(task).json()["jobs"]
            if all(job["status"] in ("Done", "Failed") for job in jobs):
                return jobs
            time.sleep(0.02)
        raise AssertionError("the task never finished")

    def files(self, task: dict) -> dict[str, requests.Response]:
        """Every listed file of a finished task, by listed name, fetched without a key."""
        self.wait_until_finished(task)
        listed = self.download(task).json()["list"]
        return {entry["name"]: requests.get(entry["url"], timeout=TIMEOUT) for entry in listed}


@pytest.fixture
def api(emulator):
    client = Api(emulator)
    yield client
    client.session.close()


@pytest.fixture
def instant(emulator):
    """Tasks submitted from now on are Done at once."""
    emulator.configure(waiting_seconds=0, generating_seconds=0)
    return emulator
