"""The region (or all regions) and year a spend page or API call shows, checked for rights.

``?region=CODE`` or ``?region=all`` and ``?year=YYYY``. A region's own people and the
secretariat see the region; chiefs, UFO members and the secretariat also see all
regions added up (rfi.permissions). Without ``region`` the user's own region is shown
(the first by code), or all regions for the secretariat.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from rfi import permissions
from rfi.models import Region
from spend import selectors

ALL = "all"


@dataclass
class SpendScope:
    region: Region | None  # None: all regions added up
    year: int
    years: list[int]
    choices: list[tuple[str, str]]

    @property
    def region_value(self) -> str:
        return self.region.code if self.region else ALL

    @property
    def label(self) -> str:
        return self.region.name if self.region else _("All regions")

    def lines(self):
        return selectors.spend_lines(region=self.region, year=self.year)

    def query(self, **extra) -> str:
        params = {"region": self.region_value, "year": self.year}
        params.update({k: v for k, v in extra.items() if v not in (None, "")})
        return urlencode(params)

    def caption(self) -> list[str]:
        return [f"{self.label} · {self.year}", _("Exported %(when)s") % {"when": _now_text()}]


def _now_text() -> str:
    return timezone.localtime().strftime("%d-%m-%Y %H:%M")


def viewable_regions(user) -> list[Region]:
    return permissions.regions_where(user, permissions.can_view_region_spend)


def _default_region(user, regions: list[Region], all_allowed: bool) -> Region | None:
    own = [region for region in regions if permissions.roles_in(user, region)]
    if own:
        return own[0]
    if all_allowed:
        return None
    if regions:
        return regions[0]
    raise PermissionDenied


def _year(raw: str | None, years: list[int]) -> int:
    try:
        year = int(raw or "")
    except ValueError:
        year = None
    if year is not None and 1900 <= year <= 2100:
        return year
    return years[0] if years else timezone.localdate().year


def spend_scope(request, params=None) -> SpendScope:
    """The region (or all) and year the page shows; 403 when the user may not see them."""
    params = request.GET if params is None else params
    user = request.user
    regions = viewable_regions(user)
    all_allowed = permissions.can_view_all_regions_spend(user)
    code = (params.get("region") or "").strip()
    if code == ALL:
        if not all_allowed:
            raise PermissionDenied
        region = None
    elif code:
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise Http404
        if not permissions.can_view_region_spend(user, region):
            raise PermissionDenied
    else:
        region = _default_region(user, regions, all_allowed)
    years = selectors.spend_years(region=region)
    choices = [(ALL, _("All regions"))] if all_allowed else []
    choices += [(r.code, f"{r.code} – {r.name}") for r in regions]
    return SpendScope(
        region=region, year=_year(params.get("year"), years), years=years, choices=choices
    )
