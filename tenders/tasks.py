"""Celery tasks of the tender plan: thin wrappers that call a service."""

from __future__ import annotations

from celery import shared_task

from tenders import services


@shared_task(name="tenders.send_decision_reminders")
def send_decision_reminders() -> int:
    """Remind pending regions of the decision deadline (daily, from CELERY_BEAT_SCHEDULE)."""
    return services.decision_reminders_send()
