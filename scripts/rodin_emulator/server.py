"""The emulator: its state, the API server and the file host (two werkzeug threaded servers)."""

import base64
import functools
import gzip
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Flask, Response, request
from PIL import Image
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .faults import ENDPOINTS, Fault, rate_limited
from .glb import Mesh
from .results import ResultOptions, build_files, file_plan
from .validation import ApiError, check_submit, invalid

API_PREFIX = "/api/v2"
CONTROL_PREFIX = "/_emulator"
CREDITS_PER_TASK = 0.5
FINISHED = ("Done", "Failed")
HOSTILE_PREFIXES = ("../../", "/etc/", "..\\..\\", "Pbr/")
CONTENT_TYPES = {
    "glb": "model/gltf-binary",
    "webp": "image/webp",
    "png": "image/png",
    "obj": "text/plain",
    "mtl": "text/plain",
    "stl": "model/stl",
}


@dataclass(frozen=True)
class Settings:
    """Everything ``Emulator(...)``, ``reset`` and ``configure`` take (besides host and ports)."""

    api_key: str = "test-key"
    balance: float = 100.0
    waiting_seconds: float = 3.0
    generating_seconds: float = 10.0
    queue_length: int = 2
    jobs_per_task: int = 1
    texture_size: int | None = None
    link_lifetime: float = 600.0
    max_parallel_tasks: int | None = None
    # Each task generates for generating_seconds plus a random share of this (0: exactly).
    generating_jitter: float = 0.0
    # The account's request limit: more API requests than this in any rate_window seconds
    # are answered 429 (None: no limit). Refused requests do not count.
    requests_per_window: int | None = None
    rate_window: float = 60.0
    wrap_in_empty: bool = False
    malicious_names: bool = False


@dataclass(frozen=True)
class RecordedRequest:
    """One request as it arrived (file parts by name and size only)."""

    server: str
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]
    files: dict[str, tuple[str, int]]
    json: object
    time: float


@dataclass(frozen=True)
class EmulatedTask:
    """A submitted task. Its timeline is fixed at submit: Waiting, Generating, then Done, or
    Failed for the last job of a task flagged by ``fail_next_task``."""

    uuid: str
    job_uuids: tuple[str, ...]
    subscription_key: str
    settings: dict[str, str]
    options: ResultOptions
    model_name: str
    model_bytes: bytes = field(repr=False)
    image_name: str
    image_bytes: bytes = field(repr=False)
    submit_time: float
    waiting_seconds: float
    generating_seconds: float
    queue_length: int
    failed: bool
    mesh: Mesh = field(repr=False)
    image: Image.Image = field(repr=False)

    def phase(self, now: float) -> str:
        elapsed = now - self.submit_time
        if elapsed < self.waiting_seconds:
            return "Waiting"
        if elapsed < self.waiting_seconds + self.generating_seconds:
            return "Generating"
        return "Failed" if self.failed else "Done"

    def jobs(self, now: float) -> list[dict]:
        """The ``/status`` job list; the queue length counts down while Waiting."""
        phase = self.phase(now)
        answer = []
        for index, job_uuid in enumerate(self.job_uuids):
            last = index == len(self.job_uuids) - 1
            job = {"uuid": job_uuid, "status": phase if last or phase != "Failed" else "Done"}
            if phase == "Waiting":
                left = 1 - (now - self.submit_time) / self.waiting_seconds
                job["queue_length"] = min(self.queue_length, int(left * (self.queue_length + 1)))
            answer.append(job)
        return answer


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        """No access log: the request log is kept in memory instead."""


