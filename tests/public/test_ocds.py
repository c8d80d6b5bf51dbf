"""/udbud/ocds.json: an OCDS 1.1 release package validated offline (core + extensions, strict)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from suppliers.public.ocds.build import EXTENSIONS
from suppliers.public.ocds.schema import EXTENSIONS_DIR, merge_patch, validation_errors
from tenders.models import TenderCase
from tests.public.conftest import FULL, OPTION, build_plan, make_categories, make_tender

pytestmark = pytest.mark.django_db

D = dt.date
URL = "/udbud/ocds.json"


@pytest.fixture
def feed_plan(regions):
    """The public plan, plus a framework with options, renewal and three buyers."""
    plan = build_plan(regions)
    plan["dialysis"] = make_tender(
        "FUP-2026-110",
        title="Dialyseudstyr",
        description="Dialysemaskiner og forbrugsartikler.",
        category=make_categories()["33100000"],
        lead_region=regions["RN"],
        has_options=True,
        status=TenderCase.Status.PLANNED,
        expected_tender_start=D(2028, 2, 1),
        contract_start=D(2029, 1, 1),
        contract_end=D(2030, 12, 31),
        extension_until=D(2032, 12, 31),
        estimated_annual_value=Decimal("30000000.50"),
        internal_notes="OCDS-MARKER-internal-notes",
        participations={regions["RN"]: FULL, regions["RM"]: FULL, regions["RSJ"]: OPTION},
    )
    return plan


def _releases(client, query: str = "") -> dict[str, dict]:
    response = client.get(URL + query)
    assert response.status_code == 200, response.content
    return {release["tender"]["id"]: release for release in response.json()["releases"]}


def test_the_feed_is_valid_ocds_with_its_extensions_and_strict(client, feed_plan):
    # when
    response = client.get(URL)

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    package = response.json()
    tags = {tag for release in package["releases"] for tag in release["tag"]}
    assert tags == {"planning", "tender"}
    assert validation_errors(package) == []
    assert validation_errors(package, strict=True) == []


def test_the_strict_check_catches_an_unknown_field_the_loose_one_lets_through(client, feed_plan):
    package = client.get(URL).json()
    package["releases"][0]["tender"]["expectedStart"] = "2027-05-15"

    assert validation_errors(package) == []
    errors = validation_errors(package, strict=True)
    assert any("expectedStart" in error for error in errors)


def test_a_release_breaking_the_core_schema_fails(client, feed_plan):
    package = client.get(URL).json()
    release = package["releases"][0]
    release["tag"] = ["announcement"]
    release["tender"]["contractPeriod"] = {"startDate": "01-01-2029"}

    errors = validation_errors(package)

    assert any(error.startswith("releases/0/tag/0") for error in errors)
    assert any("contractPeriod/startDate" in error for error in errors)


def test_an_extension_field_of_the_wrong_type_fails(client, feed_plan):
    package = client.get(URL).json()
    release = next(r for r in package["releases"] if r["tender"]["id"] == "FUP-2026-110")
    release["tender"]["techniques"]["hasFrameworkAgreement"] = "ja"
    release["parties"][1]["details"]["participation"] = "maybe"

    errors = validation_errors(package)

    assert any("hasFrameworkAgreement" in error for error in errors)
    assert any("participation" in error for error in errors)


def test_planning_before_the_tender_starts_and_tender_after(client, feed_plan):
    releases = _releases(client)

    # upcoming, not published
    assert releases["FUP-2026-101"]["tag"] == ["planning"]
    # in tender
    assert releases["FUP-2025-050"]["tag"] == ["tender"]
    # still "planned" in the plan, but its publication date has come
    assert releases["FUP-2025-060"]["tag"] == ["tender"]
    # in contract period
    assert releases["FUP-2023-010"]["tag"] == ["tender"]
    assert releases["FUP-2023-010"]["tender"]["status"] == "complete"
    assert releases["FUP-2026-102"]["tender"]["status"] == "cancelled"


def test_every_participating_region_is_a_buyer_and_the_lead_also_lead_buyer(client, feed_plan):
    release = _releases(client)["FUP-2026-101"]

    parties = {party["id"]: party for party in release["parties"]}
    # RN opted out and RSJ is pending: neither is public, neither is a party.
    assert set(parties) == {"region-RM", "region-RSD", "region-RH"}
    assert parties["region-RM"]["roles"] == ["buyer", "leadBuyer"]
    assert parties["region-RSD"]["roles"] == ["buyer"]
    assert parties["region-RH"]["roles"] == ["buyer"]
    assert release["buyer"] == {"id": "region-RM", "name": "Region Midtjylland"}
    assert parties["region-RM"]["name_en"] == "Central Denmark Region"


def test_option_participation_is_in_the_projects_extension(client, feed_plan):
    release = _releases(client)["FUP-2026-101"]

    participation = {p["id"]: p["details"]["participation"] for p in release["parties"]}
    assert participation == {"region-RM": "full", "region-RSD": "full", "region-RH": "option"}
    own = reverse("public:ocds_extension", kwargs={"filename": "extension.json"})
    assert client.get(URL).json()["extensions"][-1] == f"http://testserver{own}"


def test_a_partner_body_can_be_the_lead_buyer(client, feed_plan):
    release = _releases(client)["FUP-2026-103"]

    assert release["buyer"]["id"] == "partner-SKI"
    lead = release["parties"][0]
    assert lead["id"] == "partner-SKI"
    assert lead["roles"] == ["buyer", "leadBuyer"]
    assert {p["id"] for p in release["parties"][1:]} == {"region-RM", "region-RN"}


def test_cpv_values_periods_and_extensions_of_a_framework(client, feed_plan):
    release = _releases(client)["FUP-2026-110"]
    tender = release["tender"]

    assert tender["items"][0]["classification"] == {
        "scheme": "CPV",
        "id": "33100000",
        "description": "Medicinsk udstyr",
        "description_en": "Medical equipments",
    }
    assert release["planning"]["budget"]["amount"] == {"amount": 30000000.5, "currency": "DKK"}
    assert tender["value"] == {"amount": 30000000.5, "currency": "DKK"}
    assert tender["tenderPeriod"] == {"startDate": "2028-02-01T00:00:00+01:00"}
    assert tender["contractPeriod"] == {
        "startDate": "2029-01-01T00:00:00+01:00",
        "endDate": "2030-12-31T23:59:59+01:00",
        "maxExtentDate": "2032-12-31T23:59:59+01:00",
    }
    assert tender["communication"] == {"futureNoticeDate": "2028-02-01T00:00:00+01:00"}
    assert tender["techniques"]["hasFrameworkAgreement"] is True
    assert tender["techniques"]["frameworkAgreement"]["period"] == tender["contractPeriod"]
    assert tender["hasOptions"] is True
    assert "Region Sjælland" in tender["options"]["description"]
    lot = tender["lots"][0]
    assert lot["hasRenewal"] is True
    assert lot["renewal"]["period"] == {
        "startDate": "2031-01-01T00:00:00+01:00",
        "endDate": "2032-12-31T23:59:59+01:00",
    }
    assert tender["mainProcurementCategory"] == "goods"


def test_a_one_off_purchase_has_no_framework_and_no_future_notice_once_published(client, feed_plan):
    tender = _releases(client)["FUP-2023-010"]["tender"]

    assert tender["techniques"] == {"hasFrameworkAgreement": False}
    assert "communication" not in tender
    assert tender["lots"][0]["hasRenewal"] is False


def test_the_package_declares_the_extensions_and_a_placeholder_ocid_prefix(client, feed_plan):
    package = client.get(URL).json()

    assert package["version"] == "1.1"
    assert package["extensions"][: len(EXTENSIONS)] == list(EXTENSIONS)
    assert package["uri"] == "http://testserver/udbud/ocds.json"
    release = _releases(client)["FUP-2026-101"]
    assert release["ocid"] == "ocds-xxxxxx-rfi-FUP-2026-101"


def test_the_ocid_prefix_is_a_setting(client, feed_plan, settings):
    settings.OCDS_OCID_PREFIX = "ocds-abc123"

    assert _releases(client)["FUP-2026-101"]["ocid"] == "ocds-abc123-FUP-2026-101"


def test_only_publishable_tenders_and_no_internal_fields(client, feed_plan):
    response = client.get(URL)

    assert "FUP-2026-104" not in _releases(client)
    assert b"OCDS-MARKER" not in response.content
    assert b"Intern sag" not in response.content


def test_the_portals_filters_narrow_the_feed(client, feed_plan):
    assert set(_releases(client, "?region=RH")) == {"FUP-2026-101", "FUP-2025-050", "FUP-2023-010"}
    assert set(_releases(client, "?category=30000000")) == {"FUP-2025-050", "FUP-2026-103"}
    assert set(_releases(client, "?lead_region=RN&kind=framework")) == {
        "FUP-2026-102",
        "FUP-2026-110",
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?category=33x", "category"),
        ("?category=99999999", "category"),
        ("?region=XX", "region"),
        ("?year=abc", "year"),
        ("?quarter=2", "quarter"),
        ("?kind=framework&kind=one_off", "kind"),
    ],
)
def test_a_bad_parameter_gives_400_naming_it(client, feed_plan, query, field):
    response = client.get(URL + query)

    assert response.status_code == 400
    errors = response.json()["errors"]
    # "<parameter>: <reason>", in the visitor's language (Danish by default).
    assert any(error.startswith(f"{field}:") and len(error) > len(field) + 5 for error in errors)


def test_a_change_to_a_tender_shows_in_the_feed_at_once(client, feed_plan):
    assert _releases(client)["FUP-2026-101"]["tender"]["title"] == "Sutur og hæftemateriale"
    tender = feed_plan["sutures"]
    old_id = _releases(client)["FUP-2026-101"]["id"]

    tender.title = "Suturer"
    tender.save()

    release = _releases(client)["FUP-2026-101"]
    assert release["tender"]["title"] == "Suturer"
    assert release["id"] != old_id


def test_the_release_id_does_not_change_when_only_internal_fields_do(client, feed_plan):
    old_id = _releases(client)["FUP-2026-110"]["id"]
    tender = feed_plan["dialysis"]

    tender.internal_notes = "noget andet internt"
    tender.save()

    assert _releases(client)["FUP-2026-110"]["id"] == old_id


def test_the_projects_extension_is_served_from_the_repository(client):
    url = reverse("public:ocds_extension", kwargs={"filename": "extension.json"})

    metadata = client.get(url).json()
    schema = client.get(
        reverse("public:ocds_extension", kwargs={"filename": "release-schema.json"})
    ).json()
    readme = client.get(reverse("public:ocds_extension", kwargs={"filename": "README.md"}))
    codelist = client.get(
        reverse("public:ocds_extension_codelist", kwargs={"filename": "participation.csv"})
    )

    assert metadata["schemas"] == ["release-schema.json"]
    assert metadata["codelists"] == ["participation.csv"]
    assert metadata["documentationUrl"]["en"].startswith("http://testserver/udbud/ocds/")
    on_disk = json.loads((EXTENSIONS_DIR / "option_participation/release-schema.json").read_text())
    assert schema == on_disk
    assert readme.status_code == 200
    assert codelist.content.decode().splitlines()[1].startswith("full,")
    unknown = reverse("public:ocds_extension", kwargs={"filename": "secrets.json"})
    assert client.get(unknown).status_code == 404


def test_merge_patch_follows_rfc_7396():
    target = {"a": "b", "c": {"d": "e", "f": "g"}}
    patch = {"a": "z", "c": {"f": None}}

    assert merge_patch(target, patch) == {"a": "z", "c": {"d": "e"}}
    assert target == {"a": "b", "c": {"d": "e", "f": "g"}}
    assert merge_patch({"a": [1, 2]}, {"a": [3]}) == {"a": [3]}
    assert merge_patch(copy.deepcopy(target), {}) == target


def test_every_declared_extension_is_pinned_and_served_copies_answer(client, feed_plan):
    # given
    package = client.get(URL).json()

    # when
    declared = package["extensions"]
    served = [url for url in declared if url.startswith("http://testserver/")]

    # then: no branch (a branch changes under the feed's readers): a tag, a commit or a copy
    assert len(declared) == 6, declared
    assert not [url for url in declared if "/master/" in url or "/main/" in url], declared
    assert f"{EXTENSIONS[0]}".split("/")[-2] == "v1.1.5"
    assert [url.split("/")[-2] for url in EXTENSIONS[1:]] == [
        "16f7eb0413de9f22caff3b941f9c91d79493cd1c",
        "4ace98b844bde9ed763e9310d091597ab10e4043",
    ]
    assert len(served) == 3  # options, techniques, the project's own
    for url in served[:2]:
        metadata = client.get(url).json()
        schema_url = url.replace("extension.json", metadata["schemas"][0])
        on_disk = EXTENSIONS_DIR / url.split("/")[-2] / "release-schema.json"
        assert client.get(schema_url).json() == json.loads(on_disk.read_text())
    techniques = served[1].replace("extension.json", "codelists/frameworkAgreementMethod.csv")
    assert client.get(techniques).content.startswith(b"Code,")
    assert client.get(served[0].replace("extension.json", "README.md")).status_code == 404
    assert client.get(served[0].replace("/options/", "/lots/")).status_code == 404
