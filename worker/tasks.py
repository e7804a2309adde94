"""Celery tasks for reminders and the missed-status sweep: thin, idempotent, one use case each.

Beat publishes ``dispatch`` and ``sweep_missed`` every ``SCHEDULER_INTERVAL`` seconds. A
dispatch counts the due reminders and publishes a few ``drain`` tasks; each drain claims
batches in the database until none is due. Running any of them twice, or losing one with the
broker, costs time but never sends a reminder twice nor loses one: the state is in the database.
"""

from __future__ import annotations

from domain.config import get_settings
from domain.services.dispatch import drain, plan_drains
from domain.services.sweep import sweep_missed
from worker.celery_app import panda_task, run_in_process, stale_after

# Well inside the task time limits; a drain cut short leaves the rest for the next one.
DRAIN_BUDGET_SECONDS = 60.0


@panda_task(name="panda.reminders.dispatch")
def dispatch_due_reminders() -> dict[str, int]:
    """Start enough drains, per channel, for the reminders due now."""
    settings = get_settings()
    plan = run_in_process(lambda sessions: plan_drains(sessions, settings))
    for channel, drains in plan.items():
        for _ in range(drains):
            drain_reminders.apply_async((channel,), expires=stale_after(settings))
    return plan


@panda_task(name="panda.reminders.drain")
def drain_reminders(channel: str) -> dict[str, int]:
    """Send due reminders of ``channel`` in claimed batches; return the outcome counts."""
    settings = get_settings()
    return dict(run_in_process(lambda sessions: drain(sessions, channel, settings, DRAIN_BUDGET_SECONDS)))


@panda_task(name="panda.appointments.sweep_missed")
def store_missed_statuses() -> int:
    """Store ``missed`` on active appointments whose end has passed."""
    return run_in_process(sweep_missed)
