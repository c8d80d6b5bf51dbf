"""Celery tasks of the tender plan: thin wrappers that call a service."""

from __future__ import annotations

from celery import shared_task

from tenders import services


@shared_task(name="tenders.send_decision_reminders")
def send_decision_reminders() -> int:
    """Remind pending regions of the decision deadline (daily, from CELERY_BEAT_SCHEDULE)."""
    return services.decision_reminders_send()


@shared_task(name="tenders.send_vote_reminders")
def send_vote_reminders() -> int:
    """Remind chiefs who have not voted, three days before the chiefs' meeting (daily)."""
    return services.vote_reminders_send()
