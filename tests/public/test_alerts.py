"""Suppliers' e-mail alerts: subscribe → confirm → digest → no duplicate → unsubscribe → delete."""

from __future__ import annotations

import datetime as dt
import re
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail, signing
from django.test import Client
from django.utils import timezone

from suppliers.models import PublicTenderState, SentChange, Subscription
from suppliers.public import alerts
from suppliers.tasks import send_tender_digests
from tenders.models import Participation, TenderCase
from tests.public import test_leaks
from tests.public.conftest import FULL, OPTED_OUT, OPTION, build_plan, make_categories, make_tender

pytestmark = pytest.mark.django_db

# The leak test's fixture: every internal field of the public plan holds a marker.
leaky_plan = test_leaks.leaky_plan

D = dt.date
SUBSCRIBE = "/udbud/abonnement/"
ADDRESS = "indkob@leverandor.example"
LINK = re.compile(r"http://testserver(/udbud/abonnement/bekraeft/[^/\s]+/)")


@pytest.fixture
def plan(regions):
    plan = build_plan(regions)
    # What the public saw before anyone subscribed.
    alerts.public_states_refresh()
    return plan


def _subscribe(client, **data) -> None:
    form = {"email": ADDRESS, "categories": "33100000", "regions": ["RM"], **data}
    response = client.post(SUBSCRIBE, form)
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == "/udbud/abonnement/sendt/"


def _confirm_path(message) -> str:
    return LINK.search(message.body).group(1)


def _confirmed_subscription(client) -> Subscription:
    _subscribe(client)
    path = _confirm_path(mail.outbox[-1])
    assert client.post(path).status_code == 200
    mail.outbox.clear()
    return Subscription.objects.get(email=ADDRESS)


def _new_matching_tender(regions, **fields) -> TenderCase:
    values = {
        "title": "Infusionspumper",
        "category": make_categories()["33100000"],
        "lead_region": regions["RM"],
        "status": TenderCase.Status.PLANNED,
        "expected_tender_start": D(2028, 4, 1),
        "estimated_annual_value": Decimal("7000000"),
        "internal_notes": "ALERT-MARKER-notes",
        "participations": {regions["RM"]: FULL, regions["RSD"]: OPTION},
    }
    tender = make_tender("FUP-2027-201", **{**values, **fields})
    Participation.objects.create(
        tender=tender,
        region=regions["RN"],
        status=OPTED_OUT,
        justification="ALERT-MARKER-justification",
        estimated_annual_value=Decimal("987654"),
    )
    return tender