class Emulator:
    """A local Rodin texture-only service: ``Emulator(**settings)``, then ``start()``.

    ``settings`` are the fields of ``Settings``; ``host``, ``port`` and ``file_port`` (0: any
    free port) place the API server and the file host, which always differ in port.
    ``tls`` = (certificate file, key file) serves both over HTTPS, to test certificate checks.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        file_port: int = 0,
        tls: tuple[str, str] | None = None,
        **settings,
    ):
        self.host, self._ports, self._tls = host, (port, file_port), tls
        self._scheme = "https" if tls else "http"
        self._initial = Settings(**settings)
        self._lock = threading.RLock()
        self._generate_lock = threading.Lock()
        self._secret = secrets.token_bytes(32)
        self._servers: list[tuple[BaseWSGIServer, threading.Thread]] = []
        self._clear(self._initial)

    # --- life cycle ---

    def start(self) -> "Emulator":
        apps = {"api": self._api_app(), "files": self._files_app()}
        for port, (name, app) in zip(self._ports, apps.items(), strict=True):
            server = make_server(
                self.host,
                port,
                app,
                threaded=True,
                request_handler=_QuietHandler,
                ssl_context=self._tls,
            )
            # Not named "rodin-...": the add-on's tests look for its own threads by that prefix.
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},  # so that stop() is quick
                name=f"emulator-{name}",
                daemon=True,
            )
            thread.start()
            self._servers.append((server, thread))
        return self

    def stop(self):
        for server, thread in self._servers:
            server.shutdown()
            server.server_close()
            thread.join()
        self._servers = []

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def base_url(self) -> str:
        return f"{self._scheme}://{self.host}:{self._server_port(0)}{API_PREFIX}"

    @property
    def file_base_url(self) -> str:
        return f"{self._scheme}://{self.host}:{self._server_port(1)}"

    def _server_port(self, index: int) -> int:
        if not self._servers:
            raise RuntimeError("the emulator is not started")
        return self._servers[index][0].server_port

    # --- state and control ---

    def _clear(self, settings: Settings):
        with self._lock:
            self._settings = settings
            self._balance = float(settings.balance)
            self._submit_count = 0
            self._accepted: deque[float] = deque()
            self._rate_limited_count = 0
            self._tasks: dict[str, EmulatedTask] = {}
            self._task_by_key: dict[str, str] = {}
            self._faults = {endpoint: deque() for endpoint in ENDPOINTS}
            self._fail_next = False
            self._log: list[RecordedRequest] = []
            self._links: dict[str, tuple[str, str]] = {}
            self._results: dict[str, dict[str, bytes]] = {}

    def reset(self, **settings):
        """Back to the constructor's settings (with these changes): no tasks, faults or log."""
        self._clear(replace(self._initial, **settings))

    def configure(self, **settings):
        """Change settings now; tasks already submitted keep their timeline and options."""
        with self._lock:
            self._settings = replace(self._settings, **settings)
            if "balance" in settings:
                self._balance = float(settings["balance"])

    @property
    def settings(self) -> Settings:
        with self._lock:
            return self._settings

    @property
    def balance(self) -> float:
        with self._lock:
            return self._balance

    @balance.setter
    def balance(self, value: float):
        with self._lock:
            self._balance = float(value)

    @property
    def submit_count(self) -> int:
        with self._lock:
            return self._submit_count

    @property
    def rate_limited_count(self) -> int:
        """API requests answered 429 by the account's request limit."""
        with self._lock:
            return self._rate_limited_count

    def most_requests_in(self, window: float) -> int:
        """The most API requests (refused ones too) that came in any ``window`` seconds."""
        return most_in_window([r.time for r in self.requests if r.server == "api"], window)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._log)

    @property
    def tasks(self) -> dict[str, EmulatedTask]:
        with self._lock:
            return dict(self._tasks)

    def inject(self, endpoint: str, fault: Fault, times: int = 1):
        """The next ``times`` requests to ``endpoint`` get ``fault`` (after earlier faults)."""
        fault.check_endpoint(endpoint)
        with self._lock:
            self._faults[endpoint].extend([fault] * times)

    def finish_generating(self):
        """Every task submitted so far is Done (or Failed) at its next status check, as if its
        generation had just ended: tests of a long-running task need not wait it out."""
        with self._lock:
            now = time.time()
            for uuid, task in self._tasks.items():
                self._tasks[uuid] = replace(
                    task,
                    waiting_seconds=0.0,
                    generating_seconds=min(task.generating_seconds, now - task.submit_time),
                )

    def fail_next_task(self):
        with self._lock:
            self._fail_next = True

    def set_malicious_names(self, enabled: bool = True):
        self.configure(malicious_names=enabled)

    def _take_fault(self, endpoint: str) -> Fault | None:
        with self._lock:
            queue = self._faults[endpoint]
            return queue.popleft() if queue else None

    def _record(self, server: str):
        files = {}
        for name, upload in request.files.items():
            upload.stream.seek(0, 2)
            files[name] = (upload.filename, upload.stream.tell())
            upload.stream.seek(0)
        entry = RecordedRequest(
            server=server,
            method=request.method,
            path=request.path,
            headers=dict(request.headers),
            form=request.form.to_dict(),
            files=files,
            json=request.get_json(silent=True) if request.is_json else None,
            time=time.time(),
        )
        with self._lock:
            self._log.append(entry)

    # --- the servers ---

    def _endpoint(self, name: str, *, auth: bool = True):
        """Decorate a view: injected faults first, then the key check. The view gets the
        fault that its own route applies (truncate, empty_list), or None."""

        def decorate(view):
            @functools.wraps(view)
            def handle(**arguments):
                fault = self._take_fault(name)
                answer = fault.response() if fault else None
                if answer is not None:
                    return answer
                if auth and (retry_after := self._over_rate_limit()) is not None:
                    return rate_limited(retry_after)
                if auth and not self._authorised():
                    raise ApiError("UNAUTHORIZED", "Active API key is required.", 401)
                return view(fault, **arguments)

            return handle

        return decorate

    def _over_rate_limit(self) -> float | None:
        """Seconds until the next API request may come, when this one is over the limit."""
        now = time.monotonic()
        with self._lock:
            settings = self._settings
            while self._accepted and self._accepted[0] <= now - settings.rate_window:
                self._accepted.popleft()
            if settings.requests_per_window is None:
                return None
            if len(self._accepted) >= settings.requests_per_window:
                self._rate_limited_count += 1
                return max(0.01, round(self._accepted[0] + settings.rate_window - now, 2))
            self._accepted.append(now)
            return None

    def _authorised(self) -> bool:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {self.settings.api_key}".encode())

    def _api_app(self) -> Flask:
        app = Flask("rodin_emulator.api")
        app.register_error_handler(ApiError, ApiError.response)

        @app.before_request
        def record():
            if not request.path.startswith(CONTROL_PREFIX):
                self._record("api")

        @app.post(f"{API_PREFIX}/rodin_texture_only")
        @self._endpoint("rodin_texture_only")
        def submit(fault):
            return self._submit()

        @app.post(f"{API_PREFIX}/status")
        @self._endpoint("status")
        def status(fault):
            key = body_field("subscription_key")
            with self._lock:
                task_uuid = self._task_by_key.get(key, "")
            task = self._task_by(task_uuid)
            return {"jobs": task.jobs(time.time())}

        @app.post(f"{API_PREFIX}/download")
        @self._endpoint("download")
        def download(fault):
            task = self._task_by(body_field("task_uuid"))
            if fault and fault.kind == "empty_list":
                return {"list": []}
            return {"list": self._download_list(task)}

        @app.get(f"{API_PREFIX}/check_balance")
        @self._endpoint("check_balance")
        def check_balance(fault):
            return {"balance": self.balance}

        self._add_control_routes(app)
        return app

    def _submit(self):
        submission = check_submit(request)
        now = time.time()
        with self._lock:
            settings = self._settings
            running = [task for task in self._tasks.values() if task.phase(now) not in FINISHED]
            if settings.max_parallel_tasks is not None and (
                len(running) >= settings.max_parallel_tasks
            ):
                raise ApiError(
                    "API_PARALLELISM_LIMIT_REACHED",
                    f"At most {settings.max_parallel_tasks} tasks may run at once.",
                    201,
                )
            if self._balance < CREDITS_PER_TASK:
                raise ApiError("INSUFFICIENT_FUND", "Insufficient balance.", 201)
            task = EmulatedTask(
                uuid=str(uuid.uuid4()),
                job_uuids=tuple(str(uuid.uuid4()) for _ in range(settings.jobs_per_task)),
                subscription_key=_opaque_jwt(),
                settings=submission.settings,
                options=ResultOptions(
                    geometry_file_format=submission.choice("geometry_file_format"),
                    material=submission.choice("material"),
                    resolution=submission.choice("resolution"),
                    texture_size=settings.texture_size,
                    wrap_in_empty=settings.wrap_in_empty,
                    seed=secrets.randbits(32),
                ),
                model_name=submission.model_name,
                model_bytes=submission.model_bytes,
                image_name=submission.image_name,
                image_bytes=submission.image_bytes,
                submit_time=now,
                waiting_seconds=settings.waiting_seconds,
                generating_seconds=settings.generating_seconds
                + secrets.SystemRandom().uniform(0.0, settings.generating_jitter),
                queue_length=settings.queue_length,
                failed=self._fail_next,
                mesh=submission.mesh,
                image=submission.image,
            )
            self._tasks[task.uuid] = task
            self._task_by_key[task.subscription_key] = task.uuid
            self._fail_next = False
            self._balance -= CREDITS_PER_TASK
            self._submit_count += 1
        submitted = datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds")
        body = {
            "error": None,
            "message": "Submitted.",
            "uuid": task.uuid,
            "submit_time": submitted.replace("+00:00", "Z"),
            "consumed": CREDITS_PER_TASK,
            "jobs": {"uuids": list(task.job_uuids), "subscription_key": task.subscription_key},
        }
        return body, 201

    def _task_by(self, task_uuid: str) -> EmulatedTask:
        with self._lock:
            task = self._tasks.get(task_uuid)
        if task is None:
            raise ApiError("NO_SUCH_TASK", "No such task.", 404)
        return task

    def _download_list(self, task: EmulatedTask) -> list[dict]:
        """All files once Done; only the preview while Generating; nothing before or on failure."""
        phase = task.phase(time.time())
        if phase == "Done":
            names = list(file_plan(task.options))
        else:
            names = ["preview.webp"] if phase == "Generating" else []
        settings = self.settings
        prefixes = HOSTILE_PREFIXES if settings.malicious_names else ("",)
        return [
            {
                "url": self._signed_url(task.uuid, name, settings.link_lifetime),
                "name": prefix + name,
            }
            for name in names
            for prefix in prefixes
        ]

    def _signed_url(self, task_uuid: str, name: str, lifetime: float) -> str:
        token = secrets.token_urlsafe(16)
        expires = f"{time.time() + lifetime:.3f}"
        with self._lock:
            self._links[token] = (task_uuid, name)
        query = urlencode({"expires": expires, "signature": self._signature(token, expires)})
        return f"{self.file_base_url}/files/{token}?{query}"

    def _signature(self, token: str, expires: str) -> str:
        return hmac.new(self._secret, f"{token}:{expires}".encode(), hashlib.sha256).hexdigest()

    def _files_app(self) -> Flask:
        app = Flask("rodin_emulator.files")

        @app.before_request
        def record():
            self._record("files")

        @app.get("/files/<token>")
        @self._endpoint("files", auth=False)
        def files(fault, token):
            expires = request.args.get("expires", "")
            signature = request.args.get("signature", "")
            if not hmac.compare_digest(
                signature.encode(), self._signature(token, expires).encode()
            ):
                return refusal(403, "AccessDenied: the signature does not match")
            if time.time() > float(expires):
                return refusal(403, "AccessDenied: Request has expired")
            with self._lock:
                task_uuid, name = self._links.get(token, ("", ""))
                task = self._tasks.get(task_uuid)
            if task is None:
                return refusal(404, "NoSuchKey")
            data = self._result_files(task)[name]
            content_type = CONTENT_TYPES[name.rsplit(".", 1)[-1]]
            return file_answer(data, content_type, fault)

        return app

    def _result_files(self, task: EmulatedTask) -> dict[str, bytes]:
        """The task's files, made on first use and kept (one generation at a time)."""
        with self._generate_lock:
            with self._lock:
                files = self._results.get(task.uuid)
            if files is None:
                files = build_files(task.mesh, task.image, task.options)
                with self._lock:
                    if task.uuid in self._tasks:
                        self._results[task.uuid] = files
        return files

    def _add_control_routes(self, app: Flask):
        """Unauthenticated routes for tests in other processes (not in the request log)."""

        @app.post(f"{CONTROL_PREFIX}/reset")
        def control_reset():
            return control(self.reset, **json_body())

        @app.post(f"{CONTROL_PREFIX}/configure")
        def control_configure():
            return control(self.configure, **json_body())

        @app.post(f"{CONTROL_PREFIX}/inject")
        def control_inject():
            data = json_body()
            return control(
                lambda: self.inject(
                    data.get("endpoint"), Fault.from_json(data), int(data.get("times", 1))
                )
            )

        @app.post(f"{CONTROL_PREFIX}/fail_next_task")
        def control_fail_next_task():
            return control(self.fail_next_task)

        @app.get(f"{CONTROL_PREFIX}/state")
        def control_state():
            with self._lock:
                return {
                    "submit_count": self._submit_count,
                    "balance": self._balance,
                    "task_uuids": list(self._tasks),
                }

        @app.get(f"{CONTROL_PREFIX}/requests")
        def control_requests():
            return [asdict(entry) for entry in self.requests]


