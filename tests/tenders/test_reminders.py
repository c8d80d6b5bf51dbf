"""Decision reminders: officers of pending regions, 14 and 3 days before, never twice."""

from __future__ import annotations

import datetime as dt
import smtplib
from unittest import mock

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core import mail
from django.utils import timezone, translation

from rfi.models import Category, Membership
from tenders import services
from tenders.models import DeadlineReminder, PlanSettings, TenderCase
from tenders.tasks import send_decision_reminders
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

DEADLINE = dt.date(2026, 6, 15)


@pytest.fixture
def tender(regions, secretariat, officer_rm, officer_rsd, ufo_member, chief) -> TenderCase:
    """Led by RH; RSD has decided, the other four regions are pending."""
    category, _ = Category.objects.get_or_create(
        code="30192000",
        defaults={
            "check_digit": "1",
            "label_en": "Office supplies",
            "label_da": "Kontortilbehør",
            "level": 3,
        },
    )
    tender = services.tender_create(
        actor=secretariat,
        reference="FUP-2026-007",
        title="Kontorartikler",
        category=category,
        area=TenderCase.Area.GOODS_SERVICES,
        kind=TenderCase.Kind.FRAMEWORK,
        lead_region=regions["RH"],
        expected_tender_start=dt.date(2026, 9, 1),
        decision_deadline=DEADLINE,
    )
    services.participation_decide(
        participation=tender.participations.get(region__code="RSD"),
        actor=officer_rsd,
        status="full",
    )
    return tender


@pytest.fixture
def second_officer_rm(regions):
    return MembershipFactory(
        user__username="officer_rm_2", region=regions["RM"], role=Membership.Role.OFFICER
    ).user


def send(days_before: int) -> int:
    return services.decision_reminders_send(today=DEADLINE - dt.timedelta(days=days_before))


def recipients() -> set[str]:
    return {address for message in mail.outbox for address in message.to}


@pytest.mark.parametrize("days_before", [14, 3])
def test_officers_of_a_pending_region_are_reminded(
    tender, officer_rm, second_officer_rm, days_before
):
    sent = send(days_before)

    assert recipients() == {officer_rm.email, second_officer_rm.email}
    # RH (the lead), RM, RSJ and RN are pending; only RM has officers with an address.
    assert sent == 4
    assert len(mail.outbox) == 1
    assert DeadlineReminder.objects.filter(days_before=days_before).count() == 4


def test_the_reminder_is_danish_with_reference_title_deadline_and_link(tender, officer_rm):
    with translation.override("en"):  # the mail is Danish whatever the caller's language
        send(14)

    message = mail.outbox[0]
    assert "FUP-2026-007" in message.subject
    assert "Kontorartikler" in message.subject
    assert "15-06-2026" in message.body
    assert "/fup/sag/FUP-2026-007/deltagelse/RM/" in message.body
    assert "Region Midtjylland" in message.body
    assert "Beslutningsfristen er 15-06-2026 (om 14 dage)" in message.body
    assert "Følg eller forklar" in message.body


def test_the_reminder_links_to_the_site_address(tender, officer_rm, settings):
    settings.SITE_URL = "https://rfi.example.dk/"

    send(14)

    assert "https://rfi.example.dk/fup/sag/FUP-2026-007/deltagelse/RM/" in mail.outbox[0].body


def test_decided_regions_and_other_roles_get_nothing(tender, officer_rsd, ufo_member, chief):
    send(14)

    assert officer_rsd.email not in recipients()
    assert ufo_member.email not in recipients()
    assert chief.email not in recipients()


@pytest.mark.parametrize("days_before", [15, 13, 10, 4, 2, 0, -1])
def test_no_reminder_on_other_days(tender, days_before):
    assert send(days_before) == 0

    assert mail.outbox == []


def test_the_same_reminder_is_never_sent_twice(tender, officer_rm):
    send(14)
    send(14)
    send(3)
    send(3)

    assert len(mail.outbox) == 2
    assert [m.to for m in mail.outbox] == [[officer_rm.email], [officer_rm.email]]
    reminders = DeadlineReminder.objects.filter(participation__region__code="RM")
    assert sorted(reminders.values_list("days_before", flat=True)) == [3, 14]
    assert reminders.get(days_before=14).recipients == 1


def test_a_region_that_decides_is_not_reminded_again(tender, officer_rm):
    send(14)
    services.participation_decide(
        participation=tender.participations.get(region__code="RM"), actor=officer_rm, status="full"
    )
    mail.outbox.clear()

    send(3)

    assert officer_rm.email not in recipients()


def test_a_moved_deadline_is_reminded_anew(tender, officer_rm, secretariat):
    send(14)
    services.tender_update(
        tender=tender, actor=secretariat, decision_deadline=DEADLINE + dt.timedelta(days=7)
    )

    sent = services.decision_reminders_send(today=DEADLINE - dt.timedelta(days=7))

    assert sent == 4
    assert len(mail.outbox) == 2


def test_a_cancelled_tender_reminds_nobody(tender, secretariat):
    services.tender_update(tender=tender, actor=secretariat, status=TenderCase.Status.CANCELLED)

    assert send(14) == 0
    assert mail.outbox == []


def test_the_reminder_days_are_the_secretariats_setting(tender, officer_rm):
    PlanSettings.objects.update_or_create(pk=1, defaults={"reminder_days": "7"})

    assert send(14) == 0
    assert send(7) == 4
    assert recipients() == {officer_rm.email}


def test_a_mail_that_fails_is_tried_again_on_the_next_run(tender, officer_rm):
    with mock.patch("rfi.reminders.send_mail", side_effect=smtplib.SMTPException("down")):
        send(14)
    assert mail.outbox == []
    assert not DeadlineReminder.objects.filter(participation__region__code="RM").exists()

    send(14)

    assert recipients() == {officer_rm.email}


# The Celery task and its schedule ---------------------------------------------------------


def test_the_task_calls_the_service():
    with mock.patch("tenders.services.decision_reminders_send", return_value=5) as service:
        result = send_decision_reminders.delay()

    assert result.get() == 5
    service.assert_called_once_with()


def test_the_task_sends_todays_reminders(tender, officer_rm):
    TenderCase.objects.filter(pk=tender.pk).update(
        decision_deadline=timezone.localdate() + dt.timedelta(days=3)
    )

    assert send_decision_reminders.delay().get() == 4
    assert send_decision_reminders.delay().get() == 0
    assert recipients() == {officer_rm.email}


def test_decision_reminders_run_daily_at_seven():
    entry = settings.CELERY_BEAT_SCHEDULE["tenders-decision-reminders"]

    assert entry["task"] == "tenders.send_decision_reminders"
    assert entry["schedule"] == crontab(hour=7, minute=0)
    assert entry["options"]["expires"] == 3600