def test_subscribe_confirm_digest_no_duplicate_unsubscribe_delete(client, regions, plan):
    # given: a supplier subscribes to CPV 331 and Region Midtjylland
    _subscribe(client)

    # then: one confirmation mail, nothing active yet
    assert len(mail.outbox) == 1
    confirmation = mail.outbox[0]
    assert confirmation.to == [ADDRESS]
    assert confirmation.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    subscription = Subscription.objects.get(email=ADDRESS)
    assert subscription.confirmed_at is None
    send_tender_digests.delay()
    assert len(mail.outbox) == 1

    # when: the link is opened, the page asks; the button confirms
    path = _confirm_path(confirmation)
    page = client.get(path)
    assert page.status_code == 200
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None
    assert client.post(path).status_code == 200
    subscription.refresh_from_db()
    assert subscription.confirmed_at is not None

    # when: a matching tender is published and the daily task runs
    tender = _new_matching_tender(regions)
    send_tender_digests.delay()

    # then: one digest with the tender, not the tenders outside the alert
    assert len(mail.outbox) == 2
    digest = mail.outbox[1]
    assert digest.to == [ADDRESS]
    assert "FUP-2027-201" in digest.body and "Infusionspumper" in digest.body
    assert "http://127.0.0.1:8000/udbud/FUP-2027-201/" in digest.body
    assert "FUP-2025-050" not in digest.body  # office supplies: another category
    assert "FUP-2026-101" not in digest.body  # matching, but published before the subscription
    html = digest.alternatives[0][0]
    assert "Infusionspumper" in html

    # when: the task runs again
    send_tender_digests.delay()

    # then: nothing is sent twice
    assert len(mail.outbox) == 2

    # when: an internal field changes, nothing the public sees
    tender.internal_notes = "ALERT-MARKER-notes-2"
    tender.save()
    send_tender_digests.delay()
    assert len(mail.outbox) == 2

    # when: the expected start moves
    tender.expected_tender_start = D(2028, 7, 1)
    tender.save()
    send_tender_digests.delay()
    send_tender_digests.delay()

    # then: one mail says what changed
    assert len(mail.outbox) == 3
    change = mail.outbox[2].body
    assert "FUP-2027-201" in change
    assert "01-04-2028 → 01-07-2028" in change

    # when: the one-click unsubscribe of RFC 8058 is used (no CSRF token, as a mail client)
    header = mail.outbox[2].extra_headers["List-Unsubscribe"]
    unsubscribe = header.strip("<>").removeprefix("http://testserver")
    unsubscribe = unsubscribe.removeprefix(settings.SITE_URL.rstrip("/"))
    response = Client(enforce_csrf_checks=True).post(
        unsubscribe,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200

    # then: further changes send nothing
    tender.title = "Infusionspumper og sprøjtepumper"
    tender.save()
    send_tender_digests.delay()
    assert len(mail.outbox) == 3

    # when: the delete link is used
    delete = re.search(r"http://127\.0\.0\.1:8000(/udbud/abonnement/slet/\S+/)", change).group(1)
    assert client.get(delete).status_code == 200
    assert client.post(delete).status_code == 200

    # then: the address is gone, with what was sent to it
    assert not Subscription.objects.filter(email__iexact=ADDRESS).exists()
    assert not SentChange.objects.exists()
    assert client.get(delete).status_code == 400


def test_mails_carry_only_public_fields(client, regions, plan):
    _confirmed_subscription(client)
    _new_matching_tender(regions)

    send_tender_digests.delay()

    (digest,) = mail.outbox
    for text in (digest.body, digest.alternatives[0][0], digest.subject):
        assert "ALERT-MARKER" not in text
        assert "987654" not in text and "987.654" not in text
        # RN opted out: opt-outs are internal
        assert "Nordjylland" not in text
    assert "Region Syddanmark" in digest.body  # on an option: public


def test_every_digest_has_one_click_unsubscribe_and_a_delete_link(client, regions, plan):
    _confirmed_subscription(client)
    _new_matching_tender(regions)

    send_tender_digests.delay()

    (digest,) = mail.outbox
    unsubscribe = digest.extra_headers["List-Unsubscribe"]
    assert re.fullmatch(r"<http://127\.0\.0\.1:8000/udbud/abonnement/afmeld/\S+/>", unsubscribe)
    assert digest.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe.strip("<>") in digest.body
    assert "/udbud/abonnement/slet/" in digest.body


def test_a_region_alert_gets_tenders_the_region_leads_or_joins(client, regions, plan):
    _subscribe(client, categories="", regions=["RSD"])
    client.post(_confirm_path(mail.outbox[-1]))
    mail.outbox.clear()
    _new_matching_tender(regions, category=make_categories()["30190000"])  # RSD on an option
    make_tender(
        "FUP-2027-202",
        title="Kun Hovedstaden",
        category=make_categories()["33100000"],
        lead_region=regions["RH"],
        participations={regions["RH"]: FULL, regions["RSD"]: OPTED_OUT},
    )

    send_tender_digests.delay()

    (digest,) = mail.outbox
    assert "FUP-2027-201" in digest.body
    assert "FUP-2027-202" not in digest.body


def test_an_unpublishable_tender_is_never_mailed(client, regions, plan):
    _confirmed_subscription(client)
    tender = _new_matching_tender(regions, is_publishable=False)

    send_tender_digests.delay()
    assert mail.outbox == []

    tender.is_publishable = True
    tender.save()
    send_tender_digests.delay()
    assert len(mail.outbox) == 1


def test_a_pending_subscription_gets_no_digest(client, regions, plan):
    _subscribe(client)
    mail.outbox.clear()
    _new_matching_tender(regions)

    send_tender_digests.delay()

    assert mail.outbox == []


def test_the_digest_is_in_the_language_of_the_subscription(client, regions, plan):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    _confirmed_subscription(client)
    _new_matching_tender(regions)

    send_tender_digests.delay()

    (digest,) = mail.outbox
    assert Subscription.objects.get().language == "en"
    assert "Medical equipments" in digest.body
    assert "Central Denmark Region" in digest.body


def test_a_bad_link_gives_a_clear_page(client, regions):
    for path in (
        "/udbud/abonnement/bekraeft/not-a-token/",
        "/udbud/abonnement/afmeld/not-a-token/",
        "/udbud/abonnement/slet/not-a-token/",
    ):
        response = client.get(path)
        assert response.status_code == 400
        assert "public/alerts/link_problem.html" in [t.name for t in response.templates]
        assert response.context["message"]
        assert client.post(path).status_code == 400


def test_an_expired_confirmation_link_says_so_and_saves_nothing(client, plan, monkeypatch):
    # given: a confirmation link older than ALERT_CONFIRM_MAX_AGE_HOURS
    hours = settings.ALERT_CONFIRM_MAX_AGE_HOURS + 1
    old = signing.b62_encode(int(time.time()) - hours * 3600)
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: old)
    _subscribe(client)
    monkeypatch.undo()
    path = _confirm_path(mail.outbox[0])

    # when
    response = client.post(path)

    # then
    assert response.status_code == 400
    assert response.context["expired"] is True
    assert str(settings.ALERT_CONFIRM_MAX_AGE_HOURS) in response.context["message"]
    assert Subscription.objects.get().confirmed_at is None