def most_in_window(times: list[float], window: float) -> int:
    """The most of these moments that fall in any ``window`` seconds."""
    times = sorted(times)
    start, most = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


def body_field(name: str) -> str:
    """A text field of a JSON or form-encoded body (both are accepted, as by the service)."""
    data = request.get_json(silent=True) if request.is_json else request.form
    value = data.get(name) if hasattr(data, "get") else None
    if not isinstance(value, str) or not value:
        raise invalid(f"{name} is required")
    return value


def json_body() -> dict:
    """The JSON object of a control request (none: empty)."""
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        raise invalid("the body must be a JSON object")
    return data


def control(action, **arguments):
    """Run a control action; a bad setting or fault is a 400 naming it."""
    try:
        action(**arguments)
    except (TypeError, ValueError) as exc:
        raise invalid(str(exc)) from None
    return {"ok": True}


def file_answer(data: bytes, content_type: str, fault: Fault | None) -> Response:
    """A result file's answer, as a truncate, gzip or chunked fault shapes it."""
    kind = fault.kind if fault else ""
    if kind == "truncate":
        answer = Response(data[: int(len(data) * fault.fraction)], mimetype=content_type)
        answer.headers["Content-Length"] = str(len(data))
    elif kind == "gzip":
        answer = Response(gzip.compress(data), mimetype=content_type)
        answer.headers["Content-Encoding"] = "gzip"
    elif kind == "chunked":
        step = -(-len(data) // fault.pieces)
        # A generator has no length: werkzeug sends it with chunked transfer encoding.
        answer = Response(
            (data[start : start + step] for start in range(0, len(data), step)),
            mimetype=content_type,
        )
    else:
        answer = Response(data, mimetype=content_type)
    return answer


def refusal(status: int, message: str) -> Response:
    return Response(message, status=status, mimetype="text/plain")


def _opaque_jwt() -> str:
    """A random token shaped like a JWT, as the service's subscription keys are."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    claims = json.dumps({"sub": secrets.token_hex(8), "iat": int(time.time())}).encode()
    header = part(b'{"alg":"HS256","typ":"JWT"}')
    return f"{header}.{part(claims)}.{part(secrets.token_bytes(32))}"
