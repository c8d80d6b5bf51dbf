"""Celery tasks of the supplier portal: thin wrappers that call a service."""

from __future__ import annotations

from celery import shared_task

from suppliers.public import alerts


@shared_task(name="suppliers.send_tender_digests")
def send_tender_digests() -> dict[str, int]:
    """Mail suppliers' alert digests and purge expired addresses (daily, CELERY_BEAT_SCHEDULE)."""
    return alerts.digests_send()
