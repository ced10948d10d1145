"""Texture jobs without Blender: the state machine and its worker threads (``manager``),
request pacing (``pacing``, ``scheduler``), the user's task ledger (``ledger``) and the
crash-safe record files it shares with the batch journal (``records``)."""

from .manager import JobManager, JobSnapshot, Phase
from .pacing import PollSchedule, RequestBudget

__all__ = ["JobManager", "JobSnapshot", "Phase", "PollSchedule", "RequestBudget"]
