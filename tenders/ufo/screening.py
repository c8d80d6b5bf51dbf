"""The screening figures as a user may see them: the candidate page, the proposal form, the API.

Reads spend's selector (a view may read a higher app's selector, docs/architecture.md).
Chiefs, UFO members and the secretariat see every region and the totals; anyone else
sees the rows of their own regions only (rfi.permissions), and no suggestion.
"""

from __future__ import annotations

import datetime as dt

from rfi import permissions
from spend.screening import Screening, category_screening
from tenders.screening import VolumeSuggestion, suggested_volume_score


def visible_to(user, screening: Screening) -> Screening:
    if permissions.can_view_all_regions_spend(user):
        return screening
    codes = {r.code for r in permissions.regions_where(user, permissions.can_view_region_spend)}
    return screening.restricted_to(codes)


def screening_for(
    user, *, code: str, today: dt.date | None = None
) -> tuple[Screening, VolumeSuggestion | None]:
    """The live figures of the category for ``user``, and the volume score they suggest."""
    screening = visible_to(user, category_screening(code=code, today=today))
    return screening, suggested_volume_score(screening.annual_spend)


def snapshot_for_proposal(*, code: str) -> dict:
    """Every region's figures, kept on the new candidate area (shown per viewer's rights)."""
    return category_screening(code=code).to_json()


def proposal_figures(
    user, snapshot: dict | None
) -> tuple[Screening | None, VolumeSuggestion | None]:
    """A candidate's figures at proposal, as ``user`` may see them."""
    if not snapshot:
        return None, None
    screening = visible_to(user, Screening.from_json(snapshot))
    return screening, suggested_volume_score(screening.annual_spend)