def test_a_link_of_a_deleted_subscription_does_not_work(client, regions, plan):
    subscription = _confirmed_subscription(client)
    token = alerts.manage_token(subscription)
    subscription.delete()

    response = client.post(f"/udbud/abonnement/afmeld/{token}/")

    assert response.status_code == 400


def test_unconfirmed_and_long_unsubscribed_addresses_are_purged(client, regions, plan):
    # given
    _subscribe(client, email="pending@example.org")
    _subscribe(client, email="fresh@example.org")
    gone = _confirmed_subscription(client)
    now = timezone.now()
    Subscription.objects.filter(email="pending@example.org").update(
        created_at=now - dt.timedelta(hours=settings.ALERT_CONFIRM_MAX_AGE_HOURS + 1)
    )
    alerts.subscription_unsubscribe(subscription=gone)
    Subscription.objects.filter(pk=gone.pk).update(
        unsubscribed_at=now - dt.timedelta(days=settings.ALERT_UNSUBSCRIBED_RETENTION_DAYS + 1)
    )

    # when
    result = send_tender_digests.delay().get()

    # then
    assert result["purged"] == 2
    assert list(Subscription.objects.values_list("email", flat=True)) == ["fresh@example.org"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"categories": "33x"}, "categories"),
        ({"categories": "99999999"}, "categories"),
        ({"regions": ["XX"]}, "regions"),
    ],
)
def test_bad_input_says_what_is_wrong_and_stores_nothing(client, regions, plan, data, field):
    form = {"email": ADDRESS, "categories": "33100000", "regions": ["RM"], **data}

    response = client.post(SUBSCRIBE, form)

    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not Subscription.objects.exists()
    assert mail.outbox == []


def test_the_form_cannot_flood_an_inbox_with_confirmations(client, plan):
    for _ in range(alerts.MAX_PENDING_PER_ADDRESS + 2):
        _subscribe(client)

    assert len(mail.outbox) == alerts.MAX_PENDING_PER_ADDRESS
    assert Subscription.objects.count() == alerts.MAX_PENDING_PER_ADDRESS


def test_the_form_starts_from_the_portals_filter(client, plan):
    response = client.get(SUBSCRIBE + "?category=33100000&region=RM")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="33100000"' in html
    assert re.search(r'value="RM"[^>]*checked', html)


def test_a_failing_mail_server_saves_nothing(client, regions, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError("no SMTP")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)

    response = client.post(SUBSCRIBE, {"email": ADDRESS, "categories": "", "regions": []})

    assert response.status_code == 503
    assert not Subscription.objects.exists()


def test_the_first_sight_of_the_plan_is_not_news(client, regions):
    # given: tenders saved before the alerts first ran, and a subscriber confirmed after
    build_plan(regions)
    TenderCase.objects.update(updated_at=timezone.now() - dt.timedelta(days=3))
    _confirmed_subscription(client)

    send_tender_digests.delay()

    assert mail.outbox == []
    assert (
        PublicTenderState.objects.count() == TenderCase.objects.filter(is_publishable=True).count()
    )


def test_the_beat_entry_runs_the_digest_task_daily_with_an_expiry():
    entry = settings.CELERY_BEAT_SCHEDULE["suppliers-tender-digests"]

    assert entry["task"] == send_tender_digests.name == "suppliers.send_tender_digests"
    assert entry["options"]["expires"] > 0


def test_no_internal_marker_reaches_a_digest(leaky_plan):
    """The leak test's fixture (every internal field holds a marker), seen through a digest."""
    # given: a subscriber to everything, confirmed before the plan was first seen
    subscription = Subscription.objects.create(
        email=ADDRESS, confirmed_at=timezone.now() - dt.timedelta(days=30)
    )
    TenderCase.objects.update(updated_at=timezone.now())

    # when
    result = send_tender_digests.delay().get()

    # then
    assert result["mails"] == 1
    (digest,) = mail.outbox
    assert subscription.sent_changes.count() == result["tenders"] > 0
    texts = [digest.subject, digest.body, digest.alternatives[0][0]]
    leaks = [marker for marker in test_leaks.all_markers() for text in texts if marker in text]
    assert not leaks
