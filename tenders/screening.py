"""The volume criterion's suggested score, from annual spend and the thresholds kept as data.

The figures come from the ledger (``spend.screening``; the views hand the annual spend
over, so tenders never imports spend). The thresholds are ``VolumeScoreThreshold`` rows,
seeded by ``seed_reference`` and edited by the secretariat in the admin: the suggestion
is the score of the highest threshold the annual spend reaches. A scorer sees it beside
the criterion and may give another score.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tenders.models import VolumeScoreThreshold

# The scoring template's criterion for purchase volume and potential savings.
VOLUME_CRITERION = "volume-savings"


@dataclass(frozen=True)
class VolumeSuggestion:
    score: int
    annual_spend: Decimal


def suggested_volume_score(annual_spend: Decimal | None) -> VolumeSuggestion | None:
    """The score whose threshold the spend reaches; None without spend figures or thresholds."""
    if annual_spend is None:
        return None
    reached = (
        VolumeScoreThreshold.objects.filter(min_annual_spend__lte=annual_spend)
        .order_by("-min_annual_spend", "-score")
        .first()
    )
    if reached is None:
        return None
    return VolumeSuggestion(score=reached.score, annual_spend=annual_spend)
