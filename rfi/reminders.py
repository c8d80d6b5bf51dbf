"""Reminder mails: select the due items, mail each once to its recipients, record it, count.

The decision deadline reminders (tenders), the chiefs' vote reminders (tenders) and the
extension notice reminders (suppliers) share this shape; each caller says which items are
due, how one is recorded as sent and what mails it gets, and keeps its own wording.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.mail import send_mail
from django.db import transaction

logger = logging.getLogger(__name__)

Item = TypeVar("Item")


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str
    recipients: list[str]


def reminders_send(
    *,
    due: Iterable[Item],
    mails: Callable[[Item], list[Mail]],
    claim: Callable[[Item], tuple[Any, bool]] | None = None,
    describe: Callable[[Item], str] = str,
) -> int:
    """Send each due item's mails once; return the number of items sent.

    ``claim(item)`` is a ``get_or_create`` of the item's reminder row. Created in the same
    transaction as the mails are sent, the row keeps a second run from mailing again (a
    concurrent run blocks on its unique constraint and then finds it), and a mail that fails
    rolls it back, so the next run tries again; the row's ``recipients`` gets the number of
    addresses mailed (0 when the item has nobody to mail). Without ``claim``, ``due`` itself
    must pick each item only once, e.g. by an exact day.
    """
    sent = 0
    for item in due:
        try:
            with transaction.atomic():
                reminder = None
                if claim is not None:
                    reminder, created = claim(item)
                    if not created:
                        continue
                item_mails = mails(item)
                for mail in item_mails:
                    send_mail(mail.subject, mail.body, None, mail.recipients)
                if reminder is not None:
                    reminder.recipients = sum(len(mail.recipients) for mail in item_mails)
                    reminder.save(update_fields=["recipients"])
        except OSError:  # smtplib.SMTPException is an OSError
            logger.exception("%s not sent; the next run tries again", describe(item))
            continue
        sent += 1
    return sent
