"""The names of the bulk-job tasks: one definition shared by the API (which sends) and the worker (which runs)."""

from __future__ import annotations

PLAN_TASK = "panda.jobs.plan"
CHUNK_TASK = "panda.jobs.chunk"
RESUME_TASK = "panda.jobs.resume"
RESUME_STALLED_TASK = "panda.jobs.resume_stalled"
# Every job task goes to the ``jobs`` queue (see domain.broker).
JOB_TASKS = "panda.jobs.*"
JOBS_QUEUE = "jobs"
