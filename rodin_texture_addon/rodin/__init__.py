"""The Rodin texture-only API, without Blender: contract, typed errors, HTTP client."""

from .client import (
    ClientSettings,
    JobState,
    ResultFile,
    RetryPolicy,
    RodinClient,
    StatusReport,
    SubmittedTask,
    TextureRequest,
    api_key_problem,
    choose_model_file,
    choose_preview,
)
from .contract import GeometryFormat, JobStatus, Material, Resolution

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
