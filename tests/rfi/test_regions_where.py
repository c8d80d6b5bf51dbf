"""permissions.regions_where: the active regions a rights function allows, by code."""

from __future__ import annotations

import pytest

from rfi import permissions

pytestmark = pytest.mark.django_db


def codes(regions) -> list[str]:
    return [region.code for region in regions]


def test_an_officer_writes_rules_for_their_own_region_only(officer_rm):
    assert codes(permissions.regions_where(officer_rm, permissions.can_edit_spend_rules)) == ["RM"]


def test_the_secretariat_gets_every_active_region_in_code_order(secretariat, regions):
    allowed = permissions.regions_where(secretariat, permissions.can_edit_spend_rules)

    assert codes(allowed) == sorted(code for code, r in regions.items() if r.active)


def test_an_inactive_region_is_never_offered(secretariat, regions):
    regions["RN"].active = False
    regions["RN"].save()

    assert "RN" not in codes(permissions.regions_where(secretariat, lambda user, region: True))


def test_an_outsider_gets_none(outsider, regions):
    assert permissions.regions_where(outsider, permissions.can_view_region_spend) == []
