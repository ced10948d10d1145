"""Texture jobs without Blender: the state machine, its worker threads, and request pacing."""

from .manager import JobManager, JobSnapshot, Phase
from .pacing import PollSchedule, RequestBudget

__all__ = ["JobManager", "JobSnapshot", "Phase", "PollSchedule", "RequestBudget"]
