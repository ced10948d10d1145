"""The Rodin texture-only API, without Blender: the contract, typed errors, the texture
settings declared once (``texture_settings``), the request and result models (``models``), an
image's size read from its header (``image_header``), and the HTTP client (``client``,
transport only)."""

from .client import ClientSettings, RetryPolicy, RodinClient, api_key_problem
from .contract import GeometryFormat, JobStatus, Material, Resolution
from .models import (
    JobState,
    ResultFile,
    StatusReport,
    SubmittedTask,
    TextureRequest,
    choose_model_file,
    choose_preview,
)

__all__ = [
    "ClientSettings",
    "GeometryFormat",
    "JobState",
    "JobStatus",
    "Material",
    "Resolution",
    "ResultFile",
    "RetryPolicy",
    "RodinClient",
    "StatusReport",
    "SubmittedTask",
    "TextureRequest",
    "api_key_problem",
    "choose_model_file",
    "choose_preview",
]
