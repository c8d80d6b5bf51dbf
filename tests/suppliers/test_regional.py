"""Each region's own contract after a joint award: award, option, signing, the 30-day flag,
extension reminders, the chief's home page, documents and the API."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from rfi import home
from rfi.models import Membership
from suppliers import regional, services
from suppliers.models import Contract, ContractDocument, ContractExtension, ExtensionReminder
from tenders import services as tender_services
from tenders.models import Participation, TenderCase
from tests.conftest import client_for
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

AWARD = dt.date(2026, 1, 10)
START = dt.date(2026, 2, 1)
END = dt.date(2028, 1, 31)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def joint_case(make_tender, regions, officer_rm):
    """A case led by RM: RM and RSD take part in full, RH on an option, RN opted out,
    RSJ has not decided."""
    tender = make_tender("FUP-2025-101", status=TenderCase.Status.IN_TENDER, has_options=True)
    statuses = {
        "RM": (Participation.Status.FULL, None, Decimal("1200000")),
        "RSD": (Participation.Status.FULL, None, Decimal("800000")),
        "RH": (Participation.Status.OPTION, dt.date(2026, 6, 1), None),
        "RN": (Participation.Status.OPTED_OUT, None, None),
        "RSJ": (Participation.Status.PENDING, None, None),
    }
    for code, (status, expected, value) in statuses.items():
        Participation.objects.create(
            tender=tender,
            region=regions[code],
            status=status,
            option_expected_join=expected,
            estimated_annual_value=value,
        )
    return tender


@pytest.fixture
def supplier(secretariat):
    return services.supplier_upsert(identifier="31457826", name="Nordisk Medico A/S")


def award(tender, actor, supplier):
    return regional.tender_award(
        tender=tender,
        actor=actor,
        supplier=supplier,
        award_date=AWARD,
        contract_start=START,
        contract_end=END,
    )


def contract_of(tender, code) -> Contract:
    return Contract.objects.get(tender=tender, region__code=code)


# Award and options ---------------------------------------------------------------------------


def test_award_gives_each_full_participant_its_own_contract_and_no_one_else(
    joint_case, officer_rm, supplier
):
    created = award(joint_case, officer_rm, supplier)

    assert sorted(c.region.code for c in created) == ["RM", "RSD"]
    rm = contract_of(joint_case, "RM")
    assert (rm.supplier, rm.start_date, rm.end_date, rm.offered_on) == (
        supplier,
        START,
        END,
        AWARD,
    )
    assert rm.annual_value == Decimal("1200000")
    assert rm.signed_on is None
    joint_case.refresh_from_db()
    assert joint_case.award_date == AWARD
    assert joint_case.status == TenderCase.Status.IN_CONTRACT
    # idempotent: a second sync creates nothing
    assert regional.regional_contracts_sync(tender=joint_case) == []
    assert Contract.objects.filter(tender=joint_case).count() == 2


def test_only_the_lead_records_the_award(joint_case, officer_rsd, supplier):
    with pytest.raises(PermissionDenied):
        award(joint_case, officer_rsd, supplier)
    assert not Contract.objects.filter(tender=joint_case).exists()


def test_exercising_the_option_gives_the_option_region_its_contract(
    joint_case, officer_rm, supplier, regions, django_capture_on_commit_callbacks
):
    award(joint_case, officer_rm, supplier)
    officer_rh = MembershipFactory(
        user__username="officer_rh", region=regions["RH"], role=Membership.Role.OFFICER
    ).user
    option = joint_case.participations.get(region__code="RH")

    with django_capture_on_commit_callbacks(execute=True):
        tender_services.participation_exercise_option(
            participation=option, actor=officer_rh, exercised_on=dt.date(2026, 7, 15)
        )

    rh = contract_of(joint_case, "RH")
    assert rh.offered_on == dt.date(2026, 7, 15)
    assert rh.start_date == dt.date(2026, 7, 15)
    assert rh.end_date == END
    assert rh.supplier == supplier
    assert Contract.objects.filter(tender=joint_case).count() == 3


# Signing and the 30-day flag -----------------------------------------------------------------


def test_the_region_signs_its_own_contract_with_date_and_who(
    joint_case, officer_rm, officer_rsd, supplier
):
    award(joint_case, officer_rm, supplier)
    rm = contract_of(joint_case, "RM")

    with pytest.raises(PermissionDenied):
        regional.contract_sign(contract=rm, actor=officer_rsd, signed_on=dt.date(2026, 1, 20))
    with pytest.raises(ValidationError) as before_award:
        regional.contract_sign(contract=rm, actor=officer_rm, signed_on=dt.date(2026, 1, 9))
    assert "signed_on" in before_award.value.message_dict

    regional.contract_sign(
        contract=rm, actor=officer_rm, signed_on=dt.date(2026, 1, 20), owner=officer_rm
    )

    rm.refresh_from_db()
    assert (rm.signed_on, rm.signed_by, rm.owner) == (dt.date(2026, 1, 20), officer_rm, officer_rm)
    with pytest.raises(ValidationError):
        regional.contract_sign(contract=rm, actor=officer_rm, signed_on=dt.date(2026, 1, 21))


def test_unsigned_is_flagged_from_30_days_after_award(joint_case, officer_rm, supplier):
    award(joint_case, officer_rm, supplier)
    rsd = contract_of(joint_case, "RSD")

    # award 10-01-2026 + 30 days = 09-02-2026
    assert not regional.unsigned_too_long(rsd, dt.date(2026, 2, 8))
    assert regional.unsigned_too_long(rsd, dt.date(2026, 2, 9))
    rsd.signed_on = dt.date(2026, 2, 20)
    assert not regional.unsigned_too_long(rsd, dt.date(2026, 3, 1))


def test_the_officer_who_signs_owns_a_contract_without_owner(
    joint_case, officer_rm, officer_rsd, supplier, secretariat
):
    award(joint_case, officer_rm, supplier)

    regional.contract_sign(
        contract=contract_of(joint_case, "RSD"), actor=officer_rsd, signed_on=dt.date(2026, 2, 1)
    )
    regional.contract_sign(
        contract=contract_of(joint_case, "RM"), actor=secretariat, signed_on=dt.date(2026, 2, 1)
    )

    assert contract_of(joint_case, "RSD").owner == officer_rsd
    assert contract_of(joint_case, "RM").owner is None  # the secretariat is no region's user


def test_case_page_shows_who_signed_and_flags_the_late_region(
    joint_case, officer_rm, officer_rsd, supplier
):
    award(joint_case, officer_rm, supplier)
    regional.contract_sign(
        contract=contract_of(joint_case, "RM"), actor=officer_rm, signed_on=dt.date(2026, 1, 20)
    )

    page = client_for(officer_rsd).get(reverse("tenders:detail", args=[joint_case.reference]))

    section = page.content.decode().split('data-testid="regional-contracts"')[1]
    section = section.split("</section>")[0]
    assert 'data-unsigned-too-long="1"' in section
    rm_row = section.split('data-testid="regional-contract-RM"')[1].split("</tr>")[0]
    rsd_row = section.split('data-testid="regional-contract-RSD"')[1].split("</tr>")[0]
    assert "20-01-2026" in rm_row
    assert 'data-testid="unsigned-flag"' not in rm_row
    assert 'data-testid="unsigned-flag"' in rsd_row
    # RSD's officer may sign RSD's contract from the case page, not RM's
    assert reverse("suppliers:sign", args=[contract_of(joint_case, "RSD").pk]) in section
    assert reverse("suppliers:sign", args=[contract_of(joint_case, "RM").pk]) not in section


def test_case_page_compares_the_option_regions_expected_and_actual_join(
    joint_case, officer_rm, supplier, regions, secretariat
):
    award(joint_case, officer_rm, supplier)
    option = joint_case.participations.get(region__code="RH")
    option.option_exercised_on = dt.date(2026, 7, 15)
    option.save()
    regional.regional_contracts_sync(tender=joint_case)
    regional.contract_sign(
        contract=contract_of(joint_case, "RH"), actor=secretariat, signed_on=dt.date(2026, 7, 31)
    )

    page = client_for(secretariat).get(reverse("tenders:detail", args=[joint_case.reference]))

    table = page.content.decode().split('data-testid="option-joins"')[1].split("</table>")[0]
    # expected 01-06-2026, signed 31-07-2026: 60 days late
    assert "01-06-2026" in table
    assert "15-07-2026" in table
    assert "31-07-2026" in table
    assert ">60<" in table


# Extension options and reminders -------------------------------------------------------------


@pytest.fixture
def extension(joint_case, officer_rm, supplier):
    award(joint_case, officer_rm, supplier)
    rm = contract_of(joint_case, "RM")
    regional.contract_set_owner(contract=rm, actor=officer_rm, owner=officer_rm)
    return regional.extension_add(
        contract=rm,
        actor=officer_rm,
        extends_to=dt.date(2029, 1, 31),
        notice_deadline=dt.date(2027, 6, 30),
    )


def test_the_owner_is_reminded_90_and_30_days_before_the_notice_deadline_once(
    extension, officer_rm
):
    officer_rm.email = "owner@rm.dk"
    officer_rm.save()

    # 30-06-2027 − 90 days = 01-04-2027; − 30 days = 31-05-2027
    assert regional.extension_reminders_send(today=dt.date(2027, 3, 31)) == 0
    assert regional.extension_reminders_send(today=dt.date(2027, 4, 1)) == 1
    assert regional.extension_reminders_send(today=dt.date(2027, 4, 1)) == 0
    assert regional.extension_reminders_send(today=dt.date(2027, 4, 2)) == 0
    assert regional.extension_reminders_send(today=dt.date(2027, 5, 31)) == 1
    assert regional.extension_reminders_send(today=dt.date(2027, 5, 31)) == 0

    assert len(mail.outbox) == 2
    assert mail.outbox[0].to == ["owner@rm.dk"]
    assert "30-06-2027" in mail.outbox[0].subject
    assert "90" in mail.outbox[0].body
    assert "30" in mail.outbox[1].body
    assert sorted(ExtensionReminder.objects.values_list("days_before", flat=True)) == [30, 90]


def test_a_missed_reminder_day_is_caught_up_and_still_sent_once(extension, officer_rm):
    officer_rm.email = "owner@rm.dk"
    officer_rm.save()

    # the beat did not run on 01-04-2027 (90 days before 30-06-2027)
    assert regional.extension_reminders_send(today=dt.date(2027, 4, 2)) == 1
    assert regional.extension_reminders_send(today=dt.date(2027, 4, 3)) == 0
    assert regional.extension_reminders_send(today=dt.date(2027, 7, 1)) == 0  # deadline passed

    assert "89" in mail.outbox[0].body


def test_a_decided_extension_is_not_reminded_and_exercising_extends_the_contract(
    extension, officer_rm
):
    regional.extension_decide(extension=extension, actor=officer_rm, decision="exercised")

    assert regional.extension_reminders_send(today=dt.date(2027, 4, 1)) == 0
    contract = extension.contract
    contract.refresh_from_db()
    assert contract.extended_until == dt.date(2029, 1, 31)


def test_the_chief_home_page_shows_extension_decisions_due_within_90_days(
    extension, chief, officer_rm
):
    rm = extension.contract
    regional.extension_add(
        contract=rm,
        actor=officer_rm,
        extends_to=dt.date(2030, 1, 31),
        notice_deadline=dt.date(2028, 6, 30),
    )

    def extension_items(today):
        section = next(s for s in home.sections_for(chief, today=today) if s.role == "chief")
        return next(task_list for task_list in section.lists if task_list.key == "extensions")

    # 30-06-2027 is 90 days after 01-04-2027 and 91 days after 31-03-2027
    assert extension_items(dt.date(2027, 3, 31)).items == []
    items = extension_items(dt.date(2027, 4, 1)).items
    assert [item.label for item in items] == [rm.title]
    assert "30-06-2027" in items[0].detail
    assert items[0].url == reverse("suppliers:detail", args=[rm.pk])


# Documents -----------------------------------------------------------------------------------


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        archive.writestr(
            "word/document.xml",
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>',
        )
    return buffer.getvalue()


def test_a_pdf_is_uploaded_and_a_disguised_file_is_refused(joint_case, officer_rm, supplier):
    award(joint_case, officer_rm, supplier)
    rm = contract_of(joint_case, "RM")
    client = client_for(officer_rm)
    url = reverse("suppliers:document_upload", args=[rm.pk])

    client.post(url, {"kind": "signed", "file": SimpleUploadedFile("kontrakt.pdf", PDF)})
    client.post(url, {"kind": "appendix", "file": SimpleUploadedFile("bilag.docx", _docx())})
    refused = client.post(
        url,
        {"kind": "signed", "file": SimpleUploadedFile("faktura.pdf", b"MZ\x90\x00program")},
        follow=True,
    )

    assert sorted(rm.documents.values_list("name", flat=True)) == ["bilag.docx", "kontrakt.pdf"]
    assert "faktura.pdf" in refused.content.decode()
    assert not ContractDocument.objects.filter(name="faktura.pdf").exists()
    with pytest.raises(ValidationError):
        from suppliers.documents import contract_document_add

        contract_document_add(
            contract=rm,
            actor=officer_rm,
            upload=SimpleUploadedFile("noter.txt", b"plain text"),
        )


def test_a_document_is_read_by_its_region_and_never_by_another_region_or_anonymous(
    joint_case, officer_rm, officer_rsd, supplier
):
    award(joint_case, officer_rm, supplier)
    rm = contract_of(joint_case, "RM")
    client_for(officer_rm).post(
        reverse("suppliers:document_upload", args=[rm.pk]),
        {"kind": "signed", "file": SimpleUploadedFile("kontrakt.pdf", PDF)},
    )
    document = rm.documents.get()
    url = reverse("suppliers:document_download", args=[rm.pk, document.pk])

    own = client_for(officer_rm).get(url)
    other = client_for(officer_rsd).get(url)
    anonymous = Client().get(url)

    assert own.status_code == 200
    assert b"".join(own.streaming_content) == PDF
    assert own["Content-Type"] == "application/pdf"
    assert other.status_code == 404
    assert anonymous.status_code == 302
    assert reverse("login") in anonymous["Location"]
    # stored under a random name, not the uploader's
    assert "kontrakt" not in document.file.name


# API -----------------------------------------------------------------------------------------


def test_the_api_lists_a_cases_regional_contracts_and_their_extension_deadlines(
    extension, joint_case, officer_rm, secretariat
):
    regional.contract_sign(
        contract=contract_of(joint_case, "RM"), actor=officer_rm, signed_on=dt.date(2026, 1, 20)
    )
    client = client_for(secretariat)

    contracts = client.get(
        reverse("contract-list"), {"tender": joint_case.reference.lower()}
    ).json()
    unsigned = client.get(
        reverse("contract-list"), {"tender": joint_case.reference, "signed": "false"}
    ).json()
    extensions = client.get(
        reverse("contractextension-list"), {"notice_before": "2027-12-31"}
    ).json()
    own = client_for(officer_rm).get(reverse("contract-list"), {"tender": joint_case.reference})

    rows = {row["region"]: row for row in contracts["results"]}
    assert sorted(rows) == ["RM", "RSD"]
    assert rows["RM"]["signed_on"] == "2026-01-20"
    assert rows["RM"]["signed_by"] == "officer_rm"
    assert rows["RM"]["owner"] == "officer_rm"
    assert rows["RM"]["offered_on"] == "2026-01-10"
    assert rows["RM"]["extensions"] == [
        {
            "id": extension.pk,
            "extends_to": "2029-01-31",
            "notice_deadline": "2027-06-30",
            "decision": "pending",
        }
    ]
    assert rows["RSD"]["signed_on"] is None
    assert [row["region"] for row in unsigned["results"]] == ["RSD"]
    assert [
        (row["region"], row["tender"], row["notice_deadline"]) for row in extensions["results"]
    ] == [("RM", joint_case.reference, "2027-06-30")]
    assert [row["region"] for row in own.json()["results"]] == ["RM"]


def test_extension_for_another_regions_contract_is_refused(extension, officer_rsd):
    with pytest.raises(PermissionDenied):
        regional.extension_decide(extension=extension, actor=officer_rsd, decision="declined")
    extension.refresh_from_db()
    assert extension.decision == ContractExtension.Decision.PENDING


def test_the_lead_records_the_award_on_its_page_and_the_regions_get_contracts(
    joint_case, officer_rm, officer_rsd
):
    url = reverse("suppliers:tender_award", args=[joint_case.reference])
    data = {
        "supplier_identifier": "31457826",
        "supplier_name": "Nordisk Medico A/S",
        "award_date": "2026-01-10",
        "contract_start": "2026-02-01",
        "contract_end": "2028-01-31",
    }

    refused = client_for(officer_rsd).post(url, data)
    answer = client_for(officer_rm).post(url, data)

    assert refused.status_code == 403
    assert answer.status_code == 302
    assert answer["Location"] == reverse("tenders:detail", args=[joint_case.reference])
    contracts = Contract.objects.filter(tender=joint_case).order_by("region__code")
    assert [(c.region.code, c.supplier.identifier) for c in contracts] == [
        ("RM", "31457826"),
        ("RSD", "31457826"),
    ]


def test_a_region_that_joins_in_full_after_the_award_gets_its_contract(
    joint_case, officer_rm, supplier, regions, django_capture_on_commit_callbacks
):
    award(joint_case, officer_rm, supplier)
    officer_rsj = MembershipFactory(
        user__username="officer_rsj", region=regions["RSJ"], role=Membership.Role.OFFICER
    ).user

    with django_capture_on_commit_callbacks(execute=True):
        tender_services.participation_decide(
            participation=joint_case.participations.get(region__code="RSJ"),
            actor=officer_rsj,
            status=Participation.Status.FULL,
        )

    assert contract_of(joint_case, "RSJ").offered_on == AWARD


def test_the_public_tender_page_shows_no_contract_document(joint_case, officer_rm, supplier):
    joint_case.is_publishable = True
    joint_case.save()
    award(joint_case, officer_rm, supplier)
    rm = contract_of(joint_case, "RM")
    client_for(officer_rm).post(
        reverse("suppliers:document_upload", args=[rm.pk]),
        {"kind": "signed", "file": SimpleUploadedFile("hemmelig-kontrakt.pdf", PDF)},
    )
    document = rm.documents.get()

    page = Client().get(reverse("public:detail", args=[joint_case.reference]))

    assert page.status_code == 200
    assert "hemmelig-kontrakt" not in page.content.decode()
    assert document.file.name not in page.content.decode()
    assert "/dokumenter/" not in page.content.decode()


# Refused forms on the contract page ----------------------------------------------------------


def _field_html(html: str, name: str) -> str:
    return html.split(f'name="{name}"')[1].split(">")[0]


def test_a_refused_extension_keeps_what_was_typed_and_says_what_is_wrong(
    joint_case, officer_rm, supplier
):
    award(joint_case, officer_rm, supplier)
    rm = contract_of(joint_case, "RM")
    url = reverse("suppliers:extension_add", args=[rm.pk])
    client = client_for(officer_rm)

    # an impossible date typed the Danish way (no date picker) next to a good one
    typo = client.post(url, {"extends_to": "31-02-2029", "notice_deadline": "15-06-2027"})
    # dates that parse, but the option would end before the contract does (31-01-2028)
    too_early = client.post(url, {"extends_to": "2027-12-01", "notice_deadline": "2027-06-15"})

    assert (typo.status_code, too_early.status_code) == (400, 400)
    html = typo.content.decode()
    # the date input holds ISO or nothing: the good date is kept, the impossible one flagged
    assert 'value="2027-06-15"' in _field_html(html, "notice_deadline")
    assert 'aria-invalid="true"' in _field_html(html, "extends_to")
    assert 'aria-invalid="true"' not in _field_html(html, "notice_deadline")
    html = too_early.content.decode()
    assert 'value="2027-12-01"' in _field_html(html, "extends_to")
    assert 'value="2027-06-15"' in _field_html(html, "notice_deadline")
    assert "31-01-2028" in html.split('id="id_extends_to_error"')[1].split("</span>")[0]
    assert not rm.extensions.exists()


def test_a_signature_before_the_award_is_refused_on_the_page_with_the_date_kept(
    joint_case, officer_rm, supplier
):
    award(joint_case, officer_rm, supplier)
    rm = contract_of(joint_case, "RM")

    answer = client_for(officer_rm).post(
        reverse("suppliers:sign", args=[rm.pk]), {"signed_on": "2026-01-09"}
    )

    assert answer.status_code == 400
    html = answer.content.decode()
    assert 'value="2026-01-09"' in _field_html(html, "signed_on")
    assert 'aria-invalid="true"' in _field_html(html, "signed_on")
    # the field says why: the award date the signature cannot precede
    assert "10-01-2026" in html.split('id="id_signed_on_error"')[1].split("</span>")[0]
    rm.refresh_from_db()
    assert rm.signed_on is None


def test_a_refused_signature_from_the_case_page_goes_back_there_saying_why(
    joint_case, officer_rm, supplier
):
    award(joint_case, officer_rm, supplier)
    rm = contract_of(joint_case, "RM")
    case_page = reverse("tenders:detail", args=[joint_case.reference])

    answer = client_for(officer_rm).post(
        reverse("suppliers:sign", args=[rm.pk]),
        {"signed_on": "2026-01-09", "next": case_page},
        follow=True,
    )

    assert answer.redirect_chain == [(case_page, 302)]
    messages = [str(message) for message in answer.context["messages"]]
    assert len(messages) == 1
    assert "10-01-2026" in messages[0]  # the award date the signature cannot precede
    rm.refresh_from_db()
    assert rm.signed_on is None
