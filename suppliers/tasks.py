"""Celery tasks of the supplier portal: thin wrappers that call a service."""

from __future__ import annotations

from celery import shared_task

from suppliers.public import alerts


@shared_task(name="suppliers.send_tender_digests")
def send_tender_digests() -> dict[str, int]:
    """Mail suppliers' alert digests and purge expired addresses (daily, CELERY_BEAT_SCHEDULE)."""
    return alerts.digests_send()


@shared_task(name="suppliers.regional_contracts_sync")
def regional_contracts_sync(tender_id: int) -> int:
    """Give the regions of an awarded case their missing contracts (an option exercised)."""
    from suppliers import regional
    from tenders.models import TenderCase

    tender = TenderCase.objects.filter(pk=tender_id).first()
    if tender is None:
        return 0
    return len(regional.regional_contracts_sync(tender=tender))


@shared_task(name="suppliers.send_extension_reminders")
def send_extension_reminders() -> int:
    """Remind contract owners 90 and 30 days before a notice deadline (daily)."""
    from suppliers import regional

    return regional.extension_reminders_send()
