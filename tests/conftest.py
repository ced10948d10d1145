"""Fixtures shared by every test: the emulator (over loopback), clients, input files."""

import socket

import pytest
from emulator_fixtures import emulator, emulator_server  # noqa: F401  (fixtures)
from PIL import Image
from rodin_emulator import glb

from rodin_texture_addon.rodin import ClientSettings, RetryPolicy, RodinClient

TEST_KEY = "test-key"
FAST_RETRIES = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)


@pytest.fixture
def client_for(emulator):  # noqa: F811
    """Make clients of the emulator with some settings changed; closed after the test."""
    made = []

    def make(**changes):
        settings = {"api_key": TEST_KEY, "base_url": emulator.base_url, "retry": FAST_RETRIES}
        made.append(RodinClient(ClientSettings(**{**settings, **changes})))
        return made[-1]

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(client_for):
    return client_for()


@pytest.fixture(scope="session")
def reference_image(tmp_path_factory):
    """A small PNG with a colour gradient, so projected colours are visibly from it."""
    path = tmp_path_factory.mktemp("inputs") / "reference.png"
    image = Image.new("RGB", (64, 64))
    image.putdata([(x * 4, y * 4, 128) for y in range(64) for x in range(64)])
    image.save(path)
    return path


@pytest.fixture(scope="session")
def request_files(reference_image, tmp_path_factory):
    """(image, model): a reference PNG and a small GLB mesh, as a submit takes them."""
    model = tmp_path_factory.mktemp("inputs") / "model.glb"
    model.write_bytes(glb.cube_glb())
    return reference_image, model


@pytest.fixture
def unused_port():
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
