"""Fixtures shared by every test: the emulator (over loopback), clients, input files."""

import socket
import subprocess

import pytest
from emulator_fixtures import emulator, emulator_server  # noqa: F401  (fixtures)
from PIL import Image
from rodin_emulator import Emulator, glb

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


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """A company-style CA and a certificate for 127.0.0.1 signed by it (made with openssl), with
    the extensions Python 3.13's strict verification (Blender 5.2) asks for."""
    folder = tmp_path_factory.mktemp("tls")

    def openssl(*arguments):
        subprocess.run(["openssl", *arguments], cwd=folder, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=Test Company CA", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", "server.key", "-out", "server.csr")  # fmt: skip
    (folder / "san.ext").write_text(
        "subjectAltName=IP:127.0.0.1\nauthorityKeyIdentifier=keyid,issuer\n"
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
    )
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.ext",
            "-out", "server.pem")  # fmt: skip
    return folder


@pytest.fixture(scope="session")
def company_ca(tls_files):
    return str(tls_files / "ca.pem")


@pytest.fixture
def tls_emulator(tls_files):
    """An emulator served over HTTPS with a certificate from the test company CA."""
    tls = (str(tls_files / "server.pem"), str(tls_files / "server.key"))
    with Emulator(api_key=TEST_KEY, tls=tls) as server:
        yield server


@pytest.fixture
def unused_port():
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
